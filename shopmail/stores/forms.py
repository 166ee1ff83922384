"""The store settings form: every rule of SPEC §1 as a WTForms validator of its field.

Field validators run the pure rules of `rules`; the first refusal stops a field's checks, so a
field shows one message, the most basic first. Rules that depend on another field (the channel,
the relay) read it from the form. The mail server lock is the form's own check.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, NumberRange, Regexp, StopValidation
from wtforms.widgets import TextInput

from shopmail.core import crypto
from shopmail.core.states import Channel, RelayMode
from shopmail.extensions import db
from shopmail.models import DeskSettings, Store
from shopmail.stores import rules
from shopmail.stores.settings import (
    LOCKED_FIELDS,
    NEW_STORE,
    OWN_RELAY_NUMBERS,
    STORE_FIELDS,
    changed_fields,
    settings_of,
)
from shopmail.web.labels import CHANNELS

RELAY_LABELS = {
    RelayMode.SYSTEM: _l("System relay"),
    RelayMode.OWN: _l("Own SMTP relay"),
    RelayMode.RAKUTEN: _l("Rakuten relay (SMTP AUTH)"),
}
SECURITY_LABELS = {"none": _l("None"), "starttls": _l("STARTTLS"), "tls": _l("SSL/TLS")}
CHARSET_LABELS = {"utf-8": "UTF-8", "iso-2022-jp": "ISO-2022-JP"}
LOCKED = _l(
    "The mail server is running. Stop it before changing sender or relay settings, "
    "so that no mail goes out half-configured. Nothing was saved."
)


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


# --- filters: what is typed, as it is kept ---------------------------------------------------


def one_text(value: str | None) -> str:
    """Blanks trimmed, line ends unified (a line break left inside is refused by its rule)."""
    return (value or "").replace("\r\n", "\n").strip()


def block_text(value: str | None) -> str:
    """A signature keeps its blanks and blank lines; only line ends are unified."""
    return (value or "").replace("\r\n", "\n")


def typed_password(value: str | None) -> str:
    """The 8 dots typed back, or nothing typed, mean "keep the stored password"."""
    return "" if value in (None, crypto.MASK) else value


_GROUPED = re.compile(r"\d{1,3}(,\d{3})+")


class WholeNumberField(IntegerField):
    """A whole number in a text box ("10,000" too); anything else is None, for its range rule
    to refuse. At most 9 digits, so that no number typed overflows its column."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            text = valuelist[0].strip()
            if _GROUPED.fullmatch(text):
                text = text.replace(",", "")
            self.data = int(text) if text.isdecimal() and len(text) < 10 else None


# --- validators: one per rule -----------------------------------------------------------------


def _refuse(message: object | None) -> None:
    if message:
        raise StopValidation(message)


class OneLine:
    """A name that goes into a mail header: one line, at most ``limit`` characters."""

    def __init__(self, message: object, limit: int = 200) -> None:
        self.message, self.limit = message, limit

    def __call__(self, form: StoreForm, field: Any) -> None:
        _refuse(None if rules.one_line(field.data, self.limit) else self.message)


def unused_code(form: StoreForm, field: Any) -> None:
    """No two stores share a code."""
    owner = db.session.scalar(db.select(Store.id).filter_by(code=field.data))
    if owner is not None and (form.store is None or owner != form.store.id):
        _refuse(_l("Store code: another store already uses it."))


def sender_address(form: StoreForm, field: Any) -> None:
    _refuse(rules.address_problem(field.name, field.data, form.rakuten))


def off_system_domain(form: StoreForm, field: Any) -> None:
    _refuse(rules.system_domain_problem(form.channel.data, field.data, form.system_domain))


def one_address(form: StoreForm, field: Any) -> None:
    _refuse(rules.one_address_problem(field.data))


def bcc_addresses(form: StoreForm, field: Any) -> None:
    _refuse(rules.bcc_problem(field.data, form.rakuten))


def no_mask_inside(form: StoreForm, field: Any) -> None:
    _refuse(rules.signature_problem(field.name, field.data, form.rakuten))


def relay_for_channel(form: StoreForm, field: Any) -> None:
    if not field.errors:  # an unknown relay already has its message
        _refuse(rules.relay_problem(form.channel.data, field.data))


def smtp_user_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_user_problem(form.relay_mode.data, field.data))


def smtp_password_rule(form: StoreForm, field: Any) -> None:
    _refuse(
        rules.smtp_password_problem(form.relay_mode.data, form.smtp_user.data, form.has_password)
    )


def smtp_host_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_host_problem(field.data))


def own_relay_only(form: StoreForm, field: Any) -> None:
    """Host, port, encryption and limits matter only for an own relay: else nothing to check."""
    if form.relay_mode.data != RelayMode.OWN:
        raise StopValidation()


def smtp_sessions_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_sessions_problem(field.data))


def smtp_per_minute_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_per_minute_problem(field.data))


def smtp_per_hour_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_per_hour_problem(form.smtp_per_minute.data, field.data))


def smtp_per_session_rule(form: StoreForm, field: Any) -> None:
    _refuse(rules.smtp_per_session_problem(field.data))


