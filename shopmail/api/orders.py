"""Reading back what became of an order: its messages and their states."""

from __future__ import annotations

from datetime import datetime

from shopmail.api import api
from shopmail.api.auth import error
from shopmail.extensions import db
from shopmail.models import Message, Order, Store


@api.get("/orders/<store>/<path:number>/messages")
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
