"""Which workers are alive: each running worker beats in the database every few seconds
(`SHOPMAIL_HEARTBEAT`). One that missed `MISSED_BEATS` beats died (SIGKILL, a crash, the
machine): what it held — claimed rows, relay sessions — is taken over by the reconciler,
which every live worker's heartbeat runs as soon as it sees a dead one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from shopmail.core.boundary import in_transaction
from shopmail.extensions import db
from shopmail.models import WorkerHeartbeat
from shopmail.models.types import utcnow

MISSED_BEATS = 6
log = logging.getLogger(__name__)


def beat(name: str, started_at: datetime) -> None:
    """This worker is alive now (flushes; the caller commits)."""
    now = utcnow()
    changed = db.session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.name == name).values(beat_at=now)
    ).rowcount
    if not changed:
        db.session.add(WorkerHeartbeat(name=name, started_at=started_at, beat_at=now))
        db.session.flush()


def dead(now: datetime | None = None) -> list[str]:
    """The workers that stopped beating without saying goodbye."""
    silence = timedelta(seconds=MISSED_BEATS * current_app.config["SHOPMAIL_HEARTBEAT"])
    cutoff = (now or utcnow()) - silence
    return list(
        db.session.scalars(select(WorkerHeartbeat.name).where(WorkerHeartbeat.beat_at < cutoff))
    )


def forget(names: Sequence[str]) -> None:
    if names:
        db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name.in_(names)))


class Heartbeat:
    """A worker's heartbeat thread. `on_dead` (the reconciler) runs, in its own transaction,
    when a beat finds a dead worker; `stop` says goodbye (the row goes)."""

    def __init__(self, app: Flask, name: str, on_dead: Callable[[], object]) -> None:
        self.app, self.name, self.on_dead = app, name, on_dead
        self.started_at = utcnow()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {name}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        self._in_transaction(forget, [self.name])

    def _run(self) -> None:
        interval = float(self.app.config["SHOPMAIL_HEARTBEAT"])
        while True:
            self._in_transaction(beat, self.name, self.started_at)
            if self._in_transaction(dead):
                log.warning("a worker stopped beating; taking over what it held")
                self._in_transaction(self.on_dead)
            if self._stopped.wait(interval):
                return

    def _in_transaction(self, work: Callable, *args):
        with self.app.app_context():
            try:
                return in_transaction(work, *args)
            except SQLAlchemyError as exc:  # the database is busy or away: beat again later
                log.warning("heartbeat of %s: %s", self.name, exc)
                return None
            finally:
                db.session.remove()
