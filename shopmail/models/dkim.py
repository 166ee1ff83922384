"""DKIM keys: the desk signs mail From a domain with that domain's newest key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopmail.extensions import db
from shopmail.models.types import UTCDateTime, utcnow


class DkimKey(db.Model):
    """One selector of a domain. The key without `retired_at` signs; an older one is kept (and
    its record still shown) until removed, so mail signed with it still verifies meanwhile."""

    __tablename__ = "dkim_keys"
    __table_args__ = (UniqueConstraint("domain", "selector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253))  # as DNS writes it (`signing.dns_name`)
    selector: Mapped[str] = mapped_column(String(63))
    # The private key's PEM, encrypted like relay passwords (`core.crypto`).
    private_key_enc: Mapped[str] = mapped_column(Text)
    # The record's p= value (base64 DER), so showing the record never needs the secret.
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a newer selector of the domain took over signing.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
