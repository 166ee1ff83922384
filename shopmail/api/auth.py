"""Bearer-token authentication, the per-token rate limit, the body size limit and JSON errors
for every answer of the API."""

from __future__ import annotations

import hashlib

from flask import current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from shopmail.api import api
from shopmail.extensions import db, limiter
from shopmail.services import tokens

DEFAULT_RATE_LIMIT = "600 per minute"
DEFAULT_MAX_BODY = 2 * 1024 * 1024
PUBLIC_ENDPOINTS = {"api.openapi"}
MESSAGES = {
    400: "The request body is not valid JSON.",
    401: "A valid API token is required: send 'Authorization: Bearer <token>'.",
    403: "This token may not do that.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "The record was changed by another request at the same time; send it again.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    429: "Too many requests for this token; wait a moment and try again.",
}


def error(status: int, code: str, message: str | None = None, **extra):
    """An API error answer: {"error": code, "message": ..., ...}."""
    response = jsonify(error=code, message=message or MESSAGES.get(status, "Error."), **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="shopmail"'
    return response


def _bearer() -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _rate_key() -> str:
    # Counted per token (by its hash, never the secret); callers without one per address.
    secret = _bearer()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-addr:" + (get_remote_address() or "")


limiter.shared_limit(
    lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
    scope="api",
    key_func=_rate_key,
)(api)


@api.before_request
def authenticate():
    request.max_content_length = current_app.config.get("API_MAX_BODY", DEFAULT_MAX_BODY)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = tokens.authenticate(_bearer())
    if token is None:
        return error(401, "unauthorized")
    g.api_token = token
    g.api_actor = f"api:{token.name}"
    if request.content_length and request.content_length > request.max_content_length:
        return error(413, "too_large")
    return None


def http_error(exc: HTTPException):
    db.session.rollback()
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return error(status, code, MESSAGES.get(status, "The server could not answer this request."))


# By code as well as by class: the app's own handlers for these codes render HTML pages, and
# Flask tries handlers registered for a code before those registered for a class.
for _status in (*MESSAGES, 500):
    api.register_error_handler(_status, http_error)
api.register_error_handler(HTTPException, http_error)
