"""API tokens: created with their scopes (the secret shown once), kept only as a SHA-256 hash,
revoked by admins. Checking a token on a request is `web.api_auth`'s part."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l

from shopmail.core import audit
from shopmail.core.states import ApiScope
from shopmail.extensions import db
from shopmail.models import ApiToken, User
from shopmail.models.types import utcnow
from shopmail.web.api_auth import digest

PREFIX = "smk_"


class TokenError(ValueError):
    """A token change that cannot be made; the message says why."""


def create_token(
    name: str, actor: User | str | None = None, scopes: Iterable[str] | None = None
) -> tuple[ApiToken, str]:
    """A new token with `scopes` (every scope when None); returns the row and the secret,
    which is never shown again."""
    name = " ".join(name.split())
    if not name:
        raise TokenError(_l("Give the token a name."))
    if len(name) > 100:
        raise TokenError(_l("The name may have at most %(n)s characters.", n=100))
    chosen = _scopes(scopes)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=digest(secret),
        created_by=_user_id(actor),
        scopes=" ".join(chosen),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.created", token, name=name, scopes=list(chosen))
    return token, secret


def _scopes(scopes: Iterable[str] | None) -> list[ApiScope]:
    """The scopes asked for, in the enum's order; every scope when none was asked for."""
    if scopes is None:
        return list(ApiScope)
    wanted = set(scopes)
    known = {scope.value for scope in ApiScope}
    unknown = sorted(wanted - known)
    if unknown:
        raise TokenError(
            _l(
                "Unknown scope: %(scopes)s. The scopes are %(known)s.",
                scopes=", ".join(unknown),
                known=", ".join(ApiScope),
            )
        )
    if not wanted:
        raise TokenError(_l("Tick at least one scope."))
    return [scope for scope in ApiScope if scope in wanted]


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


def _user_id(actor: User | str | None) -> int | None:
    return actor.id if isinstance(actor, User) else None
