"""Upserts of orders, shipments, quotes and members: `POST /api/v1/<kind>` with
`{"<kind>": [record, …]}`. All records of a request are written, or none."""

from __future__ import annotations

from flask import g, request
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from shopmail.api import api
from shopmail.api.auth import error
from shopmail.extensions import db
from shopmail.services import audit, records

MAX_RECORDS = 500


@api.post("/orders")
def upsert_orders():
    return _upsert("orders")


@api.post("/shipments")
def upsert_shipments():
    return _upsert("shipments")


@api.post("/quotes")
def upsert_quotes():
    return _upsert("quotes")


@api.post("/members")
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
        db.session.commit()
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
