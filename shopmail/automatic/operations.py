"""The automatic-mail switches and the first-start guide of the operations page.

Switches: auto-run creation, auto-run sending, the kinds in use (switching a kind on starts
its reach-back: see `automatic`), and each store's follow-up delay and repeat-customer count.
The mail server switch belongs to the store settings (`stores.mail_server`).

The guide follows the manual's order — 1 create, 2 review and delete, 3 release and send —
and reads each step's state from the data, never from a flag of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from shopmail.automatic import templates
from shopmail.core import audit, dispatch, quiet_hours
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind, MessageState, StepState
from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings, KindSetting, Message, Order, Shipment, Store
from shopmail.models.types import utcnow

MAX_FOLLOW_UP_DAYS = 365
MAX_REPEAT_COUNT = 1000
MIN_LINE_WIDTH, MAX_LINE_WIDTH = 10, 499  # 499 full-width characters fill 998 bytes
CREATION_TIMEOUT = 3600


class RuleError(ValueError):
    """A store rule out of range: nothing was changed."""


def kind_settings() -> dict[str, KindSetting]:
    """One row per automatic kind; a kind never switched on reads as off (and writes nothing)."""
    rows = {k.kind: k for k in db.session.scalars(select(KindSetting))}
    for kind in AUTOMATIC_KINDS:
        if kind not in rows:
            rows[kind] = KindSetting(kind=kind, in_use=False, backfill_done=False)
    return {kind: rows[kind] for kind in AUTOMATIC_KINDS}


def kinds_in_use() -> list[str]:
    return [kind for kind, row in kind_settings().items() if row.in_use]


def set_switch(actor, name: str, on: bool) -> bool:
    """Turn "auto_create" or "auto_send" on or off; returns False when nothing changed."""
    if name not in ("auto_create", "auto_send"):
        raise ValueError(name)
    settings = DeskSettings.get()
    if getattr(settings, name) == on:
        return False
    setattr(settings, name, on)
    audit.record(actor, f"desk.{name}_{'on' if on else 'off'}", settings)
    if name == "auto_send" and on:
        dispatch.send_soon()  # mail queued while sending was off goes now
    return True


def set_line_width(actor, width: int) -> bool:
    """How wide (full-width characters) a mobile template's line may be before the content
    checks warn; raises RuleError out of range. False when nothing changed."""
    if not MIN_LINE_WIDTH <= width <= MAX_LINE_WIDTH:
        raise RuleError(width)
    settings = DeskSettings.get()
    if settings.mobile_line_width == width:
        return False
    audit.record(
        actor, "desk.line_width_updated", settings, old=settings.mobile_line_width, new=width
    )
    settings.mobile_line_width = width
    return True


def set_quiet_hours(actor, kind: str, window: quiet_hours.Window) -> bool:
    """The hours the kind is sent in; mail that waited and may go now goes."""
    changed = quiet_hours.save_window(actor, kind, window)
    if changed:
        dispatch.send_soon()
    return changed


def start_creation(actor_email: str) -> None:
    """Create the automatic mails now, in a job (one at a time), once this request commits."""
    dispatch.enqueue_after_commit(
        "shopmail.jobs.create_mails",
        False,
        actor_email,
        job_id="create-mails",
        job_timeout=CREATION_TIMEOUT,
    )


def set_kinds(actor, wanted: set[str], now: datetime | None = None) -> list[str]:
    """Put exactly `wanted` in use. A kind switched on reaches back from now (held for review)."""
    changed = []
    for kind, row in kind_settings().items():
        on = kind in wanted
        if row.in_use == on:
            continue
        row.in_use = on
        if on:
            row.started_at = now or utcnow()
            row.backfill_done = False
        db.session.add(row)  # a kind switched on for the first time gets its row now
        db.session.flush()
        audit.record(actor, f"kind.{'enabled' if on else 'disabled'}", row, kind=kind)
        changed.append(kind)
    return changed


def set_store_rules(actor, store: Store, follow_up_days: int, repeat_from_count: int) -> bool:
    if not 1 <= follow_up_days <= MAX_FOLLOW_UP_DAYS:
        raise RuleError("follow_up_days")
    if not 2 <= repeat_from_count <= MAX_REPEAT_COUNT:
        raise RuleError("repeat_from_count")
    before = (store.follow_up_days, store.repeat_from_count)
    if before == (follow_up_days, repeat_from_count):
        return False
    store.follow_up_days, store.repeat_from_count = follow_up_days, repeat_from_count
    audit.record(
        actor,
        "store.mail_rules",
        store,
        follow_up_days=follow_up_days,
        repeat_from_count=repeat_from_count,
        before=list(before),
    )
    return True


@dataclass(frozen=True)
class Step:
    number: int
    state: StepState
    count: int = 0


def guide() -> list[Step]:
    """The manual's first-start order with each step's state, derived from the data."""
    settings = DeskSettings.current()
    rows = kind_settings().values()
    created = any(row.in_use and row.backfill_done for row in rows)
    held = held_count()
    sending = settings.mail_server_running and settings.auto_send
    done, next_, later = StepState.DONE, StepState.NEXT, StepState.LATER
    states = [
        done if created else next_,
        later if not created else (done if held == 0 else next_),
        later if not created or held else (done if sending else next_),
    ]
    return [Step(1, states[0]), Step(2, states[1], held), Step(3, states[2])]


def held_count() -> int:
    return db.session.scalar(
        select(func.count(Message.id)).where(
            Message.state == MessageState.HELD, Message.kind.in_(AUTOMATIC_KINDS)
        )
    )


def last_creation() -> AuditEntry | None:
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "mails.created")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class TemplateGap:
    store: Store
    carrier: str
    device: str
    generic: bool  # True: the generic shipping notice is used; False: no template at all


def shipping_gaps() -> list[TemplateGap]:
    """Carriers of each store's orders without a shipping notice of their own (or any)."""
    if not kind_settings()[MessageKind.SHIPPING_NOTICE].in_use:
        return []
    resolver = templates.Resolver.load()
    carrier = func.coalesce(func.nullif(Shipment.carrier, ""), Order.delivery_method)
    pairs = db.session.execute(
        select(Shipment.store_id, carrier)
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.confirmed_at.isnot(None))
        .distinct()
    ).all()
    stores = {store.id: store for store in db.session.scalars(select(Store))}
    gaps = []
    for store_id, name in sorted(pairs, key=lambda p: (p[0], p[1] or "")):
        for device in templates.DEVICES:
            found = resolver.find(store_id, MessageKind.SHIPPING_NOTICE, device, name or "")
            if found is None or found.variant != (name or ""):
                gaps.append(TemplateGap(stores[store_id], name or "", device, found is not None))
    return gaps
