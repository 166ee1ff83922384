"""Bounce reports the desk has received: each is acted on once, however often it arrives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.core.states import BounceOutcome, check_in
from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow


class BounceReceipt(db.Model):
    """One report received (a DSN, an ARF report, any mail to the bounce address), keyed by its
    Message-ID or, without one, a hash of its bytes; a POP3 mailbox's message ids (UIDL) are
    remembered here too. The unique key is what makes the same report count once."""

    __tablename__ = "bounce_receipts"
    __table_args__ = (CheckConstraint(check_in("outcome", BounceOutcome), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    outcome: Mapped[str] = mapped_column(String(12))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    via: Mapped[str] = mapped_column(String(10), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
