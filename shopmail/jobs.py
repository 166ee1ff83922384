"""RQ entry points: thin — ids in, one service call, nothing else.

`PERIODIC` lists the periodic jobs the cron scheduler (`dispatch.run_cron_scheduler`) enqueues.
Each job is one transaction (`dispatch.DeskJob`): the work it asks for is enqueued when it
commits.
"""

from __future__ import annotations

from flask import current_app

from shopmail.automatic import creation as automatic
from shopmail.bounces import mailbox as bounce_mailbox
from shopmail.broadcasts import rendering
from shopmail.broadcasts import schedule as broadcast_schedule
from shopmail.core import delivery, dispatch, sending
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind

CREATION_TIMEOUT = 3600
# How each kind of mail is rendered when it goes out: automatic, record and test mails were
# rendered when their rows were made; broadcasts render each member's copy now.
RENDERERS: dict[str, sending.Renderer] = {
    **dict.fromkeys(AUTOMATIC_KINDS, sending.stored_mails),
    MessageKind.RECORD: sending.stored_mails,
    MessageKind.ADMIN_COPY: sending.stored_mails,
    MessageKind.TEST: sending.stored_mails,
    MessageKind.BROADCAST: rendering.build_broadcast_mails,
}


def send_store(store_id: int) -> dict[str, int]:
    """Send one store's due mail over its share of the relay's sessions."""
    return delivery.send_store(store_id, RENDERERS)


def create_mails(scheduled: bool = True, actor: str = "system") -> dict:
    """Create automatic mails (hourly while auto-run creation is on, or on demand), then send."""
    report = automatic.create_mails(actor, scheduled=scheduled)
    if report.queued:
        dispatch.send_soon()
    return report.details()


def reconcile() -> dict[str, int]:
    return dispatch.reconcile()


def poll_bounce_mailboxes() -> dict[str, int]:
    """Read the bounce mailboxes (`SHOPMAIL_BOUNCE_MAILBOX`); nothing when none is set."""
    return bounce_mailbox.poll_all(current_app.config.get("SHOPMAIL_BOUNCE_MAILBOX") or "")


def start_due_broadcasts() -> dict[str, int]:
    """Start the scheduled broadcast whose time has come (woken at its time, and each minute)."""
    return broadcast_schedule.start_due()


# The periodic jobs: (function, queue, when). Every one is idempotent: a double run changes nothing.
PERIODIC = (
    (reconcile, "default", {"interval": 60}),
    (create_mails, "default", {"cron": "0 * * * *", "job_timeout": CREATION_TIMEOUT}),
    (poll_bounce_mailboxes, "default", {"interval": 300}),
    (start_due_broadcasts, "default", {"interval": 60}),
)
