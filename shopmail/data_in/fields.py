"""Reading one value of a pushed or imported record: text, yen, dates, flags, e-mail.

Each reader takes what arrived (a JSON value or a CSV cell) and gives back the value to store,
`ABSENT` when the field is to be left as it is, or raises `Bad` with a message in the user's
language. The JSON API and the CSV import share these readers, so both accept the same data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from shopmail.mail.addresses import AddressError, parse_address

TOKYO = ZoneInfo("Asia/Tokyo")
MAX_INT = 2_147_483_647  # a 32-bit INTEGER column on PostgreSQL
ABSENT = object()
Reader = Callable[[Any], Any]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_WHEN = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*([Zz]|[+-]\d{2}:?\d{2})?"
)
_TRUE = {"1", "true", "yes", "y", "on", "はい", "希望する", "する", "○", "◯", "有"}
_FALSE = {"0", "false", "no", "n", "off", "いいえ", "希望しない", "しない", "×", "✕", "無"}


class Bad(ValueError):
    """A value that cannot be stored; `message` says why in the user's language."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


class Bilingual:
    """A message that exists in Japanese and English, shown in the current locale."""

    def __init__(self, ja: str, en: str) -> None:
        self.ja, self.en = ja, en

    def __str__(self) -> str:
        return self.en if str(get_locale()) == "en" else self.ja


def text(max_len: int, multiline: bool = False) -> Reader:
    def read(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Bad(_l("must be text"))
        value = str(value).strip()
        if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value) or not _encodable(value):
            raise Bad(_l("must not contain control characters"))
        if len(value) > max_len:
            raise Bad(_l("must be at most %(n)s characters", n=max_len))
        return value.replace("\r\n", "\n")

    return read


def key(max_len: int) -> Reader:
    """A record's number or store code: required, one line."""
    plain = text(max_len)

    def read(value: Any) -> Any:
        value = plain(value)
        if not value:
            raise Bad(_l("is required"))
        return value

    return read


def integer(low: int = 0, high: int = MAX_INT) -> Reader:
    def read(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return ABSENT
        if isinstance(value, bool):
            raise Bad(_l("must be a whole number"))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            cleaned = unicodedata.normalize("NFKC", value).strip()
            cleaned = re.sub(r"[,¥\\円\s]", "", cleaned)
            if not re.fullmatch(r"[-+]?\d{1,12}", cleaned):
                raise Bad(_l("must be a whole number"))
            value = int(cleaned)
        if not isinstance(value, int):
            raise Bad(_l("must be a whole number"))
        if value < low:
            raise Bad(_l("must be at least %(n)s", n=low))
        if value > high:
            raise Bad(_l("must be at most %(n)s", n=high))
        return value

    return read


def when(value: Any) -> Any:
    """An ISO 8601 date and time; without an offset it is Tokyo time. Stored as UTC."""
    if value is None or value == "":
        return None
    parts = _match_when(value)
    year, month, day, hour, minute, second, fraction, offset = parts
    try:
        tz = _offset(offset) if offset else TOKYO
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        local = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
        return local.replace(microsecond=micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Bad(_l("must be a real date and time")) from None


def day(value: Any) -> Any:
    """A calendar date (YYYY-MM-DD, or YYYY/M/D as spreadsheets write it)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Bad(_l("must be a date such as 2025-04-01"))
    match = re.fullmatch(
        r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", unicodedata.normalize("NFKC", value).strip()
    )
    if not match:
        raise Bad(_l("must be a date such as 2025-04-01"))
    try:
        result = date(*(int(x) for x in match.groups()))
    except ValueError:
        raise Bad(_l("must be a real date")) from None
    if not 1900 <= result.year <= 2100:
        raise Bad(_l("must be a real date"))
    return result


def flag(value: Any) -> Any:
    if value is None or value == "":
        return ABSENT
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int):
        word = unicodedata.normalize("NFKC", str(value)).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise Bad(_l("must be true or false"))


def email(required: bool) -> Reader:
    plain = text(254)

    def read(value: Any) -> Any:
        value = plain(value)
        if not value:
            if required:
                raise Bad(_l("is required"))
            return ""
        try:
            return parse_address(value).addr
        except AddressError as exc:
            raise Bad(Bilingual(exc.message_ja, exc.message_en)) from None

    return read


def choice(options: tuple[str, ...]) -> Reader:
    def read(value: Any) -> Any:
        if value is None or value == "":
            return ABSENT
        if not isinstance(value, str) or value.strip() not in options:
            raise Bad(_l("must be one of: %(choices)s", choices=", ".join(options)))
        return value.strip()

    return read


def _match_when(value: Any) -> tuple:
    if isinstance(value, str):
        match = _WHEN.fullmatch(unicodedata.normalize("NFKC", value).strip())
        if match:
            if not 1900 <= int(match.group(1)) <= 2100:
                raise Bad(_l("must be a real date and time"))
            return match.groups()
    raise Bad(_l("must be a date and time such as 2025-04-01T10:00:00+09:00"))


def _offset(text_: str) -> timezone:
    if text_ in ("Z", "z"):
        return UTC
    sign = -1 if text_[0] == "-" else 1
    digits = text_[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a JSON "\ud800"
        return False
    return True
