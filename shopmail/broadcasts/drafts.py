"""Member broadcasts up to the send button: drafts, the audience and its counts, the confirm
step's preview, and starting (recipient rows + quota reservation in one transaction).
Running broadcasts (pause, resume, cancel, progress, refusals) are in `broadcast_runs`.

A broadcast is a `Broadcast` row (the wizard's draft) until it starts — now, or at its time once
scheduled (`broadcasts.schedule`); starting turns every sendable address into one outbox row
with an empty body (rendered at send time by `broadcast_mail`), reserves the quota
for exactly those rows and queues the send jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    update,
)

from shopmail.broadcasts import quota
from shopmail.broadcasts import rendering as broadcast_mail
from shopmail.core import audit, dispatch, outbox
from shopmail.core import member_filter as members
from shopmail.core.states import BroadcastState, Channel, MessageKind, MessageState
from shopmail.extensions import db
from shopmail.mail.addresses import device_of
from shopmail.models import Broadcast, BroadcastTemplate, DeskSettings, Member, Store, User
from shopmail.models.types import utcnow


class BroadcastError(ValueError):
    """Something staff asked for that cannot be done; the message says why, in their language,
    and `field` names the part of the broadcast at fault when there is one (for the API)."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OverQuota(BroadcastError):
    """The broadcast would send more mails than are left this month (both numbers named)."""


class WrongState(BroadcastError):
    """The broadcast's state does not allow this (it started, ended or was cancelled)."""


@dataclass(frozen=True)
class Draft:
    """The compose form's values."""

    store_id: int
    subject: str
    body: str
    format: str
    insert_signature: bool
    only_wanting: bool
    template_id: int | None = None


@dataclass(frozen=True)
class Audience:
    """Who the broadcast reaches: the manual's 送信件数 (うち不要) and 送信できない件数.

    `final` is what starting sends: one copy per address, so `duplicates` (members sharing an
    address with an older reachable member) are left out; `bounced` are the flagged-invalid
    members (of `invalid`) with hard bounces."""

    matches: int
    sendable: int
    sendable_no_mail: int
    unsendable: int
    empty: int
    invalid: int
    final: int
    bounced: int = 0
    duplicates: int = 0


def default_store() -> Store | None:
    """The B2B store (members are B2B customers), else the first store."""
    order = (case((Store.channel == Channel.B2B, 0), else_=1), Store.id)
    return db.session.scalar(select(Store).order_by(*order).limit(1))


def create_draft(
    args: Mapping[str, str], member_ids: list[int] | None, actor: User | str
) -> Broadcast:
    """A draft for every member matching `args`, or for the ticked `member_ids`; `actor` is
    the user, or the API token's audit name ("api:<name>")."""
    store = default_store()
    broadcast = Broadcast(
        state=BroadcastState.DRAFT,
        store_id=store.id if store else None,
        member_filter={} if member_ids else members.parse_filter(args).args,
        member_ids=sorted(set(member_ids)) if member_ids else None,
        created_by=actor.id if isinstance(actor, User) else None,
    )
    db.session.add(broadcast)
    db.session.flush()
    audit.record(actor, "broadcast.drafted", broadcast, ticked=len(member_ids or []))
    return broadcast


def _reachable(broadcast: Broadcast) -> ColumnElement[bool]:
    wanted = [Member.email != "", Member.email_invalid.is_(False)]
    if broadcast.only_wanting:
        wanted.append(Member.wants_mail.is_(True))
    return and_(*wanted)


def recipients_query(broadcast: Broadcast) -> Select:
    """The members who get this broadcast, oldest first (for keyset batches): of members
    sharing an address, only the oldest — each address gets one copy."""
    reachable = [*members.audience_conditions(broadcast), _reachable(broadcast)]
    return select(Member).where(*reachable, members.one_per_address(reachable)).order_by(Member.id)


