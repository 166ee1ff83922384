"""Quiet hours: per automatic kind (`KindSetting`) and for broadcasts (`DeskSettings`), the
Tokyo hours in which mail of the kind may leave, and the days it may not (Saturdays, Sundays,
Japanese public holidays — from `jpholiday`).

A kind in its quiet hours is not sendable (`sending.sendable_kinds` asks `open_kinds`): its due
mails stay queued, their attempts untouched, and the send loop asks to be woken when the window
opens (`opens_in`). Time is read from `clock`, which tests replace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import jpholiday
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shopmail.core import audit, outbox
from shopmail.core.i18n import TOKYO
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind
from shopmail.extensions import db
from shopmail.models import DeskSettings, KindSetting, Message

# The kinds the broadcast window governs: the member copies and the admin copy.
BROADCAST_KINDS = (MessageKind.BROADCAST, MessageKind.ADMIN_COPY)
FIELDS = ("send_from", "send_until", "skip_saturday", "skip_sunday", "skip_holidays")
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_SEARCH_DAYS = 400  # a window that skips every day never opens: give up after this


def _now() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], datetime] = _now  # tests put a fixed time here


class QuietHoursError(ValueError):
    """Hours that do not make a window: nothing was changed. `message` says so to staff."""

    message = _l(
        "Nothing was saved: enter both times as HH:MM, different from each other (or leave "
        "both empty to send at any hour)."
    )


@dataclass(frozen=True)
class Window:
    """When a kind may be sent: from `send_from` until `send_until` (minutes after midnight,
    Tokyo; a window may run past midnight, 22:00–02:00; None: every hour), not on the days
    skipped."""

    send_from: int | None = None
    send_until: int | None = None
    skip_saturday: bool = False
    skip_sunday: bool = False
    skip_holidays: bool = False

    @property
    def limited(self) -> bool:
        return (
            self.send_from is not None
            or self.skip_saturday
            or self.skip_sunday
            or (self.skip_holidays)
        )

    def skips(self, day: date) -> bool:
        return (
            (self.skip_saturday and day.weekday() == 5)
            or (self.skip_sunday and day.weekday() == 6)
            or (self.skip_holidays and jpholiday.is_holiday(day))
        )

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(TOKYO)
        if self.skips(local.date()):
            return False
        if self.send_from is None or self.send_until is None:
            return True
        minute = local.hour * 60 + local.minute
        if self.send_from < self.send_until:
            return self.send_from <= minute < self.send_until
        return minute >= self.send_from or minute < self.send_until

    def opens_at(self, at: datetime) -> datetime | None:
        """`at` when the window is open then, else its next open minute (Tokyo); None when it
        never opens."""
        if self.is_open(at):
            return at
        local = at.astimezone(TOKYO)
        start = self.send_from or 0
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            midnight = datetime.combine(day, time(), TOKYO)
            for candidate in (midnight, midnight + timedelta(minutes=start)):
                if candidate > local and self.is_open(candidate):
                    return candidate
        return None


def window_of(row, prefix: str = "") -> Window:
    """The window stored on a `KindSetting` (prefix "") or `DeskSettings` ("broadcast_")."""
    return Window(*(getattr(row, prefix + name) for name in FIELDS))


def windows() -> dict[str, Window]:
    """Every kind's window: the automatic kinds', then the broadcasts'."""
    rows = {row.kind: row for row in db.session.scalars(select(KindSetting))}
    out = {kind: window_of(rows[kind]) if kind in rows else Window() for kind in AUTOMATIC_KINDS}
    broadcasts = window_of(DeskSettings.current(), "broadcast_")
    return out | dict.fromkeys(BROADCAST_KINDS, broadcasts)


def closed_kinds(now: datetime | None = None) -> dict[str, datetime | None]:
    """The kinds in their quiet hours now, each with when it opens (Tokyo; None: never)."""
    now = now or clock()
    return {
        kind: window.opens_at(now)
        for kind, window in windows().items()
        if window.limited and not window.is_open(now)
    }


def open_kinds(kinds: Iterable[str], now: datetime | None = None) -> tuple[str, ...]:
    closed = closed_kinds(now)
    return tuple(kind for kind in kinds if kind not in closed)


def opens_in(store_id: int, kinds: Iterable[str], now: datetime | None = None) -> float | None:
    """Seconds until the soonest window opens of the `kinds` in quiet hours that hold due
    mail of the store; None when none waits."""
    now = now or clock()
    closed = {k: at for k, at in closed_kinds(now).items() if k in set(kinds) and at}
    if not closed:
        return None
    waiting = db.session.scalars(
        select(Message.kind).where(Message.id.in_(outbox.due_query(store_id, closed))).distinct()
    )
    soonest = min((closed[kind] for kind in waiting), default=None)
    return None if soonest is None else max(0.0, (soonest - now).total_seconds())


def parse_minutes(text: str) -> int | None:
    """ "09:00" → 540; "" → None."""
    text = (text or "").strip()
    if not text:
        return None
    match = _HHMM.fullmatch(text)
    if match is None:
        raise QuietHoursError(text)
    return int(match[1]) * 60 + int(match[2])


def hhmm(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def window_from_form(form: Mapping[str, str]) -> Window:
    """A window from a form's fields (`send_from`, `send_until` as HH:MM, the `skip_…`
    boxes); raises QuietHoursError for a time that is no time, one of the two left empty, the
    same time twice (a window of no minutes) or days skipped so that it never opens."""
    send_from, send_until = form.get("send_from", ""), form.get("send_until", "")
    start, end = parse_minutes(send_from), parse_minutes(send_until)
    if (start is None) != (end is None) or (start is not None and start == end):
        raise QuietHoursError(f"{send_from}–{send_until}")
    skips = (form.get(name) == "1" for name in FIELDS[2:])
    window = Window(start, end, *skips)
    if window.limited and window.opens_at(clock()) is None:
        raise QuietHoursError("never open")
    return window


def store_window(row, window: Window, prefix: str = "") -> dict:
    """Write `window` onto the settings row; returns what changed (old, new) for the audit."""
    changed = {}
    for name in FIELDS:
        old, new = getattr(row, prefix + name), getattr(window, name)
        if old != new:
            changed[name] = [old, new]
            setattr(row, prefix + name, new)
    return changed


def save_window(actor, kind: str, window: Window) -> bool:
    """Keep `window` for an automatic kind or for broadcasts (`MessageKind.BROADCAST`),
    audited; False when nothing changed. The caller asks for a send (`dispatch.send_soon`):
    mail that waited may go now."""
    if kind in BROADCAST_KINDS:
        row, prefix = DeskSettings.get(), "broadcast_"
    elif kind in AUTOMATIC_KINDS:
        row = db.session.scalar(select(KindSetting).filter_by(kind=kind))
        if row is None:
            row = KindSetting(kind=kind, in_use=False, backfill_done=False)
            db.session.add(row)
        prefix = ""
    else:
        raise ValueError(kind)
    changed = store_window(row, window, prefix)
    if changed:
        db.session.flush()
        audit.record(actor, "quiet_hours.updated", row, kind=str(kind), **changed)
    return bool(changed)


def shown(opens: datetime | None, now: datetime | None = None) -> str:
    """When a window opens, as the queue says it: "09:00" today, "1/4 09:00" on another day."""
    if opens is None:
        return ""
    local, today = opens.astimezone(TOKYO), (now or clock()).astimezone(TOKYO).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    return f"{local.month}/{local.day} {local:%H:%M}"
