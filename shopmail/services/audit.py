"""Recording state changes in the audit trail."""

from __future__ import annotations

from typing import Any

from shopmail.extensions import db
from shopmail.models import AuditEntry, User

SECRET_WORDS = ("password", "secret", "token")


def record(
    actor: User | str | None,
    action: str,
    obj: Any = None,
    **details: Any,
) -> AuditEntry:
    """Add one audit entry to the current transaction; the caller commits.

    `actor` is the user, or a label such as "api:<token>" or "cli". `obj` is a model
    instance (its table and id are kept). Values of keys that look like secrets are masked.
    """
    entry = AuditEntry(
        action=action,
        details={k: ("********" if _is_secret(k) else v) for k, v in details.items()},
    )
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
