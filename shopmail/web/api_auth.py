"""What every JSON API blueprint shares (data in, broadcasts): bearer-token authentication
(not sessions), the token's scopes, the per-token rate limit, the body size limit and JSON
errors for every answer.

A blueprint becomes part of the API with `api_blueprint(bp)`. Every view in it says which scope
it needs with `@needs(scope)` (a GET is also allowed by `read`), or is marked `public`; a view
that says neither answers 403 to every token — access is deny-by-default, as for the pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from shopmail.core.states import ApiScope
from shopmail.extensions import db, limiter
from shopmail.models import ApiToken
from shopmail.models.types import utcnow
from shopmail.web.json_errors import MESSAGES, error, http_error

DEFAULT_RATE_LIMIT = "600 per minute"
DEFAULT_MAX_BODY = 2 * 1024 * 1024
READ_METHODS = ("GET", "HEAD")
# last_used_at is a hint for admins, not a log: writing it on every request would be waste.
USE_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    """The SHA-256 hash a token is kept as."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


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


def needs(scope: ApiScope) -> Callable[[Callable], Callable]:
    """Mark an API view with the scope it needs; a GET is also allowed by `read`."""

    def mark(view: Callable) -> Callable:
        view.api_scope = scope
        return view

    return mark


def accepted_scopes(view: Callable | None, method: str) -> list[ApiScope]:
    """The scopes that allow this request, any one of them; none for an unmarked view."""
    scope = getattr(view, "api_scope", None)
    if scope is None:
        return []
    if method in READ_METHODS and scope != ApiScope.READ:
        return [scope, ApiScope.READ]
    return [scope]


def actor() -> str:
    """The current token as the audit trail names it."""
    return g.api_actor


def api_blueprint(bp: Blueprint, openapi: object | None = None) -> Blueprint:
    """Make `bp` part of the API: tokens, scopes, limits and JSON errors; `openapi` is its
    part of the OpenAPI document (a `web.api_document.Part`)."""
    bp.bearer_auth = True
    bp.openapi = openapi
    limiter.shared_limit(
        lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        scope="api",  # one budget per token, shared by every API blueprint
        key_func=_rate_key,
    )(bp)
    bp.before_request(_authenticate)
    # By code as well as by class: the app's own handlers for these codes render HTML pages,
    # and Flask tries handlers registered for a code before those registered for a class.
    for status in (*MESSAGES, 500):
        bp.register_error_handler(status, http_error)
    bp.register_error_handler(HTTPException, http_error)
    return bp


def is_api_blueprint(bp: Blueprint | None) -> bool:
    return bool(getattr(bp, "bearer_auth", False))


def _bearer() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _rate_key() -> str:
    # Counted per token (by its hash, never the secret); callers without one per address.
    secret = _bearer()
    if secret:
        return "api-token:" + digest(secret)[:32]
    return "api-addr:" + (get_remote_address() or "")


def _authenticate():
    request.max_content_length = current_app.config.get("API_MAX_BODY", DEFAULT_MAX_BODY)
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "public", False):
        return None
    # Reading never writes, not even the token's last use: a GET rolls back.
    token = authenticate(_bearer(), note_use=request.method not in READ_METHODS)
    if token is None:
        return error(401, "unauthorized")
    g.api_token = token
    g.api_actor = f"api:{token.name}"
    accepted = accepted_scopes(view, request.method)
    if not token.scope_set & set(accepted):
        return _forbidden(accepted)
    if request.content_length and request.content_length > request.max_content_length:
        return error(413, "too_large")
    return _parsed_body()


def _parsed_body():
    """Parse a JSON body once, here, so that no view meets a body the parser cannot take:
    JSON nested deeper than Python's recursion limit raises RecursionError, not ValueError."""
    if not request.is_json:
        return None
    try:
        request.get_json(silent=True)  # cached for the view
    except RecursionError:
        return error(400, "bad_request", "The JSON is nested too deeply.")
    return None


def _forbidden(accepted: list[ApiScope]):
    if not accepted:  # a view that names no scope is open to no token
        return error(403, "forbidden", str(_l("This token may not do that.")))
    message = _l(
        "This token may not do that: it needs one of these scopes: %(scopes)s.",
        scopes=", ".join(accepted),
    )
    return error(403, "forbidden", str(message))
