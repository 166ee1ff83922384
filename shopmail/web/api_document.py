"""The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`: each API blueprint
describes its own paths and answer models (`api_blueprint(bp, openapi=Part(…))`), and the
document is put together from the blueprints the app registered, in their order. The parts are
generated from the pydantic models the API validates with and answers from, so the document
cannot drift from what the API accepts and answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from shopmail.core.states import ApiScope

REF = "#/components/schemas/{model}"
# Codes and numbers never hold control characters (the API refuses them).
ONE_LINE = {"pattern": "^[^\\x00-\\x1f\\x7f]+$"}
COMMON_ERRORS = {
    401: "No token, an unknown token or a revoked token.",
    403: "The token does not have the scope this operation needs (see its security).",
    413: "The body is larger than the limit (2 MB by default).",
    429: "Too many requests for this token.",
}
INTRODUCTION = (
    "Authenticate with 'Authorization: Bearer <token>' (tokens are created by admins, or with "
    "`flask --app app create-api-token NAME [--scope S …]`). A token has scopes: `records` "
    "(write orders, shipments, quotes), `members` (write members), `broadcasts` (create and "
    "run broadcasts) and `read`; a GET is allowed by `read` or by the scope of what it reads. "
    "Without the scope the answer is 403. Messages follow Accept-Language (ja or en; Japanese "
    "when not given), except the field messages of the record upserts, which are English. "
    "Rate limit: 600 requests per minute per token by default."
)


class Answer(BaseModel):
    """An answer of the API (documented, never validated)."""

    model_config = ConfigDict(extra="forbid")


class FieldProblem(Answer):
    field: str = Field(description="e.g. orders[0].buyer.email")
    message: str


class Error(Answer):
    error: str
    message: str
    errors: list[FieldProblem] = []


@dataclass(frozen=True)
class Part:
    """What one API blueprint adds to the document: what it is for (a sentence of the
    introduction), the models its paths refer to, and its paths (given every schema)."""

    summary: str
    models: tuple[type[BaseModel], ...]
    paths: Callable[[dict[str, Any]], dict[str, Any]]


def response(description: str, model: str) -> dict:
    schema = {"$ref": REF.format(model=model)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(specific: dict[int, str], *common: int) -> dict:
    """Error answers: those of this operation with their own description, then common ones."""
    described = {**{code: COMMON_ERRORS[code] for code in common}, **specific}
    return {str(code): response(text, "Error") for code, text in sorted(described.items())}


def body(model: str) -> dict:
    schema = {"$ref": REF.format(model=model)}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def security(scope: ApiScope, method: str) -> list[dict]:
    """The scopes that allow an operation, any one of them (a GET: also `read`)."""
    alternatives = [scope] if method != "get" or scope == ApiScope.READ else [scope, ApiScope.READ]
    return [{"bearer": [str(name)]} for name in alternatives]


def document() -> dict[str, Any]:
    """The whole document of the current app, built once."""
    parts = tuple(
        bp.openapi for bp in current_app.blueprints.values() if getattr(bp, "openapi", None)
    )
    return _build(parts)


@functools.cache
def _build(parts: tuple[Part, ...]) -> dict[str, Any]:
    models = [Error] + [m for part in parts for m in part.models]
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = defs["$defs"]
    paths: dict[str, Any] = {}
    for part in parts:
        paths.update(part.paths(schemas))
    summaries = " ".join(part.summary for part in parts)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shopmail API",
            "version": "1",
            "description": f"{summaries} {INTRODUCTION}",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    }
