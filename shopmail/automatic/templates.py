"""Automatic-mail templates: which one a mail uses, compiling it once, editing and resetting.

Resolution (most specific first): the store's own template, then the common default
(共通設定(規定値)); per recipient device (PC / mobile by address); per stage for order
confirmations ("1" first purchase, "2" repeat customer); per carrier for shipping notices,
falling back to the generic "" variant (store, then default) when a carrier has none.
A store row exists only while the store overrides the default (`scope` "store:<id>").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select, union

from shopmail.automatic.default_templates import DEFAULT_CARRIERS, is_retired, shipped_templates
from shopmail.core import audit
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.models import DeskSettings, Order, OrderMailTemplate, Shipment, Store

DEFAULT_SCOPE = "default"
DEVICES = ("pc", "mobile")
STAGES = ("1", "2")
TAG_CONTEXT = "order"


def scope_of(store_id: int | None) -> str:
    return DEFAULT_SCOPE if store_id is None else f"store:{store_id}"


def stage_for(purchase_count: int, repeat_from_count: int) -> str:
    """Stage 2 (repeat customer) from the store's purchase count on, else stage 1."""
    return "2" if 0 < repeat_from_count <= purchase_count else "1"


def candidates(store_id: int | None, kind: str, device: str, variant: str) -> list[tuple]:
    """The template keys to try, in order: (scope, kind, device, variant)."""
    variants = [variant]
    if kind == MessageKind.SHIPPING_NOTICE and variant:
        variants.append("")
    elif kind == MessageKind.ORDER_CONFIRMATION and variant != "1":
        variants.append("1")
    scopes = [scope_of(store_id), DEFAULT_SCOPE] if store_id is not None else [DEFAULT_SCOPE]
    return [(scope, kind, device, v) for v in variants for scope in scopes]


@dataclass(frozen=True)
class Compiled:
    """A template split once into literal text and tag names, store values already folded in."""

    subject: tuple[str, ...]
    body: tuple[str, ...]

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        return _join(self.subject, values), _join(self.body, values)


def compile_text(text: str, fixed: Mapping[str, str]) -> tuple[str, ...]:
    """Literal parts at even, tag names at odd positions; `fixed` tags become literal text."""
    pieces = tags.TAG_PATTERN.split(text)
    out = [pieces[0]]
    for i in range(1, len(pieces), 2):
        name, after = pieces[i], pieces[i + 1]
        if name in fixed:
            out[-1] += fixed[name] + after
        elif name not in tags.CATALOGUE:
            out[-1] += f"[{name}]" + after  # not a tag: plain text, as tags.render keeps it
        else:
            out.extend((name, after))
    return tuple(out)


def _join(parts: tuple[str, ...], values: Mapping[str, str]) -> str:
    if len(parts) == 1:
        return parts[0]
    get = values.get
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = get(out[i]) or ""
    return "".join(out)


class Resolver:
    """Every template in memory; finds the one for a mail and compiles it once per key."""

    def __init__(self, templates: Iterable) -> None:
        self.rows = {(t.scope, t.kind, t.device, t.variant): t for t in templates}
        self._compiled: dict[tuple, Compiled | None] = {}

    @classmethod
    def load(cls) -> Resolver:
        rows = following_shipped(db.session.scalars(select(OrderMailTemplate)))
        return cls([*rows, *shipped_defaults(_seeded_kinds())])

    def find(self, store_id: int | None, kind: str, device: str, variant: str):
        for key in candidates(store_id, kind, device, variant):
            if key in self.rows:
                return self.rows[key]
        return None

    def compiled(
        self, store_id: int, kind: str, device: str, variant: str, fixed: Mapping[str, str]
    ) -> Compiled | None:
        key = (store_id, kind, device, variant)
        if key not in self._compiled:
            found = self.find(store_id, kind, device, variant)
            self._compiled[key] = found and Compiled(
                compile_text(found.subject, fixed), compile_text(found.body, fixed)
            )
        return self._compiled[key]


def _seeded_kinds() -> set[str]:
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


def _shipped_by_key() -> dict[tuple, dict[str, str]]:
    return {(t["kind"], t["device"], t["variant"]): t for t in shipped_templates()}


def following_shipped(rows: Iterable) -> list:
    """The rows, with every seeded common default that still holds an earlier shipped text
    (never edited) read as today's shipped text instead (unsaved: a read writes nothing)."""
    current = _shipped_by_key()
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
    current = _shipped_by_key()
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
    seeded = _seeded_kinds()
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


def carriers() -> list[str]:
    """Delivery methods in the data plus the common carriers, for the shipping-notice variants."""
    found = db.session.scalars(
        union(
            select(Order.delivery_method).distinct(),
            select(Shipment.carrier).distinct(),
            select(OrderMailTemplate.variant).where(
                OrderMailTemplate.kind == MessageKind.SHIPPING_NOTICE
            ),
        )
    )
    return list(dict.fromkeys([*DEFAULT_CARRIERS, *sorted(c for c in found if c)]))


def variants(kind: str) -> list[str]:
    if kind == MessageKind.ORDER_CONFIRMATION:
        return list(STAGES)
    if kind == MessageKind.SHIPPING_NOTICE:
        return ["", *carriers()]
    return [""]


