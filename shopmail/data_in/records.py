"""Orders, shipments, quotes and members from plain dicts: the one validation and upsert path
shared by the JSON API and the CSV import. Values are checked by the pydantic `schema`; this
module adds the checks that read the database and writes the validated records.

Records are keyed by store code + number (members by member number). A field that is not given
keeps its current value (or the model's default on a new record), so sending the same data twice
changes nothing: no UPDATE is issued, ids and `updated_at` stay as they were. Naive date-times
are Tokyo time. Validation reads the database (stores, members, orders) but writes nothing;
`upsert` writes only when every record is valid, unless the caller accepts partial batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from shopmail.data_in import schema
from shopmail.data_in.values import MAX_INT
from shopmail.extensions import db
from shopmail.models import Member, Order, OrderLine, Quote, QuoteLine, Shipment, Store
from shopmail.models.types import utcnow


@dataclass(frozen=True)
class Problem:
    field: str  # "buyer.email", "lines[1].quantity"
    message: object  # str() gives it in the current locale
    not_found: bool = False  # an unknown store, order or member (the API answers 404)


@dataclass
class Clean:
    kind: str
    number: str
    store: Store | None = None
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[dict] | None = None
    shipment: dict | None = None  # orders: the shipment given with the order
    order: Order | None = None  # shipments: the order shipped


@dataclass(frozen=True)
class Result:
    index: int
    store: str | None
    number: str
    id: int
    result: str  # created | updated | unchanged


@dataclass
class Outcome:
    results: list[Result]
    problems: dict[int, list[Problem]]

    def count(self, result: str) -> int:
        return sum(1 for r in self.results if r.result == result)

    @property
    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in ("created", "updated", "unchanged")}


def upsert(kind: str, items: list[Any], *, all_or_nothing: bool = True) -> Outcome:
    """Validate every item, then create or update the valid ones (none if any is invalid and
    `all_or_nothing`). Adds to the session and flushes; the caller commits or rolls back."""
    cache: dict = {}
    cleaned: list[tuple[int, Clean]] = []
    problems: dict[int, list[Problem]] = {}
    for index, item in enumerate(items):
        clean, item_problems = validate(kind, item, cache)
        if item_problems:
            problems[index] = item_problems
        else:
            cleaned.append((index, clean))
    if problems and all_or_nothing:
        return Outcome([], problems)
    results = [_APPLY[kind](index, clean) for index, clean in cleaned]
    db.session.flush()
    return Outcome(results, problems)


def validate(kind: str, item: Any, cache: dict | None = None) -> tuple[Clean | None, list]:
    """Check one record against the schema, then its store, member and order; returns its
    clean values, or the problems naming each bad field."""
    cache = {} if cache is None else cache
    record, found = schema.read(kind, item)
    if record is None:
        return None, [Problem(name, message) for name, message in found]
    problems: list[Problem] = []
    clean = Clean(kind, record.number, values=schema.columns(record))
    if kind != "members":
        clean.store = _store(record.store, cache, problems)
    if kind in ("orders", "quotes"):
        _member(record, clean, cache, problems)
        clean.lines = [schema.line_values(line) for line in record.lines]
        _totals(clean, problems)
    if kind == "orders":
        if payment_kind := record.payment_kind():
            clean.values.setdefault("payment_kind", payment_kind)
        if record.shipment is not None:
            clean.shipment = _order_shipment(record.shipment, clean, problems)
    if kind == "shipments" and clean.store is not None:
        _shipped_order(record.order_number, clean, problems)
    return (None if problems else clean), problems


def _store(code: str, cache: dict, problems: list) -> Store | None:
    if ("store", code) not in cache:
        cache["store", code] = db.session.scalar(db.select(Store).filter_by(code=code))
    if cache["store", code] is None:
        problems.append(Problem("store", _l("no store has this code"), not_found=True))
    return cache["store", code]


def _member(record: schema.Order | schema.Quote, clean: Clean, cache: dict, problems: list) -> None:
    if "member_number" not in record.model_fields_set:
        return
    number = record.member_number
    if not number:
        clean.values["member_id"] = None
        return
    if ("member", number) not in cache:
        cache["member", number] = db.session.scalar(db.select(Member.id).filter_by(number=number))
    if cache["member", number] is None:
        problems.append(Problem("member_number", _l("no member has this number"), not_found=True))
    clean.values["member_id"] = cache["member", number]


def _totals(clean: Clean, problems: list) -> None:
    """Missing totals are worked out: items from the lines, total = items + shipping − points."""
    values = clean.values
    if clean.lines and "item_total" not in values:
        values["item_total"] = sum(x["unit_price"] * x["quantity"] for x in clean.lines)
    if "item_total" in values and "total" not in values:
        values["total"] = (
            values["item_total"] + values.get("shipping_fee", 0) - values.get("points_used", 0)
        )
    for name in ("item_total", "total"):
        if name in values and not 0 <= values[name] <= MAX_INT:
            problems.append(Problem(name, _l("must be between 0 and %(n)s", n=MAX_INT)))


def _order_shipment(given: schema.OrderShipment, clean: Clean, problems: list) -> dict:
    values = schema.columns(given)
    values["number"] = given.number or clean.number
    if clean.store is not None:
        other = db.session.scalar(
            db.select(Order.number)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.store_id == clean.store.id, Shipment.number == values["number"])
        )
        if other is not None and other != clean.number:
            problems.append(Problem("shipment.number", _l("belongs to another order")))
    return values


def _shipped_order(number: str, clean: Clean, problems: list) -> None:
    clean.order = _find(Order, clean.store.id, number)
    if clean.order is None:
        problems.append(Problem("order_number", _l("no order has this number"), not_found=True))
        return
    shipment = _find(Shipment, clean.store.id, clean.number)
    if shipment is not None and shipment.order_id != clean.order.id:
        problems.append(Problem("number", _l("belongs to another order")))


def _find(model, store_id: int, number: str):
    return db.session.scalar(db.select(model).filter_by(store_id=store_id, number=number))


def _assign(obj: Any, values: dict) -> bool:
    """Set only what differs, so an unchanged record issues no UPDATE."""
    changed = False
    for attr, value in values.items():
        if getattr(obj, attr) != value:
            setattr(obj, attr, value)
            changed = True
    return changed


def _set_lines(record: Any, line_model, lines: list[dict]) -> bool:
    keys = list(lines[0]) if lines else []
    current = [{k: getattr(line, k) for k in keys} for line in record.lines]
    if current == lines:
        return False
    record.lines = [line_model(position=i, **values) for i, values in enumerate(lines, start=1)]
    return True


def _outcome(index: int, clean: Clean, obj: Any, created: bool, changed: bool) -> Result:
    if changed and not created:
        obj.updated_at = utcnow()
    db.session.flush()
    result = "created" if created else ("updated" if changed else "unchanged")
    code = clean.store.code if clean.store is not None else None
    return Result(index, code, clean.number, obj.id, result)


def _apply_order(index: int, clean: Clean) -> Result:
    order = _find(Order, clean.store.id, clean.number)
    created = order is None
    values = dict(clean.values)
    if created:
        values.setdefault("purchase_count", _purchase_count(clean.store.id, values))
        order = Order(store_id=clean.store.id, number=clean.number)
        db.session.add(order)
    confirmed = bool(clean.shipment and clean.shipment.get("confirmed_at"))
    if confirmed and "status" not in values and (created or order.status in ("new", "processing")):
        values["status"] = "shipped"
    changed = _assign(order, values)
    changed |= _set_lines(order, OrderLine, clean.lines)
    if clean.shipment is not None:
        shipment_values = dict(clean.shipment)
        number = shipment_values.pop("number")
        _, shipment_created, shipment_changed = _apply_shipment(
            clean.store.id, number, order, shipment_values
        )
        changed |= shipment_created or shipment_changed
    return _outcome(index, clean, order, created, changed)


def _purchase_count(store_id: int, values: dict) -> int:
    """Orders of this buyer at this store up to this one, this one included."""
    email = values["buyer_email"].lower()
    earlier = db.session.scalar(
        db.select(func.count(Order.id)).where(
            Order.store_id == store_id,
            func.lower(Order.buyer_email) == email,
            Order.ordered_at <= values["ordered_at"],
        )
    )
    return (earlier or 0) + 1


def _apply_shipment(
    store_id: int, number: str, order: Order, values: dict
) -> tuple[Shipment, bool, bool]:
    shipment = _find(Shipment, store_id, number)
    created = shipment is None
    if created:
        values.setdefault("carrier", order.delivery_method or "")
        shipment = Shipment(store_id=store_id, number=number, order=order)
        db.session.add(shipment)
    changed = _assign(shipment, values)
    if changed and not created:
        shipment.updated_at = utcnow()
    return shipment, created, changed


def _apply_shipment_record(index: int, clean: Clean) -> Result:
    shipment, created, changed = _apply_shipment(
        clean.store.id, clean.number, clean.order, dict(clean.values)
    )
    if clean.values.get("confirmed_at") and clean.order.status in ("new", "processing"):
        clean.order.status = "shipped"
        changed = True
    return _outcome(index, clean, shipment, created, changed)


def _apply_quote(index: int, clean: Clean) -> Result:
    quote = _find(Quote, clean.store.id, clean.number)
    created = quote is None
    if created:
        quote = Quote(store_id=clean.store.id, number=clean.number)
        db.session.add(quote)
    changed = _assign(quote, clean.values)
    changed |= _set_lines(quote, QuoteLine, clean.lines)
    return _outcome(index, clean, quote, created, changed)


def _apply_member(index: int, clean: Clean) -> Result:
    member = db.session.scalar(db.select(Member).filter_by(number=clean.number))
    created = member is None
    values = dict(clean.values)
    if created:
        member = Member(number=clean.number)
        db.session.add(member)
    elif values.get("email", member.email) != member.email and "email_invalid" not in values:
        # A new address has not bounced (yet): the old address's flag does not carry over.
        values.update(email_invalid=False, invalid_reason="")
    changed = _assign(member, values)
    return _outcome(index, clean, member, created, changed)


_APPLY = {
    "orders": _apply_order,
    "shipments": _apply_shipment_record,
    "quotes": _apply_quote,
    "members": _apply_member,
}
