"""Store settings: saving a store under the rules, its test mail, and the mail server switch.

The rules themselves are pure functions in `store_rules`; `save_store` applies them all and
writes nothing when one refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from shopmail.core import audit, crypto
from shopmail.core import dispatch as queue
from shopmail.extensions import db
from shopmail.mail.addresses import parse_address, parse_address_list
from shopmail.mail.transport import Outcome, Result
from shopmail.models import DeskSettings, Store, User
from shopmail.stores.rules import validate_basics, validate_relay, validate_sender

# Changed only while the mail server is stopped, so no mail goes out half-configured.
SENDER_FIELDS = ("from_addr", "from_name", "reply_to", "bcc", "signature_pc", "signature_mobile")
RELAY_FIELDS = ("mobile_charset", "relay_mode", "smtp_host", "smtp_port", "smtp_security")
LOCKED_FIELDS = (*SENDER_FIELDS, *RELAY_FIELDS, "smtp_user", "smtp_password")
FORM = "form"  # the key of errors that belong to no single field
_REPLY_CODE = re.compile(r"^\s*(\d{3})\b")


@dataclass
class StoreInput:
    """What the settings form sends, as plain values. An empty password keeps the stored one."""

    code: str = ""
    name: str = ""
    channel: str = "own"
    from_addr: str = ""
    from_name: str = ""
    reply_to: str = ""
    bcc: str = ""
    signature_pc: str = ""
    signature_mobile: str = ""
    mobile_charset: str = "utf-8"
    relay_mode: str = "system"
    smtp_host: str = ""
    smtp_port: int | None = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    clear_password: bool = False
    follow_up_days: int | None = 7
    repeat_from_count: int | None = 2

    @classmethod
    def of(cls, store: Store) -> StoreInput:
        names = [f.name for f in fields(cls) if f.name not in ("smtp_password", "clear_password")]
        return cls(**{name: getattr(store, name) for name in names})

    def cleaned(self) -> StoreInput:
        """Blanks trimmed, line ends unified, the mask (8 dots) read as "keep the password"."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in values.items():
            if isinstance(value, str) and name != "smtp_password":
                value = value.replace("\r\n", "\n")
                values[name] = value if name.startswith("signature") else value.strip()
        if values["smtp_password"] == crypto.MASK:
            values["smtp_password"] = ""
        return StoreInput(**values)


class StoreRefused(Exception):
    """The settings break a rule: ``errors`` maps each field (or FORM) to its message."""

    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def check_store(values: StoreInput, has_password: bool, system_domain: str) -> dict[str, object]:
    """Every settings rule at once; an empty dict means the store may be saved."""
    v = values
    return {
        **validate_basics(
            v.code, v.name, v.channel, v.mobile_charset, v.follow_up_days, v.repeat_from_count
        ),
        **validate_sender(
            v.channel,
            v.from_addr,
            v.reply_to,
            v.bcc,
            v.signature_pc,
            v.signature_mobile,
            system_domain,
            from_name=v.from_name,
        ),
        **validate_relay(
            v.channel,
            v.relay_mode,
            v.smtp_host,
            v.smtp_port,
            v.smtp_security,
            v.smtp_user,
            has_password,
        ),
    }


def changed_fields(store: Store | None, values: StoreInput) -> list[str]:
    """Names of the settings that differ from the store (a new store: from the defaults)."""
    before = StoreInput.of(store) if store is not None else StoreInput()
    names = [
        f.name
        for f in fields(StoreInput)
        if f.name not in ("smtp_password", "clear_password")
        and getattr(before, f.name) != getattr(values, f.name)
    ]
    had_password = bool(store is not None and store.smtp_password_enc)
    if values.smtp_password or (values.clear_password and had_password):
        names.append("smtp_password")
    return names


