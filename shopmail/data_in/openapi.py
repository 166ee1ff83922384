"""The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`."""

from __future__ import annotations

from typing import Any

from shopmail.data_in.fields import MAX_INT
from shopmail.data_in.tables import ORDER_STATUSES, QUOTE_STATUSES
from shopmail.models.commerce import PAYMENT_KINDS

DATETIME_NOTE = (
    "ISO 8601 date and time, e.g. 2025-04-01T10:00:00+09:00. Without an offset it is read as "
    "Asia/Tokyo time. Answers give times in UTC with an offset."
)
KEEP_NOTE = "A field left out keeps its stored value (a new record gets the default)."


def _text(max_len: int, **extra: Any) -> dict:
    return {"type": ["string", "null"], "maxLength": max_len, **extra}


def _yen(description: str = "Yen, a whole number.", low: int = 0) -> dict:
    return {
        "type": ["integer", "null"],
        "minimum": low,
        "maximum": MAX_INT,
        "description": description,
    }


def _obj(properties: dict, required: tuple = (), **extra: Any) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


DATETIME = {"type": ["string", "null"], "format": "date-time", "description": DATETIME_NOTE}
DATE = {"type": ["string", "null"], "format": "date", "description": "YYYY-MM-DD"}
KEY = {"type": "string", "minLength": 1, "maxLength": 60}
# Codes and numbers never hold control characters (the upserts refuse them).
ONE_LINE = {"pattern": "^[^\\x00-\\x1f\\x7f]+$"}
STORE = {"type": "string", "minLength": 1, "maxLength": 40, "description": "The store's code."}
PARTY = {
    "name": _text(200),
    "zip": _text(10),
    "address": _text(1000),
    "tel": _text(30),
}
LINE = _obj(
    {
        "sku": _text(60),
        "name": {"type": "string", "minLength": 1, "maxLength": 300},
        "unit_price": _yen("Yen per unit (tax included).", low=-10_000_000)
        | {"maximum": 10_000_000},
        "quantity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100_000},
    },
    ("name",),
)
ORDER_LINE = LINE | {"properties": LINE["properties"] | {"options": _text(2000)}}
AMOUNTS = {
    "item_total": _yen("Yen; when left out, the sum of the lines."),
    "tax": _yen("Yen (consumption tax included in the prices)."),
    "shipping_fee": _yen(),
    "total": _yen("Yen; when left out, item_total + shipping_fee − points_used."),
}
SHIPMENT_FIELDS = {
    "carrier": _text(40, description="Carrier; defaults to the order's delivery_method."),
    "tracking_number": _text(60),
    "confirmed_at": DATETIME
    | {
        "description": "When the shipment was confirmed (starts the shipping notice). "
        + DATETIME_NOTE
    },
}
ORDER = _obj(
    {
        "store": STORE,
        "number": KEY,
        "ordered_at": DATETIME | {"type": "string"},
        "status": {"enum": list(ORDER_STATUSES)},
        "member_number": _text(40, description="A member's number (B2B), or empty for none."),
        "buyer": _obj(
            PARTY | {"email": {"type": "string", "format": "email", "maxLength": 254}}, ("email",)
        ),
        "purchase_count": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 100_000,
            "description": "The buyer's orders at this store, this one included. When left out "
            "on a new order: counted from the orders of the same store with the same e-mail.",
        },
        "ship_to": _obj(PARTY | {"company": _text(200)}),
        "shipping_instructions": _text(2000),
        "delivery_method": _text(40, description="Delivery method / carrier, e.g. ヤマト運輸."),
        "delivery_date": DATE,
        "payment": _obj({"method": _text(60), "kind": {"enum": list(PAYMENT_KINDS)}}),
        **AMOUNTS,
        "points_used": _yen("Points used, in yen."),
        "lines": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ORDER_LINE},
        "shipment": _obj(
            {"number": _text(60, description="Defaults to the order number."), **SHIPMENT_FIELDS},
            description="The order's shipment; creates or updates a shipment row.",
        ),
    },
    ("store", "number", "ordered_at", "buyer", "lines"),
    description=KEEP_NOTE + " Lines, when given, replace the order's lines.",
)
SHIPMENT = _obj(
    {"store": STORE, "number": KEY, "order_number": KEY, **SHIPMENT_FIELDS},
    ("store", "number", "order_number"),
    description=KEEP_NOTE,
)
QUOTE = _obj(
    {
        "store": STORE,
        "number": KEY,
        "issued_at": DATETIME | {"type": "string"},
        "expires_on": DATE,
        "status": {"enum": list(QUOTE_STATUSES)},
        "member_number": _text(40),
        "company": _text(200),
        "contact_name": _text(200),
        "email": {"type": ["string", "null"], "maxLength": 254},
        "zip": _text(10),
        "address": _text(1000),
        "tel": _text(30),
        **AMOUNTS,
        "notes": _text(5000),
        "lines": {"type": "array", "minItems": 1, "maxItems": 1000, "items": LINE},
    },
    ("store", "number", "issued_at", "lines"),
    description=KEEP_NOTE,
)
MEMBER = _obj(
    {
        "number": {"type": "string", "minLength": 1, "maxLength": 40},
        "company": _text(200),
        "contact_name": _text(200),
        "email": {"type": ["string", "null"], "maxLength": 254},
        "wants_mail": {"type": ["boolean", "null"]},
        "email_invalid": {
            "type": ["boolean", "null"],
            "description": "Left out: kept, but cleared when the e-mail changes.",
        },
        "business_type": _text(60),
        "industry": _text(60),
        "display_group": _text(60),
        "last_purchase_on": DATE,
        "tel": _text(30),
    },
    ("number",),
    description=KEEP_NOTE,
)
ERROR = _obj(
    {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": _obj(
                {
                    "field": {"type": "string", "description": "e.g. orders[0].buyer.email"},
                    "message": {"type": "string"},
                },
                ("field", "message"),
            ),
        },
    },
    ("error", "message"),
)


