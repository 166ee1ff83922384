"""The [TAG] merge language of templates, and the catalogue of tags staff may use.

A tag is ``[NAME]`` with NAME matching ``[A-Z][A-Z0-9_]*``. Rendering is plain substitution
in one regex pass: values are strings, never evaluated, and a value that itself contains
``[X]`` is not expanded again. Bracketed text that is not a tag name (``[注意]``, ``[1]``) is
ordinary text.

Every tag belongs to one or more *contexts*: ``order`` (automatic order mails), ``record``
(manual mails from the order / shipment / quote lists) and ``member`` (broadcasts).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "CATALOGUE",
    "CONTEXTS",
    "TAG_PATTERN",
    "Tag",
    "TagWarning",
    "UnknownTag",
    "UnknownTagError",
    "check",
    "find_unknown",
    "find_warnings",
    "inspect",
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
    (
        "TAX",
        "消費税(価格に含まれる額)",
        "Consumption tax (the part included in the prices)",
        _ORDER,
    ),
    ("SHIPPING_FEE", "送料", "Shipping fee", _ORDER),
    ("POINTS_USED", "利用ポイント", "Points used", _ORDER),
    (
        "POINTS_DISCOUNT",
        "ポイント利用額(例: -300円、利用なしは0円)",
        "Points used as the amount taken off (e.g. -300円; 0円 when none)",
        _ORDER,
    ),
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
    """A tag in a template that is not usable in its context, or a clear typo of one
    (``written`` is then the text as written, e.g. ``[tenpo_name]``); line and column are
    1-based. ``meant`` is the catalogued tag it most likely stands for, when one is close."""

    name: str
    line: int
    column: int
    written: str = field(default="", compare=False)
    meant: str = field(default="", compare=False)

    @property
    def message_en(self) -> str:
        where = f"line {self.line}, column {self.column}"
        if self.written:
            return f"{where}: {self.written} is a mistyped tag; write [{self.name}]"
        hint = f"; did you mean [{self.meant}]?" if self.meant else ""
        return f"{where}: [{self.name}] is not a tag these mails can use{hint}"

    @property
    def message_ja(self) -> str:
        where = f"{self.line}行目 {self.column}文字目"
        if self.written:
            return (
                f"{where}: 「{self.written}」はタグの書き間違いです。正しくは [{self.name}] です。"
            )
        hint = f"[{self.meant}] の誤りではありませんか?" if self.meant else ""
        return f"{where}: [{self.name}] はこのメールでは使用できないタグです。{hint}"


@dataclass(frozen=True)
class TagWarning:
    """Text that looks like a mistyped tag but may be meant as written: saved, with a warning.
    It reaches the customer as literal text."""

    written: str
    line: int
    column: int
    meant: str = ""

    @property
    def message_en(self) -> str:
        hint = f"; did you mean [{self.meant}]?" if self.meant else ""
        return (
            f"line {self.line}, column {self.column}: {self.written} is not a tag and is sent "
            f"as written{hint}"
        )

    @property
    def message_ja(self) -> str:
        hint = f"[{self.meant}] の誤りではありませんか?" if self.meant else ""
        return (
            f"{self.line}行目 {self.column}文字目: 「{self.written}」はタグとして置き換えられず、"
            f"そのまま送られます。{hint}"
        )


class UnknownTagError(ValueError):
    """A template uses tags that are unknown (or not usable) in its context."""

    def __init__(self, unknown: list[UnknownTag], context: str = "") -> None:
        self.unknown = unknown
        self.context = context
        super().__init__(self.message_en)

    @property
    def message_en(self) -> str:
        unknown = [u for u in self.unknown if not u.written]
        typos = [u for u in self.unknown if u.written]
        out = []
        if unknown:
            parts = [f"[{u.name}] (line {u.line}, column {u.column})" for u in unknown]
            where = f" in {self.context} mails" if self.context else ""
            out.append(f"Unknown tag{'s' if len(parts) > 1 else ''}{where}: " + ", ".join(parts))
            out += [f"did you mean [{u.meant}] for [{u.name}]?" for u in unknown if u.meant]
        if typos:
            parts = [
                f"{u.written} (line {u.line}, column {u.column}; write [{u.name}])" for u in typos
            ]
            out.append("Mistyped tags: " + ", ".join(parts))
        return "; ".join(out)

    @property
    def message_ja(self) -> str:
        unknown = [u for u in self.unknown if not u.written]
        typos = [u for u in self.unknown if u.written]
        out = []
        if unknown:
            parts = [f"[{u.name}]({u.line}行目 {u.column}文字目)" for u in unknown]
            out.append("使用できないタグがあります: " + "、".join(parts))
            out += [
                f"[{u.name}] は [{u.meant}] の誤りではありませんか?" for u in unknown if u.meant
            ]
        if typos:
            parts = [
                f"「{u.written}」({u.line}行目 {u.column}文字目 → 正しくは [{u.name}])"
                for u in typos
            ]
            out.append("タグの書き方が正しくありません: " + "、".join(parts))
        return "。".join(out)


def find_unknown(text: str, context: str) -> list[UnknownTag]:
    """What a template may not be saved with, in text order: every tag not in the catalogue
    for ``context``, and every clear typo of a catalogued tag (see :func:`inspect`)."""
    return inspect(text, context)[0]


def find_warnings(text: str, context: str) -> list[TagWarning]:
    """Text that looks like a mistyped tag but is saved as written (see :func:`inspect`)."""
    return inspect(text, context)[1]


# Full-width ASCII (Ａ, ［, ＿ …) and the ideographic space read as their ASCII forms, one
# character for one, so positions in the folded text are positions in the original.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_OPENERS, _CLOSERS = "[【〔", "]】〕"
# An identifier, with the brackets (any kind, spaces inside) that may stand around it.
_CANDIDATE = re.compile(
    r"(?:(?P<open>[\[【〔]) *)?(?<![A-Za-z0-9_])(?P<name>[A-Za-z][A-Za-z0-9_]*)(?![A-Za-z0-9_])"
    r"(?: *(?P<close>[\]】〕]))?"
)


def inspect(text: str, context: str) -> tuple[list[UnknownTag], list[TagWarning]]:
    """The tag problems of ``text``: (refused, warned), each in text order.

    Refused: a tag not usable in ``context`` (``[ORDR_NO]``), and a catalogued name written
    wrongly — in lower case or full width, with other or full-width brackets, spaces inside,
    or one bracket missing (``[tenpo_name]``, ``［ORDER_NO］``, ``[TENPO_NAME``,
    ``TENPO_NAME]``). Warned: what may be meant as text — a bare catalogued name in capitals
    with an underscore (``ORDER_NO``; not ``TODAY``, an ordinary word), a lower-case name
    with one bracket (``[today is``), an unknown tag-like name in brackets (``[FOO_BAR``).
    Other bracketed text (``[注意]``, ``[1]``, ``a[href]``) is ordinary text.
    """
    _require_context(context)
    refused: list[UnknownTag] = []
    warned: list[TagWarning] = []
    folded = text.translate(_FOLD)
    for match in _CANDIDATE.finditer(folded):
        start, end = match.span()
        written, name = text[start:end], match["name"]
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        upper = name.upper()
        tag = CATALOGUE.get(upper)
        if TAG_PATTERN.fullmatch(written):  # a tag as the language writes it
            if tag is None or context not in tag.contexts:
                refused.append(UnknownTag(name, line, column, meant=_closest(name, context)))
            continue
        opened, closed = match["open"] is not None, match["close"] is not None
        if tag is not None:
            half_open = opened != closed
            if (opened and closed) or (half_open and (name.isupper() or "_" in name)):
                refused.append(UnknownTag(upper, line, column, written=written, meant=upper))
            elif half_open or (name == upper and "_" in name):
                warned.append(TagWarning(written, line, column, upper))
        elif opened or closed:
            meant = _closest(upper, context)
            if meant or ("_" in name and name.isupper()):
                warned.append(TagWarning(written, line, column, meant))
    return refused, warned


def _closest(name: str, context: str) -> str:
    names = [tag.name for tag in CATALOGUE.values() if context in tag.contexts]
    found = difflib.get_close_matches(name.upper(), names, n=1, cutoff=0.8)
    return found[0] if found else ""


def check(text: str, context: str) -> None:
    """Raise :class:`UnknownTagError` when ``text`` uses tags not usable in ``context`` (or
    clear typos of tags)."""
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
