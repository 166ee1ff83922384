"""Manual mails from the order, shipment and quote lists (SPEC §3).

A `RecordMailing` is the compose wizard's draft: the ticked records, title, header, footer and
"insert signature". Each recipient's mail is the header, the block of *their own* record, the
footer and the store's PC or mobile signature; tags in title, header and footer take that
record's values. Sending turns the draft into outbox rows (kind "record") in one transaction,
idempotent by dedupe key; these mails are kept in the history and never touch the quota.
Functions leave their changes in the session for the caller to commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from shopmail.core import audit, dispatch, merge, outbox
from shopmail.core.progress import Progress, next_retry_at
from shopmail.core.states import MessageKind, MessageState, RecordMailingState
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.mail.addresses import AddressError, device_of, parse_address
from shopmail.models import (
    DeskSettings,
    Message,
    Order,
    Quote,
    RecordMailing,
    RecordMailTemplate,
    Shipment,
    Store,
    User,
)
from shopmail.models.outbox import OPEN_STATES
from shopmail.models.types import utcnow
from shopmail.record_mails.block import record_block, record_values

MODELS = {"order": Order, "shipment": Shipment, "quote": Quote}
FAILED_STATES = (MessageState.FAILED, MessageState.UNKNOWN)
MAX_RECORDS = 1000


class MailingError(ValueError):
    """Something the user asked for that cannot be done; `message` says why in their language."""

    def __init__(self, message) -> None:
        self.message = message
        super().__init__(str(message))


class UnknownTags(ValueError):
    """Title, header or footer use tags that record mails do not know; by field name."""

    def __init__(self, errors: dict[str, tags.UnknownTagError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message_en for e in errors.values()))


@dataclass
class Recipient:
    """One ticked record and where its mail goes; `address_error` set when it cannot go."""

    record_type: str
    record: Order | Shipment | Quote
    number: str
    store: Store
    to_addr: str
    to_name: str
    address_error: AddressError | None = None
    device: str = field(default="pc")

    @property
    def record_id(self) -> int:
        return self.record.id

    @property
    def sendable(self) -> bool:
        return self.address_error is None


def check_tags(**texts: str) -> None:
    """Raise `UnknownTags` when any text uses a tag not usable in record mails."""
    errors = {}
    for name, text in texts.items():
        try:
            tags.check(text or "", "record")
        except tags.UnknownTagError as error:
            errors[name] = error
    if errors:
        raise UnknownTags(errors)


def create_draft(record_type: str, ids: Iterable, actor: User) -> RecordMailing:
    """A new draft for the ticked records (unknown ids are dropped, order kept)."""
    if record_type not in MODELS:
        raise MailingError(_l("There is no such list."))
    wanted = list(dict.fromkeys(int(i) for i in ids if str(i).isdigit()))
    if len(wanted) > MAX_RECORDS:
        raise MailingError(_l("Tick at most %(n)s rows at once.", n=MAX_RECORDS))
    model = MODELS[record_type]
    found = set(db.session.scalars(select(model.id).where(model.id.in_(wanted))))
    record_ids = [i for i in wanted if i in found]
    if not record_ids:
        raise MailingError(_l("Tick the rows to send a mail to first."))
    mailing = RecordMailing(
        record_type=record_type,
        record_ids=record_ids,
        insert_signature=True,
        created_by=actor.id,
    )
    db.session.add(mailing)
    db.session.flush()
    audit.record(
        actor, "record_mailing.created", mailing, record_type=record_type, count=len(record_ids)
    )
    return mailing


def save_draft(
    mailing: RecordMailing,
    *,
    template_id: int | None,
    title: str,
    header: str,
    footer: str,
    insert_signature: bool,
) -> None:
    """Keep the compose step's fields in the draft; refuses unknown tags (changes nothing)."""
    if mailing.state != RecordMailingState.DRAFT:
        raise MailingError(_l("This mail has been sent already."))
    check_tags(title=title, header=header, footer=footer)
    template = db.session.get(RecordMailTemplate, template_id) if template_id else None
    mailing.template_id = template.id if template else None
    mailing.title = " ".join(title.split())
    mailing.header = header
    mailing.footer = footer
    mailing.insert_signature = insert_signature


