"""One-click unsubscribe (RFC 8058): signed links in every broadcast, and what they do.

A token is the member id and the broadcast id signed with the app's secret (itsdangerous,
salt "unsubscribe"): it cannot be guessed or changed, and needs no table.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import Member

SALT = "unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(member_id: int, broadcast_id: int) -> str:
    return _serializer().dumps([member_id, broadcast_id])


def unsubscribe_url(member_id: int, broadcast_id: int) -> str:
    base = current_app.config["SHOPMAIL_BASE_URL"].rstrip("/")
    return f"{base}/unsubscribe/{make_token(member_id, broadcast_id)}"


def read_token(token: str) -> tuple[Member, int] | None:
    """The member and broadcast id a token names, or None when it is not one of ours."""
    try:
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
