"""The bytes of one mail: headers, charsets and MIME parts, written directly.

A broadcast composes ~20,000 messages, so this builds RFC 5322 / 2045 / 2047 text with
``base64`` and string operations instead of ``email.message.EmailMessage`` serialisation.

Safety rules that hold for every header written here:
- user text (names, subject, Reply-To, extra header values) has every CR, LF, NUL, other
  C0 / C1 control and U+2028 / U+2029 replaced by a space, so it can never start a header;
- a literal ``=?…?=`` in user text is itself encoded, so it decodes to the same characters;
- addresses pass :func:`~shopmail.mail.addresses.parse_address`; there is never a Bcc header.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

from .addresses import CONTROL_CHARACTERS, Address, parse_address

__all__ = [
    "Mail",
    "clean_header_text",
    "compose",
    "effective_charset",
    "envelope_recipients",
    "new_message_id",
    "utf8_fallback",
]

UTF8 = "utf-8"
ISO2022JP = "iso-2022-jp"
JST = timezone(timedelta(hours=9), "JST")

_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9.\-_]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")
# Headers compose() writes itself, plus ones that must never come from callers.
_RESERVED = frozenset(
    {
        *("date", "from", "to", "cc", "bcc", "reply-to", "subject", "message-id"),
        *("mime-version", "sender", "return-path", "received", "content-type"),
        *("content-transfer-encoding", "content-disposition"),
    }
)
_WORD_PREFIX = {UTF8: "=?UTF-8?B?", ISO2022JP: "=?ISO-2022-JP?B?"}
_CODEC = {UTF8: "utf-8", ISO2022JP: "iso2022_jp"}
_CHARSET_LABEL = {UTF8: "utf-8", ISO2022JP: "ISO-2022-JP"}
_LINE_SOFT = 76  # RFC 2047: lines holding encoded words stay within 76 characters.
_LINE_HARD = 998


@dataclass(kw_only=True, slots=True)
class Mail:
    """Everything one outgoing mail needs. ``bcc`` is for the envelope only, never a header."""

    from_addr: Address | str
    from_name: str
    to: Address | str
    subject: str
    text: str
    message_id: str
    to_name: str = ""
    html: str | None = None
    reply_to: Address | str | None = None
    bcc: list[str] = field(default_factory=list)
    date: datetime | None = None
    charset: str = UTF8
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


def clean_header_text(value: str) -> str:
    """User text made safe for one header line: line breaks and controls become spaces."""
    return CONTROL_CHARACTERS.sub(" ", value).strip()


def new_message_id(domain: str) -> str:
    """A new Message-ID ``<32 hex digits@domain>``: 128 random bits, so it never repeats after
    a database reset or across installs, and cannot be guessed from a row number. Kept on the
    row once sent."""
    return f"<{secrets.token_hex(16)}@{_message_id_domain(domain)}>"


@functools.lru_cache(maxsize=64)
def _message_id_domain(domain: str) -> str:
    # Checked once per domain, not for each of a broadcast's copies.
    domain = domain.strip().lower()
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}")
    return domain


def envelope_recipients(mail: Mail) -> list[str]:
    """RCPT TO addresses: the To address then each BCC, in wire form, without duplicates."""
    result = [_address(mail.to).smtp]
    for bcc in mail.bcc:
        smtp = _address(bcc).smtp
        if smtp not in result:
            result.append(smtp)
    return result


def effective_charset(mail: Mail) -> str:
    """``iso-2022-jp`` when asked for and every text part fits it exactly, else ``utf-8``."""
    return _plan(mail)[0]


def utf8_fallback(mail: Mail) -> str | None:
    """Why a mail asked to go as ISO-2022-JP goes as UTF-8: the characters ISO-2022-JP cannot
    carry (e.g. 髙, ①, emoji), in text order, each once — "" when only a line too long or a
    NUL forced it. None when the mail goes in the charset asked for."""
    if mail.charset.lower().replace("_", "-") != ISO2022JP or _plan(mail)[0] == ISO2022JP:
        return None
    texts = [mail.subject, mail.from_name, mail.to_name, mail.text]
    texts += [value for _, value in mail.extra_headers]
    misfits = (ch for text in texts for ch in text if ch not in "\r\n")
    return "".join(dict.fromkeys(ch for ch in misfits if _encode_iso2022jp(ch) is None))


def compose(mail: Mail) -> bytes:
    """The complete message (CRLF line ends, no line over 998 octets), ready for DATA."""
    charset, text_body = _plan(mail)
    from_addr = _address(mail.from_addr)
    to_addr = _address(mail.to)
    if not _MESSAGE_ID.fullmatch(mail.message_id):
        raise ValueError(f"invalid Message-ID {mail.message_id!r}")
    lines = [
        "Date: " + _date(mail.date),
        _mailbox_header("From", mail.from_name, from_addr, charset),
        _mailbox_header("To", mail.to_name, to_addr, charset),
    ]
    if mail.reply_to is not None:
        lines.append("Reply-To: " + _address(mail.reply_to).smtp)
    lines.append(_unstructured_header("Subject", mail.subject, charset))
    lines.append("Message-ID: " + mail.message_id)
    for name, value in mail.extra_headers:
        if not _addable(name):
            raise ValueError(f"header {name!r} cannot be added")
        lines.append(_unstructured_header(name, value, charset))
    lines.append("MIME-Version: 1.0")
    text_part = _text_part("text/plain", charset, text_body)
    if mail.html is None:
        head = "\r\n".join(lines).encode("ascii")
        return head + b"\r\n" + text_part
    html_part = _text_part("text/html", UTF8, _base64_body(_crlf(mail.html).encode("utf-8")))
    boundary = _boundary(text_part, html_part)
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    head = "\r\n".join(lines).encode("ascii")
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return b"".join(
        (
            head,
            b"\r\n\r\nThis is a multi-part message in MIME format.\r\n",
            delimiter,
            text_part,
            delimiter,
            html_part,
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
    )


def _plan(mail: Mail) -> tuple[str, bytes]:
    """Pick the charset and encode the text body (with its transfer encoding) once."""
    if mail.charset.lower().replace("_", "-") == ISO2022JP:
        body = _iso2022jp_body(mail)
        if body is not None:
            return ISO2022JP, body
    elif mail.charset.lower() not in (UTF8, "utf8"):
        raise ValueError(f"unsupported charset {mail.charset!r}")
    return UTF8, _base64_body(_crlf(mail.text).encode("utf-8"))


def _iso2022jp_body(mail: Mail) -> bytes | None:
    header_texts = [mail.subject, mail.from_name, mail.to_name]
    header_texts += [value for _, value in mail.extra_headers]
    for text in header_texts:
        if _encode_iso2022jp(clean_header_text(text)) is None:
            return None
    body = _crlf(mail.text)
    if not body.endswith("\r\n"):
        body += "\r\n"
    # NUL is not allowed in 7bit data; base64 UTF-8 can carry it instead.
    if "\x00" in body:
        return None
    # The codec returns to ASCII before every line break, as RFC 1468 requires.
    encoded = _encode_iso2022jp(body)
    if encoded is None or max(map(len, encoded.split(b"\r\n"))) > _LINE_HARD:
        return None
    return encoded


def _encode_iso2022jp(text: str) -> bytes | None:
    # Round-trip too: falling back to UTF-8 is better than a character silently changing.
    try:
        encoded = text.encode("iso2022_jp")
        return encoded if encoded.decode("iso2022_jp") == text else None
    except UnicodeError:
        return None


def _text_part(mime_type: str, charset: str, body: bytes) -> bytes:
    encoding = "7bit" if charset == ISO2022JP else "base64"
    return (
        f"Content-Type: {mime_type}; charset={_CHARSET_LABEL[charset]}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode("ascii") + body


def _base64_body(data: bytes) -> bytes:
    # Lines of 76 characters (57 bytes each), CRLF after every line, the last one included.
    encoded = binascii.b2a_base64(data, newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[i : i + 76] for i in range(0, len(encoded), 76)]) + b"\r\n"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _boundary(*parts: bytes) -> str:
    while True:
        boundary = "=_shopmail_" + secrets.token_hex(12)
        encoded = boundary.encode("ascii")
        if not any(encoded in part for part in parts):
            return boundary


def _date(value: datetime | None) -> str:
    if value is None:
        return _date_now(int(time.time()))
    if value.tzinfo is None:
        # Naive datetimes in the app are UTC (the database convention).
        value = value.replace(tzinfo=UTC)
    return format_datetime(value)


@functools.lru_cache(maxsize=2)
def _date_now(second: int) -> str:
    # A broadcast writes thousands of Date headers a second: format each second once.
    return format_datetime(datetime.fromtimestamp(second, JST))


def _address(value: Address | str) -> Address:
    return value if isinstance(value, Address) else parse_address(value)


@functools.lru_cache(maxsize=4096)
def _mailbox_header(name: str, display: str, addr: Address, charset: str) -> str:
    """``Name: display <addr>``, folded (RFC 5322 FWS) so every line holding a display name
    stays within 76 characters: the address goes on a line of its own when it would not fit
    after the name, and a long name is written as encoded words (each ≤ 75 characters)."""
    display = clean_header_text(display)
    angle = f"<{addr.smtp}>"
    if not display:
        return f"{name}: {addr.smtp}"
    if display.isascii() and not _needs_encoding(display):
        quoted = f'{name}: "{display}"'
        if len(quoted) + 1 + len(angle) <= _LINE_SOFT:
            return f"{quoted} {angle}"
        if len(quoted) <= _LINE_SOFT:
            return f"{quoted}\r\n {angle}"
    words = _encoded_words(display, charset, len(name) + 2)
    last = (len(name) + 2 if len(words) == 1 else 1) + len(words[-1])
    fold = " " if last + 1 + len(angle) <= _LINE_SOFT else "\r\n "
    return f"{name}: " + "\r\n ".join(words) + fold + angle


def _needs_encoding(text: str) -> bool:
    # Quotes and backslashes would need escaping inside a quoted-string; "=?" could be read
    # as an encoded word by a decoder. Encoding them sidesteps both.
    return "=?" in text or '"' in text or "\\" in text


@functools.cache
def _addable(name: str) -> bool:
    """A header name a caller may add (checked once per name, not for every copy)."""
    return bool(_FIELD_NAME.fullmatch(name)) and name.lower() not in _RESERVED


# A broadcast's subject and its List-Unsubscribe-Post are the same for every copy: folded
# and encoded once.
@functools.lru_cache(maxsize=4096)
def _unstructured_header(name: str, value: str, charset: str) -> str:
    value = clean_header_text(value)
    if value.isascii() and "=?" not in value:
        folded = _fold_ascii(name, value)
        if folded is not None:
            return folded
    if not value:
        return f"{name}: "
    return f"{name}: " + "\r\n ".join(_encoded_words(value, charset, len(name) + 2))


def _fold_ascii(name: str, value: str) -> str | None:
    """Fold before runs of spaces to keep lines near 78; None if a word won't fit 998."""
    line = f"{name}: {value}"
    if len(line) <= 78:
        return line
    lines: list[str] = []
    current = f"{name}:"
    for token in re.split(r"(?<! )(?= )", " " + value):
        if len(current) + len(token) > 78 and current.strip() and not current.endswith(":"):
            lines.append(current)
            current = token
        else:
            current += token
    lines.append(current)
    if any(len(item) > _LINE_HARD for item in lines):
        return None
    return "\r\n".join(lines)


