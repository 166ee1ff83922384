"""Mail templates: automatic order mails, record mails and broadcasts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.core.states import AUTOMATIC_KINDS, check_in
from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow


class OrderMailTemplate(db.Model):
    """Subject + body for one automatic kind.

    `store_id` NULL is the common default; a store row exists only once the store's template
    was edited (it then stops following the default). `variant` is the stage ("1", "2") for
    order confirmations, the delivery method for shipping notices, "" otherwise.
    """

    __tablename__ = "order_mail_templates"
    __table_args__ = (
        UniqueConstraint("scope", "kind", "device", "variant"),
        CheckConstraint(check_in("kind", AUTOMATIC_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "default" or "store:<id>": a NOT NULL key so the unique constraint holds for defaults too.
    scope: Mapped[str] = mapped_column(String(30))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    device: Mapped[str] = mapped_column(String(10), default="pc")
    variant: Mapped[str] = mapped_column(String(40), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RecordMailTemplate(db.Model):
    """Title, header and footer for manual mails from the order/shipment/quote lists."""

    __tablename__ = "record_mail_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500), default="")
    header: Mapped[str] = mapped_column(Text, default="")
    footer: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BroadcastTemplate(db.Model):
    """A newsletter template: plain text, HTML or MJML source."""

    __tablename__ = "broadcast_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # "text", "html" or "mjml"
    format: Mapped[str] = mapped_column(String(10), default="text")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The kinds of template whose saves are kept as versions (core/template_versions.py).
TEMPLATE_TYPES = ("order_mail", "record_mail", "newsletter")


class TemplateVersion(db.Model):
    """One saved state of a template: its full content, who saved it and when.

    `template_key` names the template within its type: the slot "scope|kind|device|variant"
    for automatic templates (a store slot keeps its history across a reset), the row id for
    the others. `number` counts up per template; `restored_from` is the number a restore
    brought back; `baseline` marks the content a template had before versions were kept.
    """

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_type", "template_key", "number"),
        CheckConstraint(check_in("template_type", TEMPLATE_TYPES), name="template_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_type: Mapped[str] = mapped_column(String(20))
    template_key: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    restored_from: Mapped[int | None] = mapped_column(Integer)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
