"""Secrets at rest: Fernet encryption for relay passwords and similar values.

Keys come from SHOPMAIL_SECRET_KEYS (comma-separated Fernet keys, the first encrypts, all
decrypt, so keys can be rotated). Without one, a key is derived from SECRET_KEY so a
development desk works out of the box; production must set its own.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_fernet: MultiFernet | None = None

# What a set secret looks like on every page: the same 8 dots whatever its length.
MASK = "••••••••"


def configure(keys: str, fallback_secret: str) -> None:
    global _fernet
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        digest = hashlib.sha256(("shopmail-secrets:" + fallback_secret).encode()).digest()
        parts = [base64.urlsafe_b64encode(digest).decode()]
    _fernet = MultiFernet([Fernet(k.encode()) for k in parts])


def encrypt(plain: str) -> str:
    assert _fernet is not None, "crypto.configure() runs in create_app"
    return _fernet.encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    assert _fernet is not None, "crypto.configure() runs in create_app"
    try:
        return _fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured keys") from exc