def discard_draft(mailing: RecordMailing, actor: User) -> int:
    """Throw the draft away (it queued nothing); returns how many records it was for, 0 when
    it is no longer a draft (sent meanwhile, or discarded in another tab)."""
    count = len(mailing.record_ids or [])
    gone = db.session.execute(
        delete(RecordMailing).where(
            RecordMailing.id == mailing.id, RecordMailing.state == RecordMailingState.DRAFT
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not gone:
        return 0
    audit.record(
        actor, "record_mailing.discarded", mailing, record_type=mailing.record_type, count=count
    )
    db.session.expunge(mailing)
    return count


def recipients(mailing: RecordMailing) -> list[Recipient]:
    """The draft's records (still existing), in the order they were ticked."""
    model = MODELS[mailing.record_type]
    rows = db.session.scalars(select(model).where(model.id.in_(mailing.record_ids or [])))
    by_id = {row.id: row for row in rows}
    return [recipient_of(mailing.record_type, by_id[i]) for i in mailing.record_ids if i in by_id]


def recipient_of(record_type: str, record: Order | Shipment | Quote) -> Recipient:
    if record_type == "quote":
        addr, name = record.email, record.contact_name or record.company
    else:
        order = record.order if record_type == "shipment" else record
        addr, name = order.buyer_email, order.buyer_name
    recipient = Recipient(record_type, record, record.number, record.store, addr or "", name)
    try:
        address = parse_address(addr or "")
    except AddressError as error:
        recipient.address_error = error
        return recipient
    recipient.to_addr = address.addr
    recipient.device = device_of(address)
    return recipient


def render_mail(
    mailing: RecordMailing, recipient: Recipient, settings: DeskSettings | None = None
) -> tuple[str, str]:
    """Subject and body exactly as this recipient gets them."""
    settings = settings or DeskSettings.current()
    values = merge.store_values(recipient.store) | record_values(
        recipient.record_type, recipient.record, settings
    )
    subject = " ".join(tags.render(mailing.title, values).split())
    parts = [
        tags.render(mailing.header, values).strip("\n"),
        record_block(recipient.record_type, recipient.record, settings),
        tags.render(mailing.footer, values).strip("\n"),
    ]
    if mailing.insert_signature:
        parts.append(signature(recipient.store, recipient.device))
    return subject, "\n\n".join(part for part in parts if part.strip()) + "\n"


def signature(store: Store, device: str) -> str:
    """The mobile signature for carrier addresses (the PC one when it is empty)."""
    if device == "mobile" and store.signature_mobile.strip():
        return store.signature_mobile.strip("\n")
    return store.signature_pc.strip("\n")


def send(mailing: RecordMailing, actor: User) -> int:
    """Queue one mail per sendable recipient; returns how many rows are new.

    The draft turns "sending" with a conditional update, so a second click (or a second tab)
    queues nothing; the dedupe keys make doubling impossible even so. Sending starts once the
    transaction commits.
    """
    if mailing.state != RecordMailingState.DRAFT:
        return 0
    if not mailing.title.strip():
        raise MailingError(_l("Enter a title first."))
    settings = DeskSettings.current()
    rows = [_row(mailing, r, settings) for r in recipients(mailing) if r.sendable]
    if not rows:
        raise MailingError(_l("None of the ticked records has a usable e-mail address."))
    claimed = db.session.execute(
        update(RecordMailing)
        .where(RecordMailing.id == mailing.id, RecordMailing.state == RecordMailingState.DRAFT)
        .values(state=RecordMailingState.SENDING, sent_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not claimed:
        return 0
    outbox.add_messages(rows)
    # Counted, not taken from add_messages: PostgreSQL reports no rowcount for this insert.
    added = db.session.scalar(
        select(func.count(Message.id)).where(Message.mailing_id == mailing.id)
    )
    audit.record(
        actor,
        "record_mailing.sent",
        mailing,
        count=added,
        record_type=mailing.record_type,
        not_sendable=len(mailing.record_ids) - len(rows),
    )
    dispatch.send_soon({row["store_id"] for row in rows})
    db.session.expire(mailing)
    return added


def _row(mailing: RecordMailing, recipient: Recipient, settings: DeskSettings) -> dict:
    subject, body = render_mail(mailing, recipient, settings)
    order = recipient.record if recipient.record_type == "order" else None
    if recipient.record_type == "shipment":
        order = recipient.record.order
    return dict(
        dedupe_key=f"record:{mailing.id}:{recipient.record_type}:{recipient.record_id}",
        kind=MessageKind.RECORD,
        state=MessageState.QUEUED,
        store_id=recipient.store.id,
        order_id=order.id if order else None,
        record_type=recipient.record_type,
        record_id=recipient.record_id,
        mailing_id=mailing.id,
        to_addr=recipient.to_addr,
        to_name=recipient.to_name,
        device=recipient.device,
        subject=subject,
        body=body,
    )


@dataclass(frozen=True)
class Failure:
    """One of the mailing's mails that did not go out: its record, address and the answer."""

    number: str
    to_addr: str
    state: str
    code: int | None
    reply: str


def progress(mailing: RecordMailing) -> Progress:
    """Counts of the mailing's rows (it becomes "done" in the send loop: `core.run_ends`)."""
    counts = outbox.count_by_state(mailing_id=mailing.id)
    pending = sum(counts.get(state, 0) for state in OPEN_STATES)  # record rows are never held
    retry = next_retry_at(mailing_id=mailing.id) if counts.get(MessageState.RETRYING) else None
    return Progress.of(counts, ended=pending == 0, next_retry_at=retry)


def failures(mailing: RecordMailing) -> list[Failure]:
    """The mailing's mails that failed or may not have arrived, in the order they were made."""
    rows = db.session.scalars(
        select(Message)
        .where(Message.mailing_id == mailing.id, Message.state.in_(FAILED_STATES))
        .order_by(Message.id)
    ).all()
    model = MODELS[mailing.record_type]
    wanted = [m.record_id for m in rows]
    numbers = dict(
        db.session.execute(select(model.id, model.number).where(model.id.in_(wanted))).all()
    )
    return [
        Failure(
            numbers.get(m.record_id, str(m.record_id)),
            m.to_addr,
            m.state,
            m.last_code,
            m.last_reply,
        )
        for m in rows
    ]
