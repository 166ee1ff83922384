"""Store settings: saving a store, its test mail, and the mail server switch.

The rules are checked before: `forms.StoreForm` runs each rule of `rules` as a validator, so
`save_store` receives settings that may be saved.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext

from shopmail.core import audit, crypto, dispatch, relay_answers, relays
from shopmail.core.relay_answers import RelayAnswer
from shopmail.core.states import Channel, RelayMode
from shopmail.extensions import db
from shopmail.mail.addresses import parse_address, parse_address_list
from shopmail.mail.transport import Result
from shopmail.models import DeskSettings, Store, User

# The settings a store keeps, in the form's order; a new store starts from NEW_STORE.
STORE_FIELDS = (
    "code",
    "name",
    "channel",
    "from_addr",
    "from_name",
    "reply_to",
    "bcc",
    "signature_pc",
    "signature_mobile",
    "mobile_charset",
    "relay_mode",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_sessions",
    "smtp_per_minute",
    "smtp_per_hour",
    "smtp_per_session",
    "follow_up_days",
    "repeat_from_count",
)
NEW_STORE: dict[str, object] = {
    **dict.fromkeys(STORE_FIELDS, ""),
    "channel": Channel.OWN,
    "mobile_charset": "utf-8",
    "relay_mode": RelayMode.SYSTEM,
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_sessions": 4,
    "smtp_per_minute": 0,
    "smtp_per_hour": 0,
    "smtp_per_session": 1000,
    "follow_up_days": 7,
    "repeat_from_count": 2,
}
# Changed only while the mail server is stopped, so no mail goes out half-configured.
SENDER_FIELDS = ("from_addr", "from_name", "reply_to", "bcc", "signature_pc", "signature_mobile")
# An own relay's numbers: checked only for an own relay (see `forms.StoreForm.values`).
OWN_RELAY_NUMBERS = (
    "smtp_port",
    "smtp_sessions",
    "smtp_per_minute",
    "smtp_per_hour",
    "smtp_per_session",
)
RELAY_FIELDS = ("mobile_charset", "relay_mode", "smtp_host", "smtp_security", *OWN_RELAY_NUMBERS)
LOCKED_FIELDS = (*SENDER_FIELDS, *RELAY_FIELDS, "smtp_user", "smtp_password")


def settings_of(store: Store | None) -> dict[str, object]:
    """A store's settings by name (a new store: the defaults). Never its password."""
    if store is None:
        return dict(NEW_STORE)
    return {name: getattr(store, name) for name in STORE_FIELDS}


def changed_fields(store: Store | None, values: Mapping[str, object]) -> list[str]:
    """Names of the settings that differ from the store (a new store: from the defaults).

    ``values`` holds STORE_FIELDS plus ``smtp_password`` (empty: keep) and ``clear_password``.
    """
    before = settings_of(store)
    names = [name for name in STORE_FIELDS if before[name] != values[name]]
    had_password = bool(store is not None and store.smtp_password_enc)
    if values["smtp_password"] or (values["clear_password"] and had_password):
        names.append("smtp_password")
    return names


def save_store(store: Store | None, values: Mapping[str, object], actor: User) -> Store:
    """Create (``store`` None) or update a store with settings the StoreForm has validated."""
    changed = changed_fields(store, values)
    created = store is None
    if store is None:
        store = Store()
        db.session.add(store)
    _apply(store, values)
    resumed = bool(store.sending_paused_reason)
    store.sending_paused_reason = ""
    db.session.flush()
    audit.record(actor, "store.created" if created else "store.updated", store, fields=changed)
    if resumed:
        dispatch.send_soon([store.id])
    return store


def _apply(store: Store, values: Mapping[str, object]) -> None:
    for name in STORE_FIELDS:
        setattr(store, name, values[name])
    store.from_addr = parse_address(str(values["from_addr"])).addr
    store.reply_to = parse_address(str(values["reply_to"])).addr
    store.bcc = ", ".join(a.addr for a in parse_address_list(str(values["bcc"])))
    if values["smtp_password"]:
        store.smtp_password_enc = crypto.encrypt(str(values["smtp_password"]))
    elif values["clear_password"]:
        store.smtp_password_enc = ""


def list_stores() -> list[Store]:
    return list(db.session.scalars(db.select(Store).order_by(Store.code)))


def relay_statuses(stores: list[Store]) -> dict[int, relays.Status]:
    """Each store's relay state by store id, read once per relay (stores may share one)."""
    by_relay: dict[str, relays.Status] = {}
    for store in stores:
        if relays.relay_key(store) not in by_relay:
            by_relay[relays.relay_key(store)] = relays.status_of(store)
    return {store.id: by_relay[relays.relay_key(store)] for store in stores}


def set_mail_server(running: bool, actor: User) -> bool:
    """Start or stop the mail server switch; False when it already was so (nothing recorded)."""
    settings = DeskSettings.get()
    if settings.mail_server_running == running:
        return False
    settings.mail_server_running = running
    action = "desk.mail_server_started" if running else "desk.mail_server_stopped"
    audit.record(actor, action, settings)
    if running:
        dispatch.send_soon()
    return True


def send_test(store: Store, user: User) -> RelayAnswer:
    """Send a test mail through the store's relay to the user; works with the server stopped."""
    from shopmail.core import sending

    subject = gettext("Test mail from %(store)s", store=store.name)
    body = gettext(
        "This is a test mail from shopmail, sent with the settings of %(store)s.", store=store.name
    )
    result = sending.send_test_mail(store, user.email, subject, f"{body}\n\n{store.signature_pc}")
    answer = explain(result, user.email)
    audit.record(
        user, "store.test_mail_sent", store, to=user.email, ok=answer.ok, reply=answer.reply
    )
    return answer


def explain(result: Result, to_addr: str) -> RelayAnswer:
    """A relay's answer to the test mail as a merchant would say it: sent, or what to check."""
    return relay_answers.explain(result, to_addr, gettext("The test mail could not be sent."))
