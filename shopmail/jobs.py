"""RQ entry points: thin — ids in, one service call, nothing else.

`schedule` lists the periodic jobs the cron scheduler in worker.py enqueues.
"""

from __future__ import annotations

from rq.cron import CronScheduler

from shopmail import queue
from shopmail.services import automatic, broadcasts, sending  # noqa: F401 (broadcasts registers its send-time builder)

CREATION_TIMEOUT = 3600


def send_store(store_id: int) -> dict[str, int]:
    """Send a batch of one store's due mail, then hand the rest to the next job."""
    counts = sending.send_store(store_id)
    if counts:
        queue.dispatch_sending([store_id])
    return counts


def create_mails(scheduled: bool = True, actor: str = "system") -> dict:
    """Create automatic mails (hourly while auto-run creation is on, or on demand), then send."""
    report = automatic.create_mails(actor, scheduled=scheduled)
    if report.queued:
        queue.dispatch_sending()
    return report.details()


def reconcile() -> dict[str, int]:
    return queue.reconcile()


def schedule(cron: CronScheduler, prefix: str) -> None:
    """Register the periodic jobs. Every one is idempotent, so a double run changes nothing."""
    cron.register(reconcile, f"{prefix}-default", interval=60)
    cron.register(create_mails, f"{prefix}-default", cron="0 * * * *", job_timeout=CREATION_TIMEOUT)
