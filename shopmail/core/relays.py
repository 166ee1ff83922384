"""Each relay's limits and what the desk knows of it while sending (DESIGN.md, Delivery).

A relay — the system relay, the Rakuten relay, a store's own — accepts at most `sessions`
SMTP sessions at once, optionally `per_minute` / `per_hour` messages, and `per_session`
messages over one connection. The session budget is held by leases in the database (shared by
every worker, freed by expiry when a worker is killed); the pace by a log of what each chunk
was allowed to send, checked over a sliding minute and hour under a lock on the relay's row.
A 421 or "too many" answer pauses the relay briefly and halves its pace for a while.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from shopmail.core import outbox
from shopmail.core.states import RelayMode
from shopmail.extensions import db
from shopmail.models import RelaySend, RelaySession, RelayState, Store
from shopmail.models.types import utcnow

SLOWED_FOR = timedelta(minutes=10)  # how long a throttled relay keeps the halved pace
FIRST_PAUSE = 5.0  # seconds of silence after a first throttle; doubled on each one in a row
LONGEST_PAUSE = 300.0
_TOO_MANY = re.compile(r"too many|rate limit|throttl|slow down", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    sessions: int  # SMTP sessions at once
    per_minute: int  # messages in any 60 s (0: no pace)
    per_hour: int  # messages in any hour (0: no pace)
    per_session: int  # messages over one connection before it reconnects (0: no limit)

    @property
    def paced(self) -> bool:
        return bool(self.per_minute or self.per_hour)


def relay_key(store: Store) -> str:
    if store.relay_mode == RelayMode.RAKUTEN:
        return "rakuten"
    if store.relay_mode == RelayMode.OWN:
        return f"store:{store.id}"
    return "system"


def limits_for(store: Store) -> Limits:
    if store.relay_mode == RelayMode.OWN:
        values = (
            store.smtp_sessions,
            store.smtp_per_minute,
            store.smtp_per_hour,
            store.smtp_per_session,
        )
    else:
        rakuten = store.relay_mode == RelayMode.RAKUTEN
        prefix = "SHOPMAIL_RAKUTEN_SMTP" if rakuten else "SHOPMAIL_SMTP"
        config = current_app.config
        values = tuple(
            int(config[f"{prefix}_{name}"])
            for name in ("SESSIONS", "PER_MINUTE", "PER_HOUR", "PER_SESSION")
        )
    sessions, per_minute, per_hour, per_session = (max(0, v or 0) for v in values)
    return Limits(max(1, sessions), per_minute, per_hour, per_session)


def is_throttle(code: int | None, reply: str) -> bool:
    """A relay saying "not so fast": 421, or another 4xx that says too many / rate limit."""
    if code == 421:
        return True
    return code is not None and 400 <= code < 500 and bool(_TOO_MANY.search(reply))


# --- sessions -------------------------------------------------------------------------------


def take_sessions(key: str, limits: Limits, holder: str, wanted: int) -> list[int]:
    """Lease up to `wanted` free session slots of the relay; returns the slots taken.

    Flushes only: the caller commits (the send loop), so the lease is visible to every worker.
    """
    wanted = min(wanted, limits.sessions)
    if wanted <= 0:
        return []
    now = utcnow()
    _insert_missing(RelaySession, [{"relay_key": key, "slot": s} for s in range(limits.sessions)])
    free = and_(
        RelaySession.relay_key == key,
        RelaySession.slot < limits.sessions,
        or_(RelaySession.holder.is_(None), RelaySession.expires_at < now),
    )
    candidates = outbox.picked(
        select(RelaySession.slot).where(free).order_by(RelaySession.slot).limit(wanted)
    )
    taken = db.session.scalars(
        update(RelaySession)
        .where(free, RelaySession.relay_key == key, RelaySession.slot == candidates.c.slot)
        .values(holder=holder, expires_at=now + session_lease())
        .returning(RelaySession.slot),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(taken)


def renew_session(key: str, slot: int, holder: str) -> bool:
    """Extend this holder's lease; False when it lapsed and another holder took the slot."""
    result = db.session.execute(
        update(RelaySession)
        .where(
            RelaySession.relay_key == key,
            RelaySession.slot == slot,
            RelaySession.holder == holder,
        )
        .values(expires_at=utcnow() + session_lease()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def release_session(key: str, slot: int, holder: str) -> None:
    db.session.execute(
        update(RelaySession)
        .where(
            RelaySession.relay_key == key,
            RelaySession.slot == slot,
            RelaySession.holder == holder,
        )
        .values(holder=None, expires_at=None),
        execution_options={"synchronize_session": False},
    )


def release_sessions_of(holders: Sequence[str]) -> None:
    """Free every slot these (dead) workers held, before their leases lapse."""
    if holders:
        db.session.execute(
            update(RelaySession)
            .where(RelaySession.holder.in_(holders))
            .values(holder=None, expires_at=None),
            execution_options={"synchronize_session": False},
        )


def session_lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["SHOPMAIL_SESSION_LEASE"]))