class StoreForm(FlaskForm):
    code = StringField(
        _l("Store code"),
        filters=[one_text],
        validators=[
            DataRequired(_l("Enter the store code.")),
            Regexp(
                r"[A-Za-z0-9_\-]{1,40}\Z",
                message=_l("Store code: use only letters, digits, - and _ (up to 40)."),
            ),
            unused_code,
        ],
    )
    name = StringField(
        _l("Store name"),
        filters=[one_text],
        validators=[
            DataRequired(_l("Enter the store name.")),
            OneLine(_l("Store name: one line of up to 200 characters.")),
        ],
    )
    channel = SelectField(
        _l("Channel"),
        choices=choices(CHANNELS),
        invalid_choice_message=_l("Choose the store's channel."),
    )
    from_addr = StringField(
        _l("From address"),
        filters=[one_text],
        validators=[
            DataRequired(_l("Enter the From address.")),
            sender_address,
            off_system_domain,
        ],
    )
    from_name = StringField(
        _l("From display name"),
        filters=[one_text],
        validators=[OneLine(_l("From display name: one line of up to 200 characters."))],
    )
    reply_to = StringField(
        _l("Reply-To address"),
        filters=[one_text],
        validators=[
            DataRequired(_l("Enter the Reply-To address.")),
            one_address,
            sender_address,
        ],
    )
    bcc = StringField(_l("BCC (comma-separated)"), filters=[one_text], validators=[bcc_addresses])
    signature_pc = TextAreaField(
        _l("PC signature"), filters=[block_text], validators=[no_mask_inside]
    )
    signature_mobile = TextAreaField(
        _l("Mobile signature"), filters=[block_text], validators=[no_mask_inside]
    )
    mobile_charset = SelectField(
        _l("Charset for mobile recipients"),
        choices=choices(CHARSET_LABELS),
        invalid_choice_message=_l("Charset for mobile recipients: choose UTF-8 or ISO-2022-JP."),
    )
    relay_mode = RadioField(
        _l("Relay"),
        choices=choices(RELAY_LABELS),
        invalid_choice_message=_l("Choose how this store's mail is sent."),
        validators=[relay_for_channel],
    )
    smtp_host = StringField(
        _l("SMTP host"), filters=[one_text], validators=[own_relay_only, smtp_host_rule]
    )
    smtp_port = WholeNumberField(
        _l("SMTP port"),
        validators=[
            own_relay_only,
            NumberRange(1, 65535, _l("SMTP port: enter a number from 1 to 65535.")),
        ],
    )
    smtp_security = SelectField(
        _l("Encryption"),
        choices=choices(SECURITY_LABELS),
        validate_choice=False,  # checked only for an own relay
        validators=[
            own_relay_only,
            AnyOf(rules.SECURITIES, _l("Encryption: choose none, STARTTLS or SSL/TLS.")),
        ],
    )
    smtp_user = StringField(
        _l("SMTP user / SMTP AUTH ID"), filters=[one_text], validators=[smtp_user_rule]
    )
    smtp_password = PasswordField(
        _l("SMTP password"), filters=[typed_password], validators=[smtp_password_rule]
    )
    clear_password = BooleanField(_l("Clear the stored password"))
    smtp_sessions = WholeNumberField(
        _l("Sessions at once"), validators=[own_relay_only, smtp_sessions_rule]
    )
    smtp_per_minute = WholeNumberField(
        _l("Messages per minute"), validators=[own_relay_only, smtp_per_minute_rule]
    )
    smtp_per_hour = WholeNumberField(
        _l("Messages per hour"), validators=[own_relay_only, smtp_per_hour_rule]
    )
    smtp_per_session = WholeNumberField(
        _l("Messages per session"), validators=[own_relay_only, smtp_per_session_rule]
    )
    follow_up_days = WholeNumberField(
        _l("Follow-up after (days)"),
        validators=[
            NumberRange(1, 365, _l("Follow-up delay: enter a number of days from 1 to 365."))
        ],
    )
    repeat_from_count = WholeNumberField(
        _l("Repeat customer from (purchases)"),
        validators=[
            NumberRange(2, 99, _l("Repeat customer: enter a purchase count from 2 to 99."))
        ],
    )

    def __init__(
        self,
        store: Store | None = None,
        *,
        running: bool | None = None,
        system_domain: str | None = None,
        **kwargs: Any,
    ) -> None:
        """The form of ``store`` (None: a new store, from the defaults), with what is posted.

        ``running`` (the mail server switch) and ``system_domain`` default to the desk's own.
        """
        super().__init__(obj=store, data=None if store is not None else NEW_STORE, **kwargs)
        self.store = store
        if running is None:
            running = store is not None and DeskSettings.current().mail_server_running
        self.running = running
        if system_domain is None:
            system_domain = current_app.config["SHOPMAIL_MAIL_DOMAIN"]
        self.system_domain = system_domain

    @property
    def rakuten(self) -> bool:
        return self.channel.data == Channel.RAKUTEN

    @property
    def has_password(self) -> bool:
        """A password is typed, or one is stored and not being cleared."""
        stored = bool(self.store is not None and self.store.smtp_password_enc)
        return bool(self.smtp_password.data) or (stored and not self.clear_password.data)

    def values(self) -> dict[str, object]:
        """The settings as `settings.save_store` takes them."""
        names = (*STORE_FIELDS, "smtp_password", "clear_password")
        values = {name: self[name].data for name in names}
        if self.relay_mode.data != RelayMode.OWN:
            # Checked only for an own relay: a number left unreadable keeps what was saved.
            before = settings_of(self.store)
            for name in OWN_RELAY_NUMBERS:
                if values[name] is None:
                    values[name] = before[name]
        return values

    def locked_changes(self) -> list[str]:
        """The sender and relay settings this post would change."""
        return [n for n in changed_fields(self.store, self.values()) if n in LOCKED_FIELDS]

    def validate(self, extra_validators: Any = None) -> bool:
        """Every field's rules, then the lock: sender and relay change only while stopped."""
        valid = super().validate(extra_validators)
        self.form_errors = []
        if self.store is not None and self.running and self.locked_changes():
            self.form_errors.append(LOCKED)
        return valid and not self.form_errors


class SwitchForm(FlaskForm):
    running = HiddenField()
    next = HiddenField()