@functools.lru_cache(maxsize=8192)
def _encoded_words(text: str, charset: str, first_used: int) -> list[str]:
    """Split ``text`` into B encoded words, each a whole run of characters.

    A multibyte character is never split across words (RFC 2047 section 5), and each
    ISO-2022-JP word starts and ends in ASCII mode so it decodes on its own.
    """
    prefix = _WORD_PREFIX[charset]
    codec = _CODEC[charset]
    overhead = len(prefix) + 2

    def byte_limit(room: int) -> int:
        return max((room - overhead) // 4 * 3, 6)

    limit = byte_limit(_LINE_SOFT - first_used)
    whole = text.encode(codec)
    if len(whole) <= limit:  # a name or subject that fits one word: no need to split it
        return [f"{prefix}{base64.b64encode(whole).decode('ascii')}?="]
    chunks: list[bytes] = []
    current = ""
    current_bytes = b""
    for ch in text:
        candidate = current + ch
        encoded = candidate.encode(codec) if charset == ISO2022JP else None
        if encoded is None:
            encoded = current_bytes + ch.encode(codec)
        if len(encoded) > limit and current:
            chunks.append(current_bytes)
            limit = byte_limit(_LINE_SOFT - 1)
            current = ch
            current_bytes = ch.encode(codec)
        else:
            current = candidate
            current_bytes = encoded
    if current:
        chunks.append(current_bytes)
    return [f"{prefix}{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks]
