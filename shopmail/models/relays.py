"""What the desk knows about each relay while it sends: session leases, the pace log, throttling.

A relay is named by a key: "system", "rakuten" or "store:<id>" (a store's own relay).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.extensions import db
from shopmail.models.types import UTCDateTime


class RelayState(db.Model):
    """One row per relay: locked while a pace is reserved; says whether the relay throttles."""

    __tablename__ = "relay_states"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    # After a 421 / "too many": nothing goes until `paused_until`, then at most
    # `slow_per_minute` a minute until `slowed_until`.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slowed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slow_per_minute: Mapped[int | None] = mapped_column(Integer)
    throttles: Mapped[int] = mapped_column(Integer, default=0)  # in a row, for the back-off
    throttled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    throttle_reply: Mapped[str] = mapped_column(Text, default="")


class RelaySession(db.Model):
    """A lease on one of a relay's session slots: held while a session is open, renewed as it
    sends, free again when released or expired (a worker killed mid-session frees its slot)."""

    __tablename__ = "relay_sessions"

    relay_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RelaySend(db.Model):
    """The pace log: `count` messages a session was allowed to send at `at`."""

    __tablename__ = "relay_sends"
    __table_args__ = (Index("ix_relay_sends_key_at", "relay_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relay_key: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)
