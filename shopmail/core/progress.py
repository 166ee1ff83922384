"""How far a batch of outbox rows has got (a broadcast's copies, a record mailing's mails): what
the progress bar and its numbers show. Built from the outbox's count per state, never asked of
the job that sends them (DESIGN.md, "Requests and pages").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shopmail.core.states import MessageState
from shopmail.models.outbox import OPEN_STATES


@dataclass(frozen=True)
class Progress:
    """Counts of one batch's rows; `ended` once its owner says nothing more will be sent.

    `remaining` are the rows still open (queued, sending, retrying); every other row counts as
    done for the percentage, whatever became of it.
    """

    total: int
    sent: int
    failed: int
    unknown: int
    remaining: int
    deleted: int = 0
    ended: bool = False
    bounced: int = 0  # sent, then a permanent bounce came back

    @classmethod
    def of(cls, counts: Mapping[str, int], *, ended: bool, total: int | None = None) -> Progress:
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
        )

    @property
    def running(self) -> bool:
        """Still worth polling for: the progress partial carries its trigger only while so."""
        return not self.ended

    @property
    def percent(self) -> int:
        """Rounded down, so 100 only when nothing is left open."""
        if not self.total:
            return 100
        return max(0, min(100, (self.total - self.remaining) * 100 // self.total))

    @property
    def not_sent(self) -> int:
        """Rows that failed, bounced or may not have arrived."""
        return self.failed + self.unknown + self.bounced

    @property
    def all_sent(self) -> bool:
        return self.ended and self.sent > 0 and not self.not_sent