def _response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    text = {
        401: "No token, an unknown token or a revoked token.",
        404: "An unknown store, order or member (every problem names its field).",
        409: "The same new record was written by another request at the same moment.",
        413: "The body is larger than the limit (2 MB by default).",
        422: "Validation failed; every problem names its field.",
        429: "Too many requests for this token.",
    }
    ref = {"$ref": "#/components/schemas/Error"}
    return {str(code): _response(text[code], ref) for code in codes}


def _upsert(kind: str, schema_name: str, summary: str) -> dict:
    key_note = "members by number" if kind == "members" else "by store + number"
    result = _obj(
        {
            "store": {"type": "string"},
            "number": {"type": "string"},
            "id": {"type": "integer"},
            "result": {"enum": ["created", "updated", "unchanged"]},
        },
        ("number", "id", "result"),
    )
    counts = {
        name: {"type": "integer", "minimum": 0} for name in ("created", "updated", "unchanged")
    }
    return {
        "post": {
            "operationId": f"upsert_{kind}",
            "summary": summary,
            "description": f"Creates or updates records keyed {key_note}. Every record of the "
            "request is written, or none. Sending the same data again changes nothing.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _obj(
                            {
                                kind: {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 500,
                                    "items": {"$ref": f"#/components/schemas/{schema_name}"},
                                }
                            },
                            (kind,),
                        )
                    }
                },
            },
            "responses": {
                "200": _response(
                    "What became of each record, in the order sent.",
                    _obj({**counts, kind: {"type": "array", "items": result}}, (*counts, kind)),
                ),
                **_errors(401, 404, 409, 413, 422, 429),
            },
        }
    }


MESSAGE = _obj(
    {
        "id": {"type": "integer"},
        "kind": {"type": "string"},
        "state": {"type": "string"},
        "to": {"type": "string"},
        "subject": {"type": "string"},
        "attempts": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"},
        "last_code": {"type": ["integer", "null"]},
        "last_reply": {"type": "string", "description": "The mail server's last answer."},
    },
    ("id", "kind", "state", "to", "subject", "created_at", "sent_at", "last_reply"),
)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "shopmail API",
        "version": "1",
        "description": "Push orders, shipments, quotes and members into the mail desk, and read "
        "back an order's mails. Authenticate with 'Authorization: Bearer <token>' (tokens are "
        "created by admins, or with `flask --app app create-api-token NAME`). Amounts are whole "
        "yen. Rate limit: 600 requests per minute per token by default.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/orders": _upsert("orders", "Order", "Create or update orders"),
        "/shipments": _upsert("shipments", "Shipment", "Create or update shipments"),
        "/quotes": _upsert("quotes", "Quote", "Create or update quotes"),
        "/members": _upsert("members", "Member", "Create or update members"),
        "/orders/{store}/{number}/messages": {
            "get": {
                "operationId": "order_messages",
                "summary": "An order's mails and their states",
                "parameters": [
                    {"name": "store", "in": "path", "required": True, "schema": STORE | ONE_LINE},
                    {"name": "number", "in": "path", "required": True, "schema": KEY | ONE_LINE},
                ],
                "responses": {
                    "200": _response(
                        "The order's messages, oldest first.",
                        _obj(
                            {
                                "store": {"type": "string"},
                                "number": {"type": "string"},
                                "order_id": {"type": "integer"},
                                "messages": {"type": "array", "items": MESSAGE},
                            },
                            ("store", "number", "order_id", "messages"),
                        ),
                    ),
                    **_errors(401, 404, 429),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Order": ORDER,
            "Shipment": SHIPMENT,
            "Quote": QUOTE,
            "Member": MEMBER,
            "Error": ERROR,
        },
    },
}
