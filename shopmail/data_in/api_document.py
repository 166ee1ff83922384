"""The data-in part of the OpenAPI document (`web.api_document`): the record upserts and an
order's mails, generated from the data-in schema (`schema`) and the answer models below, so it
cannot drift from what the API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from shopmail.core.states import ApiScope
from shopmail.data_in.schema import MAX_RECORDS, MODELS
from shopmail.web.api_document import ONE_LINE, REF, Answer, Part, errors, response, security

SUMMARIES = {
    "orders": "Create or update orders",
    "shipments": "Create or update shipments",
    "quotes": "Create or update quotes",
    "members": "Create or update members",
}
SCOPES = {
    "orders": ApiScope.RECORDS,
    "shipments": ApiScope.RECORDS,
    "quotes": ApiScope.RECORDS,
    "members": ApiScope.MEMBERS,
}
ERRORS = {
    404: "An unknown store, order or member (every problem names its field).",
    409: "The same new record was written by another request at the same moment.",
    422: "Validation failed; every problem names its field.",
}


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


class StoredMember(Answer):
    number: str
    company: str
    contact_name: str
    email: str
    wants_mail: bool = Field(description="False once the member unsubscribed or complained.")
    email_invalid: bool = Field(description="Flagged invalid: left out of every broadcast.")
    invalid_reason: str = Field(description="Why it was flagged (the server's or bounce's words).")
    hard_bounces: int = Field(ge=0, description="Permanent bounces (5.x.x) of mail to it.")
    soft_bounces: int = Field(ge=0, description="Temporary bounces (4.x.x) of mail to it.")
    business_type: str
    industry: str
    display_group: str
    last_purchase_on: date | None
    tel: str
    created_at: datetime
    updated_at: datetime


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


def _upsert(kind: str, body: str, answer: str) -> dict:
    key_note = "members by number" if kind == "members" else "by store + number"
    return {
        "post": {
            "operationId": f"upsert_{kind}",
            "summary": SUMMARIES[kind],
            "description": f"Creates or updates records keyed {key_note}. Every record of the "
            "request is written, or none. Sending the same data again changes nothing.",
            "security": security(SCOPES[kind], "post"),
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=body)}}},
            },
            "responses": {
                "200": response("What became of each record, in the order sent.", answer),
                **errors(ERRORS, 401, 403, 413, 429),
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
            "security": security(ApiScope.RECORDS, "get"),
            "responses": {
                "200": response("The order's messages, oldest first.", "OrderMessages"),
                **errors({404: "No store has this code, or it has no such order."}, 401, 403, 429),
            },
        }
    }


def _member(schemas: dict) -> dict:
    number = schemas["Member"]["properties"]["number"]
    return {
        "get": {
            "operationId": "member",
            "summary": "A member as stored, with its bounce counts",
            "parameters": [
                {"name": "number", "in": "path", "required": True, "schema": number | ONE_LINE}
            ],
            "security": security(ApiScope.MEMBERS, "get"),
            "responses": {
                "200": response("The member.", "StoredMember"),
                **errors({404: "There is no member with this number."}, 401, 403, 429),
            },
        }
    }


ENVELOPES = {kind: _envelopes(kind) for kind in MODELS}


def _paths(schemas: dict) -> dict:
    paths = {
        f"/{kind}": _upsert(kind, body.__name__, answer.__name__)
        for kind, (body, answer) in ENVELOPES.items()
    }
    paths["/orders/{store}/{number}/messages"] = _order_messages(schemas)
    paths["/members/{number}"] = _member(schemas)
    return paths


PART = Part(
    summary="Push orders, shipments, quotes and members into the mail desk, and read back an "
    "order's mails and a member. Amounts are whole yen. Times without an offset are Asia/Tokyo "
    "time.",
    models=(*(m for pair in ENVELOPES.values() for m in pair), OrderMessages, StoredMember),
    paths=_paths,
)
