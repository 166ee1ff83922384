"""A running broadcast: pause, resume, cancel, progress read from the outbox, the list of
broadcasts, and the report of addresses the mail server refused (flagged invalid in one step).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select, update

from shopmail.broadcasts import quota
from shopmail.broadcasts.drafts import BroadcastError
from shopmail.core import audit, outbox
from shopmail.core import dispatch as queue
from shopmail.extensions import db
from shopmail.models import Broadcast, Member, Message, User
from shopmail.models.outbox import OPEN_STATES
from shopmail.models.types import utcnow


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    unknown: int
    remaining: int
    deleted: int

    @property
    def percent(self) -> int:
        done = self.sent + self.failed + self.unknown + self.deleted
        return 100 if not self.total else min(100, round(100 * done / self.total))


@dataclass(frozen=True)
class Refusal:
    member_id: int
    number: str
    company: str
    addr: str
    code: int | None
    reply: str
    flagged: bool


def _move(broadcast: Broadcast, before: tuple[str, ...], after: str) -> bool:
    """Change the state only if it still is one of `before` (another tab may have acted)."""
    moved = db.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.state.in_(before))
        .values(state=after),
        execution_options={"synchronize_session": False},
    ).rowcount
    if moved:
        db.session.refresh(broadcast)
    return moved == 1


def pause(broadcast: Broadcast, actor: User) -> None:
    if not _move(broadcast, ("sending",), "paused"):
        raise BroadcastError(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.paused", broadcast)
    db.session.commit()


def resume(broadcast: Broadcast, actor: User) -> None:
    if not _move(broadcast, ("paused",), "sending"):
        raise BroadcastError(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.resumed", broadcast)
    db.session.commit()
    queue.dispatch_sending([broadcast.store_id])


def cancel(broadcast: Broadcast, actor: User) -> int:
    """Stop for good: unsent rows become deleted and their quota is given back."""
    if not _move(broadcast, ("draft", "sending", "paused"), "cancelled"):
        raise BroadcastError(_l("This broadcast cannot do that in its current state."))
    unsent = (Message.broadcast_id == broadcast.id, Message.state.in_(("queued", "retrying")))
    released = db.session.execute(
        update(Message).where(*unsent, Message.kind == "broadcast").values(state="deleted"),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.execute(
        update(Message).where(*unsent).values(state="deleted"),
        execution_options={"synchronize_session": False},
    )
    if broadcast.started_at is not None:
        quota.release(released, quota.month_of(broadcast.started_at))
    _settle_counts(broadcast)
    broadcast.finished_at = utcnow()
    audit.record(actor, "broadcast.cancelled", broadcast, released=released)
    db.session.commit()
    return released


def progress(broadcast: Broadcast) -> Progress:
    """Counts read from the outbox; a sending broadcast with nothing left open becomes done."""
    counts = outbox.count_by_state(broadcast_id=broadcast.id, kind="broadcast")
    remaining = sum(counts.get(state, 0) for state in OPEN_STATES)
    if broadcast.state == "sending" and remaining == 0 and _move(broadcast, ("sending",), "done"):
        broadcast.finished_at = utcnow()
        _settle_counts(broadcast, counts)
        db.session.commit()
    return Progress(
        total=broadcast.total,
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        unknown=counts.get("unknown", 0),
        remaining=remaining,
        deleted=counts.get("deleted", 0),
    )


def _settle_counts(broadcast: Broadcast, counts: dict[str, int] | None = None) -> None:
    counts = counts or outbox.count_by_state(broadcast_id=broadcast.id, kind="broadcast")
    broadcast.sent, broadcast.failed = counts.get("sent", 0), counts.get("failed", 0)


def listing(page: int) -> tuple[Pagination, dict[int, Progress]]:
    """A page of broadcasts, newest first, each with its live counts."""
    result = db.paginate(
        select(Broadcast).order_by(Broadcast.id.desc()), page=max(page, 1), per_page=50
    )
    return result, {b.id: progress(b) for b in result.items}


def _refused_rows(broadcast: Broadcast):
    return (
        select(Message, Member)
        .join(Member, Member.id == Message.member_id)
        .where(
            Message.broadcast_id == broadcast.id,
            Message.kind == "broadcast",
            Message.state == "failed",
            or_(Message.last_code.between(500, 599), Message.last_code.is_(None)),
        )
        .order_by(Member.id)
    )


def refused(broadcast: Broadcast) -> list[Refusal]:
    """Addresses the mail server refused for good (5xx), with the member and the reply."""
    return [
        Refusal(
            member.id,
            member.number,
            member.company,
            message.to_addr,
            message.last_code,
            message.last_reply,
            member.email_invalid,
        )
        for message, member in db.session.execute(_refused_rows(broadcast))
    ]


def flag_invalid_members(broadcast: Broadcast, member_ids: list[int], actor: User) -> int:
    """Flag the ticked refused members invalid (reason: the server's reply), in one step."""
    chosen = _refused_rows(broadcast).where(Member.id.in_(member_ids))
    flagged = []
    for message, member in db.session.execute(chosen):
        if not member.email_invalid:
            member.email_invalid = True
            member.invalid_reason = message.last_reply or str(message.last_code or "")
            flagged.append(member.id)
    if flagged:
        audit.record(
            actor, "member.flagged_invalid", broadcast, count=len(flagged), member_ids=flagged
        )
    db.session.commit()
    return len(flagged)
