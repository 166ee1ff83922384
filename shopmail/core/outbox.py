"""The outbox (DESIGN.md): idempotent creation, claiming rows, recording results, reconciling.

Every mail is a `messages` row first. A worker claims due rows with one conditional UPDATE
(PostgreSQL: `FOR UPDATE SKIP LOCKED`), marks a small chunk `sending` just before its SMTP
transactions and writes the chunk's results in one statement. A row left `sending` by a worker
that died becomes `unknown` (it may have arrived) and is never resent silently.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.expression import CTE, Select

from shopmail.core import run_ends
from shopmail.core.boundary import commits
from shopmail.core.states import BroadcastState, MessageState, RefusalSource
from shopmail.extensions import db
from shopmail.mail.transport import Outcome
from shopmail.models import Broadcast, Message, Store
from shopmail.models.outbox import DUE_STATES, MAX_RETRIES
from shopmail.models.types import utcnow


@dataclass
class Delivery:
    """What became of one row's SMTP transaction."""

    message_id: int
    attempt: int  # which attempt this was, counting from 1
    outcome: Outcome
    code: int | None
    reply: str
    header_message_id: str = ""
    # The relay said "too many" before this row went out: it waits, its retries untouched.
    throttled: bool = False
    # Where the transaction ended (`transport.Result.stage`): a permanent answer at "rcpt" or
    # "data", or an address that is none ("address"), puts the row on the refused list.
    stage: str = ""


def add_messages(rows: Sequence[dict]) -> int:
    """Insert outbox rows; a row whose `dedupe_key` exists already is skipped, not doubled.

    Returns how many rows were new. Safe against two creators running at once: the unique key
    decides, not a prior read.
    """
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    now = utcnow()
    values = [{"created_at": now, "updated_at": now, **row} for row in rows]
    # SQLite: one cached statement run for many rows. PostgreSQL: the rows as one JSON
    # document (INSERT … SELECT FROM json_to_recordset): a 1,000-row VALUES list would be
    # compiled and parsed per call, costing more than the insert. Only new rows count.
    groups: dict[tuple, list[dict]] = {}
    for value in values:  # every row of a group has the same columns
        groups.setdefault(tuple(sorted(value)), []).append(value)
    added = 0
    for columns, group in groups.items():
        if dialect == "postgresql":
            document = json.dumps(group, ensure_ascii=False, default=_json_utc)
            added += len(db.session.execute(_json_insert(columns), {"rows": document}).all())
        else:
            statement = insert_new(Message.__table__, ["dedupe_key"])
            added += db.session.execute(statement, group).rowcount
    return added


def add_selected(columns: list[str], rows: Select) -> None:
    """Insert the outbox rows a SELECT gives (its columns named by `columns`, in order), in
    one plain INSERT … SELECT. The caller makes sure no `dedupe_key` exists yet (a broadcast
    queues its rows once, as its state leaves draft): a duplicate fails the whole statement
    instead of being skipped, which also spares PostgreSQL a conflict check per row."""
    now = utcnow()
    stamped = rows.add_columns(
        literal(now, Message.__table__.c.created_at.type),
        literal(now, Message.__table__.c.updated_at.type),
    )
    db.session.execute(
        insert(Message.__table__).from_select([*columns, "created_at", "updated_at"], stamped)
    )


def insert_new(table, index_elements: list[str] | None = None):
    """INSERT … ON CONFLICT DO NOTHING on the session's database (PostgreSQL or SQLite):
    rows whose key exists already are skipped."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)


def any_of(
    column: ColumnElement[int], ids: list[int] | None, key: str | None = None
) -> ColumnElement[bool]:
    """`column IN (ids)`; on PostgreSQL `= ANY(array)`, one parameter instead of one per id
    (a 500-id IN list cost the driver and the server more than reading the 500 rows). `key`
    names the parameter of a statement built once: its ids are given when it runs."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(key, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam(key, ids, expanding=True))


def _json_utc(value: datetime) -> str:
    # Naive UTC, as the columns hold it (models.types.UTCDateTime), in the form SQLAlchemy's
    # SQLite DATETIME stores and PostgreSQL reads as a timestamp.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@functools.cache
def _json_insert(columns: tuple[str, ...]):
    table = Message.__table__
    source = (
        func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
        .table_valued(*(column(c, table.c[c].type) for c in columns))
        .render_derived(with_types=True)
    )
    return (
        postgresql.insert(table)
        .from_select(list(columns), select(*source.c))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )


