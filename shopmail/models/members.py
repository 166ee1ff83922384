"""B2B members: the audience of broadcasts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow

SEARCHED = ("company", "contact_name", "email", "number")


class Member(db.Model):
    __tablename__ = "members"
    # Free-text search is `ILIKE '%…%'` on these columns: PostgreSQL answers it from trigram
    # indexes (pg_trgm) instead of reading every member. SQLite has none; it has no such need.
    __table_args__ = tuple(
        Index(
            f"ix_members_{column}_trgm",
            column,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            info={"postgresql_only": True},
        )
        for column in SEARCHED
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    wants_mail: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    email_invalid: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    invalid_reason: Mapped[str] = mapped_column(Text, default="")
    # Bounces (DSNs) that came back for mail to this member: permanent (5.x.x) and temporary.
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    business_type: Mapped[str] = mapped_column(String(60), default="", index=True)
    industry: Mapped[str] = mapped_column(String(60), default="", index=True)
    display_group: Mapped[str] = mapped_column(String(60), default="", index=True)
    last_purchase_on: Mapped[date | None] = mapped_column(Date, index=True)
    tel: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
