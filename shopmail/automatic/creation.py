"""Creating automatic order mails: eligible orders become outbox rows, never twice.

For each kind in use and each store, a set-based query finds the orders that have no row of
that kind yet (an anti-join on the outbox), a thousand at a time in id order; each becomes a
row with the subject and body of its resolved template (compiled once per store, kind, device
and variant). The unique `dedupe_key` "<kind>:order:<id>" settles races between creators.

Rows whose order (or shipment, or follow-up date) is older than the moment the kind was
switched on are the first-use reach-back: they are `held` for review. Everything later is
`queued`, and goes out as soon as sending is on.
"""

from __future__ import annotations

import calendar
import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import ARRAY, Integer, any_, bindparam, exists, func, select

from shopmail.automatic import template_choice, templates
from shopmail.core import audit, merge, outbox
from shopmail.core.i18n import TOKYO
from shopmail.core.states import AUTOMATIC_KINDS, Channel, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import DeskSettings, KindSetting, Message, Order, OrderLine, Shipment, Store
from shopmail.models.types import utcnow

# First use reaches back this far: a week, or (follow-up) this many calendar months.
REACH_BACK_WEEKS = {MessageKind.ORDER_CONFIRMATION: 1, MessageKind.SHIPPING_NOTICE: 1}
REACH_BACK_MONTHS = {MessageKind.FOLLOW_UP: 3}
# Amazon does not allow follow-up mails to its buyers.
NO_FOLLOW_UP_CHANNELS = (Channel.AMAZON,)
CHUNK = 1000
_ORDER_COLUMNS = [
    c for c in Order.__table__.columns if c.name not in ("created_at", "updated_at", "status")
]
ORDER_KEYS = [c.name for c in _ORDER_COLUMNS]


@functools.cache
def _chunk_queries(dialect: str) -> tuple:
    """Built once, run per chunk of ids: only the columns the tags read.

    PostgreSQL gets the ids as one array (`= ANY(:ids)`): a thousand placeholders would be
    parsed again by the driver for every chunk.
    """

    def among(column):
        if dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(Integer)))
        return column.in_(bindparam("ids", expanding=True))

    orders = select(*_ORDER_COLUMNS).where(among(Order.id))
    lines = (
        select(OrderLine.order_id, OrderLine.name, OrderLine.options)
        .add_columns(OrderLine.unit_price, OrderLine.quantity)
        .where(among(OrderLine.order_id))
        .order_by(OrderLine.order_id, OrderLine.position)
    )
    shipments = (
        select(Shipment.id, Shipment.order_id, Shipment.number, Shipment.carrier)
        .add_columns(Shipment.tracking_no, Shipment.confirmed_at)
        .where(among(Shipment.order_id))
        .order_by(Shipment.id)
    )
    return orders, lines, shipments


@dataclass
class CreationReport:
    """What one creation run made: rows per kind and state, and what it could not make."""

    created: Counter = field(default_factory=Counter)
    held: int = 0
    queued: int = 0
    # "store name / carrier / device" → orders without any template to use
    missing_templates: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.held + self.queued

    def details(self) -> dict:
        return {
            "created": dict(self.created),
            "held": self.held,
            "queued": self.queued,
            "missing_templates": dict(self.missing_templates),
        }


def reach_back_since(kind: str, started: datetime) -> datetime:
    """The oldest moment the first use of `kind` (switched on at `started`) reaches back to:
    a week, or for follow-ups 3 calendar months on Tokyo's calendar — a start on 15 December
    reaches back to 15 September, one on 31 May to the last day of February."""
    if kind not in REACH_BACK_MONTHS:
        return started - timedelta(weeks=REACH_BACK_WEEKS[kind])
    local = started.astimezone(TOKYO)
    months = local.year * 12 + local.month - 1 - REACH_BACK_MONTHS[kind]
    year, month = divmod(months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day).astimezone(UTC)


def follow_up_allowed(store: Store) -> bool:
    return store.channel not in NO_FOLLOW_UP_CHANNELS


def create_mails(
    actor="system", now: datetime | None = None, scheduled: bool = False
) -> CreationReport:
    """One creation run over every kind in use and every store, flushed chunk by chunk (the
    job or command around it commits; the dedupe keys make a rerun after a failure safe).

    A `scheduled` run (the hourly job) creates only while auto-run creation is switched on.
    """
    now = now or utcnow()
    report = CreationReport()
    if scheduled and not DeskSettings.current().auto_create:
        return report
    settings = db.session.scalars(
        select(KindSetting).where(
            KindSetting.in_use.is_(True), KindSetting.kind.in_(AUTOMATIC_KINDS)
        )
    ).all()
    if not settings:
        return report
    resolver = templates.Resolver.load()
    bank = templates.bank_account_text()
    stores = db.session.scalars(select(Store).order_by(Store.id)).all()
    for setting in settings:
        started = setting.started_at or now
        for store in stores:
            if setting.kind == MessageKind.FOLLOW_UP and not follow_up_allowed(store):
                continue
            _create_for_store(setting.kind, store, started, now, resolver, bank, report)
        setting.backfill_done = True
    # The hourly run leaves a trace only when it made (or could not make) something.
    if actor != "system" or report.total or report.missing_templates:
        audit.record(actor, "mails.created", None, **report.details())
    return report


