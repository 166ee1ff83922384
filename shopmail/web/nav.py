"""The navigation: every area of the product, in the order staff use them.

Staff see only the entries their role may open.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.web import requires_admin


@dataclass(frozen=True)
class Entry:
    label: object
    endpoint: str


SECTIONS: list[tuple[object, list[Entry]]] = [
    (
        _l("Automatic mails"),
        [
            Entry(_l("Operations"), "operations.operations"),
            Entry(_l("Templates"), "automatic.templates"),
            Entry(_l("Send queue"), "automatic.queue"),
            Entry(_l("History"), "automatic.history"),
            Entry(_l("Bounces"), "bounces.index"),
        ],
    ),
    (
        _l("Manual mails"),
        [
            Entry(_l("Orders"), "records.orders"),
            Entry(_l("Shipments"), "records.shipments"),
            Entry(_l("Quotes"), "records.quotes"),
            Entry(_l("Record mail templates"), "records.templates"),
        ],
    ),
    (
        _l("Broadcasts"),
        [
            Entry(_l("Members"), "members.index"),
            Entry(_l("Broadcasts"), "broadcasts.index"),
        ],
    ),
    (
        _l("Settings"),
        [
            Entry(_l("Stores"), "stores.index"),
            Entry(_l("Data import"), "imports.index"),
            Entry(_l("API tokens"), "tokens.index"),
            Entry(_l("Users"), "users.index"),
            Entry(_l("Audit log"), "audit.index"),
        ],
    ),
]


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        return {"nav_sections": _visible_sections(app)}


def _visible_sections(app: Flask) -> list:
    if not current_user.is_authenticated:
        return []
    sections = []
    for title, entries in SECTIONS:
        links = []
        for entry in entries:
            if requires_admin(app, entry.endpoint) and not current_user.is_admin:
                continue
            links.append((entry.label, url_for(entry.endpoint), entry.endpoint))
        if links:
            sections.append((title, links))
    return sections
