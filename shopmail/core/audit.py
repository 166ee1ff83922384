"""Recording state changes in the audit trail, and reading it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_sqlalchemy.pagination import Pagination

from shopmail.core.i18n import on_tokyo_days
from shopmail.extensions import db
from shopmail.models import AuditEntry, User

SECRET_WORDS = ("password", "secret", "token")
MASK = "********"
PER_PAGE = 50


def record(
    actor: User | str | None,
    action: str,
    obj: Any = None,
    **details: Any,
) -> AuditEntry:
    """Add one audit entry to the current transaction; the caller commits.

    `actor` is the user, or a label such as "api:<token>" or "cli". `obj` is a model
    instance (its table and id are kept). Values of keys that look like secrets are masked,
    also inside nested dicts and lists.
    """
    entry = AuditEntry(action=action, details=_masked(details))
    if isinstance(actor, User):
        entry.user_id = actor.id
        entry.actor = actor.email
    elif actor:
        entry.actor = actor
    if obj is not None:
        entry.object_type = getattr(obj, "__tablename__", type(obj).__name__)
        entry.object_id = str(getattr(obj, "id", getattr(obj, "month", "")))
    db.session.add(entry)
    return entry


def _is_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if _is_secret(str(k)) else _masked(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


@dataclass(frozen=True)
class TrailFilter:
    """What the audit page asks for; dates are Tokyo calendar days, both ends included."""

    user_id: int | None = None
    action: str | None = None
    start: date | None = None
    end: date | None = None


def search(wanted: TrailFilter, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of matching entries, newest first."""
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if wanted.user_id:
        query = query.filter(AuditEntry.user_id == wanted.user_id)
    if wanted.action:
        query = query.filter(AuditEntry.action == wanted.action)
    query = query.filter(*on_tokyo_days(AuditEntry.at, wanted.start, wanted.end))
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def actions_in_use() -> list[str]:
    """Every action name the trail holds, for the filter's choices."""
    query = db.select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return list(db.session.scalars(query))


def people() -> list[User]:
    """Everyone who can appear as the actor of an entry, for the filter's choices."""
    return list(db.session.scalars(db.select(User).order_by(User.email)))
