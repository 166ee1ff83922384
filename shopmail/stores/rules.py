"""Store settings rules (SPEC §1): pure functions over plain values, each returning its
message, or None when the value may be saved.

No app is needed to call them; messages are lazy translations, so they speak the reader's
language when shown. `shopmail.stores.forms` runs each as the validator of its field.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from shopmail.core.states import Channel, RelayMode
from shopmail.mail.addresses import (
    AddressError,
    contains_rakuten_mask,
    is_rakuten_mask,
    on_domain,
    parse_address,
    parse_address_list,
)
from shopmail.models.stores import CHANNELS_OFF_SYSTEM_DOMAIN

RELAY_MODES = tuple(RelayMode)
SECURITIES = ("none", "starttls", "tls")
CHARSETS = ("utf-8", "iso-2022-jp")

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


def one_line(text: str, limit: int = 200) -> bool:
    """A name that goes into a header: no line break (no header injection), not too long."""
    return not _LINE_BREAK.search(text) and len(text) <= limit


def address_problem(field: str, text: str, rakuten: bool) -> object | None:
    """From or Reply-To: a valid address, and not a Rakuten mask."""
    try:
        address = parse_address(text)
    except AddressError as exc:
        if field == "from_addr":
            return _l("From address: %(problem)s", problem=_problem(exc))
        return _l("Reply-To: %(problem)s", problem=_problem(exc))
    if is_rakuten_mask(address):
        return _mask_message(field, address.addr, rakuten)
    return None


def one_address_problem(text: str) -> object | None:
    """Reply-To takes exactly one address."""
    if text.count("@") > 1 or "," in text or ";" in text:
        return _l("Reply-To: enter exactly one address.")
    return None


def system_domain_problem(channel: str, from_addr: str, system_domain: str) -> object | None:
    """Rakuten, Amazon and au PAY stores may not send from the system's own mail domain."""
    if (
        channel in CHANNELS_OFF_SYSTEM_DOMAIN
        and system_domain
        and on_domain(from_addr.strip(), system_domain)
    ):
        return _l(
            "From address: Rakuten, Amazon and au PAY stores may not send from the system "
            "mail domain (%(domain)s). Enter the store's own address.",
            domain=system_domain,
        )
    return None


def bcc_problem(text: str, rakuten: bool) -> object | None:
    """BCC: a list of valid addresses, none of them a Rakuten mask."""
    try:
        for address in parse_address_list(text):
            if is_rakuten_mask(address):
                return _mask_message("bcc", address.addr, rakuten)
    except AddressError as exc:
        return _l("BCC: %(problem)s", problem=_problem(exc))
    return None


def signature_problem(field: str, text: str, rakuten: bool) -> object | None:
    """A signature must not carry a Rakuten mask address either."""
    return _mask_message(field, "", rakuten) if contains_rakuten_mask(text) else None


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


def relay_problem(channel: str, relay_mode: str) -> object | None:
    """A Rakuten store sends through Rakuten's relay, and only a Rakuten store may."""
    if channel == Channel.RAKUTEN and relay_mode != RelayMode.RAKUTEN:
        return _l(
            "Relay: a Rakuten store sends through Rakuten's relay with its SMTP AUTH ID. "
            'Choose "Rakuten relay".'
        )
    if channel != Channel.RAKUTEN and relay_mode == RelayMode.RAKUTEN:
        return _l("Relay: only Rakuten stores can use Rakuten's relay.")
    return None


def relay_for_channel(channel: str, relay_mode: str) -> str:
    """The relay to offer when the channel changes: Rakuten's for a Rakuten store; a store that
    is no longer a Rakuten store falls back to the system relay."""
    if channel == Channel.RAKUTEN:
        return RelayMode.RAKUTEN
    if relay_mode == RelayMode.RAKUTEN:
        return RelayMode.SYSTEM
    return relay_mode


def smtp_user_problem(relay_mode: str, smtp_user: str) -> object | None:
    """One word, no line break; Rakuten's relay needs it (the SMTP AUTH ID)."""
    if _LINE_BREAK.search(smtp_user) or " " in smtp_user:
        return _l("SMTP user: spaces and line breaks cannot be used.")
    if relay_mode == RelayMode.RAKUTEN and not smtp_user:
        return _l("Enter the SMTP AUTH ID for Rakuten's relay.")
    return None


def smtp_password_problem(relay_mode: str, smtp_user: str, has_password: bool) -> object | None:
    """Rakuten's relay always needs the password; an own relay when it has a user."""
    if has_password:
        return None
    if relay_mode == RelayMode.RAKUTEN:
        return _l("Enter the SMTP AUTH password for Rakuten's relay.")
    if relay_mode == RelayMode.OWN and smtp_user:
        return _l("SMTP password: enter the password of the SMTP user.")
    return None


def smtp_host_problem(smtp_host: str) -> object | None:
    """An own relay needs a host name, and only a host name (no scheme, no port)."""
    if not smtp_host:
        return _l("Enter the host name of the store's SMTP server.")
    if not _HOST.fullmatch(smtp_host):
        return _l("SMTP host: enter a host name only, such as smtp.example.jp.")
    return None


# --- an own relay's limits (the system and Rakuten relays take theirs from the environment) ---

SESSIONS_RANGE = (1, 50)
PER_MINUTE_RANGE = (0, 100_000)
PER_HOUR_RANGE = (0, 1_000_000)
PER_SESSION_RANGE = (0, 100_000)


def _within(value: int | None, bounds: tuple[int, int]) -> bool:
    """A whole number (None: nothing or no number was typed) within the bounds."""
    return value is not None and bounds[0] <= value <= bounds[1]


def smtp_sessions_problem(sessions: int | None) -> object | None:
    """How many SMTP sessions the relay accepts at once: at least one."""
    if not _within(sessions, SESSIONS_RANGE):
        return _l("Sessions at once: enter a number from 1 to 50.")
    return None


def smtp_per_minute_problem(per_minute: int | None) -> object | None:
    """Messages per minute; 0 sets no pace."""
    if not _within(per_minute, PER_MINUTE_RANGE):
        return _l("Messages per minute: enter a number from 0 to 100,000 (0: no limit).")
    return None


def smtp_per_hour_problem(per_minute: int | None, per_hour: int | None) -> object | None:
    """Messages per hour; 0 sets no pace. With both set, an hour allows at least a minute's."""
    if not _within(per_hour, PER_HOUR_RANGE):
        return _l("Messages per hour: enter a number from 0 to 1,000,000 (0: no limit).")
    if per_hour and _within(per_minute, PER_MINUTE_RANGE) and per_minute > per_hour:
        return _l(
            "Messages per hour: set it to at least the messages per minute (%(per_minute)s), "
            "or to 0 for no limit.",
            per_minute=f"{per_minute:,}",
        )
    return None


def smtp_per_session_problem(per_session: int | None) -> object | None:
    """Messages one connection carries before it reconnects; 0 sets no limit."""
    if not _within(per_session, PER_SESSION_RANGE):
        return _l("Messages per session: enter a number from 0 to 100,000 (0: no limit).")
    return None
