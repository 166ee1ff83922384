"""Automatic-mail templates: which one a mail uses, compiling it once, editing and resetting.

Resolution (most specific first): the store's own template, then the common default
(共通設定(既定値)); per recipient device (PC / mobile by address); per stage for order
confirmations ("1" first purchase, "2" repeat customer); per carrier for shipping notices,
falling back to the generic "" variant (store, then default) when a carrier has none.
A store row exists only while the store overrides the default (`scope` "store:<id>").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select, union

from shopmail.automatic.default_templates import DEFAULT_CARRIERS, DEFAULT_SCOPE
from shopmail.automatic.seeding import (
    ensure_defaults,
    following_shipped,
    seeded_kinds,
    shipped_by_key,
    shipped_defaults,
)
from shopmail.core import audit, template_versions
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind
from shopmail.extensions import db
from shopmail.mail import content_checks, tags
from shopmail.models import DeskSettings, Order, OrderMailTemplate, Shipment, Store

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
        self._found: dict[tuple, OrderMailTemplate | None] = {}
        self._origins: dict[tuple, str] = {}

    @classmethod
    def load(cls) -> Resolver:
        rows = following_shipped(db.session.scalars(select(OrderMailTemplate)))
        return cls([*rows, *shipped_defaults(seeded_kinds())])

    def find(self, store_id: int | None, kind: str, device: str, variant: str):
        for key in candidates(store_id, kind, device, variant):
            if key in self.rows:
                return self.rows[key]
        return None

    def compiled(
        self, store_id: int, kind: str, device: str, variant: str, fixed: Mapping[str, str]
    ) -> Compiled | None:
        return self.resolved(store_id, kind, device, variant, fixed)[0]

    def resolved(
        self, store_id: int, kind: str, device: str, variant: str, fixed: Mapping[str, str]
    ) -> tuple[Compiled | None, OrderMailTemplate | None]:
        """The compiled template and the row it came from (which one won: see
        automatic/template_choice.py), found and compiled once per key."""
        key = (store_id, kind, device, variant)
        if key not in self._compiled:
            found = self.find(store_id, kind, device, variant)
            self._compiled[key] = found and Compiled(
                compile_text(found.subject, fixed), compile_text(found.body, fixed)
            )
            self._found[key] = found
        return self._compiled[key], self._found[key]

    def origin(self, row: OrderMailTemplate) -> str:
        """ "store", "default", or "shipped": a common default that reads as shopmail ships
        it (never saved, or saved unchanged) — told once per template."""
        key = (row.scope, str(row.kind), row.device, row.variant)
        if key not in self._origins:
            if row.scope != DEFAULT_SCOPE:
                self._origins[key] = "store"
            else:
                shipped = shipped_by_key().get(key[1:])
                same = shipped is not None and (row.subject.strip(), _lf(row.body)) == (
                    shipped["subject"].strip(),
                    _lf(shipped["body"]),
                )
                self._origins[key] = "shipped" if row.id is None or same else "default"
        return self._origins[key]


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
    shipped = [t for t in shipped_defaults(seeded_kinds()) if t.kind == sel.kind]
    rows = {
        (t.scope, t.kind, t.device, t.variant): t for t in [*shipped, *following_shipped(saved)]
    }
    found = Resolver(rows.values()).find(sel.store_id, sel.kind, sel.device, sel.variant)
    if found is None:
        return EditorState("", "", False, None)
    source = (found.scope, found.kind, found.device, found.variant)
    changed = None
    original = shipped_by_key().get((str(sel.kind), sel.device, sel.variant))
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


def content_findings(sel: Selection, subject: str, body: str) -> list:
    """Every content check of the slot's text (`content_checks`: tags, characters, lines,
    subject, links), mobile slots with the mobile checks."""
    return content_checks.check(
        subject,
        body,
        TAG_CONTEXT,
        mobile=sel.device == "mobile",
        line_width=DeskSettings.current().mobile_line_width,
    )


class TemplateContentError(ValueError):
    """What cannot be sent (a line over 1,000 bytes), found in a template being saved."""

    def __init__(self, findings: list) -> None:
        self.findings = findings
        super().__init__("; ".join(f.message_en for f in findings))


class TemplateTagError(ValueError):
    """Unknown tags in a template being saved, per field ("subject", "body")."""

    def __init__(self, fields: dict[str, list[tags.UnknownTag]]) -> None:
        self.fields = fields
        super().__init__("; ".join(tags.UnknownTagError(u).message_en for u in fields.values()))


def save(actor, sel: Selection, subject: str, body: str) -> OrderMailTemplate:
    """Store the slot's template; raises TemplateTagError on bad tags and TemplateContentError
    on what cannot be sent (and changes nothing then)."""
    unknown = unknown_tags(subject, body)
    if unknown:
        raise TemplateTagError(unknown)
    unsendable = [f for f in content_findings(sel, subject, body) if f.code == "line_bytes"]
    if unsendable:
        raise TemplateContentError(unsendable)
    if sel.store_id is None:
        ensure_defaults()  # the kind's other shipped defaults stay as they read until now
    row = db.session.scalar(select(OrderMailTemplate).filter_by(**_key_filter(sel)))
    if row is None:
        row = OrderMailTemplate(store_id=sel.store_id, **_key_filter(sel))
        db.session.add(row)
    row.subject, row.body = subject.strip(), body
    template_versions.keep(actor, row)
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
