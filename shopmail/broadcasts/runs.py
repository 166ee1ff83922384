"""A running broadcast: pause, resume, cancel, progress read from the outbox, the list of
broadcasts, and what staff do with its result (`results`): the refused addresses flagged
invalid in one step, the copies not delivered sent again in one step, the unknown ones (which
may have arrived) sent again only when ticked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, select, update

from shopmail.broadcasts import quota
from shopmail.broadcasts.drafts import (
    BroadcastError,
    OverQuota,
    WrongState,
    audience,
    check_ready,
)
from shopmail.broadcasts.results import refused_rows, undelivered_rows, unknown_rows
from shopmail.core import audit, dispatch, outbox, run_ends
from shopmail.core.progress import Progress, next_retry_at
from shopmail.core.states import BroadcastState, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import Broadcast, Member, Message, User
from shopmail.models.types import utcnow

_CANCELLABLE = (
    BroadcastState.DRAFT,
    BroadcastState.SCHEDULED,
    BroadcastState.SENDING,
    BroadcastState.PAUSED,
)


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
    _settle_admin_copy(broadcast, unsent)
    if broadcast.started_at is not None:
        quota.release(released, quota.month_of(broadcast.started_at))
    _settle_counts(broadcast)
    broadcast.finished_at = utcnow()
    audit.record(actor, "broadcast.cancelled", broadcast, released=released)
    return released


def _settle_admin_copy(broadcast: Broadcast, unsent: tuple) -> None:
    """The admin copy is the broadcast's first row and goes out with its first chunk. One still
    waiting (for a retry) at the cancel goes on once a member has the mail — detached from the
    broadcast, whose rows are sent only while it is sending; if no member has it, nor does the
    admin."""
    reached = db.session.scalar(
        select(Message.id)
        .where(
            Message.broadcast_id == broadcast.id,
            Message.kind == MessageKind.BROADCAST,
            Message.state.notin_((MessageState.QUEUED, MessageState.DELETED)),
        )
        .limit(1)
    )
    change = {"broadcast_id": None} if reached else {"state": MessageState.DELETED}
    db.session.execute(
        update(Message).where(*unsent, Message.kind == MessageKind.ADMIN_COPY).values(**change),
        execution_options={"synchronize_session": False},
    )


def progress(broadcast: Broadcast, counts: dict[str, int] | None = None) -> Progress:
    """Counts read from the outbox (it becomes done in the send loop: `core.run_ends`);
    `counts`: the member copies by state, when the caller read them already."""
    rows = dict(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    counts = outbox.count_by_state(**rows) if counts is None else counts
    cancelled = broadcast.state == BroadcastState.CANCELLED
    return Progress.of(
        counts,
        total=broadcast.total,
        ended=cancelled or broadcast.state == BroadcastState.DONE,
        cancelled=cancelled,
        next_retry_at=next_retry_at(**rows) if counts.get(MessageState.RETRYING) else None,
    )


def _settle_counts(broadcast: Broadcast, counts: dict[str, int] | None = None) -> None:
    counts = counts or outbox.count_by_state(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    broadcast.sent, broadcast.failed = (
        counts.get(MessageState.SENT, 0),
        counts.get(MessageState.FAILED, 0),
    )


@dataclass(frozen=True)
class DraftLine:
    """A draft in the list: whom it would reach now, and why it cannot be sent as it stands."""

    recipients: int
    problem: str | None


def listing(page: int) -> tuple[Pagination, dict[int, Progress], dict[int, DraftLine]]:
    """A page of broadcasts: the scheduled ones first, soonest first, then the others newest
    first, each with its live counts (drafts: their audience and what stops them)."""
    later = case((Broadcast.state == BroadcastState.SCHEDULED, 0), else_=1)
    result = db.paginate(
        select(Broadcast).order_by(later, Broadcast.send_at, Broadcast.id.desc()),
        page=max(page, 1),
        per_page=50,
    )
    drafts = {b.id: _draft_line(b) for b in result.items if b.state == BroadcastState.DRAFT}
    return result, {b.id: progress(b) for b in result.items}, drafts


def _draft_line(broadcast: Broadcast) -> DraftLine:
    if broadcast.schedule_refusal:  # its scheduled start was refused: say why
        return DraftLine(audience(broadcast).final, broadcast.schedule_refusal)
    try:
        return DraftLine(check_ready(broadcast).final, None)
    except BroadcastError as exc:
        return DraftLine(audience(broadcast).final, str(exc))


RESEND_BATCH = 500


def send_again(
    broadcast: Broadcast,
    message_ids: list[int] | None,
    actor: User | str,
    unknown_ids: Sequence[int] = (),
) -> int:
    """Queue the ticked (None: all) undelivered copies again, and the unknown ones staff ticked
    (they may have arrived: never one that was not ticked); refused and sent copies never. The
    broadcast sends again until they end. Each copy sent again counts against this month's quota
    like any copy, reserved in the transaction that queues it: over the quota, nothing is queued.
    A second press finds the rows queued already and queues nothing."""
    if broadcast.state != BroadcastState.DONE:
        raise WrongState(_l("Mails can be sent again once the broadcast has ended."))
    rows = undelivered_rows(broadcast).with_only_columns(Message.id)
    if message_ids is not None:
        rows = rows.where(Message.id.in_(message_ids))
    ids = list(db.session.scalars(rows))
    if unknown_ids:
        ticked = unknown_rows(broadcast).with_only_columns(Message.id)
        ids += db.session.scalars(ticked.where(Message.id.in_(list(unknown_ids))))
    if not ids:
        return 0
    month = quota.month_of()
    try:
        quota.reserve(len(ids), month)
    except quota.QuotaExceeded as exc:
        raise OverQuota(
            _l(
                "Sending these %(wanted)s mails again would pass this month's limit: only "
                "%(left)s are left. Nothing was queued.",
                wanted=f"{exc.wanted:,}",
                left=f"{exc.left:,}",
            )
        ) from None
    count = sum(
        outbox.requeue(ids[at : at + RESEND_BATCH]) for at in range(0, len(ids), RESEND_BATCH)
    )
    quota.release(len(ids) - count, month)  # another press queued them a moment ago
    if count:
        unknown_count = len(set(unknown_ids) & set(ids))
        audit.record(actor, "broadcast.sent_again", broadcast, count=count, unknown=unknown_count)
        dispatch.send_soon([broadcast.store_id])
    return count


def flag_invalid_members(broadcast: Broadcast, member_ids: list[int], actor: User) -> int:
    """Flag the ticked refused members invalid (reason: the server's reply), in one step."""
    chosen = refused_rows(broadcast).where(Member.id.in_(member_ids))
    flagged = []
    for message, member in db.session.execute(chosen):
        if not member.email_invalid:
            member.email_invalid = True
            member.invalid_reason = (
                f"{message.bounce_status} {message.bounce_diagnostic}".strip()
                if message.state == MessageState.BOUNCED
                else message.last_reply or str(message.last_code or "")
            )
            flagged.append(member.id)
    if flagged:
        audit.record(
            actor, "member.flagged_invalid", broadcast, count=len(flagged), member_ids=flagged
        )
    return len(flagged)