def save_store(
    store: Store | None,
    values: StoreInput,
    actor: User,
    *,
    system_domain: str,
    running: bool,
) -> Store:
    """Create (``store`` None) or update a store, or raise StoreRefused and change nothing."""
    values = values.cleaned()
    keeps_password = bool(store and store.smtp_password_enc and not values.clear_password)
    errors = check_store(values, bool(values.smtp_password) or keeps_password, system_domain)
    taken = db.session.scalar(db.select(Store.id).filter_by(code=values.code))
    if taken is not None and (store is None or taken != store.id):
        errors.setdefault("code", _l("Store code: another store already uses it."))
    changed = changed_fields(store, values)
    if store is not None and running and any(name in LOCKED_FIELDS for name in changed):
        errors[FORM] = _l(
            "The mail server is running. Stop it before changing sender or relay settings, "
            "so that no mail goes out half-configured. Nothing was saved."
        )
    if errors:
        raise StoreRefused(errors)
    created = store is None
    if store is None:
        store = Store()
        db.session.add(store)
    _apply(store, values)
    resumed = bool(store.sending_paused_reason)
    store.sending_paused_reason = ""
    db.session.flush()
    audit.record(actor, "store.created" if created else "store.updated", store, fields=changed)
    db.session.commit()
    if resumed:
        queue.dispatch_sending([store.id])
    return store


def _apply(store: Store, values: StoreInput) -> None:
    for f in fields(StoreInput):
        if f.name not in ("smtp_password", "clear_password"):
            setattr(store, f.name, getattr(values, f.name))
    store.from_addr = parse_address(values.from_addr).addr
    store.reply_to = parse_address(values.reply_to).addr
    store.bcc = ", ".join(a.addr for a in parse_address_list(values.bcc))
    if values.smtp_password:
        store.smtp_password_enc = crypto.encrypt(values.smtp_password)
    elif values.clear_password:
        store.smtp_password_enc = ""


def list_stores() -> list[Store]:
    return list(db.session.scalars(db.select(Store).order_by(Store.code)))


def set_mail_server(running: bool, actor: User) -> bool:
    """Start or stop the mail server switch; False when it already was so (nothing recorded)."""
    settings = DeskSettings.get()
    if settings.mail_server_running == running:
        return False
    settings.mail_server_running = running
    action = "desk.mail_server_started" if running else "desk.mail_server_stopped"
    audit.record(actor, action, settings)
    db.session.commit()
    if running:
        queue.dispatch_sending()
    return True


@dataclass(frozen=True)
class TestMailAnswer:
    """The relay's answer in plain words, and its own words beneath."""

    ok: bool
    message: str
    reply: str


def send_test(store: Store, user: User) -> TestMailAnswer:
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
    db.session.commit()
    return answer


def explain(result: Result, to_addr: str) -> TestMailAnswer:
    """A relay's answer as a merchant would say it: sent, or what to check."""
    found = _REPLY_CODE.match(result.reply)
    code = result.code or (int(found.group(1)) if found else None)
    reply = f"{result.code} {result.reply}" if result.code else result.reply
    lowered = result.reply.lower()
    if result.outcome is Outcome.SENT:
        return TestMailAnswer(True, gettext("Sent: %(reply)s", reply=reply), reply)
    if code in (530, 534, 535) or "smtp auth" in lowered or "authentication" in lowered:
        message = gettext(
            "Authentication failed: the mail server did not accept the user (SMTP AUTH ID) "
            "and password. Check them, save, and try again."
        )
    elif code is None and any(w in lowered for w in ("connect", "set-up", "timed out", "lost")):
        message = gettext(
            "Could not connect to the mail server. Check the host name, port and encryption, "
            "and that the server is reachable."
        )
    elif code in (550, 551, 552, 553):
        message = gettext(
            "The recipient was refused: the mail server did not accept %(to)s.", to=to_addr
        )
    elif code is not None and 400 <= code < 500:
        message = gettext("The mail server refused for now. Try again in a few minutes.")
    elif code is not None and code >= 500:
        message = gettext("The mail server refused the mail.")
    else:
        message = gettext("The test mail could not be sent.")
    return TestMailAnswer(False, message, reply)