def audience(broadcast: Broadcast) -> Audience:
    empty = Member.email == ""
    invalid = and_(~empty, Member.email_invalid.is_(True))
    bounced = and_(invalid, Member.hard_bounces > 0)
    sendable = and_(~empty, Member.email_invalid.is_(False))
    no_mail = and_(sendable, Member.wants_mail.is_(False))

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    reachable = _reachable(broadcast)
    addresses = func.count(func.distinct(case((reachable, func.lower(Member.email)))))
    counted = (empty, invalid, sendable, no_mail, bounced, reachable)
    row = db.session.execute(
        select(func.count(), *(total(c) for c in counted), addresses).where(
            *members.audience_conditions(broadcast)
        )
    ).one()
    matches, n_empty, n_invalid, n_sendable, n_no_mail, n_bounced, n_reachable, n_addresses = (
        int(x) for x in row
    )
    return Audience(
        matches,
        n_sendable,
        n_no_mail,
        n_empty + n_invalid,
        n_empty,
        n_invalid,
        n_addresses,
        n_bounced,
        n_reachable - n_addresses,
    )


def save_draft(broadcast: Broadcast, draft: Draft, actor: User | str) -> Audience:
    """Check and keep the compose step's values; returns who it reaches (as the confirm step
    counts them); raises BroadcastError or ContentError."""
    _require_state(broadcast, BroadcastState.DRAFT)
    html = broadcast_mail.compile_content(draft.subject, draft.body, draft.format)
    for name in Draft.__dataclass_fields__:
        setattr(broadcast, name, getattr(draft, name))
    broadcast.html = html
    try:
        counts = check_ready(broadcast)
    except BroadcastError:
        db.session.rollback()  # an unsendable draft keeps its last good values
        raise
    audit.record(actor, "broadcast.composed", broadcast, subject=draft.subject)
    return counts


def apply_template(broadcast: Broadcast, draft: Draft, actor: User | str) -> None:
    """Keep the form as it is, with subject, body and format taken from the chosen template."""
    _require_state(broadcast, BroadcastState.DRAFT)
    template = db.session.get(BroadcastTemplate, draft.template_id or 0)
    if template is None:
        raise BroadcastError(_l("Choose a template first."))
    for name in Draft.__dataclass_fields__:
        setattr(broadcast, name, getattr(draft, name))
    broadcast.subject, broadcast.body = template.subject, template.body
    broadcast.format, broadcast.html = template.format, None
    audit.record(actor, "broadcast.template_applied", broadcast, template=template.name)


def preview(
    broadcast: Broadcast, member: Member | None = None
) -> tuple[Member, broadcast_mail.Copy]:
    """A recipient (the first unless one is given) and their copy, exactly as the send loop
    will render it — with a sample unsubscribe link that unsubscribes no one."""
    member = member or db.session.scalar(recipients_query(broadcast).limit(1))
    store = db.session.get(Store, broadcast.store_id)
    copy = broadcast_mail.render_copy(
        broadcast_mail.prepare(broadcast),
        member,
        store,
        device_of(member.email),
        broadcast_mail.sample_url(),
    )
    return member, copy


def check_ready(broadcast: Broadcast, now: datetime | None = None) -> Audience:
    """Raise BroadcastError when the draft cannot be sent as it stands (at `now`: its month's
    quota)."""
    counts = check_content(broadcast)
    left = quota.status(quota.month_of(now)).left
    if counts.final > left:
        raise OverQuota(_over_quota(counts.final, left))
    return counts


def check_content(broadcast: Broadcast) -> Audience:
    """Raise BroadcastError when the draft cannot be sent as it stands, quota aside."""
    store = db.session.get(Store, broadcast.store_id) if broadcast.store_id else None
    if store is None or not store.from_addr:
        raise BroadcastError(_l("Choose a store that has a From address."), "store")
    if not broadcast.subject.strip() or not broadcast.body.strip():
        blank = "subject" if not broadcast.subject.strip() else "body"
        raise BroadcastError(_l("Write a subject and a body."), blank)
    counts = audience(broadcast)
    if counts.final == 0:
        raise BroadcastError(_l("No member can receive this broadcast."), "audience")
    return counts


def _over_quota(wanted: int, left: int):
    return _l(
        "This broadcast would send %(wanted)s mails, but only %(left)s are left this month.",
        wanted=f"{wanted:,}",
        left=f"{left:,}",
    )


