"""Scheduled broadcasts: "send at" a Tokyo date and time instead of now.

The schedule is the database's: a `scheduled` broadcast with its `send_at`. Nothing is queued
and no quota is reserved until it starts; the scheduler only wakes it — an RQ job at its time
(for punctuality) and the minute job `start_due` (for a lost job or a restart) — and starting
is `drafts.start`, a conditional UPDATE on the state, so it never starts twice. A broadcast
that cannot start at its time (the quota, a store without a From address) is not sent: it goes
back to being a draft, with the reason kept and shown.

`clock` is the time this module goes by: tests replace it instead of waiting.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from shopmail.broadcasts import drafts, forecast, quota
from shopmail.core import audit, dispatch
from shopmail.core.i18n import TOKYO
from shopmail.core.states import BroadcastState
from shopmail.extensions import db
from shopmail.models import Broadcast, User
from shopmail.models.types import utcnow

HORIZON = timedelta(days=90)
ACTOR = "schedule"
JOB = "shopmail.jobs.start_due_broadcasts"


def clock() -> datetime:
    """Now, in UTC (replaced in tests)."""
    return utcnow()


def tokyo_time(day: str, time: str) -> datetime:
    """A Tokyo date ("2026-12-24") and time ("09:30") from the form, as a UTC moment."""
    try:
        local = datetime.fromisoformat(f"{day.strip()}T{time.strip()}")
    except ValueError:
        raise drafts.BroadcastError(_l("Give a date and a time to send at."), "send_at") from None
    return local.replace(tzinfo=TOKYO, second=0, microsecond=0).astimezone(TOKYO)


def _check_time(send_at: datetime, now: datetime) -> None:
    if send_at.tzinfo is None:
        raise drafts.BroadcastError(_l("Give the time with its UTC offset."), "send_at")
    if send_at <= now:
        raise drafts.BroadcastError(_l("The time to send at has passed."), "send_at")
    if send_at > now + HORIZON:
        raise drafts.BroadcastError(
            _l("A broadcast can be scheduled at most %(days)s days ahead.", days=HORIZON.days),
            "send_at",
        )


def schedule(broadcast: Broadcast, send_at: datetime, actor: User | str) -> None:
    """Keep a ready draft to start at `send_at` (checked as the send button checks, but the
    quota only when it starts); raises BroadcastError."""
    _check_time(send_at, clock())
    drafts.check_content(broadcast)
    if not _move(broadcast, BroadcastState.DRAFT, send_at):
        raise drafts.WrongState(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.scheduled", broadcast, send_at=send_at.isoformat())


def reschedule(broadcast: Broadcast, send_at: datetime, actor: User | str) -> None:
    _check_time(send_at, clock())
    before = broadcast.send_at
    if not _move(broadcast, BroadcastState.SCHEDULED, send_at):
        raise drafts.WrongState(_l("This broadcast has started or its schedule was cancelled."))
    audit.record(
        actor,
        "broadcast.rescheduled",
        broadcast,
        before=before.isoformat() if before else None,
        send_at=send_at.isoformat(),
    )


def unschedule(broadcast: Broadcast, actor: User | str) -> None:
    """Cancel the schedule before it starts: the broadcast is a draft again."""
    moved = db.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.state == BroadcastState.SCHEDULED)
        .values(state=BroadcastState.DRAFT, send_at=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not moved:
        raise drafts.WrongState(_l("This broadcast has started or its schedule was cancelled."))
    db.session.refresh(broadcast)
    audit.record(actor, "broadcast.schedule_cancelled", broadcast)


def _move(broadcast: Broadcast, before: str, send_at: datetime) -> bool:
    moved = db.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.state == before)
        .values(state=BroadcastState.SCHEDULED, send_at=send_at, schedule_refusal=""),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not moved:
        return False
    db.session.refresh(broadcast)
    # Woken at its time; the minute job would, a minute later. An earlier wake-up (the time
    # moved) finds nothing due and does nothing.
    at = math.ceil(send_at.timestamp())
    dispatch.enqueue_after_commit(JOB, job_id=f"broadcast-{broadcast.id}-at-{at}", at=at)
    return True


def _due(now: datetime):
    return (
        select(Broadcast)
        .where(Broadcast.state == BroadcastState.SCHEDULED, Broadcast.send_at <= now)
        .order_by(Broadcast.send_at, Broadcast.id)
    )


def start_due(now: datetime | None = None) -> dict[str, int]:
    """Start the earliest scheduled broadcast whose time has come (or refuse it); one per job,
    since a refused start rolls its transaction back, and the job runs again for the next."""
    now = now or clock()
    broadcast = db.session.scalars(_due(now).limit(1)).first()
    if broadcast is None:
        return {"started": 0, "refused": 0}
    bid, report = broadcast.id, {"started": 0, "refused": 0}
    try:
        report["started"] = 1 if drafts.start(broadcast, ACTOR, now=now, scheduled=True) else 0
    except drafts.BroadcastError as exc:
        # Kept as said then, in the desk's language (a job has no user to choose another).
        with force_locale("ja"):
            reason = str(exc)
        report["refused"] = _refuse(bid, reason, now)
    following = db.session.scalars(_due(now).limit(1)).first()
    if following is not None and following.id != bid:  # never the same one again and again
        dispatch.enqueue_after_commit(JOB)
    return report


def _refuse(bid: int, reason: str, now: datetime) -> int:
    """Not sent: a draft again, with the reason kept for the list and the confirm step."""
    moved = db.session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == bid,
            Broadcast.state == BroadcastState.SCHEDULED,
            Broadcast.send_at <= now,  # not one rescheduled meanwhile
        )
        .values(state=BroadcastState.DRAFT, schedule_refusal=reason),
        execution_options={"synchronize_session": False},
    ).rowcount
    if moved:
        audit.record(
            ACTOR, "broadcast.schedule_refused", db.session.get(Broadcast, bid), reason=reason
        )
    return moved


@dataclass(frozen=True)
class Outlook:
    """A scheduled broadcast against its month's quota, as things stand now: what is left for
    it once the scheduled ones ahead of it in that month have started."""

    recipients: int
    left: int

    @property
    def fits(self) -> bool:
        return self.recipients <= self.left


def outlook() -> dict[int, Outlook]:
    """Every scheduled broadcast's outlook, by id: the earlier ones in a month go first, and a
    broadcast that will be refused takes nothing from those after it."""
    scheduled = db.session.scalars(
        select(Broadcast)
        .where(Broadcast.state == BroadcastState.SCHEDULED)
        .order_by(Broadcast.send_at, Broadcast.id)
    )
    taken: dict[str, int] = defaultdict(int)
    out = {}
    for broadcast in scheduled:
        month = quota.month_of(broadcast.send_at)
        left = max(quota.status(month).left - taken[month], 0)
        line = Outlook(drafts.audience(broadcast).final, left)
        if line.fits:
            taken[month] += line.recipients
        out[broadcast.id] = line
    return out


def confirm_context(broadcast: Broadcast, audience: drafts.Audience) -> dict:
    """What the confirm step shows of the schedule: the forecast (for now, or for the time it
    is scheduled at), the quota outlook, and the form's date and time (tomorrow 10:00 by
    default) with the days it allows."""
    now = clock()
    scheduled = broadcast.state == BroadcastState.SCHEDULED
    start_at = broadcast.send_at if scheduled and broadcast.send_at else now
    tomorrow = (now.astimezone(TOKYO) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    shown = (broadcast.send_at or tomorrow).astimezone(TOKYO)
    return dict(
        forecast=forecast.forecast(broadcast, audience, start_at),
        outlook=outlook().get(broadcast.id) if scheduled else None,
        send_date=shown.strftime("%Y-%m-%d"),
        send_time=shown.strftime("%H:%M"),
        first_day=now.astimezone(TOKYO).strftime("%Y-%m-%d"),
        last_day=(now + HORIZON).astimezone(TOKYO).strftime("%Y-%m-%d"),
    )