def _due(now: datetime, stale: datetime):
    broadcast_sending = select(Broadcast.id).where(Broadcast.state == BroadcastState.SENDING)
    return and_(
        due_state(Message.state),
        or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
        or_(Message.claimed_by.is_(None), Message.claimed_at < stale),
        or_(Message.broadcast_id.is_(None), Message.broadcast_id.in_(broadcast_sending)),
    )


def due_state(state: ColumnElement[str]) -> ColumnElement[bool]:
    """`state IN ('queued', 'retrying')` with the states written out, not bound: so both
    databases see that a claim asks for the rows of the partial index `ix_messages_due`."""
    return state.in_([literal(s.value, String, literal_execute=True) for s in DUE_STATES])


SEND_LOOP = "the send loop: rows are visibly claimed and `sending` before the SMTP transaction"


def picked(candidates: Select) -> CTE:
    """`candidates` (a SELECT … LIMIT n) as a CTE to UPDATE … FROM: evaluated once, so no
    more than n rows change. (PostgreSQL may run `WHERE id IN (SELECT … LIMIT n)` again for
    each row and change more.) PostgreSQL locks the rows and skips those others hold."""
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
        return candidates.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    return candidates.cte("picked")


def due_query(store_id: int, kinds: Iterable[str], now: datetime | None = None):
    """The ids of a store's rows that may be sent now."""
    now = now or utcnow()
    return _due_ids(any_of(Message.store_id, [store_id]), kinds, now, _stale(now))


def _stale(now: datetime) -> datetime:
    """Claims made before this have lapsed."""
    return now - timedelta(seconds=float(current_app.config["SHOPMAIL_CLAIM_LEASE"]))


def _due_ids(of_store: ColumnElement[bool], kinds: Iterable[str], now, stale):
    # The store as `= ANY` on PostgreSQL: with `next_due`'s order it keeps claims on
    # `ix_messages_due` (see there).
    return select(Message.id).where(of_store, Message.kind.in_(list(kinds)), _due(now, stale))


# The values a statement built once is run with.
_NOW = bindparam("now", type_=Message.__table__.c.claimed_at.type)
_STALE = bindparam("stale", type_=Message.__table__.c.claimed_at.type)


@functools.cache
def next_due(dialect: str, kinds: tuple[str, ...]) -> Select:
    """The oldest of a store's due rows, in the order of `ix_messages_due` (store, id); run
    with `due_params` (built once per dialect and kinds, as the claim that uses it).

    Asked as `store_id = ANY(…)` and ordered by (store, id), the primary key cannot give this
    order, so PostgreSQL reads the due rows' index whatever its statistics say. Asked as
    `store_id = …` and ordered by id, it read the primary key from the first row on once
    `messages` had been analysed while a broadcast's rows were still queued, skipping every
    row sent since at each claim: 15,000 rows read for a chunk of 500 halfway through 20,000.
    """
    due = _due_ids(any_of(Message.store_id, None, key="stores"), kinds, _NOW, _STALE)
    return due.order_by(Message.store_id, Message.id).limit(bindparam("limit", type_=Integer))


def due_params(store_id: int, limit: int, now: datetime) -> dict:
    return {"stores": [store_id], "limit": limit, "now": now, "stale": _stale(now)}


class Claimed(NamedTuple):
    """A claimed row as the send loop needs it: read once in the claim's RETURNING, no ORM
    object (building 50 of those per chunk cost more than the claim itself), and a tuple
    (a frozen dataclass took 1.4 µs a row to build, this 0.25)."""

    id: int
    kind: str
    attempts: int
    to_addr: str
    to_name: str
    device: str
    subject: str
    body: str
    html: str | None
    message_id: str
    broadcast_id: int | None
    member_id: int | None
    mailing_id: int | None


_CLAIMED = [Message.__table__.c[name] for name in Claimed._fields]


def claim_chunk(worker: str, store_id: int, kinds: Iterable[str], limit: int) -> list[Claimed]:
    """Take up to `limit` of a store's due rows for `worker` and mark them `sending`, in one
    conditional UPDATE; returns them, oldest first. The caller (the send loop) commits before
    the SMTP transactions start. Disjoint between workers: PostgreSQL skips rows another
    claim has locked; SQLite runs one writer at a time."""
    dialect = db.session.get_bind().dialect.name
    params = due_params(store_id, limit, utcnow())
    rows = db.session.execute(_claim(dialect, tuple(kinds)), {**params, "worker": worker}).all()
    return sorted([Claimed._make(row) for row in rows], key=itemgetter(0))  # by id


