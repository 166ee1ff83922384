"""What staff review a send-queue row by (the manual's step 1-3: spot old or test orders): the
day its mail is about — the order's, the shipment's confirmation or the quote's — its number,
the buyer, and why it is held. The queue's filter selects by that day too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import and_, case, func, select, type_coerce

from shopmail.core.i18n import on_tokyo_days, tokyo
from shopmail.core.mail_lists import MailFilter
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import KindSetting, Message, Order, Quote, Shipment
from shopmail.models.types import UTCDateTime

# A shipping notice (or a record mail of a shipment) is about the shipment's confirmation — the
# first confirmed one, as creation takes it; a quote's mail about its issue; every other mail
# about its order. Test mails are about nothing (NULL).
_record_mail = Message.kind == MessageKind.RECORD
_of_shipment = and_(_record_mail, Message.record_type == "shipment")
_of_quote = and_(_record_mail, Message.record_type == "quote")
record_date = type_coerce(
    case(
        (
            Message.kind == MessageKind.SHIPPING_NOTICE,
            select(func.min(Shipment.confirmed_at))
            .where(Shipment.order_id == Message.order_id)
            .scalar_subquery(),
        ),
        (
            _of_shipment,
            select(Shipment.confirmed_at).where(Shipment.id == Message.record_id).scalar_subquery(),
        ),
        (_of_quote, select(Quote.issued_at).where(Quote.id == Message.record_id).scalar_subquery()),
        else_=select(Order.ordered_at).where(Order.id == Message.order_id).scalar_subquery(),
    ),
    UTCDateTime(),
)
record_number = case(
    (_of_quote, select(Quote.number).where(Quote.id == Message.record_id).scalar_subquery()),
    else_=select(Order.number).where(Order.id == Message.order_id).scalar_subquery(),
)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: a store, a kind, and the day the mail is about (`record_date`;
    Tokyo calendar days, both ends included)."""

    mails: MailFilter
    start: date | None = None
    end: date | None = None

    @property
    def store_id(self) -> int | None:
        return self.mails.store_id

    @property
    def kind(self) -> str | None:
        return self.mails.kind

    def args(self) -> dict[str, str]:
        """The filter as URL arguments: for links, the pager and the action form."""
        values = (
            ("store", self.store_id),
            ("kind", self.kind),
            ("start", self.start and self.start.isoformat()),
            ("end", self.end and self.end.isoformat()),
        )
        return {name: str(value) for name, value in values if value}

    def apply(self, query):
        query = self.mails.apply(query)
        return query.where(*on_tokyo_days(record_date, self.start, self.end))


def parse_day(text: str | None) -> date | None:
    """A day from the query (YYYY-MM-DD); anything else is no day, so it filters nothing."""
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class QueueRow:
    """A queue row as staff review it."""

    message: Message
    record_date: datetime | None  # the day the mail is about (`record_date`)
    basis: str  # what that day is: "order", "shipment", "quote", or "" (none)
    number: str  # the order's or quote's number
    held_because: str  # why it is (or was, before deleting) held, in words; else ""
    restorable_until: datetime | None = None  # deleted rows: until when they can be restored


def for_review(messages: Sequence[Message], restore_days: int) -> list[QueueRow]:
    """A page of rows with their record's day and number (one query) and their hold reason."""
    facts = db.session.execute(
        select(Message.id, record_date, record_number).where(
            Message.id.in_([m.id for m in messages])
        )
    ).all()
    by_id = {row[0]: (row[1], row[2]) for row in facts}
    started = _kinds_started()
    rows = []
    for m in messages:
        day, number = by_id.get(m.id, (None, None))
        held = MessageState.HELD in (m.state, m.deleted_from)
        reason = _held_because(m, started.get(m.kind)) if held else ""
        until = m.deleted_at + timedelta(days=restore_days) if m.deleted_at else None
        rows.append(QueueRow(m, day, _basis(m) if day else "", number or "", reason, until))
    return rows


def _basis(m: Message) -> str:
    if m.kind == MessageKind.SHIPPING_NOTICE:
        return "shipment"
    if m.kind == MessageKind.RECORD and m.record_type in ("shipment", "quote"):
        return m.record_type
    return "order"


def _kinds_started() -> dict[str, datetime]:
    settings = db.session.scalars(select(KindSetting).where(KindSetting.started_at.isnot(None)))
    return {s.kind: s.started_at for s in settings}


def _held_because(m: Message, started: datetime | None) -> str:
    """Creation holds exactly the first-use reach-back (automatic.creation): the mails of a
    kind just switched on whose order, shipment or due day lies before the switch-on."""
    if m.kind not in AUTOMATIC_KINDS or started is None:
        return gettext("Held for review before it is sent.")
    day = tokyo(started, "%Y-%m-%d")
    if m.kind == MessageKind.ORDER_CONFIRMATION:
        return gettext("Reach-back: ordered before this kind came into use (%(day)s)", day=day)
    if m.kind == MessageKind.SHIPPING_NOTICE:
        return gettext("Reach-back: shipped before this kind came into use (%(day)s)", day=day)
    return gettext("Reach-back: due before this kind came into use (%(day)s)", day=day)
