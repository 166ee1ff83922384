"""RQ entry points: thin — ids in, one service call, nothing else.

`schedule` lists the periodic jobs the cron scheduler in worker.py enqueues.
"""

from __future__ import annotations

from rq.cron import CronScheduler

from shopmail.automatic import creation as automatic
from shopmail.broadcasts import rendering
from shopmail.core import dispatch as queue
from shopmail.core import sending
from shopmail.models.stores import KINDS as AUTOMATIC_KINDS

CREATION_TIMEOUT = 3600
# How each kind of mail is rendered when it goes out: automatic, record and test mails were
# rendered when their rows were made; broadcasts render each member's copy now.
RENDERERS: dict[str, sending.Renderer] = {
    **dict.fromkeys(AUTOMATIC_KINDS, sending.stored_mails),
    "record": sending.stored_mails,
    "admin_copy": sending.stored_mails,
    "test": sending.stored_mails,
    "broadcast": rendering.build_broadcast_mails,
}


def send_store(store_id: int) -> dict[str, int]:
    """Send a batch of one store's due mail, then hand the rest to the next job."""
    counts = sending.send_store(store_id, RENDERERS)
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
