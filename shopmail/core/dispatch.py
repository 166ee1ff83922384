"""The one place that talks to Redis: connections, queues, enqueueing and the worker class.

Redis carries only ids; the database is the truth. Work lost from Redis is found again by the
reconciler (see `reconcile`), so nothing here needs to be durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job

QUEUE_NAMES = ("mail", "default")
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


def enqueue(
    func: Callable | str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    **options: Any,
) -> Job:
    """Enqueue `func(*args)`; a `job_id` makes a job that is already waiting not run twice."""
    q = get_queue(queue)
    if job_id is not None:
        existing = q.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in ("queued", "scheduled"):
            return existing
    return q.enqueue(func, *args, job_id=job_id, **options)


def dispatch_sending(store_ids: list[int] | None = None) -> int:
    """Enqueue a send job for every store with due rows (at most one waiting job per store).

    Returns how many were enqueued. Redis not answering is no error here: the rows are safe in
    the database and the reconciler enqueues them once Redis is back.
    """
    from shopmail.core import outbox, sending

    kinds = sending.sendable_kinds()
    if not kinds:
        return 0
    due = outbox.stores_with_due_work(kinds, current_app.config["SHOPMAIL_CLAIM_LEASE"])
    if store_ids is not None:
        due = [store_id for store_id in due if store_id in store_ids]
    try:
        for store_id in due:
            enqueue(
                "shopmail.jobs.send_store", store_id, queue="mail", job_id=f"send-store-{store_id}"
            )
    except RedisError as exc:
        log.warning("Redis did not take the send jobs (%s); the reconciler will", exc)
        return 0
    return len(due)


def reconcile() -> dict[str, int]:
    """Find work Redis lost or dead workers left, and enqueue it again (runs every minute)."""
    from shopmail.core import outbox

    report = outbox.reconcile(current_app.config["SHOPMAIL_CLAIM_LEASE"])
    report["dispatched"] = dispatch_sending()
    return report


class DeskWorker(SimpleWorker):
    """Runs jobs in-process, each inside the app context with a fresh database session."""

    app: Flask

    def execute_job(self, job, queue):
        from shopmail.extensions import db

        with self.app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


def make_worker(app: Flask, name: str | None = None) -> DeskWorker:
    worker = DeskWorker(all_queues(app), connection=redis_connection(app), name=name)
    worker.app = app
    return worker
