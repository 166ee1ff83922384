"""The send queue and the history: listing rows, deleting, releasing, sending again, and
showing a row as the exact mail that goes (or went) out.

Broadcast copies are followed on the broadcast's own page, so the queue and the history
show every other kind: automatic mails, record mails and test mails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from sqlalchemy import func, select, update

from shopmail.core import audit, dispatch, outbox, run_ends, sending
from shopmail.core.mail_lists import MailFilter
from shopmail.core.states import MessageKind, MessageState
from shopmail.extensions import db
from shopmail.mail.compose import compose
from shopmail.models import Message, Store

KINDS = tuple(k for k in MessageKind if k not in (MessageKind.BROADCAST, MessageKind.ADMIN_COPY))
_S = MessageState
QUEUE_STATES = (_S.HELD, _S.QUEUED, _S.RETRYING, _S.SENDING, _S.UNKNOWN)
DELETABLE = (_S.HELD, _S.QUEUED, _S.RETRYING, _S.UNKNOWN)
HISTORY_STATES = (_S.SENT, _S.RETRYING, _S.FAILED, _S.UNKNOWN, _S.BOUNCED)
HISTORY_LIMIT = 1000
PER_PAGE = 200


def mail_filter(store: str | None = None, kind: str | None = None) -> MailFilter:
    """What the queue and history pages show: one store or all, one kind or all."""
    return MailFilter.parse(KINDS, store, kind)


def stores() -> list[Store]:
    return list(db.session.scalars(select(Store).order_by(Store.id)))


def queue_page(wanted: MailFilter, page: int = 1):
    query = wanted.apply(select(Message).where(Message.state.in_(QUEUE_STATES)))
    query = query.order_by(Message.id)
    return db.paginate(query, page=max(page, 1), per_page=PER_PAGE, error_out=False)


def queue_counts(wanted: MailFilter) -> dict[str, int]:
    query = select(Message.state, func.count()).where(Message.state.in_(QUEUE_STATES))
    return dict(db.session.execute(wanted.apply(query).group_by(Message.state)).all())


def _targets(wanted: MailFilter, ids: Sequence[int] | None, states: Sequence[str]):
    """The rows an action applies to: the ticked ids, or every row the filter shows."""
    query = wanted.apply(select(Message.id).where(Message.state.in_(states)))
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    return query


def delete(actor, wanted: MailFilter, ids: Sequence[int] | None) -> int:
    """Ticked (or all shown) rows not yet handed to a relay become `deleted`."""
    result = db.session.execute(
        update(Message)
        .where(Message.id.in_(_targets(wanted, ids, DELETABLE).scalar_subquery()))
        .where(Message.claimed_by.is_(None))
        .values(state=MessageState.DELETED),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        audit.record(actor, "queue.deleted", None, count=result.rowcount, **_describe(wanted))
        run_ends.finish()  # a run whose last open rows were deleted has ended
    return result.rowcount


def release(actor, wanted: MailFilter, ids: Sequence[int] | None) -> int:
    """Held rows (ticked, or all shown) are queued: they go out once sending is on."""
    result = db.session.execute(
        update(Message)
        .where(Message.id.in_(_targets(wanted, ids, (MessageState.HELD,)).scalar_subquery()))
        .values(state=MessageState.QUEUED),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        audit.record(actor, "queue.released", None, count=result.rowcount, **_describe(wanted))
        dispatch.send_soon()
    return result.rowcount


def send_again(actor, ids: Sequence[int]) -> int:
    """Failed or unknown rows are queued again on purpose; an unknown one may arrive twice."""
    ids = db.session.scalars(
        _targets(mail_filter(), ids, (MessageState.FAILED, MessageState.UNKNOWN))
    ).all()
    count = outbox.requeue(ids)
    if count:
        audit.record(actor, "queue.requeued", None, count=count, ids=list(ids)[:100])
        dispatch.send_soon()
    return count


def _describe(wanted: MailFilter) -> dict:
    return {"store_id": wanted.store_id, "kind": wanted.kind}


def history(wanted: MailFilter) -> list[Message]:
    """The latest 1000 messages that went out, or tried to, newest first."""
    query = wanted.apply(select(Message).where(Message.state.in_(HISTORY_STATES)))
    order = func.coalesce(Message.sent_at, Message.updated_at).desc()
    return list(db.session.scalars(query.order_by(order, Message.id.desc()).limit(HISTORY_LIMIT)))


def get(message_id: int) -> Message | None:
    row = db.session.get(Message, message_id)
    return row if row is not None and row.kind in KINDS else None


@dataclass(frozen=True)
class MailView:
    headers: list[tuple[str, str]]
    bcc: list[str]
    text: str
    error: str = ""


def mail_view(row: Message) -> MailView:
    """The row as the relay gets it: built and composed by sending, then decoded for reading."""
    store = db.session.get(Store, row.store_id) if row.store_id else None
    if store is None:
        return MailView([], [], row.body, "no store")
    try:
        mail = sending.build_mail(row, store)
        parsed = BytesParser(policy=policy.default).parsebytes(compose(mail))
    except ValueError as exc:  # AddressError is a ValueError: the row would fail as permanent
        return MailView([], [], row.body, str(exc))
    names = ("From", "To", "Reply-To", "Subject", "Message-ID")
    headers = [(name, str(parsed[name])) for name in names if parsed[name] is not None]
    body = parsed.get_body(preferencelist=("plain",))
    return MailView(headers, list(mail.bcc), body.get_content() if body else "")
