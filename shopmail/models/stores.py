"""Stores (sales channels) with their sender and relay settings, and the desk's switches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.core.states import AUTOMATIC_KINDS, Channel, RelayMode, check_in
from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow

# Channels whose From must not be on the system's own mail domain (SPEC §1).
CHANNELS_OFF_SYSTEM_DOMAIN = (Channel.RAKUTEN, Channel.AMAZON, Channel.AUPAY)


class Store(db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint(check_in("channel", Channel), name="channel"),
        CheckConstraint(check_in("relay_mode", RelayMode), name="relay_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20), default=Channel.OWN)

    from_addr: Mapped[str] = mapped_column(String(254), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    bcc: Mapped[str] = mapped_column(Text, default="")
    signature_pc: Mapped[str] = mapped_column(Text, default="")
    signature_mobile: Mapped[str] = mapped_column(Text, default="")
    mobile_charset: Mapped[str] = mapped_column(String(20), default="utf-8")

    # "system" (the desk's relay), "own" (host/port/security/user), "rakuten" (Rakuten's relay
    # with the store's SMTP AUTH ID and password).
    relay_mode: Mapped[str] = mapped_column(String(20), default=RelayMode.SYSTEM)
    smtp_host: Mapped[str] = mapped_column(String(253), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_user: Mapped[str] = mapped_column(String(200), default="")
    smtp_password_enc: Mapped[str] = mapped_column(Text, default="")
    # The own relay's limits (system and Rakuten relays take theirs from the environment):
    # sessions at once, messages per minute / hour (0: no pace), messages per session.
    smtp_sessions: Mapped[int] = mapped_column(Integer, default=4)
    smtp_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    smtp_per_hour: Mapped[int] = mapped_column(Integer, default=0)
    smtp_per_session: Mapped[int] = mapped_column(Integer, default=1000)

    follow_up_days: Mapped[int] = mapped_column(Integer, default=7)
    repeat_from_count: Mapped[int] = mapped_column(Integer, default=2)
    # Set when the relay refused our credentials: sending for this store waits for a fix.
    sending_paused_reason: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeskSettings(db.Model):
    """The desk's switches and global settings: one row, id 1."""

    __tablename__ = "desk_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_server_running: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_create: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_send: Mapped[bool] = mapped_column(Boolean, default=False)
    monthly_quota: Mapped[int] = mapped_column(Integer, default=10000)
    admin_copy_addr: Mapped[str] = mapped_column(String(254), default="")
    record_mail_shipping_instructions: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_account_in_order_mails: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_account_text: Mapped[str] = mapped_column(Text, default="")
    # Flag a member's address invalid by itself after this many hard bounces; 0: never (staff
    # tick and flag them on a broadcast's result page).
    bounce_flag_after: Mapped[int] = mapped_column(Integer, default=0)
    # Broadcasts' quiet hours (as `KindSetting.send_from` …) and the line width mobile
    # templates are warned past (full-width characters; core content checks).
    broadcast_send_from: Mapped[int | None] = mapped_column(Integer)
    broadcast_send_until: Mapped[int | None] = mapped_column(Integer)
    broadcast_skip_saturday: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_skip_sunday: Mapped[bool] = mapped_column(Boolean, default=False)
    broadcast_skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    mobile_line_width: Mapped[int] = mapped_column(Integer, default=76)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @classmethod
    def get(cls) -> DeskSettings:
        """The settings row to change (created on the first change)."""
        row = db.session.get(cls, 1)
        if row is None:
            row = cls.current()
            db.session.add(row)
            db.session.flush()
        return row

    @classmethod
    def current(cls) -> DeskSettings:
        """The settings to read: the row, or the defaults while none was saved (writes nothing)."""
        row = db.session.get(cls, 1)
        if row is None:
            defaults = {
                c.key: c.default.arg
                for c in cls.__table__.columns
                if c.default is not None and c.default.is_scalar
            }
            row = cls(id=1, **defaults)
        return row


class KindSetting(db.Model):
    """Whether an automatic mail kind is in use, and since when (for the first-use reach-back)."""

    __tablename__ = "kind_settings"
    __table_args__ = (
        UniqueConstraint("kind"),
        CheckConstraint(check_in("kind", AUTOMATIC_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    backfill_done: Mapped[bool] = mapped_column(Boolean, default=False)
    # Quiet hours (core.quiet_hours): mails of the kind leave only from `send_from` until
    # `send_until` (minutes after midnight, Tokyo; both None: at any hour), and not on the
    # days skipped. Mails due meanwhile wait, queued.
    send_from: Mapped[int | None] = mapped_column(Integer)
    send_until: Mapped[int | None] = mapped_column(Integer)
    skip_saturday: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_sunday: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