# --- pace -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """How many messages a session may send now, or how long to wait before asking again."""

    count: int
    wait: float = 0.0


def allowance(key: str, limits: Limits, wanted: int) -> Allowance:
    """How many of `wanted` messages may go now without exceeding the relay's pace.

    A relay with no pace that is not throttling allows everything without a lock. Otherwise
    under a lock on the relay's row (PostgreSQL: the row; SQLite: the database's write lock),
    so that workers asking at once are counted one after the other. The caller records what it
    then sends with `note_sent` in the same transaction and commits.
    """
    now = utcnow()
    state = db.session.get(RelayState, key, populate_existing=True)
    slowed = state is not None and state.slowed_until is not None and state.slowed_until > now
    if state is not None and state.paused_until is not None and state.paused_until > now:
        return Allowance(0, (state.paused_until - now).total_seconds())
    if not (limits.paced or slowed):
        return Allowance(wanted)  # nothing to count: no lock, no query more
    state = _locked_state(key)
    if state.paused_until is not None and state.paused_until > now:
        return Allowance(0, (state.paused_until - now).total_seconds())
    windows = []
    per_minute = limits.per_minute
    if state.slowed_until is not None and state.slowed_until > now and state.slow_per_minute:
        per_minute = min(per_minute or state.slow_per_minute, state.slow_per_minute)
    if per_minute:
        windows.append((timedelta(minutes=1), per_minute))
    if limits.per_hour:
        windows.append((timedelta(hours=1), limits.per_hour))
    count, wait = wanted, 0.0
    for length, limit in windows:
        used = _sent_since(key, now - length)
        if used + 1 > limit:
            wait = max(wait, _until_room(key, now, length, used + 1 - limit))
        count = min(count, limit - used)
    if count <= 0:
        return Allowance(0, max(wait, 0.05))
    return Allowance(count)


def note_sent(key: str, count: int) -> None:
    """Log that a session was allowed `count` messages now (the pace counts from this log)."""
    if count > 0:
        db.session.add(RelaySend(relay_key=key, at=utcnow(), count=count))


def forget_old_sends() -> int:
    """The pace looks back one hour; older log rows go (the reconciler calls this)."""
    cutoff = utcnow() - timedelta(hours=1, minutes=5)
    return db.session.execute(delete(RelaySend).where(RelaySend.at < cutoff)).rowcount


def _sent_since(key: str, since: datetime) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(RelaySend.count), 0)).where(
            RelaySend.relay_key == key, RelaySend.at > since
        )
    )
    return int(total or 0)


def _until_room(key: str, now: datetime, length: timedelta, needed: int) -> float:
    """Seconds until `needed` messages have left the window of `length` ending now."""
    rows = db.session.execute(
        select(RelaySend.at, RelaySend.count)
        .where(RelaySend.relay_key == key, RelaySend.at > now - length)
        .order_by(RelaySend.at)
    ).all()
    freed = 0
    for at, count in rows:
        freed += count
        if freed >= needed:
            return (at + length - now).total_seconds() + 0.01
    return length.total_seconds()


