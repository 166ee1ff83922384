"""E-mail addresses: validation, PC / mobile classification and Rakuten mask addresses.

Japanese carriers allowed addresses such as ``taro..x.@docomo.ne.jp`` until 2009 and many are
still in use. They break RFC 5322's dot-atom rule, so they are accepted for docomo and au
domains only, marked ``legacy`` and written with a quoted local part on the wire.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

__all__ = [
    "CONTROL_CHARACTERS",
    "DEFAULT_MOBILE_DOMAINS",
    "LEGACY_DOMAINS",
    "RAKUTEN_MASK_DOMAIN",
    "Address",
    "AddressError",
    "contains_rakuten_mask",
    "device_of",
    "is_mobile",
    "is_rakuten_mask",
    "on_domain",
    "parse_address",
    "parse_address_list",
]

# Carrier ("携帯") mail domains; subdomains count too (pdx.ne.jp has di., dj., … hosts).
DEFAULT_MOBILE_DOMAINS: tuple[str, ...] = (
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "uqmobile.jp",
    "softbank.ne.jp",
    "i.softbank.jp",
    "vodafone.ne.jp",
    "disney.ne.jp",
    "ymobile.ne.jp",
    "y-mobile.ne.jp",
    "emobile.ne.jp",
    "willcom.com",
    "wcm.ne.jp",
    "pdx.ne.jp",
    "rakumail.jp",
)

# Only these carriers handed out the pre-2009 addresses, so only they get the leniency.
LEGACY_DOMAINS: tuple[str, ...] = ("docomo.ne.jp", "ezweb.ne.jp")
RAKUTEN_MASK_DOMAIN = "shop.rakuten.co.jp"

_LEGACY_LOCAL = re.compile(r"[A-Za-z0-9._\-+/?]{1,64}")
# C0, DEL, C1 (incl. U+0085 NEL) and the Unicode line / paragraph separators: what must never
# reach a header line (addresses refuse it, compose turns it into spaces, imports refuse it).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MASK_IN_TEXT = re.compile(
    r"[A-Za-z0-9._%+\-/?!#$&'*=^`{|}~]+@shop\.rakuten\.co\.jp(?![A-Za-z0-9\-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)


class AddressError(ValueError):
    """An address the shop cannot send to or from; carries messages for both UI languages."""

    def __init__(self, code: str, message_ja: str, message_en: str, value: str = "") -> None:
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.value = value
        super().__init__(message_en)


@dataclass(frozen=True)
class Address:
    """A validated address. ``addr`` keeps the local part as typed, the domain lower-cased."""

    addr: str
    local: str
    domain: str
    legacy: bool = False

    @property
    def smtp(self) -> str:
        """The form for RCPT TO and the To header: legacy local parts in quotes."""
        if self.legacy:
            return f'"{self.local}"@{self.domain}'
        return self.addr

    def __str__(self) -> str:
        return self.addr


def parse_address(text: str) -> Address:
    """Validate one address (surrounding blanks are ignored) or raise :class:`AddressError`."""
    return _parse_cached(text)


# Cached because compose() parses the same From / Reply-To for every mail of a broadcast.
@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Address:
    if CONTROL_CHARACTERS.search(text):
        raise _error("control", text)
    value = text.strip(" ")
    if not value:
        raise _error("empty", text)
    if "<" in value or ">" in value:
        raise _error("display_name", text)
    if "," in value or ";" in value:
        raise _error("multiple", text)
    if _SPACE.search(value):
        raise _error("space", text)
    if "@" not in value:
        raise _error("missing_at", text)
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    # RFC 5321 §4.5.3.1: 64 octets before the @, 255 after, 254 in all (a path of 256).
    if len(local) > 64 or len(domain) > 255 or len(value) > 254:
        raise _error("too_long", text)
    if "=?" in local:
        # Shaped like an encoded word (RFC 2047): some mail clients decode it into other text,
        # even other recipients.
        raise _error("encoded_word", text)
    if _is_legacy(local, domain):
        return _parse_legacy(local, domain, text)
    if _PLAIN.fullmatch(value) and len(local) <= 64 and len(value) <= 254 and not _special(domain):
        # The plain form nearly every address has, decided in microseconds (a broadcast parses
        # thousands); anything unusual goes through email-validator below.
        return Address(f"{local}@{domain}", local, domain, False)
    try:
        valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise _error("invalid", text, detail=str(exc)) from None
    local, domain = valid.local_part, valid.ascii_domain.lower()
    return Address(f"{local}@{domain}", local, domain, False)


_SPACE = re.compile(r"\s")  # what str.isspace() calls blank, found in one pass
_PLAIN = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _special(domain: str) -> bool:
    """Special-use domains (RFC 6761) that email-validator refuses: let it say so."""
    return any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES)


def _is_legacy(local: str, domain: str) -> bool:
    return on_domain_name(domain, LEGACY_DOMAINS) and (
        ".." in local or local.startswith(".") or local.endswith(".")
    )


def _parse_legacy(local: str, domain: str, text: str) -> Address:
    if not _LEGACY_LOCAL.fullmatch(local):
        raise _error("invalid", text, detail="The part before the @-sign has invalid characters.")
    try:
        # Validate the domain (and total length) with a stand-in local part of the same length.
        validate_email(
            f"{'x' * len(local)}@{domain}", check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as exc:
        raise _error("invalid", text, detail=str(exc)) from None
    return Address(f"{local}@{domain}", local, domain, True)


def parse_address_list(text: str) -> list[Address]:
    """Parse a comma-separated list (the BCC field); blank input gives ``[]``.

    Raises :class:`AddressError` naming the first bad item (1-based) and its text.
    """
    if not text or not text.strip(" "):
        return []
    result: list[Address] = []
    for number, item in enumerate(text.split(","), start=1):
        try:
            result.append(parse_address(item))
        except AddressError as exc:
            raise AddressError(
                exc.code,
                f"{number}番目のアドレス「{item.strip()}」: {exc.message_ja}",
                f"Address {number} ({item.strip()!r}): {exc.message_en}",
                item,
            ) from None
    return result


def on_domain_name(domain: str, domains: tuple[str, ...] | list[str] | str) -> bool:
    """True when ``domain`` equals one of ``domains`` or is a subdomain of it."""
    domain = domain.lower().rstrip(".")
    if isinstance(domains, str):
        domains = (domains,)
    for candidate in domains:
        candidate = candidate.lower().rstrip(".")
        if domain == candidate or domain.endswith("." + candidate):
            return True
    return False


def on_domain(addr: str | Address, domain: str) -> bool:
    """True when the address's domain is ``domain`` or one of its subdomains."""
    return on_domain_name(_domain_of(addr), domain)


