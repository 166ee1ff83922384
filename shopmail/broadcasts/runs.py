"""A running broadcast: pause, resume, cancel, progress read from the outbox, the list of
broadcasts, and the result: the addresses the recipients' side refused (5xx in the SMTP
transaction, hard bounces; flagged invalid in one step), apart from the mails that were not
delivered because the mail server could not be reached (sent again in one step, never flagged).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select, update

from shopmail.broadcasts import quota
from shopmail.broadcasts.drafts import BroadcastError, WrongState, audience, check_ready
from shopmail.core import audit, dispatch, outbox, run_ends
from shopmail.core.progress import Progress, next_retry_at
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
    source: str = ""  # RefusalSource: smtp, bounce, address
    status: str = ""  # the bounce's status code ("5.1.1"); empty for SMTP refusals


@dataclass(frozen=True)
class Undelivered:
    """A copy the relay never took: it could not be reached, or the retries ran out."""

    message_id: int
    member_id: int
    number: str
    company: str
    addr: str
    code: int | None
    reply: str
    attempts: int


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


def progress(broadcast: Broadcast) -> Progress:
    """Counts read from the outbox (it becomes done in the send loop: `core.run_ends`)."""
    rows = dict(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    counts = outbox.count_by_state(**rows)
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
    """A page of broadcasts, newest first, each with its live counts (drafts: their audience
    and what stops them)."""
    result = db.paginate(
        select(Broadcast).order_by(Broadcast.id.desc()), page=max(page, 1), per_page=50
    )
    drafts = {b.id: _draft_line(b) for b in result.items if b.state == BroadcastState.DRAFT}
    return result, {b.id: progress(b) for b in result.items}, drafts


def _draft_line(broadcast: Broadcast) -> DraftLine:
    try:
        return DraftLine(check_ready(broadcast).final, None)
    except BroadcastError as exc:
        return DraftLine(audience(broadcast).final, str(exc))


def _refused_rows(broadcast: Broadcast):
    """Copies the recipient's side refused: the row says so (`refused_by`, set when the 5xx
    or the hard bounce was recorded), never guessed from a missing reply code."""
    return (
        select(Message, Member)
        .join(Member, Member.id == Message.member_id)
        .where(
            Message.broadcast_id == broadcast.id,
            Message.kind == MessageKind.BROADCAST,
            Message.state.in_((MessageState.FAILED, MessageState.BOUNCED)),
            Message.refused_by.isnot(None),
        )
        .order_by(Member.id)
    )


def _undelivered_rows(broadcast: Broadcast):
    return (
        select(Message, Member)
        .join(Member, Member.id == Message.member_id)
        .where(
            Message.broadcast_id == broadcast.id,
            Message.kind == MessageKind.BROADCAST,
            Message.state == MessageState.FAILED,
            Message.refused_by.is_(None),
        )
        .order_by(Member.id)
    )


def refused(broadcast: Broadcast) -> list[Refusal]:
    """Addresses refused for good — 5xx to RCPT or DATA, a hard bounce, an address that is
    none — with the member and the server's (or the bounce's) words."""
    out = []
    for message, member in db.session.execute(_refused_rows(broadcast)):
        bounced = message.state == MessageState.BOUNCED
        out.append(
            Refusal(
                member.id,
                member.number,
                member.company,
                message.to_addr,
                _bounce_code(message) if bounced else message.last_code,
                message.bounce_diagnostic if bounced else message.last_reply,
                member.email_invalid,
                message.refused_by or "",
                message.bounce_status if bounced else "",
            )
        )
    return out


def _bounce_code(message: Message) -> int | None:
    """The SMTP code the remote server gave in its diagnostic ("smtp; 550 5.1.1 …")."""
    for word in message.bounce_diagnostic.replace(";", " ").split():
        if len(word) == 3 and word.isdigit() and word[0] in "45":
            return int(word)
    return None


def undelivered(broadcast: Broadcast) -> list[Undelivered]:
    """Copies that failed without any recipient refusing them: shown apart, sent again."""
    return [
        Undelivered(
            message.id,
            member.id,
            member.number,
            member.company,
            message.to_addr,
            message.last_code,
            message.last_reply,
            message.attempts,
        )
        for message, member in db.session.execute(_undelivered_rows(broadcast))
    ]


def send_again(broadcast: Broadcast, message_ids: list[int] | None, actor: User) -> int:
    """Queue the ticked (None: all) undelivered copies again; the broadcast sends again until
    they end. Their quota was counted when the broadcast started: nothing more is reserved."""
    if broadcast.state == BroadcastState.CANCELLED:
        raise WrongState(_l("This broadcast cannot do that in its current state."))
    rows = _undelivered_rows(broadcast).with_only_columns(Message.id)
    if message_ids is not None:
        rows = rows.where(Message.id.in_(message_ids))
    ids = list(db.session.scalars(rows))
    count = outbox.requeue(ids) if ids else 0
    if count:
        audit.record(actor, "broadcast.sent_again", broadcast, count=count)
        dispatch.send_soon([broadcast.store_id])
    return count


def flag_invalid_members(broadcast: Broadcast, member_ids: list[int], actor: User) -> int:
    """Flag the ticked refused members invalid (reason: the server's reply), in one step."""
    chosen = _refused_rows(broadcast).where(Member.id.in_(member_ids))
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
