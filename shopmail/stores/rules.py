"""Store settings rules: pure functions over plain values, each returning ``{field: message}``.

No app is needed to call them (unit-tested as such); messages are lazy translations, so they
speak the reader's language when shown. `shopmail.services.stores` applies them all on save.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from shopmail.mail.addresses import (
    AddressError,
    contains_rakuten_mask,
    is_rakuten_mask,
    on_domain,
    parse_address,
    parse_address_list,
)
from shopmail.models.stores import CHANNELS, CHANNELS_OFF_SYSTEM_DOMAIN

RELAY_MODES = ("system", "own", "rakuten")
SECURITIES = ("none", "starttls", "tls")
CHARSETS = ("utf-8", "iso-2022-jp")

_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9\-]+)*")
_LINE_BREAK = re.compile(r"[\r\n\x00]")

LABELS = {
    "from_addr": _l("From address"),
    "reply_to": _l("Reply-To address"),
    "bcc": _l("BCC"),
    "signature_pc": _l("PC signature"),
    "signature_mobile": _l("Mobile signature"),
}


class Localised:
    """A message the mail library gives in both languages, shown in the reader's."""

    def __init__(self, ja: str, en: str) -> None:
        self.ja, self.en = ja, en

    def __str__(self) -> str:
        locale = get_locale()
        return self.ja if locale is not None and locale.language == "ja" else self.en


def _problem(exc: AddressError) -> Localised:
    return Localised(exc.message_ja, exc.message_en)


def validate_basics(
    code: str,
    name: str,
    channel: str,
    mobile_charset: str,
    follow_up_days: int | None,
    repeat_from_count: int | None,
) -> dict[str, object]:
    """The store's identity and schedule: code, name, channel, charset and the two numbers."""
    errors: dict[str, object] = {}
    if not code.strip():
        errors["code"] = _l("Enter the store code.")
    elif not _CODE.fullmatch(code.strip()):
        errors["code"] = _l("Store code: use only letters, digits, - and _ (up to 40).")
    if not name.strip():
        errors["name"] = _l("Enter the store name.")
    elif _LINE_BREAK.search(name) or len(name) > 200:
        errors["name"] = _l("Store name: one line of up to 200 characters.")
    if channel not in CHANNELS:
        errors["channel"] = _l("Choose the store's channel.")
    if mobile_charset not in CHARSETS:
        errors["mobile_charset"] = _l("Charset for mobile recipients: choose UTF-8 or ISO-2022-JP.")
    if follow_up_days is None or not 1 <= follow_up_days <= 365:
        errors["follow_up_days"] = _l("Follow-up delay: enter a number of days from 1 to 365.")
    if repeat_from_count is None or not 2 <= repeat_from_count <= 99:
        errors["repeat_from_count"] = _l("Repeat customer: enter a purchase count from 2 to 99.")
    return errors


def validate_sender(
    channel: str,
    from_addr: str,
    reply_to: str,
    bcc: str,
    signature_pc: str,
    signature_mobile: str,
    system_domain: str,
    from_name: str = "",
) -> dict[str, object]:
    """SPEC §1's sender rules: valid addresses, one Reply-To, no Rakuten mask, the domain rule."""
    errors: dict[str, object] = {}
    rakuten = channel == "rakuten"
    if not from_addr.strip():
        errors["from_addr"] = _l("Enter the From address.")
    else:
        errors.update(_address_rule("from_addr", from_addr, rakuten))
    if (
        "from_addr" not in errors
        and channel in CHANNELS_OFF_SYSTEM_DOMAIN
        and system_domain
        and on_domain(from_addr.strip(), system_domain)
    ):
        errors["from_addr"] = _l(
            "From address: Rakuten, Amazon and au PAY stores may not send from the system "
            "mail domain (%(domain)s). Enter the store's own address.",
            domain=system_domain,
        )
    if _LINE_BREAK.search(from_name) or len(from_name) > 200:
        errors["from_name"] = _l("From display name: one line of up to 200 characters.")
    if not reply_to.strip():
        errors["reply_to"] = _l("Enter the Reply-To address.")
    elif reply_to.count("@") > 1 or "," in reply_to or ";" in reply_to:
        errors["reply_to"] = _l("Reply-To: enter exactly one address.")
    else:
        errors.update(_address_rule("reply_to", reply_to, rakuten))
    try:
        for address in parse_address_list(bcc):
            if is_rakuten_mask(address):
                errors["bcc"] = _mask_message("bcc", address.addr, rakuten)
                break
    except AddressError as exc:
        errors["bcc"] = _l("BCC: %(problem)s", problem=_problem(exc))
    for field, text in (("signature_pc", signature_pc), ("signature_mobile", signature_mobile)):
        if contains_rakuten_mask(text):
            errors[field] = _mask_message(field, "", rakuten)
    return errors


