"""Secrets at rest: Fernet encryption for relay passwords and similar values.

Keys come from SHOPMAIL_SECRET_KEYS (comma-separated Fernet keys, the first encrypts, all
decrypt, so keys can be rotated: put the new key first, run `flask --app app rotate-secrets`,
then drop the old one). They are key material of their own, never derived from SECRET_KEY;
`make run` creates one in var/, tests without one get a random key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

# What a set secret looks like on every page: the same 8 dots whatever its length.
MASK = "••••••••"


def configure(app: Flask) -> None:
    """The app's keys (each app its own: tests run several)."""
    parts = [k.strip() for k in app.config["SHOPMAIL_SECRET_KEYS"].split(",") if k.strip()]
    if not parts:  # only tests get here (config.check_secrets refuses elsewhere)
        parts = [Fernet.generate_key().decode()]
    app.extensions["shopmail_fernet"] = MultiFernet([Fernet(k.encode()) for k in parts])


def _fernet() -> MultiFernet:
    return current_app.extensions["shopmail_fernet"]


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """The same secret encrypted with the first (newest) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with the configured keys") from exc