# --- throttling -----------------------------------------------------------------------------


def throttled(key: str, limits: Limits, reply: str, unsent: int = 0) -> float:
    """The relay said "too many": pause it, halve its pace for a while; returns the pause.

    `unsent` messages were allowed but not sent (the rest of the chunk): they leave the log.
    The pause doubles with each throttle in a row; the slower pace is half of what went in
    the last minute (or of the pace it was already slowed to). A relay that refused before
    anything went gets the pause alone.
    """
    now = utcnow()
    state = _locked_state(key)
    if unsent:
        _take_back(key, unsent)
    recent = state.throttled_at is not None and now - state.throttled_at < SLOWED_FOR
    state.throttles = (state.throttles + 1) if recent else 1
    pause = min(FIRST_PAUSE * 2 ** (state.throttles - 1), LONGEST_PAUSE)
    rates = [_sent_since(key, now - timedelta(minutes=1)), limits.per_minute]
    if recent and state.slow_per_minute:
        rates.append(state.slow_per_minute)
    rate = min((r for r in rates if r), default=0)
    if rate:
        state.slow_per_minute = max(1, math.ceil(rate / 2))
        state.slowed_until = now + SLOWED_FOR
    state.paused_until = now + timedelta(seconds=pause)
    state.throttled_at = now
    state.throttle_reply = reply[:500]
    db.session.flush()
    return pause


def _take_back(key: str, count: int) -> None:
    # Any recent log row will do: the pace counts sums over windows holding them all.
    latest = db.session.scalar(
        select(RelaySend).where(RelaySend.relay_key == key).order_by(RelaySend.id.desc()).limit(1)
    )
    if latest is not None:
        latest.count = max(0, latest.count - count)


def _locked_state(key: str) -> RelayState:
    _insert_missing(RelayState, [{"key": key, "throttles": 0, "throttle_reply": ""}])
    # An UPDATE first: it takes the row lock (PostgreSQL) or the write lock (SQLite) before
    # anything is read, so two workers never count the same window at once.
    db.session.execute(
        update(RelayState).where(RelayState.key == key).values(throttles=RelayState.throttles),
        execution_options={"synchronize_session": False},
    )
    return db.session.execute(
        select(RelayState).where(RelayState.key == key),
        execution_options={"populate_existing": True},
    ).scalar_one()


def _insert_missing(model, rows: list[dict]) -> None:
    db.session.execute(outbox.insert_new(model.__table__).values(rows))


# --- what the store page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    key: str
    limits: Limits
    sessions_open: int  # leases held now
    sent_last_minute: int
    throttled: bool  # paused or slowed down after a 421 / "too many"
    paused_until: datetime | None
    slowed_until: datetime | None
    slow_per_minute: int | None
    throttled_at: datetime | None
    throttle_reply: str


def status_of(store: Store) -> Status:
    """The relay's state as the store page shows it (reads only)."""
    key, limits, now = relay_key(store), limits_for(store), utcnow()
    state = db.session.get(RelayState, key)
    open_sessions = db.session.scalar(
        select(func.count())
        .select_from(RelaySession)
        .where(
            RelaySession.relay_key == key,
            RelaySession.holder.isnot(None),
            RelaySession.expires_at >= now,
        )
    )
    paused = _still(state.paused_until if state else None, now)
    slowed = _still(state.slowed_until if state else None, now)
    return Status(
        key=key,
        limits=limits,
        sessions_open=int(open_sessions or 0),
        sent_last_minute=_sent_since(key, now - timedelta(minutes=1)),
        throttled=bool(paused or slowed),
        paused_until=paused,
        slowed_until=slowed,
        slow_per_minute=state.slow_per_minute if slowed else None,
        throttled_at=state.throttled_at if state else None,
        throttle_reply=state.throttle_reply if state else "",
    )


def _still(until: datetime | None, now: datetime) -> datetime | None:
    return until if until is not None and until > now else None
