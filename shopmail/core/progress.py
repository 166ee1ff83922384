"""How far a batch of outbox rows has got (a broadcast's copies, a record mailing's mails): what
the progress bar and its numbers show. Built from the outbox's count per state, never asked of
the job that sends them (DESIGN.md, "Requests and pages").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from shopmail.core.states import MessageState
from shopmail.extensions import db
from shopmail.models import Message
from shopmail.models.outbox import OPEN_STATES


@dataclass(frozen=True)
class Progress:
    """Counts of one batch's rows; `ended` once its owner says nothing more will be sent.

    `remaining` are the rows still open (queued, sending, retrying); every other row counts as
    done for the percentage, whatever became of it — except for a `cancelled` batch, whose bar
    shows only the rows that were tried: the rows cancelled before sending never went out.
    `retrying` of the open rows wait for another try, the next at `next_retry_at` (UTC).
    """

    total: int
    sent: int
    failed: int
    unknown: int
    remaining: int
    deleted: int = 0
    ended: bool = False
    bounced: int = 0  # sent, then a permanent bounce came back
    retrying: int = 0
    next_retry_at: datetime | None = None
    cancelled: bool = False

    @classmethod
    def of(
        cls,
        counts: Mapping[str, int],
        *,
        ended: bool,
        total: int | None = None,
        next_retry_at: datetime | None = None,
        cancelled: bool = False,
    ) -> Progress:
        """From `outbox.count_by_state(...)`; `total` is every row counted unless given."""
        return cls(
            total=sum(counts.values()) if total is None else total,
            sent=counts.get(MessageState.SENT, 0),
            failed=counts.get(MessageState.FAILED, 0),
            unknown=counts.get(MessageState.UNKNOWN, 0),
            remaining=sum(counts.get(state, 0) for state in OPEN_STATES),
            deleted=counts.get(MessageState.DELETED, 0),
            ended=ended,
            bounced=counts.get(MessageState.BOUNCED, 0),
            retrying=counts.get(MessageState.RETRYING, 0),
            next_retry_at=next_retry_at if counts.get(MessageState.RETRYING) else None,
            cancelled=cancelled,
        )

    @property
    def running(self) -> bool:
        """Still worth polling for: the progress partial carries its trigger only while so."""
        return not self.ended

    @property
    def percent(self) -> int:
        """Rounded down, and 100 only when nothing is left open (a mail waiting for its retry
        is not done); a cancelled batch counts only what was tried."""
        if not self.total:
            return 0 if self.cancelled else 100
        done = self.total - self.remaining - (self.deleted if self.cancelled else 0)
        percent = max(0, min(100, done * 100 // self.total))
        return min(percent, 99) if self.remaining else percent

    @property
    def not_sent(self) -> int:
        """Rows that failed, bounced or may not have arrived."""
        return self.failed + self.unknown + self.bounced

    @property
    def all_sent(self) -> bool:
        return self.ended and self.sent > 0 and not self.not_sent


def next_retry_at(**filters) -> datetime | None:
    """When the first of the batch's rows waiting for a retry is tried again (`filters` as
    for `outbox.count_by_state`)."""
    query = select(func.min(Message.next_attempt_at)).where(Message.state == MessageState.RETRYING)
    for name, value in filters.items():
        query = query.where(getattr(Message, name) == value)
    return db.session.scalar(query)
