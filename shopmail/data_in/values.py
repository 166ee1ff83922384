"""The value types of the data-in schema: text, yen, dates, flags, e-mail, choices.

Each type is an `Annotated` pydantic type: a reader (a before-validator) takes what arrived — a
JSON value or a CSV cell — and gives back the value to store, or raises `Bad` with a message in
the user's language; the rest of the annotation gives the type and limits the OpenAPI document
shows. `None` from a type marked `KEEP_WHEN_EMPTY` means "leave the stored value as it is".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from pydantic import BeforeValidator, Field

from shopmail.mail.addresses import CONTROL_CHARACTERS, AddressError, parse_address

TOKYO = ZoneInfo("Asia/Tokyo")
MAX_INT = 2_147_483_647  # a 32-bit INTEGER column on PostgreSQL
DATETIME_NOTE = (
    "ISO 8601 date and time, e.g. 2025-04-01T10:00:00+09:00. Without an offset it is read as "
    "Asia/Tokyo time. Answers give times in UTC with an offset."
)
KEEP_WHEN_EMPTY = "keep-when-empty"  # marker in a type's metadata: None = not given

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


def read_text(max_len: int, multiline: bool = False, required: bool = False) -> Callable:
    """One line (or several) of text; None reads as empty."""

    def read(value: Any) -> str:
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Bad(_l("must be text"))
        value = str(value).strip()
        controls = _CONTROL_MULTILINE if multiline else CONTROL_CHARACTERS
        if controls.search(value) or not _encodable(value):
            raise Bad(_l("must not contain control characters"))
        if len(value) > max_len:
            raise Bad(_l("must be at most %(n)s characters", n=max_len))
        if required and not value:
            raise Bad(_l("is required"))
        return value.replace("\r\n", "\n")

    return read


def read_integer(low: int, high: int) -> Callable:
    """A whole number; spreadsheets' "1,980", "¥2,200" and "３３００円" too."""

    def read(value: Any) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
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


def read_when(required: bool) -> Callable:
    """An ISO 8601 date and time; without an offset it is Tokyo time. Given back in UTC."""

    def read(value: Any) -> datetime | None:
        if value is None or value == "":
            if required:
                raise Bad(_l("is required"))
            return None
        year, month, day, hour, minute, second, fraction, offset = _match_when(value)
        try:
            tz = _offset(offset) if offset else TOKYO
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            local = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
            return local.replace(microsecond=micro, tzinfo=tz).astimezone(UTC)
        except (ValueError, OverflowError):
            raise Bad(_l("must be a real date and time")) from None

    return read


def read_day(value: Any) -> date | None:
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


def read_flag(value: Any) -> bool | None:
    """Yes or no: true/false, 1/0, はい/いいえ, ○/×, 希望する/希望しない …"""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int):
        word = unicodedata.normalize("NFKC", str(value)).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise Bad(_l("must be true or false"))


def read_email(required: bool) -> Callable:
    """An e-mail address, old docomo / au addresses included; empty when not required."""
    plain = read_text(254)

    def read(value: Any) -> str:
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


def read_choice(options: tuple[str, ...]) -> Callable:
    def read(value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or value.strip() not in options:
            raise Bad(_l("must be one of: %(choices)s", choices=", ".join(options)))
        return value.strip()

    return read


def Text(max_len: int, *, multiline: bool = False, **field: Any) -> Any:  # noqa: N802
    """Text of at most `max_len` characters; null reads as empty."""
    return Annotated[
        Annotated[str, Field(max_length=max_len)] | None,
        BeforeValidator(read_text(max_len, multiline)),
        Field(**field),
    ]


def Key(max_len: int, **field: Any) -> Any:  # noqa: N802
    """A record's number or store code: required, one line."""
    return Annotated[
        str,
        BeforeValidator(read_text(max_len, required=True)),
        Field(min_length=1, max_length=max_len, **field),
    ]


def Amount(low: int = 0, high: int = MAX_INT, **field: Any) -> Any:  # noqa: N802
    """A whole number (yen, unless said otherwise); empty keeps the stored value."""
    return Annotated[
        Annotated[int, Field(ge=low, le=high)] | None,
        BeforeValidator(read_integer(low, high)),
        KEEP_WHEN_EMPTY,
        Field(**field),
    ]


def Choice(options: tuple[str, ...]) -> Any:  # noqa: N802
    """One of `options`; empty keeps the stored value."""
    return Annotated[
        Literal[options] | None,  # type: ignore[valid-type]
        BeforeValidator(read_choice(options)),
        KEEP_WHEN_EMPTY,
    ]


When = Annotated[datetime, BeforeValidator(read_when(True)), Field(description=DATETIME_NOTE)]
MaybeWhen = Annotated[
    datetime | None, BeforeValidator(read_when(False)), Field(description=DATETIME_NOTE)
]
Day = Annotated[date | None, BeforeValidator(read_day), Field(description="YYYY-MM-DD")]
Flag = Annotated[bool | None, BeforeValidator(read_flag), KEEP_WHEN_EMPTY]
Email = Annotated[
    str,
    BeforeValidator(read_email(True)),
    Field(max_length=254, json_schema_extra={"format": "email"}),
]
MaybeEmail = Annotated[
    Annotated[str, Field(max_length=254)] | None, BeforeValidator(read_email(False))
]


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
