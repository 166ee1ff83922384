"""The JSON API for data in (`/api/v1`): upserts of orders, shipments, quotes and members
(`POST /api/v1/<kind>` with `{"<kind>": [record, …]}`, all written or none), reading back what
became of an order and a member as stored (with its bounce counts), and the OpenAPI document.
Tokens, scopes, limits and JSON errors are those of every API blueprint (`web.api_auth`)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from shopmail.core import audit
from shopmail.core.states import ApiScope
from shopmail.data_in import api_document, records
from shopmail.data_in.schema import MAX_RECORDS
from shopmail.extensions import db
from shopmail.models import Member, Message, Order, Store
from shopmail.web import public
from shopmail.web.api_auth import actor, api_blueprint, needs
from shopmail.web.api_document import document
from shopmail.web.json_errors import error

bp = api_blueprint(Blueprint("api", __name__), openapi=api_document.PART)


@bp.post("/orders")
@needs(ApiScope.RECORDS)
def upsert_orders():
    return _upsert("orders")


@bp.post("/shipments")
@needs(ApiScope.RECORDS)
def upsert_shipments():
    return _upsert("shipments")


@bp.post("/quotes")
@needs(ApiScope.RECORDS)
def upsert_quotes():
    return _upsert("quotes")


@bp.post("/members")
@needs(ApiScope.MEMBERS)
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
    audit.record(actor(), f"api.{kind}.upserted", None, **outcome.counts)
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
@needs(ApiScope.RECORDS)
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


@bp.get("/members/<path:number>")
@needs(ApiScope.MEMBERS)
def member(number: str):
    found = db.session.scalar(db.select(Member).filter_by(number=number))
    if found is None:
        return error(404, "not_found", f"There is no member {number!r}.")
    return {
        "number": found.number,
        "company": found.company,
        "contact_name": found.contact_name,
        "email": found.email,
        "wants_mail": found.wants_mail,
        "email_invalid": found.email_invalid,
        "invalid_reason": found.invalid_reason,
        "hard_bounces": found.hard_bounces,
        "soft_bounces": found.soft_bounces,
        "business_type": found.business_type,
        "industry": found.industry,
        "display_group": found.display_group,
        "last_purchase_on": found.last_purchase_on.isoformat() if found.last_purchase_on else None,
        "tel": found.tel,
        "created_at": _iso(found.created_at),
        "updated_at": _iso(found.updated_at),
    }


@bp.get("/openapi.json")
@public
def openapi():
    return document()
