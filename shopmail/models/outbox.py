"""The outbox: every mail that will go out is a row first (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopmail.core.states import MessageKind, MessageState, RefusalSource, check_in
from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow

# The states and kinds are enums (core/states.py); these tuples keep the older names working.
OPEN_STATES = (MessageState.QUEUED, MessageState.SENDING, MessageState.RETRYING)
MAX_RETRIES = 4
# Rows the send loop may claim; the partial index of them (`ix_messages_due`) is built from
# the same tuple, so the claim's condition and the index's can never drift apart.
DUE_STATES = (MessageState.QUEUED, MessageState.RETRYING)
DUE = "state IN ({})".format(", ".join(f"'{state.value}'" for state in DUE_STATES))
HAS_MESSAGE_ID = "message_id <> ''"


def _where(condition: str) -> dict:
    """A partial index's condition, for either database."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # The reconciler (rows `sending`), retries (`retrying`, by next attempt), the send
        # queue's counts (by state, store and kind): one index, since every change of a row's
        # state writes each index again on PostgreSQL — twice for every mail sent.
        Index("ix_messages_state_store_kind", "state", "store_id", "kind", "next_attempt_at"),
        # The send loop's claim: a store's due rows in id order, without the rows already
        # sent (outbox.due_state writes the same states out, so both databases use it).
        Index("ix_messages_due", "store_id", "id", **_where(DUE)),
        Index("ix_messages_broadcast_state", "broadcast_id", "state"),
        # "Has this order a mail of this kind yet?" — creation asks it for every order.
        # Only rows that have an order: a broadcast's rows add nothing to it.
        Index("ix_messages_order_kind", "order_id", "kind", **_where("order_id IS NOT NULL")),
        # A bounce without its envelope is matched by the Message-ID it quotes (only sent rows
        # have one: a row waiting to be sent adds nothing to the index).
        Index("ix_messages_message_id", "message_id", **_where(HAS_MESSAGE_ID)),
        Index("ix_messages_mailing_id", "mailing_id", **_where("mailing_id IS NOT NULL")),
        CheckConstraint(check_in("state", MessageState), name="state"),
        CheckConstraint(check_in("kind", MessageKind), name="kind"),
        CheckConstraint(check_in("refused_by", RefusalSource), name="refused_by"),
        CheckConstraint(check_in("deleted_from", MessageState), name="deleted_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Makes every creation idempotent: "order_confirmation:order:17", "broadcast:3:member:9".
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(12), default=MessageState.QUEUED)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    record_type: Mapped[str] = mapped_column(String(20), default="")
    record_id: Mapped[int | None] = mapped_column(Integer)
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("record_mailings.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))

    to_addr: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    device: Mapped[str] = mapped_column(String(10), default="pc")
    subject: Mapped[str] = mapped_column(String(500), default="")
    # Broadcast bodies are rendered at send time from the broadcast; others are stored here.
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), default="")

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker's lease on the row: rows claimed by a worker that died are found by their age.
    claimed_by: Mapped[str | None] = mapped_column(String(60))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_reply: Mapped[str] = mapped_column(Text, default="")
    # Set when the recipient's side refused the address (the broadcast's refused list); None
    # for every other ending, an unreachable relay or retries run out included.
    refused_by: Mapped[str | None] = mapped_column(String(10))
    # What a bounce (DSN) said after the relay's 250: the status code ("5.1.1"), the remote
    # server's diagnostic, and how many temporary failures (4.x.x) were reported.
    bounce_status: Mapped[str] = mapped_column(String(10), default="")
    bounce_diagnostic: Mapped[str] = mapped_column(Text, default="")
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff deleted the row from the send queue: when, and the state it had then, so that it
    # can be restored as it was for a while (automatic/send_queue.RESTORE_DAYS).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_from: Mapped[str | None] = mapped_column(String(12))
    # Automatic mails: which template won and why, as it was decided at creation
    # (automatic/template_choice.py); None for other mails and rows made before it was kept.
    template_choice: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store = relationship("Store")
