"""The one place that talks to Redis: connections, queues, enqueueing, the worker and cron.

Redis carries only ids; the database is the truth. Work lost from Redis is found again by the
reconciler (see `reconcile`), so nothing here needs to be durable.

Services never enqueue: they ask (`send_soon`, `enqueue_after_commit`) and the work is enqueued
by the session's `after_commit` hook, once the rows it needs are visible to a worker. A
transaction that rolls back enqueues nothing. A job is one transaction (`DeskJob`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from shopmail.core import outbox, quiet_hours, relays, sending, workers
from shopmail.core.boundary import commits
from shopmail.extensions import db

QUEUE_NAMES = ("mail", "default")
# A send job stops claiming after a minute (`delivery.JOB_SECONDS`); this is for a relay that
# answers each of a last chunk's mails at the end of its timeout.
SEND_JOB_TIMEOUT = 3600
PENDING = "shopmail.dispatch"  # the session.info key of the work asked for in this transaction
log = logging.getLogger(__name__)


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    conn = app.extensions.get("shopmail_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
        app.extensions["shopmail_redis"] = conn
    return conn


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    app = app or current_app
    prefix = app.config["SHOPMAIL_QUEUE_PREFIX"]
    return Queue(f"{prefix}-{name}", connection=redis_connection(app))


def all_queues(app: Flask | None = None) -> list[Queue]:
    return [get_queue(name, app) for name in QUEUE_NAMES]


@dataclass
class _Pending:
    """Work asked for in one transaction; enqueued when it commits."""

    every_store: bool = False
    store_ids: set[int] = field(default_factory=set)
    jobs: list[tuple[str, tuple, dict]] = field(default_factory=list)
    sends: list[int] = field(default_factory=list)  # the stores found due, just before commit
    later: dict[int, set[float]] = field(default_factory=dict)  # store → seconds from now


def _pending() -> _Pending:
    return db.session.info.setdefault(PENDING, _Pending())


def send_soon(store_ids: Iterable[int] | None = None) -> None:
    """Send the due mail of these stores (None: of every store) once this transaction commits."""
    pending = _pending()
    if store_ids is None:
        pending.every_store = True
    else:
        pending.store_ids.update(store_ids)


def send_later(store_ids: Iterable[int], seconds: float) -> None:
    """Look for these stores' due mail again in `seconds` (the relay's pace or a throttle
    asked to wait, a retry is due), once this transaction commits. The reconciler would, a
    minute later."""
    later = _pending().later
    for store_id in store_ids:
        later.setdefault(store_id, set()).add(seconds)


def enqueue_after_commit(
    func: str, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
) -> None:
    """Run the job `func(*args)` once this transaction commits (never if it rolls back)."""
    _pending().jobs.append((func, args, dict(queue=queue, job_id=job_id, **options)))


def init_app(app: Flask) -> None:
    """Hook the session: due stores are found before the commit, enqueued after it."""
    for name, hook in (
        ("before_commit", _find_due_stores),
        ("after_commit", _enqueue_pending),
        ("after_transaction_end", _forget_pending),
    ):
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)


def _find_due_stores(session: Session) -> None:
    # Still inside the transaction: the stores are read with the rows this commit makes.
    pending = session.info.get(PENDING)
    if pending is None or not (pending.every_store or pending.store_ids):
        return
    session.flush()
    pending.sends = due_stores(None if pending.every_store else pending.store_ids)


def _enqueue_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    try:
        for func, args, options in pending.jobs:
            _enqueue(func, *args, **options)
    except RedisError as exc:
        log.warning("Redis did not take the jobs (%s)", exc)
    _enqueue_sends(pending.sends)
    try:
        for store_id, seconds in ((s, t) for s, times in pending.later.items() for t in times):
            # RQ's scheduler counts whole seconds: the job runs in the second after the one
            # the work is due in, never before it. One job per store and second, so a sooner
            # wish is never lost behind a later one already scheduled.
            at = math.ceil(time.time() + seconds) + 1
            _enqueue(
                "shopmail.jobs.send_store",
                store_id,
                queue="mail",
                job_id=f"send-store-{store_id}-at-{at}",
                job_timeout=SEND_JOB_TIMEOUT,
                at=at,
            )
    except RedisError as exc:
        log.warning("Redis did not take the delayed send jobs (%s); the reconciler will", exc)


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed or rolled back
        session.info.pop(PENDING, None)


def _enqueue(
    func: Callable | str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    at: float = 0,
    **options: Any,
) -> Job:
    """Enqueue `func(*args)` (at the Unix time `at`: RQ's scheduler runs it); a `job_id`
    makes a job that is already waiting not run twice."""
    q = get_queue(queue)
    if job_id is not None:
        existing = q.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in ("queued", "scheduled"):
            return existing
    if at:
        when = datetime.fromtimestamp(at, UTC)
        return q.enqueue_at(when, func, *args, job_id=job_id, **options)
    return q.enqueue(func, *args, job_id=job_id, **options)


def due_stores(store_ids: Iterable[int] | None = None) -> list[int]:
    """The stores (of `store_ids`, or all) with rows that may be sent now."""
    kinds = sending.sendable_kinds()
    if not kinds:
        return []
    return outbox.stores_with_due_work(kinds, current_app.config["SHOPMAIL_CLAIM_LEASE"], store_ids)


def dispatch_sending(store_ids: list[int] | None = None) -> int:
    """Enqueue now a send job for every store with due rows — for rows already committed.

    Code inside a transaction asks with `send_soon` instead. Returns how many were enqueued.
    """
    return _enqueue_sends(due_stores(store_ids))


def _enqueue_sends(store_ids: Sequence[int]) -> int:
    # At most one waiting job per store. Redis not answering is no error here: the rows are
    # safe in the database and the reconciler enqueues them once Redis is back.
    try:
        for store_id in store_ids:
            _enqueue(
                "shopmail.jobs.send_store",
                store_id,
                queue="mail",
                job_id=f"send-store-{store_id}",
                job_timeout=SEND_JOB_TIMEOUT,
            )
    except RedisError as exc:
        log.warning("Redis did not take the send jobs (%s); the reconciler will", exc)
        return 0
    return len(store_ids)


def reconcile() -> dict[str, int]:
    """Find work Redis lost or dead workers left; it is enqueued again when the job commits.
    A worker that stopped beating is dead now, not when its claims' lease lapses."""
    dead = workers.dead()
    report = outbox.reconcile(current_app.config["SHOPMAIL_CLAIM_LEASE"], dead)
    relays.release_sessions_of(dead)
    workers.forget(dead)
    relays.forget_old_sends()
    report["dead_workers"] = len(dead)
    report["woken_after_quiet_hours"] = _wake_after_quiet_hours()
    report["dispatched"] = len(due_stores())
    send_soon()
    return report


def _wake_after_quiet_hours() -> int:
    """A store whose due mail all waits for its quiet hours to end gets no send job now (see
    `due_stores`): ask for one at the minute they end. (The send loop asks the same for the
    stores it runs for.)"""
    closed = [kind for kind, opens in quiet_hours.closed_kinds().items() if opens]
    if not closed:
        return 0
    lease = current_app.config["SHOPMAIL_CLAIM_LEASE"]
    waiting = outbox.stores_with_due_work(closed, lease)
    for store_id in waiting:
        seconds = quiet_hours.opens_in(store_id, closed)
        if seconds is not None:
            send_later([store_id], seconds)
    return len(waiting)


def run_cron_scheduler(app: Flask, periodic: Sequence[tuple[Callable, str, dict]]) -> None:
    """Run the cron scheduler: each periodic job `(func, queue name, options)` on its queue."""
    prefix = app.config["SHOPMAIL_QUEUE_PREFIX"]
    cron = CronScheduler(connection=redis_connection(app))
    for func, queue, options in periodic:
        cron.register(func, f"{prefix}-{queue}", **options)
    cron.start()


class DeskJob(Job):
    """A job is one transaction: committed when the job returns, rolled back when it raises."""

    @commits("the job boundary")
    def _execute(self) -> Any:
        try:
            result = super()._execute()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return result


class DeskWorker(SimpleWorker):
    """Runs jobs in-process, each inside the app context with a fresh database session."""

    app: Flask
    job_class = DeskJob

    def work(self, burst: bool = False, **options: Any) -> bool:
        """A long-running worker beats while it works (`workers.Heartbeat`); its beat also
        notices a dead worker and runs the reconciler at once."""
        if burst:
            return super().work(burst=True, **options)
        heartbeat = workers.Heartbeat(self.app, sending.worker_name(), reconcile).start()
        try:
            return super().work(**options)
        finally:
            heartbeat.stop()

    def execute_job(self, job, queue):
        with self.app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


def make_worker(app: Flask, name: str | None = None) -> DeskWorker:
    worker = DeskWorker(all_queues(app), connection=redis_connection(app), name=name)
    worker.app = app
    return worker
