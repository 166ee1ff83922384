"""The JSON error answer of the API: {"error": code, "message": ..., ...}, also for URLs
under /api/ that match no route."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

from shopmail.extensions import db

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


def http_error(exc: HTTPException):
    db.session.rollback()
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    return error(status, code, MESSAGES.get(status, "The server could not answer this request."))
