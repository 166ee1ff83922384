"""Template versions: every save of an automatic, record-mail or newsletter template is kept
with who saved it, when, and its full content; listed with a diff to the current text, and
restored as a new version (audited). One module for the three kinds of template: each is
described once in `TYPES`, and every save path calls `keep` — no copy per feature.

A template is named by (type, key): automatic templates by their slot
"scope|kind|device|variant" (a store slot keeps its history across a reset to the common
default), the others by their row id.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, inspect, select

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import (
    BroadcastTemplate,
    OrderMailTemplate,
    RecordMailTemplate,
    TemplateVersion,
    User,
)
from shopmail.models.types import utcnow

LIST_LIMIT = 200  # versions shown on the page, newest first
_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)")


@dataclass(frozen=True)
class TemplateType:
    """A type of template whose saves are kept: its model and the fields that are its content."""

    type: str
    model: type
    fields: tuple[str, ...]


TYPES = {
    t.type: t
    for t in (
        TemplateType("order_mail", OrderMailTemplate, ("subject", "body")),
        TemplateType("record_mail", RecordMailTemplate, ("name", "title", "header", "footer")),
        TemplateType("newsletter", BroadcastTemplate, ("name", "subject", "body", "format")),
    )
}


class VersionError(LookupError):
    """The version or its template is gone (a deleted template cannot be restored)."""


def type_of(row: Any) -> TemplateType:
    return next(t for t in TYPES.values() if isinstance(row, t.model))


def key_of(row: Any) -> str:
    if isinstance(row, OrderMailTemplate):
        return "|".join((row.scope, str(row.kind), row.device, row.variant))
    return str(row.id)


def content_of(row: Any) -> dict[str, str]:
    return {name: _plain(getattr(row, name)) for name in type_of(row).fields}


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def keep(actor: User | str | None, row: Any, restored_from: int | None = None):
    """Keep `row`'s content as its newest version; call it after a save changed the row
    (before or after the flush). The first save of a template that already had content keeps
    that content first (the baseline, author unknown). Nothing is kept when the content equals
    the newest version. Returns the new version or None."""
    spec = type_of(row)
    state = inspect(row)
    before = before_at = None
    if state.persistent:
        before = {name: _plain(_committed(state, row, name)) for name in spec.fields}
        before_at = row.updated_at
    db.session.flush()
    key, now = key_of(row), content_of(row)
    latest = _latest(spec.type, key)
    if latest is None and before is not None and before != now:
        latest = _add(spec.type, key, 1, before, None, at=before_at, baseline=True)
    if latest is not None and latest.content == now and restored_from is None:
        return None
    number = latest.number + 1 if latest else 1
    return _add(spec.type, key, number, now, actor, restored_from=restored_from)


def _committed(state, row: Any, name: str) -> Any:
    history = state.attrs[name].history
    return history.deleted[0] if history.deleted else getattr(row, name)


def _latest(template_type: str, key: str) -> TemplateVersion | None:
    return db.session.scalar(
        select(TemplateVersion)
        .filter_by(template_type=template_type, template_key=key)
        .order_by(TemplateVersion.number.desc())
        .limit(1)
    )


def _add(template_type, key, number, content, actor, *, at=None, baseline=False, **extra):
    version = TemplateVersion(
        template_type=template_type,
        template_key=key,
        number=number,
        content=dict(content),
        baseline=baseline,
        created_at=at or utcnow(),
        **extra,
    )
    if isinstance(actor, User):
        version.user_id, version.actor = actor.id, actor.email
    else:
        version.actor = actor or ""
    db.session.add(version)
    db.session.flush()
    return version


def forget(row: Any) -> None:
    """A deleted record-mail or newsletter template takes its versions with it (its id may be
    given again)."""
    spec = type_of(row)
    db.session.execute(
        delete(TemplateVersion).filter_by(template_type=spec.type, template_key=key_of(row))
    )


def template_of(template_type: str, key: str) -> Any | None:
    """The template row (type, key) names now; None when it has none (deleted, or an automatic
    slot that follows the common default)."""
    spec = TYPES[template_type]
    if template_type == "order_mail":
        scope, kind_name, device, variant = _slot(key)
        return db.session.scalar(
            select(OrderMailTemplate).filter_by(
                scope=scope, kind=kind_name, device=device, variant=variant
            )
        )
    return db.session.get(spec.model, int(key)) if key.isdigit() else None


def _slot(key: str) -> tuple[str, str, str, str]:
    parts = key.split("|", 3)
    if len(parts) != 4:
        raise VersionError(key)
    return parts[0], parts[1], parts[2], parts[3]


@dataclass(frozen=True)
class Line:
    op: str  # "+" (comes back with this version), "-" (goes), " " (context), "@" (a hunk:
    # `text` is the line of this version it begins at)
    text: str


@dataclass(frozen=True)
class FieldDiff:
    field: str
    lines: list[Line]


@dataclass(frozen=True)
class Listed:
    version: TemplateVersion
    author: User | None
    current: bool  # its content is the template's content now
    diff: list[FieldDiff]  # from the current content to this version's, per changed field


def versions(template_type: str, key: str) -> list[Listed]:
    """The template's versions, newest first, each with its diff to the current content."""
    if template_type not in TYPES:
        raise VersionError(template_type)
    row = template_of(template_type, key)
    now = content_of(row) if row is not None else {}
    found = db.session.scalars(
        select(TemplateVersion)
        .filter_by(template_type=template_type, template_key=key)
        .order_by(TemplateVersion.number.desc())
        .limit(LIST_LIMIT)
    ).all()
    users = {u.id: u for u in db.session.scalars(select(User))} if found else {}
    return [Listed(v, users.get(v.user_id), v.content == now, diff(now, v.content)) for v in found]


