"""Broadcasts to members, manual record mailings (drafts that become outbox rows) and quotas."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.core.states import BroadcastState, RecordMailingState, check_in
from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow


class Broadcast(db.Model):
    __tablename__ = "broadcasts"
    __table_args__ = (CheckConstraint(check_in("state", BroadcastState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default=BroadcastState.DRAFT, index=True)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    # The member filter as query parameters, or the ticked member ids.
    member_filter: Mapped[dict] = mapped_column(JSON, default=dict)
    member_ids: Mapped[list | None] = mapped_column(JSON)
    only_wanting: Mapped[bool] = mapped_column(Boolean, default=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast_templates.id"))
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # "text", "html" or "mjml"; html holds the compiled HTML when format is not text.
    format: Mapped[str] = mapped_column(String(10), default="text")
    html: Mapped[str | None] = mapped_column(Text)
    insert_signature: Mapped[bool] = mapped_column(Boolean, default=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a scheduled broadcast is to start, and why a scheduled start was refused (it went
    # back to being a draft): both kept by `broadcasts.schedule`.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    schedule_refusal: Mapped[str] = mapped_column(Text, default="", server_default="")


class RecordMailing(db.Model):
    """A manual mail to ticked orders, shipments or quotes: the compose wizard's draft."""

    __tablename__ = "record_mailings"
    __table_args__ = (CheckConstraint(check_in("state", RecordMailingState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(12), default=RecordMailingState.DRAFT, index=True)
    # "order", "shipment" or "quote"
    record_type: Mapped[str] = mapped_column(String(20))
    record_ids: Mapped[list] = mapped_column(JSON, default=list)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("record_mail_templates.id"))
    title: Mapped[str] = mapped_column(String(500), default="")
    header: Mapped[str] = mapped_column(Text, default="")
    footer: Mapped[str] = mapped_column(Text, default="")
    insert_signature: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuotaMonth(db.Model):
    """Broadcast sends reserved in one calendar month (Asia/Tokyo), e.g. month "2026-11"."""

    __tablename__ = "quota_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
