"""The order, shipment and quote lists: filters (store, date range, status, free text) and paging.

Dates are Tokyo calendar days, both ends included. Free text matches any part of the record's
number, the buyer's name, e-mail address or company, without regard to case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, false, func, or_, select

from shopmail.core.i18n import on_tokyo_days
from shopmail.extensions import db
from shopmail.models import Order, Quote, Shipment, Store

PER_PAGE = 50
RECORD_TYPES = ("order", "shipment", "quote")
SHIPMENT_STATUSES = ("confirmed", "unconfirmed")


@dataclass(frozen=True)
class ListFilter:
    """What a list asks for; empty values mean "any"."""

    store_id: int | None = None
    start: date | None = None
    end: date | None = None
    status: str = ""
    text: str = ""


def search(
    record_type: str, wanted: ListFilter, page: int = 1, per_page: int = PER_PAGE
) -> Pagination:
    """One page of matching records, newest first."""
    query = _QUERIES[record_type](wanted)
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def statuses(record_type: str) -> list[str]:
    """The statuses the filter offers: those in use (shipments: confirmed or not)."""
    if record_type == "shipment":
        return list(SHIPMENT_STATUSES)
    model = Order if record_type == "order" else Quote
    query = select(model.status).distinct().order_by(model.status)
    return [s for s in db.session.scalars(query) if s]


def stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.id)))


def _orders(wanted: ListFilter) -> Select:
    query = select(Order)
    if wanted.status:
        query = query.where(Order.status == wanted.status)
    query = _common(query, wanted, Order.store_id, Order.ordered_at)
    query = _text(query, wanted.text, _ORDER_TEXT + [Order.number])
    return query.order_by(Order.ordered_at.desc(), Order.id.desc())


def _shipments(wanted: ListFilter) -> Select:
    shipped = func.coalesce(Shipment.confirmed_at, Shipment.created_at)
    query = select(Shipment).join(Shipment.order)
    if wanted.status == "confirmed":
        query = query.where(Shipment.confirmed_at.isnot(None))
    elif wanted.status == "unconfirmed":
        query = query.where(Shipment.confirmed_at.is_(None))
    elif wanted.status:
        query = query.where(false())
    query = _common(query, wanted, Shipment.store_id, shipped)
    columns = _ORDER_TEXT + [Shipment.number, Order.number, Shipment.tracking_no]
    query = _text(query, wanted.text, columns)
    return query.order_by(shipped.desc(), Shipment.id.desc())


def _quotes(wanted: ListFilter) -> Select:
    query = select(Quote)
    if wanted.status:
        query = query.where(Quote.status == wanted.status)
    query = _common(query, wanted, Quote.store_id, Quote.issued_at)
    columns = [Quote.number, Quote.contact_name, Quote.email, Quote.company]
    query = _text(query, wanted.text, columns)
    return query.order_by(Quote.issued_at.desc(), Quote.id.desc())


_ORDER_TEXT = [Order.buyer_name, Order.buyer_email, Order.ship_company, Order.ship_name]
_QUERIES = {"order": _orders, "shipment": _shipments, "quote": _quotes}


def _common(query: Select, wanted: ListFilter, store_column, date_column) -> Select:
    if wanted.store_id:
        query = query.where(store_column == wanted.store_id)
    return query.where(*on_tokyo_days(date_column, wanted.start, wanted.end))


def _text(query: Select, text: str, columns: list) -> Select:
    # Each word must match some column: "山田 A-100" finds 山田's order A-100.
    for word in text.split()[:5]:
        query = query.where(or_(*(column.icontains(word, autoescape=True) for column in columns)))
    return query