def _create_for_store(kind, store, started, now, resolver, bank, report) -> None:
    fixed = merge.store_values(store, now)
    delay = timedelta(days=store.follow_up_days if kind == MessageKind.FOLLOW_UP else 0)
    # One set-based query for what is due; then the orders themselves a chunk at a time.
    due = _connection().execute(
        _eligible(kind, store, reach_back_since(kind, started), now - delay)
    )
    due = dict(due.all())
    ids = list(due)
    orders_by_id = _chunk_queries(_connection().dialect.name)[0]
    for start in range(0, len(ids), CHUNK):
        page = _connection().execute(orders_by_id, {"ids": ids[start : start + CHUNK]}).all()
        by_state: dict[str, list[dict]] = {MessageState.HELD: [], MessageState.QUEUED: []}
        for order in _with_lines_and_shipments(page):
            row = _row(kind, store, order, resolver, fixed, bank, report)
            if row is not None:
                # The mail's own moment (follow-up: confirmation + delay) before the switch-on
                # means it was reached back for: held for review.
                late = due[order.id] + delay < started
                row["state"] = MessageState.HELD if late else MessageState.QUEUED
                by_state[row["state"]].append(row)
        for state, rows in by_state.items():
            made = outbox.add_messages(rows)
            report.created[kind] += made
            setattr(report, state, getattr(report, state) + made)
        db.session.flush()


def _eligible(kind: str, store: Store, since: datetime, until: datetime):
    """(order id, reference time) of the orders of `store` due a mail of `kind` without one."""
    has_row = exists().where(Message.order_id == Order.id, Message.kind == kind)
    query = select(Order.id).where(Order.store_id == store.id, Order.buyer_email != "", ~has_row)
    query = query.order_by(Order.id)
    if kind == MessageKind.ORDER_CONFIRMATION:
        return query.add_columns(Order.ordered_at).where(
            Order.ordered_at >= since, Order.ordered_at <= until
        )
    confirmed = (
        select(Shipment.order_id, func.min(Shipment.confirmed_at).label("at"))
        .where(Shipment.store_id == store.id, Shipment.confirmed_at.isnot(None))
        .group_by(Shipment.order_id)
        .subquery()
    )
    query = query.join(confirmed, confirmed.c.order_id == Order.id)
    return query.add_columns(confirmed.c.at).where(confirmed.c.at >= since, confirmed.c.at <= until)


def _connection():
    # Core rows straight from the session's connection: no ORM result layer per row.
    return db.session.connection()


def _with_lines_and_shipments(page) -> list[SimpleNamespace]:
    """The page's orders as objects merge.order_values reads, lines and shipments attached."""
    ids = {"ids": [row.id for row in page]}
    lines: dict[int, list] = {}
    shipments: dict[int, list] = {}
    _, lines_of_orders, shipments_of_orders = _chunk_queries(_connection().dialect.name)
    for line in _connection().execute(lines_of_orders, ids).all():
        lines.setdefault(line.order_id, []).append(line)
    for shipment in _connection().execute(shipments_of_orders, ids).all():
        shipments.setdefault(shipment.order_id, []).append(shipment)
    orders = []
    for row in page:
        order = SimpleNamespace(lines=lines.get(row.id, []), shipments=shipments.get(row.id, []))
        order.__dict__.update(zip(ORDER_KEYS, row, strict=True))
        orders.append(order)
    return orders


def _row(kind, store, order, resolver, fixed, bank, report) -> dict | None:
    shipment = None if kind == MessageKind.ORDER_CONFIRMATION else _first_confirmed(order.shipments)
    choice = template_choice.choose(resolver, kind, store, order, shipment, fixed)
    if choice.compiled is None:
        report.missing_templates[f"{store.name} / {choice.variant or '-'} / {choice.device}"] += 1
        return None
    subject, body = choice.compiled.render(merge.order_values(order, shipment, bank))
    return {
        "dedupe_key": f"{kind}:order:{order.id}",
        "kind": kind,
        "store_id": store.id,
        "order_id": order.id,
        "record_type": "order",
        "record_id": order.id,
        "to_addr": order.buyer_email.strip(),
        "to_name": order.buyer_name,
        "device": choice.device,
        "subject": subject,
        "body": body,
        "template_choice": choice.why,
    }


def _first_confirmed(shipments) -> Shipment | None:
    confirmed = [s for s in shipments if s.confirmed_at is not None]
    return min(confirmed, key=lambda s: s.confirmed_at) if confirmed else None
