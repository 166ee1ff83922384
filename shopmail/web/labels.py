"""Display names for the shop's codes (channels, mail kinds, states, API scopes), in the
user's language."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from shopmail.core.states import ApiScope, Channel, MessageKind, MessageState

CHANNELS = {
    Channel.RAKUTEN: _l("Rakuten"),
    Channel.AMAZON: _l("Amazon"),
    Channel.AUPAY: _l("au PAY Market"),
    Channel.YAHOO: _l("Yahoo! Shopping"),
    Channel.OWN: _l("Own site"),
    Channel.B2B: _l("B2B shop"),
    Channel.OTHER: _l("Other"),
}
KINDS = {
    MessageKind.ORDER_CONFIRMATION: _l("Order confirmation"),
    MessageKind.SHIPPING_NOTICE: _l("Shipping notice"),
    MessageKind.FOLLOW_UP: _l("Follow-up"),
    MessageKind.RECORD: _l("Record mail"),
    MessageKind.BROADCAST: _l("Broadcast"),
    MessageKind.ADMIN_COPY: _l("Admin copy"),
    MessageKind.TEST: _l("Test mail"),
}
STATES = {
    MessageState.HELD: _l("Held for review"),
    MessageState.QUEUED: _l("Queued"),
    MessageState.SENDING: _l("Sending"),
    MessageState.SENT: _l("Sent"),
    MessageState.RETRYING: _l("Retrying"),
    MessageState.FAILED: _l("Failed"),
    MessageState.UNKNOWN: _l("Unknown (may have arrived)"),
    MessageState.BOUNCED: _l("Bounced"),
    MessageState.DELETED: _l("Deleted"),
}

SCOPES = {
    ApiScope.RECORDS: _l("Write orders, shipments and quotes"),
    ApiScope.MEMBERS: _l("Write members"),
    ApiScope.BROADCASTS: _l("Create and run broadcasts"),
    ApiScope.READ: _l("Read everything"),
}


def init_app(app: Flask) -> None:
    @app.context_processor
    def labels():
        return {
            "channel_label": lambda code: CHANNELS.get(code, code),
            "kind_label": lambda code: KINDS.get(code, code),
            "state_label": lambda code: STATES.get(code, code),
            "scope_label": lambda code: SCOPES.get(code, code),
        }


LANGUAGE_CHOICES = [SelectChoice("ja", _l("Japanese")), SelectChoice("en", _l("English"))]
