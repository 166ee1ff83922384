"""The [TAG] merge language of templates, and the catalogue of tags staff may use.

A tag is ``[NAME]`` with NAME matching ``[A-Z][A-Z0-9_]*``. Rendering is plain substitution
in one regex pass: values are strings, never evaluated, and a value that itself contains
``[X]`` is not expanded again. Bracketed text that is not a tag name (``[注意]``, ``[1]``) is
ordinary text.

Every tag belongs to one or more *contexts*: ``order`` (automatic order mails), ``record``
(manual mails from the order / shipment / quote lists) and ``member`` (broadcasts).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CATALOGUE",
    "CONTEXTS",
    "TAG_PATTERN",
    "Tag",
    "UnknownTag",
    "UnknownTagError",
    "check",
    "find_unknown",
    "render",
    "tags_for",
]

CONTEXTS: tuple[str, ...] = ("order", "record", "member")

# Compiled once: broadcasts render tens of thousands of bodies with it.
TAG_PATTERN = re.compile(r"\[([A-Z][A-Z0-9_]*)\]")


@dataclass(frozen=True)
class Tag:
    """One merge tag: its name (without brackets), what it means, and where it may be used."""

    name: str
    ja: str
    en: str
    contexts: frozenset[str]

    @property
    def token(self) -> str:
        """The tag as written in a template, e.g. ``[ORDER_NO]``."""
        return f"[{self.name}]"


_ALL = frozenset(CONTEXTS)
_ORDER = frozenset({"order", "record"})
_RECORD = frozenset({"record"})
_MEMBER = frozenset({"member"})

_DEFINITIONS: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    # Store settings: available everywhere.
    ("TENPO_NAME", "店舗名(送信者名)", "Store name (the From display name)", _ALL),
    ("SIGN", "署名(PC用)", "Signature for PC recipients", _ALL),
    ("SIGN_M", "署名(携帯用)", "Signature for mobile recipients", _ALL),
    ("TODAY", "送信日", "Date the mail is sent", _ALL),
    # Order, buyer, ship-to and shipment: automatic order mails and record mails.
    ("ORDER_NO", "受注番号", "Order number", _ORDER),
    ("ORDER_DATE", "受注日", "Order date", _ORDER),
    ("PAYMENT_METHOD", "支払方法", "Payment method", _ORDER),
    ("ITEMS", "注文商品一覧", "Ordered items (one block, a line per item)", _ORDER),
    ("ITEM_TOTAL", "商品合計", "Item total", _ORDER),
    ("TAX", "消費税", "Consumption tax", _ORDER),
    ("SHIPPING_FEE", "送料", "Shipping fee", _ORDER),
    ("POINTS_USED", "利用ポイント", "Points used", _ORDER),
    ("TOTAL", "合計金額", "Order total", _ORDER),
    ("BUYER_NAME", "注文者名", "Buyer name", _ORDER),
    ("BUYER_ZIP", "注文者郵便番号", "Buyer postal code", _ORDER),
    ("BUYER_ADDRESS", "注文者住所", "Buyer address", _ORDER),
    ("BUYER_TEL", "注文者電話番号", "Buyer phone number", _ORDER),
    ("BUYER_EMAIL", "注文者メールアドレス", "Buyer e-mail address", _ORDER),
    ("SHIP_NAME", "送付先氏名", "Ship-to name", _ORDER),
    ("SHIP_COMPANY", "送付先会社名", "Ship-to company", _ORDER),
    ("SHIP_ZIP", "送付先郵便番号", "Ship-to postal code", _ORDER),
    ("SHIP_ADDRESS", "送付先住所", "Ship-to address", _ORDER),
    ("SHIP_TEL", "送付先電話番号", "Ship-to phone number", _ORDER),
    ("CARRIER", "配送業者", "Carrier", _ORDER),
    ("DELIVERY_METHOD", "配送方法", "Delivery method", _ORDER),
    ("TRACKING_NO", "お問い合わせ伝票番号", "Tracking number", _ORDER),
    ("TRACKING_URL", "配送状況確認URL", "Tracking URL", _ORDER),
    ("SHIP_DATE", "出荷日", "Ship date", _ORDER),
    ("DELIVERY_DATE", "お届け予定日", "Expected delivery date", _ORDER),
    ("BANK_ACCOUNT", "振込先口座", "Bank account for transfer payments", _ORDER),
    ("PURCHASE_COUNT", "購入回数", "Number of purchases by this customer", _ORDER),
    # Only in manual mails sent from the shipment / quote lists.
    ("SHIPMENT_ID", "出荷番号", "Shipment number", _RECORD),
    ("QUOTE_NO", "見積番号", "Quote number", _RECORD),
    ("QUOTE_EXPIRES", "見積有効期限", "Quote valid until", _RECORD),
    # Members: broadcasts.
    ("MEMBER_ID", "会員ID", "Member ID", _MEMBER),
    ("MEMBER_NAME", "会員名(担当者名)", "Member (contact) name", _MEMBER),
    ("COMPANY", "会社名", "Company name", _MEMBER),
    ("MEMBER_EMAIL", "会員メールアドレス", "Member e-mail address", _MEMBER),
    ("LAST_PURCHASE_DATE", "最終購入日", "Date of last purchase", _MEMBER),
    ("UNSUBSCRIBE_URL", "配信停止URL", "Unsubscribe link", _MEMBER),
)

CATALOGUE: dict[str, Tag] = {
    name: Tag(name, ja, en, contexts) for name, ja, en, contexts in _DEFINITIONS
}


def tags_for(context: str) -> list[Tag]:
    """The tags usable in ``context``, in catalogue order (the order the tag list shows)."""
    _require_context(context)
    return [tag for tag in CATALOGUE.values() if context in tag.contexts]


@dataclass(frozen=True)
class UnknownTag:
    """A tag in a template that is not usable in its context; line and column are 1-based."""

    name: str
    line: int
    column: int


class UnknownTagError(ValueError):
    """A template uses tags that are unknown (or not usable) in its context."""

    def __init__(self, unknown: list[UnknownTag], context: str = "") -> None:
        self.unknown = unknown
        self.context = context
        super().__init__(self.message_en)

    @property
    def message_en(self) -> str:
        parts = [f"[{u.name}] (line {u.line}, column {u.column})" for u in self.unknown]
        where = f" in {self.context} mails" if self.context else ""
        return f"Unknown tag{'s' if len(parts) > 1 else ''}{where}: " + ", ".join(parts)

    @property
    def message_ja(self) -> str:
        parts = [f"[{u.name}]({u.line}行目 {u.column}文字目)" for u in self.unknown]
        return "使用できないタグがあります: " + "、".join(parts)


def find_unknown(text: str, context: str) -> list[UnknownTag]:
    """Every tag in ``text`` that is not in the catalogue for ``context``, in text order."""
    _require_context(context)
    found: list[UnknownTag] = []
    for match in TAG_PATTERN.finditer(text):
        tag = CATALOGUE.get(match[1])
        if tag is not None and context in tag.contexts:
            continue
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        found.append(UnknownTag(match[1], text.count("\n", 0, start) + 1, start - line_start + 1))
    return found


def check(text: str, context: str) -> None:
    """Raise :class:`UnknownTagError` when ``text`` uses tags not usable in ``context``."""
    unknown = find_unknown(text, context)
    if unknown:
        raise UnknownTagError(unknown, context)


class Template:
    """A text split once into literal parts and tag slots, to be filled many times.

    `parts` alternates literal, tag name, literal, …, literal (always odd in length).
    """

    __slots__ = ("parts", "_catalogued")

    def __init__(self, text: str) -> None:
        self.parts = tuple(TAG_PATTERN.split(text))
        self._catalogued = tuple(name in CATALOGUE for name in self.parts[1::2])

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def fill(self, values: Mapping[str, str]) -> str:
        """Substitute the tags: a value given in ``values`` always wins; a catalogued tag
        without a value becomes ""; anything else is left as written."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        get = values.get
        out = [parts[0]]
        for index, catalogued in enumerate(self._catalogued):
            name = parts[2 * index + 1]
            value = get(name)
            if value is None:
                value = "" if catalogued else f"[{name}]"
            elif type(value) is not str:
                # str() so a stray int or Decimal renders instead of failing a whole broadcast.
                value = str(value)
            out.append(value)
            out.append(parts[2 * index + 2])
        return "".join(out)


@functools.lru_cache(maxsize=512)
def template(text: str) -> Template:
    """`text` split into parts and slots, once per distinct text."""
    return Template(text)


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute tags in one pass (see :meth:`Template.fill`); callers run :func:`check`
    when saving a template."""
    return template(text).fill(values)


def _require_context(context: str) -> None:
    if context not in CONTEXTS:
        raise ValueError(f"unknown tag context {context!r}; expected one of {CONTEXTS}")