def is_mobile(
    addr: str | Address, mobile_domains: tuple[str, ...] | list[str] = DEFAULT_MOBILE_DOMAINS
) -> bool:
    """True for carrier (mobile) addresses, which get the mobile template and signature."""
    return on_domain_name(_domain_of(addr), tuple(mobile_domains))


def device_of(addr: str | Address) -> str:
    """ "mobile" or "pc": which template and signature a recipient gets (SPEC §2)."""
    return _device_of_domain(_domain_of(addr).lower()) if str(addr).strip() else "pc"


@functools.lru_cache(maxsize=4096)
def _device_of_domain(domain: str) -> str:
    # Cached: creation and broadcasts ask for every recipient; a few hundred domains cover all.
    return "mobile" if on_domain_name(domain, DEFAULT_MOBILE_DOMAINS) else "pc"


def is_rakuten_mask(addr: str | Address) -> bool:
    """True for a Rakuten mask address (``…@shop.rakuten.co.jp``), which stores may not use."""
    return _domain_of(addr).lower().rstrip(".") == RAKUTEN_MASK_DOMAIN


def contains_rakuten_mask(text: str) -> bool:
    """True when ``text`` (e.g. a signature) contains anything like a Rakuten mask address."""
    return _MASK_IN_TEXT.search(text) is not None


def _domain_of(addr: str | Address) -> str:
    if isinstance(addr, Address):
        return addr.domain
    return addr.strip().rpartition("@")[2]


_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("メールアドレスが入力されていません。", "The e-mail address is empty."),
    "control": (
        "メールアドレスに改行や制御文字は使えません。",
        "The e-mail address contains a line break or control character.",
    ),
    "space": ("メールアドレスに空白は使えません。", "The e-mail address contains a space."),
    "display_name": (
        "「名前 <アドレス>」の形式ではなく、アドレスのみを入力してください。",
        'Enter the address only, not "Name <address>".',
    ),
    "multiple": (
        "メールアドレスは1つだけ入力してください。",
        "Enter exactly one e-mail address.",
    ),
    "missing_at": ("メールアドレスに @ がありません。", "The e-mail address has no @-sign."),
    "invalid": ("メールアドレスの形式が正しくありません。", "The e-mail address is not valid."),
    "too_long": (
        "メールアドレスが長すぎます(@ の前は64文字まで、全体で254文字まで)。",
        "The e-mail address is too long (64 characters before the @-sign, 254 in all).",
    ),
    "encoded_word": (
        "メールアドレスの @ の前に「=?」は使えません。",
        'The part before the @-sign may not contain "=?".',
    ),
}


def _error(code: str, text: str, detail: str = "") -> AddressError:
    ja, en = _MESSAGES[code]
    if detail:
        en = f"{en} {detail}"
    return AddressError(code, ja, en, text)
