"""The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`: generated from the
data-in schema (`schema`) and the answer models below, so it cannot drift from what the API
accepts and answers."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from shopmail.data_in.schema import MAX_RECORDS, MODELS

REF = "#/components/schemas/{model}"
# Codes and numbers never hold control characters (the upserts refuse them).
ONE_LINE = {"pattern": "^[^\\x00-\\x1f\\x7f]+$"}
SUMMARIES = {
    "orders": "Create or update orders",
    "shipments": "Create or update shipments",
    "quotes": "Create or update quotes",
    "members": "Create or update members",
}
ERRORS = {
    401: "No token, an unknown token or a revoked token.",
    404: "An unknown store, order or member (every problem names its field).",
    409: "The same new record was written by another request at the same moment.",
    413: "The body is larger than the limit (2 MB by default).",
    422: "Validation failed; every problem names its field.",
    429: "Too many requests for this token.",
}


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


class UpsertResult(Answer):
    store: str | None = None
    number: str
    id: int
    result: Literal["created", "updated", "unchanged"]


class OrderMessage(Answer):
    id: int
    kind: str
    state: str
    to: str
    subject: str
    attempts: int = 0
    created_at: datetime
    sent_at: datetime | None
    last_code: int | None = None
    last_reply: str = Field(description="The mail server's last answer.")


class OrderMessages(Answer):
    store: str
    number: str
    order_id: int
    messages: list[OrderMessage]


def _envelopes(kind: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The request body `{"<kind>": [record, …]}` and its answer, as models."""
    name = kind.capitalize()
    body = create_model(
        f"{name}Request",
        __config__=ConfigDict(extra="forbid"),
        **{kind: (list[MODELS[kind]], Field(min_length=1, max_length=MAX_RECORDS))},
    )
    count = (int, Field(ge=0))
    answer = create_model(
        f"{name}Answer",
        __base__=Answer,
        created=count,
        updated=count,
        unchanged=count,
        **{kind: (list[UpsertResult], ...)},
    )
    return body, answer


def _response(description: str, model: str) -> dict:
    schema = {"$ref": REF.format(model=model)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    return {str(code): _response(ERRORS[code], "Error") for code in codes}


def _upsert(kind: str, body: str, answer: str) -> dict:
    key_note = "members by number" if kind == "members" else "by store + number"
    return {
        "post": {
            "operationId": f"upsert_{kind}",
            "summary": SUMMARIES[kind],
            "description": f"Creates or updates records keyed {key_note}. Every record of the "
            "request is written, or none. Sending the same data again changes nothing.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=body)}}},
            },
            "responses": {
                "200": _response("What became of each record, in the order sent.", answer),
                **_errors(401, 404, 409, 413, 422, 429),
            },
        }
    }


def _order_messages(schemas: dict) -> dict:
    order = schemas["Order"]["properties"]
    return {
        "get": {
            "operationId": "order_messages",
            "summary": "An order's mails and their states",
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": order[name] | ONE_LINE}
                for name in ("store", "number")
            ],
            "responses": {
                "200": _response("The order's messages, oldest first.", "OrderMessages"),
                **_errors(401, 404, 429),
            },
        }
    }


@functools.cache
def document() -> dict[str, Any]:
    """The whole document, built once."""
    envelopes = {kind: _envelopes(kind) for kind in MODELS}
    models = [m for pair in envelopes.values() for m in pair] + [Error, OrderMessages]
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = defs["$defs"]
    paths = {
        f"/{kind}": _upsert(kind, body.__name__, answer.__name__)
        for kind, (body, answer) in envelopes.items()
    }
    paths["/orders/{store}/{number}/messages"] = _order_messages(schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shopmail API",
            "version": "1",
            "description": "Push orders, shipments, quotes and members into the mail desk, and "
            "read back an order's mails. Authenticate with 'Authorization: Bearer <token>' "
            "(tokens are created by admins, or with `flask --app app create-api-token NAME`). "
            "Amounts are whole yen. Times without an offset are Asia/Tokyo time. Rate limit: "
            "600 requests per minute per token by default.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    }
