"""Counts of the outbox over time, for the charts: mails per Tokyo calendar day (the dashboard)
and copies per time bucket (a broadcast's delivery). Counted in SQL (GROUP BY), on SQLite and
PostgreSQL alike.

A mail's moment is the one the history shows beside it: when it was sent, else when its row last
changed (a failed or unknown mail). Tokyo keeps no daylight saving time (none since 1951), so a
Tokyo day is the UTC moment moved on by nine hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Integer, cast, func, literal_column, select

from shopmail.core.i18n import TOKYO, on_tokyo_days
from shopmail.core.mail_lists import MailFilter
from shopmail.core.states import MessageState
from shopmail.extensions import db
from shopmail.models import Message
from shopmail.models.types import utcnow

# The states the dashboard draws, in the order of its bars, legend and table.
DAY_STATES = (MessageState.SENT, MessageState.FAILED, MessageState.BOUNCED, MessageState.UNKNOWN)
BUCKETS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400)  # seconds; the first that fits
MAX_BUCKETS = 60


@dataclass(frozen=True)
class DayCounts:
    day: date  # a Tokyo calendar day
    counts: dict[str, int]  # state → mails

    def __getitem__(self, state: str) -> int:
        return self.counts.get(state, 0)


@dataclass(frozen=True)
class Bucket:
    start: datetime  # UTC
    count: int


@dataclass(frozen=True)
class Timeline:
    seconds: int  # the width of one bucket
    buckets: list[Bucket]

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def moment() -> ColumnElement:
    return func.coalesce(Message.sent_at, Message.updated_at)


def tokyo_day(column: ColumnElement) -> ColumnElement:
    """The Tokyo calendar day of a UTC column, as text "YYYY-MM-DD" on either database."""
    if _dialect() == "postgresql":
        return func.to_char(column + literal_column("INTERVAL '9 hours'"), "YYYY-MM-DD")
    return func.date(column, "+9 hours")


def _epoch(column: ColumnElement) -> ColumnElement:
    """Seconds since 1970 of a UTC column (stored without an offset on both databases)."""
    if _dialect() == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), Integer)
    return cast(func.strftime("%s", column), Integer)


def tokyo_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(TOKYO).date()


def daily(wanted: MailFilter, days: int = 30, now: datetime | None = None) -> list[DayCounts]:
    """Mails per state for each of the last `days` Tokyo days (today last), every day listed."""
    today = tokyo_today(now)
    first = today - timedelta(days=days - 1)
    at = moment()
    day = tokyo_day(at).label("day")
    query = (
        select(day, Message.state, func.count())
        .where(Message.state.in_(DAY_STATES), *on_tokyo_days(at, first, today))
        .group_by(day, Message.state)
    )
    found: dict[str, dict[str, int]] = {}
    for name, state, count in db.session.execute(wanted.apply(query)):
        found.setdefault(str(name), {})[state] = count
    span = (first + timedelta(days=n) for n in range(days))
    return [DayCounts(d, found.get(d.isoformat(), {})) for d in span]


def totals(days: Sequence[DayCounts]) -> dict[str, int]:
    return {state: sum(d[state] for d in days) for state in DAY_STATES}


def timeline(*where: ColumnElement, column: ColumnElement | None = None) -> Timeline:
    """How many rows (of `where`) reached `column` (default: sent) per bucket of time, the
    bucket the narrowest of BUCKETS that draws the whole span in at most MAX_BUCKETS bars."""
    column = Message.sent_at if column is None else column
    first, last = db.session.execute(
        select(func.min(column), func.max(column)).where(*where, column.isnot(None))
    ).one()
    if first is None:
        return Timeline(BUCKETS[0], [])
    span = (last - first).total_seconds()
    seconds = next((s for s in BUCKETS if span / s < MAX_BUCKETS), BUCKETS[-1])
    origin = int(first.timestamp()) // seconds * seconds
    slot = ((_epoch(column) - literal_column(str(origin))) // seconds).label("slot")
    rows = dict(
        db.session.execute(
            select(slot, func.count()).where(*where, column.isnot(None)).group_by(slot)
        ).all()
    )
    count = int(span + (first.timestamp() - origin)) // seconds + 1
    start = datetime.fromtimestamp(origin, first.tzinfo)
    buckets = [Bucket(start + timedelta(seconds=n * seconds), rows.get(n, 0)) for n in range(count)]
    return Timeline(seconds, buckets)
