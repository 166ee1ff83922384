"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores UTC, hands back timezone-aware UTC datetimes on every database.

    SQLite keeps no offset, so values are normalised to naive UTC on the way in and tagged
    UTC on the way out; display code converts to Asia/Tokyo.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def schema_filter(dialect: str):
    """Alembic's include_object for one dialect: PostgreSQL-only indexes (info
    {"postgresql_only": True}) exist in the models but not in a SQLite schema."""

    def include(obj, name, kind, reflected, compare_to) -> bool:
        return dialect == "postgresql" or not getattr(obj, "info", {}).get("postgresql_only")

    return include
