"""One-click unsubscribe (RFC 8058): signed links in every broadcast, and what they do.

A token is `<member id>.<broadcast id>.<signature>`: an HMAC-SHA256 of the two ids under a key
derived from the app's secret, cut to 96 bits — it cannot be guessed or changed, needs no
table, and costs microseconds for each of a broadcast's copies. Links sent before this form
(itsdangerous, salt "unsubscribe") are still read.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Callable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import Member

SALT = "unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


_TOKEN = re.compile(r"(\d{1,18})\.(\d{1,18})\.([A-Za-z0-9_-]{16})")


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"shopmail unsubscribe\0" + secret.encode()).digest()


def _signature(key: bytes, member_id: int, broadcast_id: int) -> str:
    mac = hmac.digest(key, f"{member_id}.{broadcast_id}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac[:12]).decode("ascii")


def _app_key() -> bytes:
    return _key(current_app.config["SECRET_KEY"])


def make_token(member_id: int, broadcast_id: int) -> str:
    return f"{member_id}.{broadcast_id}.{_signature(_app_key(), member_id, broadcast_id)}"


def unsubscribe_urls() -> Callable[[int, int], str]:
    """The one-click links of many copies, (member id, broadcast id) → URL: the key and the
    base URL looked up once (per copy they cost more than the signature)."""
    key = _app_key()
    prefix = current_app.config["SHOPMAIL_BASE_URL"].rstrip("/") + "/unsubscribe/"
    return lambda member_id, broadcast_id: (
        f"{prefix}{member_id}.{broadcast_id}.{_signature(key, member_id, broadcast_id)}"
    )


def read_token(token: str) -> tuple[Member, int] | None:
    """The member and broadcast id a token names, or None when it is not one of ours."""
    match = _TOKEN.fullmatch(token)
    if match:
        member_id, broadcast_id = int(match[1]), int(match[2])
        if not hmac.compare_digest(match[3], _signature(_app_key(), member_id, broadcast_id)):
            return None
    else:
        try:  # a link from a mail sent before the short form
            member_id, broadcast_id = _serializer().loads(token)
        except (BadSignature, TypeError, ValueError):
            return None
    member = db.session.get(Member, int(member_id))
    return (member, int(broadcast_id)) if member is not None else None


def unsubscribe(member: Member, broadcast_id: int) -> None:
    """The member wants no more mail; doing it twice changes nothing."""
    if member.wants_mail:
        member.wants_mail = False
        audit.record("unsubscribe", "member.unsubscribed", member, broadcast_id=broadcast_id)
