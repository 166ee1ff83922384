"""Bounce addresses (VERP): each mail's envelope sender names its outbox row, signed.

`m<row id>-<signature>@<bounce domain>`: the signature is an HMAC-SHA256 of the row id under a
key derived from the app's secret, cut to 60 bits and written in lower-case base32 — some MTAs
lower-case local parts, so the token reads back the same either way. A stranger who sends a
bounce to a made-up address flags no one: the signature does not match. The same signature is
part of the row's Message-ID (`sending.build_mail`), so a bounce that reaches the desk without
its envelope (a forwarded mailbox) can still be checked against the row.

Stores on the Rakuten relay keep their own address as envelope sender: the mall's relay takes
mail only from the store's registered address and handles the mask addresses' bounces itself,
so a foreign envelope sender would be refused (README, "Bounces").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable

from flask import current_app

from shopmail.core.states import RelayMode

_TOKEN = re.compile(r"m(\d{1,18})-([a-z2-7]{12})")


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
# Every pair of base32 characters (10 bits), so a signature is six lookups, not twelve.
_PAIRS = [first + second for first in _BASE32 for second in _BASE32]


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(b"shopmail verp\0" + secret.encode()).digest()


def _signature(key: bytes, row_id: int) -> str:
    # The HMAC's first 60 bits, 5 bits per character (base32, lower case).
    bits = int.from_bytes(hmac.digest(key, str(row_id).encode(), "sha256")[:8], "big") >> 4
    return "".join([_PAIRS[(bits >> shift) & 1023] for shift in (50, 40, 30, 20, 10, 0)])


def signature(row_id: int) -> str:
    """The 12 lower-case base32 characters that sign a row id in its bounce address."""
    return _signature(_key(current_app.config["SECRET_KEY"]), row_id)


def bounce_domain() -> str:
    config = current_app.config
    domain = config.get("SHOPMAIL_BOUNCE_DOMAIN") or "bounce." + config["SHOPMAIL_MAIL_DOMAIN"]
    return domain.strip().lower()


def address(row_id: int) -> str:
    """The envelope sender of one row's mail."""
    return _addresses()(row_id)


def _addresses() -> Callable[[int], str]:
    """Rows' bounce addresses, `m<row id>-<signature>@<bounce domain>`: the key and the
    domain looked up once for many rows."""
    key, domain = _key(current_app.config["SECRET_KEY"]), bounce_domain()
    return lambda row_id: f"m{row_id}-{_signature(key, row_id)}@{domain}"


def read_token(text: str) -> int | None:
    """The row id a token (or a whole bounce address) names, or None when it is not ours."""
    local, at, domain = text.strip().strip("<>").rpartition("@")
    if at and domain.lower() != bounce_domain():
        return None
    match = _TOKEN.fullmatch((local if at else text.strip()).lower())
    if match is None:
        return None
    row_id = int(match[1])
    return row_id if hmac.compare_digest(match[2], signature(row_id)) else None


def is_bounce_address(addr: str) -> bool:
    """Any address on the bounce domain (the endpoint accepts these, and only these)."""
    return addr.strip().strip("<>").rpartition("@")[2].lower() == bounce_domain()


def envelope_sender(row_id: int, store) -> str:
    """MAIL FROM for a row of `store`: its bounce address, except on the Rakuten relay."""
    return envelope_senders(store)(row_id)


def envelope_senders(store) -> Callable[[int], str]:
    """`envelope_sender` for many rows of `store`: the key and the domain looked up once."""
    if store.relay_mode == RelayMode.RAKUTEN:
        from_addr = store.from_addr
        return lambda row_id: from_addr
    return _addresses()
