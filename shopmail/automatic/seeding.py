"""The shipped common defaults in the database: read as templates until a default of their
kind is first saved (a read writes nothing), seeded then, and brought up to today's shipped
text while an admin never edited them (`default_templates.RETIRED`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from shopmail.automatic.default_templates import DEFAULT_SCOPE, is_retired, shipped_templates
from shopmail.extensions import db
from shopmail.models import OrderMailTemplate


def seeded_kinds() -> set[str]:
    return set(
        db.session.scalars(
            select(OrderMailTemplate.kind)
            .where(OrderMailTemplate.scope == DEFAULT_SCOPE)
            .distinct()
        )
    )


def shipped_defaults(seeded: set[str]) -> list[OrderMailTemplate]:
    """The shipped common defaults of the kinds not seeded yet, as unsaved rows: read as
    templates until an admin first saves a default of the kind (a read writes nothing)."""
    return [
        OrderMailTemplate(scope=DEFAULT_SCOPE, store_id=None, **t)
        for t in shipped_templates()
        if t["kind"] not in seeded
    ]


def shipped_by_key() -> dict[tuple, dict[str, str]]:
    return {(t["kind"], t["device"], t["variant"]): t for t in shipped_templates()}


def following_shipped(rows: Iterable) -> list:
    """The rows, with every seeded common default that still holds an earlier shipped text
    (never edited) read as today's shipped text instead (unsaved: a read writes nothing)."""
    current = shipped_by_key()
    out = []
    for row in rows:
        key = (str(row.kind), row.device, row.variant)
        if (
            row.scope == DEFAULT_SCOPE
            and key in current
            and is_retired(*key, row.subject, row.body)
        ):
            row = OrderMailTemplate(scope=DEFAULT_SCOPE, store_id=None, **current[key])
        out.append(row)
    return out


def refresh_retired_defaults() -> int:
    """Write today's shipped text into every seeded default still holding an earlier shipped
    text (see `following_shipped`); edited defaults and store templates stay as they are."""
    current = shipped_by_key()
    changed = 0
    for row in db.session.scalars(select(OrderMailTemplate).filter_by(scope=DEFAULT_SCOPE)):
        key = (str(row.kind), row.device, row.variant)
        if key in current and is_retired(*key, row.subject, row.body):
            row.subject, row.body = current[key]["subject"], current[key]["body"]
            changed += 1
    return changed


def ensure_defaults() -> int:
    """Seed the shipped common defaults of every kind that has none yet (before a default is
    first saved), and bring never-edited seeded defaults up to today's shipped text. A kind
    already seeded is otherwise left as the admins keep it; returns how many rows were added.
    """
    refresh_retired_defaults()
    seeded = seeded_kinds()
    missing = [t for t in shipped_templates() if t["kind"] not in seeded]
    if not missing:
        return 0
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(OrderMailTemplate).values(
        [{"scope": DEFAULT_SCOPE, "store_id": None, **t} for t in missing]
    )
    db.session.execute(statement.on_conflict_do_nothing())
    return len(missing)