def start(
    broadcast: Broadcast, actor: User | str, *, now: datetime | None = None, scheduled: bool = False
) -> int:
    """Queue a row per recipient and reserve the quota, all in one transaction; returns n.

    A second click (or a second tab) finds the draft already started and changes nothing;
    `scheduled` starts a scheduled broadcast whose time (`send_at`) has come by `now`, once.
    """
    now = now or utcnow()
    check_ready(broadcast, now)
    if scheduled:
        still = (Broadcast.state == BroadcastState.SCHEDULED, Broadcast.send_at <= now)
    else:
        still = (Broadcast.state == BroadcastState.DRAFT,)
    moved = db.session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, *still)
        .values(state=BroadcastState.SENDING, started_at=now, schedule_refusal=""),
        execution_options={"synchronize_session": False},
    ).rowcount
    if moved != 1:
        db.session.rollback()
        return 0
    # The admin copy is the broadcast's first row, so it goes out with the first chunk: a
    # broadcast cancelled or paused once members have the mail has sent its copy too.
    _queue_admin_copy(broadcast, db.session.get(Store, broadcast.store_id))
    try:
        n = _queue_rows(broadcast)
        quota.reserve(n, quota.month_of(now))
    except quota.QuotaExceeded as exc:
        db.session.rollback()
        raise OverQuota(_over_quota(exc.wanted, exc.left)) from None
    broadcast.state, broadcast.started_at, broadcast.total = BroadcastState.SENDING, now, n
    broadcast.schedule_refusal = ""
    action = "broadcast.started_by_schedule" if scheduled else "broadcast.started"
    audit.record(actor, action, broadcast, recipients=n, month=quota.month_of(now))
    dispatch.send_soon([broadcast.store_id])
    return n


def _queue_rows(broadcast: Broadcast) -> int:
    """Insert the recipient rows in one INSERT … SELECT; returns how many there are.

    The database copies the members' fields itself: a 20,000-member broadcast starts in a
    fraction of a second instead of building 20,000 rows in Python. The count is read back
    rather than taken from the INSERT (whose row count the PostgreSQL driver does not report
    for INSERT … ON CONFLICT).
    """
    prefix = f"broadcast:{broadcast.id}:member:"
    columns = {
        "dedupe_key": literal(prefix, String) + cast(Member.id, String),
        "kind": literal(MessageKind.BROADCAST, String),
        "state": literal(MessageState.QUEUED, String),
        "store_id": literal(broadcast.store_id, Integer),
        "broadcast_id": literal(broadcast.id, Integer),
        "member_id": Member.id,
        "to_addr": Member.email,
        "to_name": Member.contact_name,
        "device": members.device_of_email(),
        "subject": literal(broadcast.subject, String),
        "body": literal("", String),
    }
    rows = recipients_query(broadcast).with_only_columns(*columns.values())
    outbox.add_selected(list(columns), rows)
    counts = outbox.count_by_state(broadcast_id=broadcast.id, kind=MessageKind.BROADCAST)
    return sum(counts.values())


def _queue_admin_copy(broadcast: Broadcast, store: Store) -> None:
    """The copy for the admin address, rendered for the first recipient (with a sample
    unsubscribe link); once per broadcast (its dedupe key)."""
    addr = DeskSettings.current().admin_copy_addr
    first = db.session.scalar(recipients_query(broadcast).limit(1)) if addr else None
    if first is None:
        return
    copy = broadcast_mail.render_copy(
        broadcast_mail.prepare(broadcast), first, store, "pc", broadcast_mail.sample_url()
    )
    outbox.add_messages(
        [
            dict(
                dedupe_key=f"broadcast:{broadcast.id}:admin_copy",
                kind=MessageKind.ADMIN_COPY,
                state=MessageState.QUEUED,
                store_id=broadcast.store_id,
                broadcast_id=broadcast.id,
                to_addr=addr,
                subject=f"[控え] {copy.subject}",
                body=copy.text,
                html=copy.html,
            )
        ]
    )


def discard_draft(broadcast: Broadcast, actor: User | str) -> None:
    """Throw a draft away: it queued and reserved nothing, so nothing is left of it."""
    gone = db.session.execute(
        delete(Broadcast).where(
            Broadcast.id == broadcast.id, Broadcast.state == BroadcastState.DRAFT
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not gone:
        raise WrongState(_l("This broadcast cannot do that in its current state."))
    audit.record(actor, "broadcast.discarded", broadcast, subject=broadcast.subject)
    db.session.expunge(broadcast)


def _require_state(broadcast: Broadcast, *states: str) -> None:
    if broadcast.state not in states:
        raise WrongState(_l("This broadcast cannot do that in its current state."))
