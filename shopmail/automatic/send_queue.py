"""The send queue and the history: listing rows with what staff review them by (the order or
shipment date, the buyer, why a row is held), deleting, restoring what was deleted, releasing,
sending again, and showing a row as the exact mail that goes (or went) out.

Broadcast copies are followed on the broadcast's own page, so the queue and the history
show every other kind: automatic mails, record mails and test mails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import and_, func, select, update

from shopmail.automatic.review import QueueFilter, for_review, parse_day
from shopmail.core import audit, dispatch, outbox, run_ends
from shopmail.core.mail_lists import MailFilter
from shopmail.core.relay_answers import RelayAnswer, explain
from shopmail.core.states import MessageKind, MessageState
from shopmail.extensions import db
from shopmail.mail.transport import Outcome, Result
from shopmail.models import Message, Store
from shopmail.models.outbox import MAX_RETRIES
from shopmail.models.types import utcnow

KINDS = tuple(k for k in MessageKind if k not in (MessageKind.BROADCAST, MessageKind.ADMIN_COPY))
_S = MessageState
QUEUE_STATES = (_S.HELD, _S.QUEUED, _S.RETRYING, _S.SENDING, _S.UNKNOWN)
DELETABLE = (_S.HELD, _S.QUEUED, _S.RETRYING, _S.UNKNOWN)
HISTORY_STATES = (_S.SENT, _S.RETRYING, _S.FAILED, _S.UNKNOWN, _S.BOUNCED)
HISTORY_LIMIT = 1000
PER_PAGE = 200
RESTORE_DAYS = 30  # a deleted row can be restored this long after it was deleted


def mail_filter(store: str | None = None, kind: str | None = None) -> MailFilter:
    """What the history shows: one store or all, one kind or all."""
    return MailFilter.parse(KINDS, store, kind)


def queue_filter(
    store: str | None = None,
    kind: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> QueueFilter:
    """What the queue shows, read from the page's query."""
    return QueueFilter(mail_filter(store, kind), parse_day(start), parse_day(end))


def stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.id)))


def queue_page(wanted: QueueFilter, page: int = 1):
    query = wanted.apply(select(Message).where(Message.state.in_(QUEUE_STATES)))
    return _paged(query.order_by(Message.id), page)


def deleted_page(wanted: QueueFilter, page: int = 1):
    """The rows staff deleted that can still be restored, the latest deleted first."""
    query = wanted.apply(select(Message).where(_restorable()))
    return _paged(query.order_by(Message.deleted_at.desc(), Message.id.desc()), page)


def _paged(query, page: int):
    rows = db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)
    rows.items = for_review(rows.items, RESTORE_DAYS)
    return rows


def queue_counts(wanted: QueueFilter) -> dict[str, int]:
    """Rows per state under the filter; the deleted ones counted only while restorable."""
    query = select(Message.state, func.count()).where(Message.state.in_(QUEUE_STATES))
    counts = dict(db.session.execute(wanted.apply(query).group_by(Message.state)).all())
    restorable = select(func.count()).select_from(Message).where(_restorable())
    counts[MessageState.DELETED] = db.session.scalar(wanted.apply(restorable))
    return counts


def _restorable(now: datetime | None = None):
    since = (now or utcnow()) - timedelta(days=RESTORE_DAYS)
    return and_(
        Message.state == MessageState.DELETED,
        Message.deleted_from.isnot(None),
        Message.deleted_at >= since,
    )


def _targets(wanted, ids: Sequence[int] | None, *where):
    """The rows an action applies to: the ticked ids, or every row the filter shows."""
    query = wanted.apply(select(Message.id).where(*where))
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    return query


def delete(actor, wanted: QueueFilter, ids: Sequence[int] | None) -> int:
    """Ticked (or all shown) rows not yet handed to a relay become `deleted`, remembering the
    state they had so that they can be restored as they were."""
    deleted = db.session.scalars(
        update(Message)
        .where(
            Message.id.in_(_targets(wanted, ids, Message.state.in_(DELETABLE)).scalar_subquery())
        )
        .where(Message.claimed_by.is_(None))
        # SET reads the row as it was: deleted_from gets the state before this change.
        .values(state=MessageState.DELETED, deleted_from=Message.state, deleted_at=utcnow())
        .returning(Message.id),
        execution_options={"synchronize_session": False},
    ).all()
    if deleted:
        details = _describe(wanted) | {"ids": sorted(deleted)[:1000]}
        audit.record(actor, "queue.deleted", None, count=len(deleted), **details)
        run_ends.finish()  # a run whose last open rows were deleted has ended
    return len(deleted)


