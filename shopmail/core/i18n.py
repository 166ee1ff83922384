"""Language and time: Japanese by default, English on request; times shown in Asia/Tokyo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, has_request_context, request, session
from flask_babel import format_decimal, get_locale
from flask_login import current_user

from shopmail.models.users import LANGUAGES

TOKYO = ZoneInfo("Asia/Tokyo")


def select_locale() -> str:
    if has_request_context() and request.path.startswith("/api/") and request.accept_languages:
        # API clients have no user and no session: they say their language in the header.
        return request.accept_languages.best_match(LANGUAGES) or "ja"
    if current_user and current_user.is_authenticated:
        return current_user.language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return "ja"


def compile_catalogs(directory: Path) -> None:
    """Compile each messages.po to .mo when the .po is newer (the .mo is build output)."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po:
            catalog = read_po(po)
        try:
            with mo_path.open("wb") as mo:
                write_mo(mo, catalog)
        except OSError:  # a read-only install ships compiled catalogs
            pass


def tokyo(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime as Tokyo wall time, the only way times are shown."""
    if value is None:
        return ""
    return value.astimezone(TOKYO).strftime(fmt)


def tokyo_midnight(day: date) -> datetime:
    """The UTC moment a Tokyo calendar day begins."""
    return datetime.combine(day, time(), tzinfo=TOKYO).astimezone(UTC)


def on_tokyo_days(column, start: date | None, end: date | None) -> list:
    """Conditions: the UTC time in `column` falls on the Tokyo days from `start` to `end`, both
    included (None leaves that side open)."""
    conditions = []
    if start:
        conditions.append(column >= tokyo_midnight(start))
    if end:
        conditions.append(column < tokyo_midnight(end + timedelta(days=1)))
    return conditions


def tokyo_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return tokyo(value, "%Y-%m-%d")
    return value.isoformat()  # YYYY-MM-DD, cheaper than strftime for each broadcast copy


def yen(value: int | None) -> str:
    return "" if value is None else f"{format_decimal(value)}円"


def init_app(app: Flask) -> None:
    compile_catalogs(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    app.jinja_env.filters.update(tokyo=tokyo, tokyo_date=tokyo_date, yen=yen)
    app.jinja_env.globals["get_locale"] = get_locale
