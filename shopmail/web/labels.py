"""Display names for the shop's codes (channels, mail kinds, states), in the user's language."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

CHANNELS = {
    "rakuten": _l("Rakuten"),
    "amazon": _l("Amazon"),
    "aupay": _l("au PAY Market"),
    "yahoo": _l("Yahoo! Shopping"),
    "own": _l("Own site"),
    "b2b": _l("B2B shop"),
    "other": _l("Other"),
}
KINDS = {
    "order_confirmation": _l("Order confirmation"),
    "shipping_notice": _l("Shipping notice"),
    "follow_up": _l("Follow-up"),
    "record": _l("Record mail"),
    "broadcast": _l("Broadcast"),
    "admin_copy": _l("Admin copy"),
    "test": _l("Test mail"),
}
STATES = {
    "held": _l("Held for review"),
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "retrying": _l("Retrying"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown (may have arrived)"),
    "deleted": _l("Deleted"),
}


def init_app(app: Flask) -> None:
    @app.context_processor
    def labels():
        return {
            "channel_label": lambda code: CHANNELS.get(code, code),
            "kind_label": lambda code: KINDS.get(code, code),
            "state_label": lambda code: STATES.get(code, code),
        }


LANGUAGE_CHOICES = [SelectChoice("ja", _l("Japanese")), SelectChoice("en", _l("English"))]