@functools.cache
def _claim(dialect: str, kinds: tuple[str, ...]):
    """`claim_chunk`'s statement, built once per dialect and kinds: built for each chunk it
    cost 2 ms of the worker's CPU (4 µs a row)."""
    table = Message.__table__
    candidates = picked(next_due(dialect, kinds))
    return (
        update(table)
        .where(table.c.id == candidates.c.id)
        .where(table.c.state.in_(DUE_STATES))
        .where(or_(table.c.claimed_by.is_(None), table.c.claimed_at < _STALE))
        .values(
            state=MessageState.SENDING,
            claimed_by=bindparam("worker", type_=Text),
            claimed_at=_NOW,
            updated_at=_NOW,
        )
        .returning(*_CLAIMED)
    )


@commits("the send loop: rows are `sent` right after the 250")
def record(
    deliveries: Sequence[Delivery],
    retry_delays: Sequence[float],
    throttle_pause: float = 0,
    runs: run_ends.Runs | None = None,
) -> None:
    """Write a chunk's results in one statement; waits out a locked database, never resends.
    `runs`: the broadcasts and mailings the rows belong to, when the caller knows them.

    The 250s are already at the relay: giving up here would leave the rows `sending`, which the
    reconciler turns into `unknown` — so keep trying for a while first.
    """
    if not deliveries:
        return
    now = utcnow()
    values = [_row_values(d, now, retry_delays, throttle_pause) for d in deliveries]
    for pause in (0.05, 0.2, 0.5, 1, 2, 4, 8, 15, 30):
        try:
            _write_results(values, now)
            db.session.commit()
            break
        except OperationalError:
            db.session.rollback()
            time.sleep(pause)
    else:
        _write_results(values, now)
        db.session.commit()
    # Only once the results are committed (run_ends.finish_recorded says why). A database
    # still locked here loses nothing: the reconciler finishes the run within a minute.
    try:
        run_ends.finish_recorded([d.message_id for d in deliveries], runs)
        db.session.commit()
    except OperationalError:
        db.session.rollback()


# Every row's result has the same fields, so a chunk's results are one JSON document and one
# statement on either database (no per-row parameters to bind). None in `message_id` and
# `next_attempt_at` keeps what the row had.
_RESULT_FIELDS = {
    "id": Integer(),
    "state": Text(),
    "attempts": Integer(),
    "last_code": Integer(),
    "last_reply": Text(),
    "message_id": Text(),
    "next_attempt_at": Message.__table__.c.next_attempt_at.type,
    "refused_by": Text(),
}


