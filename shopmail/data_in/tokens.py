"""API tokens: created (the secret shown once), kept only as a SHA-256 hash, revoked by admins."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import ApiToken, User
from shopmail.models.types import utcnow

PREFIX = "smk_"
# last_used_at is a hint for admins, not a log: writing it on every request would be waste.
USE_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token change that cannot be made; the message says why."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(name: str, actor: User | str | None = None) -> tuple[ApiToken, str]:
    """A new token; returns the row and the secret, which is never shown again."""
    name = " ".join(name.split())
    if not name:
        raise TokenError(_l("Give the token a name."))
    if len(name) > 100:
        raise TokenError(_l("The name may have at most %(n)s characters.", n=100))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=digest(secret), created_by=_user_id(actor))
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.created", token, name=name)
    return token, secret


def revoke_token(token_id: int, actor: User | str | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(_l("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "api_token.revoked", token, name=token.name)
    return token


def list_tokens() -> list[ApiToken]:
    return list(
        db.session.scalars(
            db.select(ApiToken).order_by(ApiToken.revoked_at.isnot(None), ApiToken.id.desc())
        )
    )


def authenticate(secret: str, note_use: bool = True) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked); `note_use` keeps when
    it was last used."""
    if not secret:
        return None
    wanted = digest(secret)
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=wanted))
    # Looking up the hash (not the secret) leaks nothing useful through timing.
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if note_use and (token.last_used_at is None or now - token.last_used_at > USE_RESOLUTION):
        token.last_used_at = now
    return token


def _user_id(actor: User | str | None) -> int | None:
    return actor.id if isinstance(actor, User) else None
