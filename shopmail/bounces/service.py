"""What a received bounce does: find the row it is about, and mark it.

A report reaches `receive` from the bounce endpoint (SMTP) or a polled mailbox. Its row is
found from the signed bounce address it was sent to (`core.verp`), or, when only the mail is
at hand (a mailbox), from the original mail it quotes: its X-Shopmail-Id or Message-ID, accepted
only when the Message-ID is the row's own signed one. Either way the failure must be about the
row's address — a bounce of the store's BCC copy comes back to the same address and is not the
customer's. A permanent failure (5.x.x) marks the row `bounced` and puts it on its broadcast's
refused list; a temporary one is counted; an ARF complaint sets the member to "wants no mail".
Every report is remembered (`BounceReceipt`): the same one twice counts once.

Services flush; the endpoint and the mailbox poll commit (they are the boundaries).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update

from shopmail.core import audit, verp
from shopmail.core.states import BounceOutcome, MessageState, RefusalSource
from shopmail.extensions import db
from shopmail.mail.bounces import Failure, Report, read_report
from shopmail.models import BounceReceipt, DeskSettings, Member, Message
from shopmail.models.outbox import HAS_MESSAGE_ID
from shopmail.models.types import utcnow

ACTOR = "bounce"
# States a bounce can follow: the relay took the mail (or may have, for `unknown`).
BOUNCEABLE = (MessageState.SENT, MessageState.UNKNOWN)
_ROW_IN_MESSAGE_ID = re.compile(r"<m(\d{1,18})\.")
# Headers a mailbox's delivery adds with the address the mail was delivered to.
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


@dataclass(frozen=True)
class Received:
    """What one report did."""

    outcome: BounceOutcome
    message_id: int | None = None
    detail: str = ""


def receive(raw: bytes, envelope_rcpts: Sequence[str] = (), via: str = "") -> Received:
    """Act on one received mail (a DSN, an ARF report, anything sent to a bounce address)."""
    report = read_report(raw)
    if _known(report.key):
        return Received(BounceOutcome.IGNORED, detail="already received")
    row = _row_for(report, [*envelope_rcpts, *_envelope_headers(raw)])
    if row is None:
        received = Received(BounceOutcome.IGNORED, detail="not a report about a mail of ours")
    elif report.complaint:
        received = _complaint(row, report)
    else:
        received = _failure(row, report.failures_for(row.to_addr))
    _remember(report.key, received, via)
    return received


def _known(key: str) -> bool:
    return db.session.scalar(select(BounceReceipt.id).filter_by(key=key)) is not None


def _remember(key: str, received: Received, via: str) -> None:
    """The receipt's unique key decides: when one report is delivered twice at the same
    moment, the second transaction fails on it and rolls back whole (the sender is told to
    try again, and then it is a repeat)."""
    db.session.add(
        BounceReceipt(
            key=key,
            outcome=received.outcome,
            message_id=received.message_id,
            via=via,
            detail=received.detail[:2000],
        )
    )
    db.session.flush()


def was_read(key: str) -> bool:
    """A mailbox's message (POP3: its UIDL) was read before."""
    return _known(key)


def note_read(key: str, via: str) -> None:
    """Remember a mailbox's message as read, so it is never read again."""
    db.session.add(BounceReceipt(key=key, outcome=BounceOutcome.READ, via=via))
    db.session.flush()


def _envelope_headers(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii", "replace")
    found = []
    for name in _ENVELOPE_HEADERS:
        for match in re.finditer(rf"^{name}:\s*(.+)$", head, re.IGNORECASE | re.MULTILINE):
            found += re.findall(r"[\w.+=-]+@[\w.-]+", match[1])
    return found


def _row_for(report: Report, addresses: Sequence[str]) -> Message | None:
    for addr in addresses:
        if verp.is_bounce_address(addr):
            row_id = verp.read_token(addr)
            if row_id is not None:
                return db.session.get(Message, row_id)
    return _quoted_row(report)


def _quoted_row(report: Report) -> Message | None:
    """The row of the original mail a report quotes, by its Message-ID: random and kept on the
    row (`compose.new_message_id`), so a stranger cannot make one up."""
    if not report.original_message_id:
        return None
    quoted = Message.message_id == report.original_message_id
    # The partial index's own condition, written out, so both databases use it.
    return db.session.scalar(select(Message).where(quoted, text(HAS_MESSAGE_ID)).limit(1))


def _failure(row: Message, failures: list[Failure]) -> Received:
    if not failures:
        return Received(BounceOutcome.IGNORED, row.id, "the report is about another recipient")
    permanent = next((f for f in failures if f.permanent), None)
    if permanent is not None:
        return _hard(row, permanent)
    return _soft(row, failures[0])


def _hard(row: Message, failure: Failure) -> Received:
    detail = f"{failure.status} {failure.diagnostic}".strip()
    marked = db.session.execute(
        update(Message)
        .where(Message.id == row.id, Message.state.in_(BOUNCEABLE))
        .values(
            state=MessageState.BOUNCED,
            refused_by=RefusalSource.BOUNCE,
            bounce_status=failure.status,
            bounce_diagnostic=failure.diagnostic[:2000],
            bounced_at=utcnow(),
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not marked:  # bounced already, or never handed over: counted once
        return Received(BounceOutcome.IGNORED, row.id, f"row is {row.state}: {detail}")
    limit = DeskSettings.current().bounce_flag_after
    for member in _members_of(row):
        member.hard_bounces = (member.hard_bounces or 0) + 1
        if limit and member.hard_bounces >= limit and not member.email_invalid:
            member.email_invalid = True
            member.invalid_reason = detail
            audit.record(
                ACTOR,
                "member.flagged_invalid",
                member,
                count=1,
                member_ids=[member.id],
                hard_bounces=member.hard_bounces,
                message_id=row.id,
            )
    return Received(BounceOutcome.HARD, row.id, detail)


def _soft(row: Message, failure: Failure) -> Received:
    db.session.execute(
        update(Message)
        .where(Message.id == row.id)
        .values(soft_bounces=Message.soft_bounces + 1, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    for member in _members_of(row):
        member.soft_bounces = (member.soft_bounces or 0) + 1
    return Received(BounceOutcome.SOFT, row.id, f"{failure.status} {failure.diagnostic}".strip())


def _complaint(row: Message, report: Report) -> Received:
    named = report.complained_rcpt.lower()
    if named and "redacted" not in named and named != row.to_addr.lower():
        return Received(BounceOutcome.IGNORED, row.id, "the complaint names another recipient")
    for member in _members_of(row):
        if member.wants_mail:
            member.wants_mail = False
            audit.record(
                ACTOR,
                "member.complained",
                member,
                message_id=row.id,
                feedback_type=report.feedback_type or "abuse",
            )
    return Received(BounceOutcome.COMPLAINT, row.id, report.feedback_type or "abuse")


def _members_of(row: Message) -> list[Member]:
    """The member a row was sent to; for order mails, members with that address."""
    if row.member_id is not None:
        member = db.session.get(Member, row.member_id)
        return [member] if member is not None else []
    wanted = row.to_addr.strip().lower()
    return list(db.session.scalars(select(Member).where(func.lower(Member.email) == wanted)))