def _write_results(values: list[dict], now: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    document = json.dumps(values, ensure_ascii=False, default=_json_utc)
    db.session.execute(_results_statement(dialect), {"rows": document, "now": now})


@functools.cache
def _results_statement(dialect: str):
    table = Message.__table__
    if dialect == "postgresql":
        source = (
            func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
            .table_valued(*(column(name, type_) for name, type_ in _RESULT_FIELDS.items()))
            .render_derived(with_types=True)
            .alias("result")
        )
    else:
        each = func.json_each(bindparam("rows", type_=Text)).table_valued("value")
        source = select(
            *(func.json_extract(each.c.value, f"$.{name}").label(name) for name in _RESULT_FIELDS)
        ).subquery("result")
    field = source.c
    now = bindparam("now", type_=table.c.updated_at.type)
    return (
        update(table)
        .where(table.c.id == field.id)
        .values(
            state=field.state,
            attempts=field.attempts,
            last_code=field.last_code,
            last_reply=field.last_reply,
            claimed_by=None,
            claimed_at=None,
            updated_at=now,
            message_id=func.coalesce(field.message_id, table.c.message_id),
            next_attempt_at=func.coalesce(field.next_attempt_at, table.c.next_attempt_at),
            # A sent row was sent now: the time is bound once, not repeated in every result.
            sent_at=case((field.state == MessageState.SENT, now), else_=table.c.sent_at),
            # Only a failed row gets its refusal (or none): a retried row keeps nothing of one.
            refused_by=case(
                (field.state == MessageState.FAILED, field.refused_by),
                else_=table.c.refused_by,
            ),
        )
    )


def _row_values(
    d: Delivery, now: datetime, retry_delays: Sequence[float], throttle_pause: float
) -> dict:
    attempt = d.attempt - 1 if d.throttled else d.attempt
    state, next_attempt_at, refused_by = MessageState.FAILED, None, None
    if d.throttled:
        state = MessageState.RETRYING if attempt else MessageState.QUEUED
        next_attempt_at = now + timedelta(seconds=throttle_pause)
    elif d.outcome is Outcome.SENT:
        state = MessageState.SENT
    elif d.outcome is Outcome.UNKNOWN:
        state = MessageState.UNKNOWN
    elif d.outcome is Outcome.TEMPORARY and attempt <= MAX_RETRIES:
        delay = retry_delays[min(attempt, len(retry_delays)) - 1] if retry_delays else 0
        state, next_attempt_at = MessageState.RETRYING, now + timedelta(seconds=delay)
    else:
        refused_by = _refusal(d)
    return {
        "id": d.message_id,
        "state": state,
        "attempts": attempt,
        "last_code": d.code,
        "last_reply": d.reply[:2000],
        "message_id": d.header_message_id or None,
        "next_attempt_at": next_attempt_at,
        "refused_by": refused_by,
    }


def _refusal(d: Delivery) -> str | None:
    """Only what the recipient's side refused is a refusal: a 5xx to RCPT or DATA, or an
    address that is none. A relay that could not be reached, refused the sender or kept
    deferring until the retries ran out refused no address."""
    if d.outcome is not Outcome.PERMANENT:
        return None
    if d.stage in ("rcpt", "data"):
        return RefusalSource.SMTP
    return RefusalSource.ADDRESS if d.stage == "address" else None


@commits(SEND_LOOP)
def release(worker: str) -> int:
    """Give back every row this worker claimed but has not sent (e.g. the relay refused AUTH)."""
    result = db.session.execute(
        update(Message)
        .where(Message.claimed_by == worker, Message.state.in_((*DUE_STATES, MessageState.SENDING)))
        .values(state=MessageState.QUEUED, claimed_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


def reconcile(lease: float, dead_workers: Sequence[str] = ()) -> dict[str, int]:
    """Repair what dead workers left: `sending` → `unknown`, other claims released. A claim
    is dead when its lease lapsed or its worker (`dead_workers`, named as in `claimed_by`
    "<worker>/<session>") stopped beating."""
    stale = or_(
        Message.claimed_at < utcnow() - timedelta(seconds=lease),
        *(Message.claimed_by.startswith(f"{name}/", autoescape=True) for name in dead_workers),
    )
    lost = db.session.execute(
        update(Message)
        .where(Message.state == MessageState.SENDING, stale)
        .values(
            state=MessageState.UNKNOWN,
            claimed_by=None,
            claimed_at=None,
            last_reply="The worker stopped while sending; the mail may have arrived.",
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    released = db.session.execute(
        update(Message)
        .where(Message.state.in_(DUE_STATES), Message.claimed_by.isnot(None), stale)
        .values(claimed_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    if lost:
        run_ends.finish()
    return {"unknown": lost, "released": released}


def next_try_in(store_id: int, kinds: Iterable[str]) -> float | None:
    """Seconds until the store's next row waiting for a retry (or a paused relay) is due."""
    now = utcnow()
    soonest = db.session.scalar(
        select(func.min(Message.next_attempt_at)).where(
            Message.store_id == store_id,
            Message.kind.in_(list(kinds)),
            Message.state.in_(DUE_STATES),
            Message.next_attempt_at > now,
        )
    )
    return None if soonest is None else (soonest - now).total_seconds()


def stores_with_due_work(
    kinds: Iterable[str], lease: float, store_ids: Iterable[int] | None = None
) -> list[int]:
    """The stores (of `store_ids`, or all) with a row of `kinds` that may be sent now: one
    EXISTS per store, which stops at its first due row (`ix_messages_due`), instead of
    grouping every due row of the outbox — every send job's commit asks it."""
    now = utcnow()
    stale = now - timedelta(seconds=lease)
    due_here = (
        select(Message.id)
        .where(Message.store_id == Store.id, Message.kind.in_(list(kinds)), _due(now, stale))
        .exists()
    )
    query = select(Store.id).where(due_here).order_by(Store.id)
    if store_ids is not None:
        query = query.where(Store.id.in_(list(store_ids)))
    return list(db.session.scalars(query))


def requeue(ids: Sequence[int]) -> int:
    """Staff send failed or unknown rows again (a deliberate act, so it may double a mail)."""
    result = db.session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.state.in_((MessageState.FAILED, MessageState.UNKNOWN)))
        .values(
            state=MessageState.QUEUED,
            attempts=0,
            next_attempt_at=None,
            claimed_by=None,
            refused_by=None,
        ),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        run_ends.reopen(ids)
    return result.rowcount


def count_by_state(**filters) -> dict[str, int]:
    query = select(Message.state, func.count()).group_by(Message.state)
    for name, value in filters.items():
        query = query.where(getattr(Message, name) == value)
    return dict(db.session.execute(query).all())