def _address_rule(field: str, text: str, rakuten: bool) -> dict[str, object]:
    try:
        address = parse_address(text)
    except AddressError as exc:
        if field == "from_addr":
            return {field: _l("From address: %(problem)s", problem=_problem(exc))}
        return {field: _l("Reply-To: %(problem)s", problem=_problem(exc))}
    if is_rakuten_mask(address):
        return {field: _mask_message(field, address.addr, rakuten)}
    return {}


def _mask_message(field: str, address: str, rakuten: bool) -> object:
    label = LABELS[field]
    if address and rakuten:
        return _l(
            "%(field)s: %(address)s is a Rakuten mask address (…@shop.rakuten.co.jp) and cannot "
            "be used. A Rakuten store must use an address registered with Rakuten.",
            field=label,
            address=address,
        )
    if address:
        return _l(
            "%(field)s: %(address)s is a Rakuten mask address (…@shop.rakuten.co.jp) and cannot "
            "be used.",
            field=label,
            address=address,
        )
    if rakuten:
        return _l(
            "%(field)s: contains a Rakuten mask address (…@shop.rakuten.co.jp); remove it. A "
            "Rakuten store must use an address registered with Rakuten.",
            field=label,
        )
    return _l(
        "%(field)s: contains a Rakuten mask address (…@shop.rakuten.co.jp); remove it.",
        field=label,
    )


def validate_relay(
    channel: str,
    relay_mode: str,
    smtp_host: str,
    smtp_port: int | None,
    smtp_security: str,
    smtp_user: str,
    has_password: bool,
) -> dict[str, object]:
    """Which relay may send for the store and what it needs (Rakuten: AUTH ID and password)."""
    errors: dict[str, object] = {}
    if relay_mode not in RELAY_MODES:
        return {"relay_mode": _l("Choose how this store's mail is sent.")}
    if channel == "rakuten" and relay_mode != "rakuten":
        errors["relay_mode"] = _l(
            "Relay: a Rakuten store sends through Rakuten's relay with its SMTP AUTH ID. "
            'Choose "Rakuten relay".'
        )
    elif channel != "rakuten" and relay_mode == "rakuten":
        errors["relay_mode"] = _l("Relay: only Rakuten stores can use Rakuten's relay.")
    if _LINE_BREAK.search(smtp_user) or " " in smtp_user:
        errors["smtp_user"] = _l("SMTP user: spaces and line breaks cannot be used.")
    elif relay_mode == "rakuten" and not smtp_user:
        errors["smtp_user"] = _l("Enter the SMTP AUTH ID for Rakuten's relay.")
    if relay_mode == "rakuten" and not has_password:
        errors["smtp_password"] = _l("Enter the SMTP AUTH password for Rakuten's relay.")
    if relay_mode != "own":
        return errors
    if not smtp_host:
        errors["smtp_host"] = _l("Enter the host name of the store's SMTP server.")
    elif not _HOST.fullmatch(smtp_host):
        errors["smtp_host"] = _l("SMTP host: enter a host name only, such as smtp.example.jp.")
    if smtp_port is None or not 1 <= smtp_port <= 65535:
        errors["smtp_port"] = _l("SMTP port: enter a number from 1 to 65535.")
    if smtp_security not in SECURITIES:
        errors["smtp_security"] = _l("Encryption: choose none, STARTTLS or SSL/TLS.")
    if smtp_user and not has_password:
        errors["smtp_password"] = _l("SMTP password: enter the password of the SMTP user.")
    return errors
