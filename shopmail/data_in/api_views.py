"""The JSON API (`/api/v1`): bearer-token authentication (not sessions), the per-token rate
limit, the body size limit, JSON errors for every answer; upserts of orders, shipments, quotes
and members (`POST /api/v1/<kind>` with `{"<kind>": [record, …]}`, all written or none) and
reading back what became of an order."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, current_app, g, request
from flask_babel import force_locale
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from shopmail.core import audit
from shopmail.data_in import records, tokens
from shopmail.data_in.api_document import document
from shopmail.data_in.schema import MAX_RECORDS
from shopmail.extensions import db, limiter
from shopmail.models import Message, Order, Store
from shopmail.web.json_errors import MESSAGES, error, http_error

DEFAULT_RATE_LIMIT = "600 per minute"
DEFAULT_MAX_BODY = 2 * 1024 * 1024
bp = Blueprint("api", __name__)
PUBLIC_ENDPOINTS = {"api.openapi"}


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
)(bp)


@bp.before_request
def authenticate():
    request.max_content_length = current_app.config.get("API_MAX_BODY", DEFAULT_MAX_BODY)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    # Reading never writes, not even the token's last use: a GET rolls back.
    token = tokens.authenticate(_bearer(), note_use=request.method not in ("GET", "HEAD"))
    if token is None:
        return error(401, "unauthorized")
    g.api_token = token
    g.api_actor = f"api:{token.name}"
    if request.content_length and request.content_length > request.max_content_length:
        return error(413, "too_large")
    return None


# By code as well as by class: the app's own handlers for these codes render HTML pages, and
# Flask tries handlers registered for a code before those registered for a class.
for _status in (*MESSAGES, 500):
    bp.register_error_handler(_status, http_error)
bp.register_error_handler(HTTPException, http_error)


@bp.post("/orders")
def upsert_orders():
    return _upsert("orders")


@bp.post("/shipments")
def upsert_shipments():
    return _upsert("shipments")


@bp.post("/quotes")
def upsert_quotes():
    return _upsert("quotes")


@bp.post("/members")
def upsert_members():
    return _upsert("members")


def _upsert(kind: str):
    body = request.get_json(silent=True)
    items = body.get(kind) if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) != {kind} or not isinstance(items, list):
        return _invalid([(kind, f'send {{"{kind}": [ … ]}} with one or more records')])
    if not 1 <= len(items) <= MAX_RECORDS:
        return _invalid([(kind, f"send between 1 and {MAX_RECORDS} records")])
    outcome = records.upsert(kind, items)
    if outcome.problems:
        db.session.rollback()
        return _problems(kind, outcome.problems)
    audit.record(g.api_actor, f"api.{kind}.upserted", None, **outcome.counts)
    try:
        db.session.flush()  # the request commits; a clash of two new records shows here
    except IntegrityError:  # the same new record pushed twice at the same moment
        db.session.rollback()
        return error(409, "conflict")
    return {
        **outcome.counts,
        kind: [
            {"store": r.store, "number": r.number, "id": r.id, "result": r.result}
            if r.store is not None
            else {"number": r.number, "id": r.id, "result": r.result}
            for r in outcome.results
        ],
    }


def _problems(kind: str, problems: dict[int, list[records.Problem]]):
    everything = [p for item in problems.values() for p in item]
    with force_locale("en"):
        fields = [
            (f"{kind}[{index}]" + (f".{p.field}" if p.field else ""), str(p.message))
            for index, item in sorted(problems.items())
            for p in item
        ]
    if all(p.not_found for p in everything):
        return error(404, "not_found", "A referenced record does not exist.", errors=_named(fields))
    return _invalid(fields)


def _invalid(fields: list[tuple[str, str]]):
    return error(422, "validation", "Some fields are not valid.", errors=_named(fields))


def _named(fields: list[tuple[str, str]]) -> list[dict]:
    return [{"field": name, "message": message} for name, message in fields]


@bp.get("/orders/<store>/<path:number>/messages")
def order_messages(store: str, number: str):
    shop = db.session.scalar(db.select(Store).filter_by(code=store))
    if shop is None:
        return error(404, "not_found", f"No store has the code {store!r}.")
    order = db.session.scalar(db.select(Order).filter_by(store_id=shop.id, number=number))
    if order is None:
        return error(404, "not_found", f"Store {store!r} has no order {number!r}.")
    rows = db.session.scalars(
        db.select(Message).filter_by(order_id=order.id).order_by(Message.id)
    ).all()
    return {
        "store": shop.code,
        "number": order.number,
        "order_id": order.id,
        "messages": [_message(row) for row in rows],
    }


def _message(row: Message) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "state": row.state,
        "to": row.to_addr,
        "subject": row.subject,
        "attempts": row.attempts,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "last_code": row.last_code,
        "last_reply": row.last_reply,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@bp.get("/openapi.json")
def openapi():
    return document()
