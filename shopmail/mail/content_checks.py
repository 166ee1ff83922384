"""Japanese content checks of a mail's subject and text: what old phones, ISO-2022-JP and
RFC 5322 do not take well, each with its line and column and, where one exists, a replacement.

Findings (in text order, the subject first):
- ``charset``: 機種依存文字 (①, ㈱, 髙, half-width kana ｱｲｳ …): characters Shift_JIS (CP932) has
  but JIS X 0208 — and so ISO-2022-JP — lacks; in a text that may go as ISO-2022-JP (mobile),
  every character it cannot carry (emoji too). `compose` sends such a mail as UTF-8 instead
  (its fallback is always on), so this warns and never blocks: the mail can be sent, it may
  be garbled on an old phone.
- ``line_bytes``: a line over 998 bytes (UTF-8), RFC 5322's limit with the line end: refused.
- ``line_width``: a mobile text's line wider than the desk's setting (full-width characters;
  half-width count half).
- ``subject_length``: a subject over 60 characters.
- ``tag`` / ``tag_typo``: the findings of `tags.inspect` (refused tags block, like on save).
- ``http``: a link without https.

Pure: no Flask, no models. Messages come in Japanese and English (`message_ja`, `message_en`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shopmail.mail import tags

__all__ = ["ContentWarning", "check", "replacement_for", "SUBJECT_LIMIT", "LINE_BYTES_LIMIT"]

SUBJECT_LIMIT = 60
LINE_BYTES_LIMIT = 998  # RFC 5322 §2.1.1: 1,000 with the CRLF
DEFAULT_LINE_WIDTH = 76  # full-width characters on a mobile screen

# Variant kanji of the IBM extensions that have a common JIS X 0208 form: suggestions only
# (a name may need the variant); NFKC gives the rest (㈱ → (株), ｱ → ア, Ⅳ → IV, ㎝ → cm).
_VARIANTS = {"髙": "高", "﨑": "崎", "德": "徳", "濵": "浜", "栁": "柳", "瀨": "瀬"}
_CIRCLED = {chr(0x2460 + n): f"({n + 1})" for n in range(20)}  # ① … ⑳ → (1) … (20)
_HALF_KANA = re.compile(r"[\uff61-\uff9f]+")
_HTTP = re.compile(r"http://[^\s<>\"'「」()（）]+")


@dataclass(frozen=True)
class ContentWarning:
    """One finding: what (``code``), where (``field`` "subject" or "body", 1-based line and
    column in characters), the text found, the replacement offered ("" when none) and whether
    it keeps the text from being saved or sent (``blocks``)."""

    code: str
    field: str
    line: int
    column: int
    found: str
    replacement: str = ""
    blocks: bool = False
    message_ja: str = ""
    message_en: str = ""


def replacement_for(text: str) -> str:
    """What to write instead of a 機種依存文字 (or a run of half-width kana); "" when none."""
    if text in _CIRCLED:
        return _CIRCLED[text]
    if text in _VARIANTS:
        return _VARIANTS[text]
    folded = unicodedata.normalize("NFKC", text)
    return folded if folded != text and _iso2022jp(folded) else ""


def check(
    subject: str,
    body: str,
    context: str,
    *,
    mobile: bool = False,
    line_width: int = DEFAULT_LINE_WIDTH,
    html: bool = False,
) -> list[ContentWarning]:
    """Every finding of the subject and the body. ``mobile``: the text may go as ISO-2022-JP
    to a phone (all characters it cannot carry, line width). ``html``: the body is markup
    (no line checks: its text part is made from it)."""
    out: list[ContentWarning] = []
    for field, text in (("subject", subject), ("body", body)):
        out += _tag_findings(field, text, context)
        out += _charset_findings(field, text, strict=mobile)
        out += _http_findings(field, text)
        if field == "body" and not html:
            out += _line_findings(text, line_width if mobile else 0)
    if len(subject) > SUBJECT_LIMIT:
        out.append(_subject_finding(subject))
    order = {"subject": 0, "body": 1}
    return sorted(out, key=lambda w: (order[w.field], w.line, w.column))


def _position(text: str, start: int) -> tuple[int, int]:
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def _where(line: int, column: int) -> tuple[str, str]:
    return f"{line}行目 {column}文字目", f"line {line}, column {column}"


def _tag_findings(field: str, text: str, context: str) -> list[ContentWarning]:
    refused, warned = tags.inspect(text, context)
    out = [
        ContentWarning(
            "tag_typo" if u.written else "tag",
            field,
            u.line,
            u.column,
            u.written or f"[{u.name}]",
            f"[{u.name}]" if u.written else (f"[{u.meant}]" if u.meant else ""),
            True,
            u.message_ja,
            u.message_en,
        )
        for u in refused
    ]
    out += [
        ContentWarning(
            "tag_typo",
            field,
            w.line,
            w.column,
            w.written,
            f"[{w.meant}]" if w.meant else "",
            False,
            w.message_ja,
            w.message_en,
        )
        for w in warned
    ]
    return out


def _iso2022jp(text: str) -> bool:
    try:
        return text.encode("iso2022_jp").decode("iso2022_jp") == text
    except UnicodeError:
        return False


def _machine_dependent(ch: str) -> bool:
    """In Shift_JIS as Windows writes it (CP932), not in JIS X 0208."""
    try:
        ch.encode("cp932")
    except UnicodeError:
        return False
    return not _iso2022jp(ch)


def _charset_findings(field: str, text: str, strict: bool) -> list[ContentWarning]:
    out = []
    for match in _HALF_KANA.finditer(text):
        out.append(_charset_finding(field, text, match.start(), match.group()))
    in_kana = {i for m in _HALF_KANA.finditer(text) for i in range(*m.span())}
    for index, ch in enumerate(text):
        if index in in_kana or ch in "\r\n\t" or ch.isascii():
            continue
        if _machine_dependent(ch) or (strict and not _iso2022jp(ch)):
            out.append(_charset_finding(field, text, index, ch))
    return out


def _charset_finding(field: str, text: str, start: int, found: str) -> ContentWarning:
    line, column = _position(text, start)
    ja, en = _where(line, column)
    better = replacement_for(found)
    kana = bool(_HALF_KANA.fullmatch(found))
    if kana or _machine_dependent(found):
        what_ja = "半角カナ" if kana else "機種依存文字"
        what_en = "half-width kana" if kana else "a machine-dependent character"
        head_ja = f"「{found}」は{what_ja}です。ISO-2022-JP では送れないため"
        head_en = f"{found!r} is {what_en} ISO-2022-JP cannot carry"
    else:
        head_ja = f"「{found}」は ISO-2022-JP では送れない文字です。そのため"
        head_en = f"ISO-2022-JP cannot carry {found!r}"
    if found in _VARIANTS:  # a name may need the variant: a suggestion, not a fix
        offer_ja = f"お名前などでなければ「{better}」にできます。"
        offer_en = f"unless it is a name, {better!r} may do."
    elif better:
        offer_ja, offer_en = f"「{better}」に置き換えてください。", f"write {better!r} instead."
    else:
        offer_ja, offer_en = "別の表記にしてください。", "write it another way."
    return ContentWarning(
        "charset",
        field,
        line,
        column,
        found,
        better,
        False,
        f"{ja}: {head_ja}携帯宛ては UTF-8 で送られ、古い携帯では文字化けすることがあります。"
        f"{offer_ja}",
        f"{en}: {head_en}: mobile copies go as UTF-8 and may be garbled on older phones; "
        f"{offer_en}",
    )


def _http_findings(field: str, text: str) -> list[ContentWarning]:
    out = []
    for match in _HTTP.finditer(text):
        line, column = _position(text, match.start())
        ja, en = _where(line, column)
        url = match.group()
        secure = "https://" + url[len("http://") :]
        out.append(
            ContentWarning(
                "http",
                field,
                line,
                column,
                url,
                secure,
                False,
                f"{ja}: 「{url}」は https ではないリンクです。「{secure}」が開けるならそちらに"
                "してください。",
                f"{en}: {url} is a link without https; use {secure} if the site serves it.",
            )
        )
    return out


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("F", "W") else 1


def _line_findings(body: str, line_width: int) -> list[ContentWarning]:
    out = []
    for number, line in enumerate(body.replace("\r\n", "\n").split("\n"), start=1):
        size = len(line.encode("utf-8"))
        if size > LINE_BYTES_LIMIT:
            column = _column_past_bytes(line, LINE_BYTES_LIMIT)
            ja, en = _where(number, column)
            out.append(
                ContentWarning(
                    "line_bytes",
                    "body",
                    number,
                    column,
                    line[column - 1 : column + 9],
                    "",
                    True,
                    f"{ja}: この行は {size:,} バイトあり、メールの1行の上限(改行を含め"
                    "1,000バイト)を超えるため送れません。途中で改行してください。",
                    f"{en}: this line has {size:,} bytes, over a mail line's limit of 1,000 "
                    "with the line end; it cannot be sent. Break it.",
                )
            )
            continue
        columns, limit = 0, line_width * 2
        for index, ch in enumerate(line):
            columns += _width(ch)
            if line_width and columns > limit:
                ja, en = _where(number, index + 1)
                out.append(
                    ContentWarning(
                        "line_width",
                        "body",
                        number,
                        index + 1,
                        line[index : index + 10],
                        "",
                        False,
                        f"{ja}: 行が全角{line_width}文字を超えています。携帯の画面では"
                        "折り返されて読みにくくなります。この辺りで改行してください。",
                        f"{en}: the line is wider than {line_width} full-width characters; "
                        "phones wrap it. Break it about here.",
                    )
                )
                break
    return out


def _column_past_bytes(line: str, limit: int) -> int:
    size = 0
    for index, ch in enumerate(line):
        size += len(ch.encode("utf-8"))
        if size > limit:
            return index + 1
    return len(line)


def _subject_finding(subject: str) -> ContentWarning:
    ja, en = _where(1, SUBJECT_LIMIT + 1)
    return ContentWarning(
        "subject_length",
        "subject",
        1,
        SUBJECT_LIMIT + 1,
        subject[SUBJECT_LIMIT:],
        "",
        False,
        f"{ja}: 件名が{len(subject)}文字あります。{SUBJECT_LIMIT}文字を超えると多くのメール"
        "ソフトで途中から見えません。",
        f"{en}: the subject has {len(subject)} characters; past {SUBJECT_LIMIT} most mail "
        "programs cut it off.",
    )
