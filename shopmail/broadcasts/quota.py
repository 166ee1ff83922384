"""The monthly broadcast quota: one counter per Asia/Tokyo calendar month.

The quota counts broadcast recipient rows *reserved*: starting a broadcast reserves one per
member row it queues (in the transaction that queues them, by a conditional UPDATE, so two
broadcasts started at once can never overrun the limit); cancelling releases the rows that
were still unsent. Failed rows stay counted (the send was attempted); sending them again
reserves again (`runs.send_again`), as for any copy. Admin copies and manual record mails do
not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from shopmail.core import outbox
from shopmail.core.i18n import TOKYO
from shopmail.extensions import db
from shopmail.models import DeskSettings, QuotaMonth
from shopmail.models.types import utcnow


class QuotaExceeded(Exception):
    """Sending `wanted` mails would pass this month's limit; `left` is what remains."""

    def __init__(self, wanted: int, left: int) -> None:
        self.wanted = wanted
        self.left = left
        super().__init__(f"{wanted} mails wanted, {left} left this month")


@dataclass(frozen=True)
class QuotaStatus:
    month: str
    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


def month_of(moment: datetime | None = None) -> str:
    """The Tokyo calendar month of a UTC moment (now by default), e.g. "2026-11"."""
    return (moment or utcnow()).astimezone(TOKYO).strftime("%Y-%m")


def status(month: str | None = None) -> QuotaStatus:
    month = month or month_of()
    row = db.session.get(QuotaMonth, month)
    return QuotaStatus(month, DeskSettings.current().monthly_quota, row.used if row else 0)


def reserve(n: int, month: str | None = None) -> None:
    """Reserve `n` sends in the current transaction, or raise QuotaExceeded (caller rolls back)."""
    month = month or month_of()
    limit = DeskSettings.current().monthly_quota
    _ensure_row(month)
    reserved = db.session.execute(
        update(QuotaMonth)
        .where(QuotaMonth.month == month, QuotaMonth.used + n <= limit)
        .values(used=QuotaMonth.used + n),
        execution_options={"synchronize_session": False},
    ).rowcount
    if reserved != 1:
        used = db.session.scalar(db.select(QuotaMonth.used).where(QuotaMonth.month == month))
        raise QuotaExceeded(n, max(limit - (used or 0), 0))


def release(n: int, month: str) -> None:
    """Give back `n` unsent reservations of `month` (in the caller's transaction)."""
    if n <= 0:
        return
    db.session.execute(
        update(QuotaMonth)
        .where(QuotaMonth.month == month)
        .values(used=db.case((QuotaMonth.used > n, QuotaMonth.used - n), else_=0)),
        execution_options={"synchronize_session": False},
    )


def _ensure_row(month: str) -> None:
    db.session.execute(
        outbox.insert_new(QuotaMonth.__table__, ["month"]).values(month=month, used=0)
    )