def restore(actor, wanted: QueueFilter, ids: Sequence[int] | None) -> int:
    """Deleted rows (ticked, or all shown) still within RESTORE_DAYS return to the state they
    had: held rows wait for review again, queued ones go out once sending is on."""
    restored = db.session.execute(
        update(Message)
        .where(Message.id.in_(_targets(wanted, ids, _restorable()).scalar_subquery()))
        .values(state=Message.deleted_from, deleted_from=None, deleted_at=None)
        .returning(Message.id, Message.state),
        execution_options={"synchronize_session": False},
    ).all()
    if restored:
        ids = sorted(i for i, _ in restored)
        audit.record(actor, "queue.restored", None, count=len(ids), ids=ids[:1000])
        run_ends.reopen(ids)  # a record mailing that had ended sends its restored rows
        if any(state in outbox.DUE_STATES for _, state in restored):
            dispatch.send_soon()
    return len(restored)


def release(actor, wanted: QueueFilter, ids: Sequence[int] | None) -> int:
    """Held rows (ticked, or all shown) are queued: they go out once sending is on."""
    result = db.session.execute(
        update(Message)
        .where(
            Message.id.in_(
                _targets(wanted, ids, Message.state == MessageState.HELD).scalar_subquery()
            )
        )
        .values(state=MessageState.QUEUED),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        audit.record(actor, "queue.released", None, count=result.rowcount, **_describe(wanted))
        dispatch.send_soon()
    return result.rowcount


def send_again(actor, ids: Sequence[int]) -> int:
    """Failed or unknown rows are queued again on purpose; an unknown one may arrive twice."""
    states = Message.state.in_((MessageState.FAILED, MessageState.UNKNOWN))
    ids = db.session.scalars(_targets(mail_filter(), ids, states)).all()
    count = outbox.requeue(ids)
    if count:
        audit.record(actor, "queue.requeued", None, count=count, ids=list(ids)[:100])
        dispatch.send_soon()
    return count


def _describe(wanted: QueueFilter) -> dict:
    return {"store_id": wanted.store_id, "kind": wanted.kind} | {
        name: value for name, value in wanted.args().items() if name in ("start", "end")
    }


@dataclass(frozen=True)
class HistoryLine:
    """A history row with the relay's answer in plain words beside its own."""

    message: Message
    answer: RelayAnswer | None  # None for a sent mail: its reply is shown as it came
    next_try: datetime | None = None  # retrying: when the next try is due
    tries_left: int = 0
    retries_ran_out: bool = False


_OUTCOMES = {
    _S.RETRYING: Outcome.TEMPORARY,
    _S.FAILED: Outcome.PERMANENT,
    _S.UNKNOWN: Outcome.UNKNOWN,
}


def history(wanted: MailFilter) -> list[HistoryLine]:
    """The latest 1000 messages that went out, or tried to, newest first."""
    query = wanted.apply(select(Message).where(Message.state.in_(HISTORY_STATES)))
    order = func.coalesce(Message.sent_at, Message.updated_at).desc()
    rows = db.session.scalars(query.order_by(order, Message.id.desc()).limit(HISTORY_LIMIT))
    return [_history_line(m) for m in rows]


def _history_line(m: Message) -> HistoryLine:
    if m.state == MessageState.BOUNCED:
        reply = f"{m.bounce_status} {m.bounce_diagnostic}".strip()
        words = gettext("The recipient's mail server sent the mail back: it was not delivered.")
        return HistoryLine(m, RelayAnswer(False, words, reply))
    if m.state not in _OUTCOMES:
        return HistoryLine(m, None)
    answer = explain(Result(_OUTCOMES[m.state], m.last_code, m.last_reply), m.to_addr)
    if m.state == MessageState.RETRYING:
        return HistoryLine(m, answer, m.next_attempt_at, max(MAX_RETRIES + 1 - m.attempts, 1))
    return HistoryLine(m, answer, retries_ran_out=m.attempts > MAX_RETRIES)


def get(message_id: int) -> Message | None:
    row = db.session.get(Message, message_id)
    return row if row is not None and row.kind in KINDS else None
