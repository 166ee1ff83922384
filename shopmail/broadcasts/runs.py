"""A running broadcast: pause, resume, cancel, progress read from the outbox, the list of
broadcasts, and the report of addresses the mail server refused (flagged invalid in one step).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select, update

from shopmail.broadcasts import quota
from shopmail.broadcasts.drafts import WrongState
from shopmail.core import audit, dispatch, outbox, run_ends
from shopmail.core.progress import Progress
from shopmail.core.states import BroadcastState, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import Broadcast, Member, Message, User
from shopmail.models.types import utcnow


@dataclass(frozen=True)
class Refusal:
    member_id: int
    number: str
    company: str
    addr: str
    code: int | None
    reply: str
    flagged: bool


_CANCELLABLE = (BroadcastState.DRAFT, BroadcastState.SENDING, BroadcastState.PAUSED)


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


def pause(broadcast: Broadcast, actor: User | str) -> None:
    if not _move(broadcast, (BroadcastState.SENDING,), BroadcastState.PAUSED):
        raise WrongState(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.paused", broadcast)


def resume(broadcast: Broadcast, actor: User | str) -> None:
    if not _move(broadcast, (BroadcastState.PAUSED,), BroadcastState.SENDING):
        raise WrongState(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.resumed", broadcast)
    run_ends.finish()  # its last rows may have ended while it was paused
    dispatch.send_soon([broadcast.store_id])


def cancel(broadcast: Broadcast, actor: User | str) -> int:
    """Stop for good: unsent rows become deleted and their quota is given back."""
    if not _move(broadcast, _CANCELLABLE, BroadcastState.CANCELLED):
        raise WrongState(_l("This broadcast cannot do that in its current state."))
    unsent = (
        Message.broadcast_id == broadcast.id,
        Message.state.in_((MessageState.QUEUED, MessageState.RETRYING)),
    )
    released = db.session.execute(
        update(Message)
        .where(*unsent, Message.kind == MessageKind.BROADCAST)
        .values(state=MessageState.DELETED),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.execute(
        update(Message).where(*unsent).values(state=MessageState.DELETED),
        execution_options={"synchronize_session": False},
    )
    if broadcast.started_at is not None:
        quota.release(released, quota.month_of(broadcast.started_at))
    _settle_counts(broadcast)
    broadcast.finished_at = utcnow()
    audit.record(actor, "broadcast.cancelled", broadcast, released=released)
    return released


def progress(broadcast: Broadcast) -> Progress:
    """Counts read from the outbox (it becomes done in the send loop: `core.run_ends`)."""
    counts = outbox.count_by_state(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    ended = broadcast.state in (BroadcastState.DONE, BroadcastState.CANCELLED)
    return Progress.of(counts, total=broadcast.total, ended=ended)


def _settle_counts(broadcast: Broadcast, counts: dict[str, int] | None = None) -> None:
    counts = counts or outbox.count_by_state(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    broadcast.sent, broadcast.failed = (
        counts.get(MessageState.SENT, 0),
        counts.get(MessageState.FAILED, 0),
    )


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
            Message.kind == MessageKind.BROADCAST,
            Message.state == MessageState.FAILED,
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
    return len(flagged)