def count(template_type: str, key: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(TemplateVersion)
        .filter_by(template_type=template_type, template_key=key)
    )


def diff(current: dict[str, str], version: dict[str, str]) -> list[FieldDiff]:
    """Line diffs (difflib) from `current` to `version`, per field that differs. Plain text:
    the page escapes every line."""
    out = []
    for name, text in version.items():
        before = current.get(name, "")
        if before == text:
            continue
        lines = []
        for line in difflib.unified_diff(before.splitlines(), text.splitlines(), lineterm="", n=2):
            if line.startswith(("---", "+++")):
                continue
            if line.startswith("@@"):  # "@@ -a,b +c,d @@": where this version's part begins
                lines.append(Line("@", _HUNK.match(line).group(1)))
            else:
                lines.append(Line(line[0], line[1:]))
        out.append(FieldDiff(name, lines))
    return out


def restore(actor: User | str, template_type: str, key: str, number: int) -> TemplateVersion | None:
    """Put version `number`'s content back into the template, kept as a new version and
    audited. Raises VersionError when the version or its template is gone; returns None when
    the template holds that content already."""
    version = db.session.scalar(
        select(TemplateVersion).filter_by(
            template_type=template_type, template_key=key, number=number
        )
    )
    if version is None:
        raise VersionError(f"{template_type} {key} #{number}")
    row = template_of(template_type, key)
    if row is not None and content_of(row) == version.content:
        return None
    row = row or _recreate(template_type, key)
    for name in TYPES[template_type].fields:
        if name in version.content:
            setattr(row, name, version.content[name])
    kept = keep(actor, row, restored_from=number)
    audit.record(
        actor,
        "template_version.restored",
        row,
        template_type=template_type,
        key=key,
        restored=number,
        version=kept.number,
    )
    return kept


def _recreate(template_type: str, key: str) -> OrderMailTemplate:
    """An automatic store slot reset to the common default gets its own row again."""
    if template_type != "order_mail":
        raise VersionError(f"{template_type} {key}: the template was deleted")
    scope, kind, device, variant = _slot(key)
    store_id = int(scope.split(":", 1)[1]) if scope.startswith("store:") else None
    row = OrderMailTemplate(
        scope=scope, store_id=store_id, kind=kind, device=device, variant=variant
    )
    db.session.add(row)
    return row