@dataclass(frozen=True)
class Selection:
    """One template slot of the editor: store (None = common default), kind, device, variant."""

    store_id: int | None
    kind: str
    device: str
    variant: str

    @property
    def scope(self) -> str:
        return scope_of(self.store_id)

    @property
    def key(self) -> tuple:
        return (self.scope, self.kind, self.device, self.variant)


def selection(store: str, kind: str, device: str, variant: str | None) -> Selection | None:
    """The slot named by the editor's query parameters, or None when one of them is unknown."""
    store_id = None
    if store not in ("", DEFAULT_SCOPE):
        if not store.isdigit() or db.session.get(Store, int(store)) is None:
            return None
        store_id = int(store)
    if kind not in AUTOMATIC_KINDS or device not in DEVICES:
        return None
    choices = variants(kind)
    # A variant of another kind (the kind was just switched) means the kind's first one.
    return Selection(store_id, kind, device, variant if variant in choices else choices[0])


@dataclass(frozen=True)
class EditorState:
    subject: str
    body: str
    own: bool  # this slot has its own row (for a store: it no longer follows the default)
    source: tuple | None  # the key of the template the slot uses now
    # Common default only: None when nothing is shipped for the slot, else whether its text
    # differs from the text shopmail ships.
    changed_from_shipped: bool | None = None


def editor_state(sel: Selection) -> EditorState:
    keys = candidates(sel.store_id, sel.kind, sel.device, sel.variant)
    saved = db.session.scalars(
        select(OrderMailTemplate).where(
            OrderMailTemplate.scope.in_({k[0] for k in keys}),
            OrderMailTemplate.kind == sel.kind,
            OrderMailTemplate.device == sel.device,
        )
    )
    shipped = [t for t in shipped_defaults(_seeded_kinds()) if t.kind == sel.kind]
    rows = {
        (t.scope, t.kind, t.device, t.variant): t for t in [*shipped, *following_shipped(saved)]
    }
    found = Resolver(rows.values()).find(sel.store_id, sel.kind, sel.device, sel.variant)
    if found is None:
        return EditorState("", "", False, None)
    source = (found.scope, found.kind, found.device, found.variant)
    changed = None
    original = _shipped_by_key().get((str(sel.kind), sel.device, sel.variant))
    if sel.store_id is None and original is not None and source == sel.key:
        changed = (found.subject.strip(), _lf(found.body)) != (
            original["subject"].strip(),
            _lf(original["body"]),
        )
    return EditorState(found.subject, found.body, source == sel.key, source, changed)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def unknown_tags(subject: str, body: str) -> dict[str, list[tags.UnknownTag]]:
    """Unknown and mistyped tags per field ("subject", "body"); empty when the template may
    be saved."""
    found = {
        "subject": tags.find_unknown(subject, TAG_CONTEXT),
        "body": tags.find_unknown(body, TAG_CONTEXT),
    }
    return {name: unknown for name, unknown in found.items() if unknown}


def tag_warnings(subject: str, body: str) -> dict[str, list[tags.TagWarning]]:
    """What looks like a mistyped tag but is saved as written, per field."""
    found = {
        "subject": tags.find_warnings(subject, TAG_CONTEXT),
        "body": tags.find_warnings(body, TAG_CONTEXT),
    }
    return {name: warnings for name, warnings in found.items() if warnings}


class TemplateTagError(ValueError):
    """Unknown tags in a template being saved, per field ("subject", "body")."""

    def __init__(self, fields: dict[str, list[tags.UnknownTag]]) -> None:
        self.fields = fields
        super().__init__("; ".join(tags.UnknownTagError(u).message_en for u in fields.values()))


def save(actor, sel: Selection, subject: str, body: str) -> OrderMailTemplate:
    """Store the slot's template; raises TemplateTagError (and changes nothing) on bad tags."""
    unknown = unknown_tags(subject, body)
    if unknown:
        raise TemplateTagError(unknown)
    if sel.store_id is None:
        ensure_defaults()  # the kind's other shipped defaults stay as they read until now
    row = db.session.scalar(select(OrderMailTemplate).filter_by(**_key_filter(sel)))
    if row is None:
        row = OrderMailTemplate(store_id=sel.store_id, **_key_filter(sel))
        db.session.add(row)
    row.subject, row.body = subject.strip(), body
    db.session.flush()
    audit.record(actor, "template.saved", row, **_describe(sel))
    return row


def reset(actor, sel: Selection) -> bool:
    """A store slot follows the common default again; False when it already did."""
    if sel.store_id is None:
        return False
    row = db.session.scalar(select(OrderMailTemplate).filter_by(**_key_filter(sel)))
    if row is None:
        return False
    audit.record(actor, "template.reset", row, **_describe(sel))
    db.session.delete(row)
    return True


def _key_filter(sel: Selection) -> dict[str, str]:
    return {"scope": sel.scope, "kind": sel.kind, "device": sel.device, "variant": sel.variant}


def _describe(sel: Selection) -> dict:
    return {
        "store_id": sel.store_id,
        "kind": sel.kind,
        "device": sel.device,
        "variant": sel.variant,
    }


def bank_account_text() -> str:
    """The transfer account for [BANK_ACCOUNT], when the payment settings put it in mails."""
    settings = DeskSettings.current()  # read only: creators may run side by side
    return settings.bank_account_text if settings.bank_account_in_order_mails else ""
