"""Content-check findings (`mail.content_checks`) as the template editors and the broadcast
confirm step list them: (severity, "<field> <line, column>: …") pairs for the
`content_notes` macro — "error" for what keeps a text from being saved or sent."""

from __future__ import annotations

from collections.abc import Iterable

from flask import flash
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from shopmail.mail.content_checks import ContentWarning

FIELDS = {
    "subject": _l("Subject"),
    "body": _l("Body"),
    "title": _l("Title"),
    "header": _l("Header (above the record)"),
    "footer": _l("Footer (below the record)"),
}


def message(finding: ContentWarning) -> str:
    return finding.message_ja if str(get_locale()) == "ja" else finding.message_en


def notes(findings: Iterable[ContentWarning]) -> list[tuple[str, str]]:
    return [
        ("error" if f.blocks else "warning", f"{FIELDS.get(f.field, f.field)} {message(f)}")
        for f in findings
    ]


def flash_warnings(findings: Iterable[ContentWarning]) -> None:
    """After a save: what was saved but should be checked, in one message."""
    texts = [text for _, text in notes(findings)]
    if texts:
        flash(
            _l("Check these: they are sent as written. %(notes)s", notes=" / ".join(texts)),
            "warning",
        )
