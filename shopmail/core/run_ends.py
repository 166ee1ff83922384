"""When broadcasts and record mailings end: in the send loop, when their last open row ends.

Reading a run's progress never writes; the outbox calls `finish_recorded` after each recorded
chunk, the reconciler and staff deletions call `finish` for every run still sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select, update

from shopmail.core.states import BroadcastState, MessageKind, MessageState, RecordMailingState
from shopmail.extensions import db
from shopmail.models import Broadcast, Message, RecordMailing
from shopmail.models.outbox import OPEN_STATES
from shopmail.models.types import utcnow


@dataclass(frozen=True)
class Runs:
    """The broadcasts and record mailings some rows belong to."""

    broadcasts: frozenset[int] = frozenset()
    mailings: frozenset[int] = frozenset()


def finish(message_ids: Sequence[int] | None = None, runs: Runs | None = None) -> None:
    """Broadcasts and record mailings whose last open row has ended become `done`.

    For the runs of `message_ids` (or `runs`, when the caller knows them), else for every run
    still sending: wherever rows end inside a transaction that also ends them (reconciling,
    staff deleting queued rows, a broadcast paused or cancelled).
    """
    now = utcnow()
    broadcasts = select(Broadcast.id).where(Broadcast.state == BroadcastState.SENDING)
    mailings = select(RecordMailing.id).where(RecordMailing.state == RecordMailingState.SENDING)
    if runs is None and message_ids is not None:
        runs = _runs_of(message_ids)
    if runs is not None:
        if not (runs.broadcasts or runs.mailings):
            return
        broadcasts = broadcasts.where(Broadcast.id.in_(runs.broadcasts))
        mailings = mailings.where(RecordMailing.id.in_(runs.mailings))
    if runs is None or runs.broadcasts:
        _finish_broadcasts(broadcasts, now)
    if runs is None or runs.mailings:
        _finish_mailings(mailings)


def finish_recorded(message_ids: Sequence[int], runs: Runs | None = None) -> None:
    """`finish` for the runs of a chunk whose results the send loop has just committed.

    A run with rows still open is left alone, without taking its lock: each session checks
    after its own commit, so the last to commit sees every row ended and finishes the run; the
    reconciler ends a dead worker's rows, and pausing or cancelling ends the rest. Only a run
    with nothing open goes on to `finish` (which may race another session doing the same).
    """
    runs = runs if runs is not None else _runs_of(message_ids)
    ended = Runs(
        frozenset(b for b in runs.broadcasts if not _open(Message.broadcast_id == b)),
        frozenset(m for m in runs.mailings if not _open(Message.mailing_id == m)),
    )
    if ended.broadcasts or ended.mailings:
        finish(runs=ended)


def _open(of_run) -> bool:
    return bool(db.session.scalar(select(exists().where(of_run, Message.state.in_(OPEN_STATES)))))


def _runs_of(message_ids: Sequence[int]) -> Runs:
    found = db.session.execute(
        select(Message.broadcast_id, Message.mailing_id)
        .where(Message.id.in_(list(message_ids)))
        .where(or_(Message.broadcast_id.isnot(None), Message.mailing_id.isnot(None)))
        .distinct()
    ).all()
    return Runs(
        frozenset(b for b, _ in found if b is not None),
        frozenset(m for _, m in found if m is not None),
    )


def _locked(query) -> None:
    """Two sessions ending a run's last chunks at once would each see the other's rows still
    open and neither would finish it: on PostgreSQL the run rows are locked first, so the
    second waits for the first's commit and then sees its rows ended."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(query.order_by(*query.selected_columns).with_for_update()).all()


def _finish_broadcasts(broadcasts, now) -> None:
    _locked(broadcasts)
    ours = Message.broadcast_id == Broadcast.id
    copies = (ours, Message.kind == MessageKind.BROADCAST)

    def count(*where):
        return select(func.count(Message.id)).where(*copies, *where).scalar_subquery()

    db.session.execute(
        update(Broadcast)
        .where(Broadcast.id.in_(broadcasts.scalar_subquery()))
        # Every row of it, the admin copy too: its rows are sent only while it is sending.
        .where(~exists().where(ours, Message.state.in_(OPEN_STATES)))
        .values(
            state=BroadcastState.DONE,
            finished_at=now,
            sent=count(Message.state == MessageState.SENT),
            failed=count(Message.state == MessageState.FAILED),
        ),
        execution_options={"synchronize_session": False},
    )


def _finish_mailings(mailings) -> None:
    _locked(mailings)
    db.session.execute(
        update(RecordMailing)
        .where(RecordMailing.id.in_(mailings.scalar_subquery()))
        .where(
            ~exists().where(Message.mailing_id == RecordMailing.id, Message.state.in_(OPEN_STATES))
        )
        .values(state=RecordMailingState.DONE),
        execution_options={"synchronize_session": False},
    )


def reopen(ids: Sequence[int]) -> None:
    """A run that had ended sends again when staff requeue its rows (they go out only while it
    is sending); the send loop marks it done again when these rows end."""
    requeued = select(Message).where(Message.id.in_(ids), Message.state == MessageState.QUEUED)
    db.session.execute(
        update(Broadcast)
        .where(Broadcast.state == BroadcastState.DONE)
        .where(Broadcast.id.in_(requeued.with_only_columns(Message.broadcast_id).scalar_subquery()))
        .values(state=BroadcastState.SENDING, finished_at=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(RecordMailing)
        .where(RecordMailing.state == RecordMailingState.DONE)
        .where(
            RecordMailing.id.in_(requeued.with_only_columns(Message.mailing_id).scalar_subquery())
        )
        .values(state=RecordMailingState.SENDING),
        execution_options={"synchronize_session": False},
    )
