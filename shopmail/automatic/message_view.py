"""A queued or sent row shown as the mail the desk composes for it.

The page shows the desk's own values — the headers and text it builds the mail from, as
`compose` writes them — rather than the composed bytes parsed back: Python's parser inserts
spaces into long encoded display names (CPython gh-128110) and refuses some addresses the
desk sends to (old docomo / au local parts).
"""

from __future__ import annotations

from dataclasses import dataclass

from shopmail.automatic import template_choice
from shopmail.core import sending
from shopmail.extensions import db
from shopmail.mail.addresses import Address, parse_address
from shopmail.mail.compose import Mail, clean_header_text, compose, effective_charset, utf8_fallback
from shopmail.models import Message, Store


@dataclass(frozen=True)
class MailView:
    headers: list[tuple[str, str]]
    bcc: list[str]
    text: str
    error: str = ""
    charset: str = ""  # the text part's charset as sent ("utf-8" / "iso-2022-jp")
    # A mobile mail asked to go as ISO-2022-JP that goes as UTF-8: the characters why.
    fallback: str | None = None


def mail_view(row: Message) -> MailView:
    """What goes (or went) out for `row`, built as sending builds it."""
    store = db.session.get(Store, row.store_id) if row.store_id else None
    if store is None:
        return MailView([], [], row.body, "no store")
    try:
        mail = sending.build_mail(row, store)
        compose(mail)  # what would make the row fail shows here, not only when it is sent
    except ValueError as exc:  # AddressError is a ValueError: the row would fail as permanent
        return MailView([], [], row.body, str(exc))
    return MailView(
        shown_headers(mail),
        list(mail.bcc),
        mail.text,
        "",
        effective_charset(mail),
        utf8_fallback(mail),
    )


def shown_headers(mail: Mail) -> list[tuple[str, str]]:
    """From, To, Reply-To, Subject and Message-ID as a mail client shows them."""
    headers = [
        ("From", _mailbox(mail.from_name, mail.from_addr)),
        ("To", _mailbox(mail.to_name, mail.to)),
    ]
    if mail.reply_to is not None:
        headers.append(("Reply-To", address_of(mail.reply_to).smtp))
    headers += [("Subject", clean_header_text(mail.subject)), ("Message-ID", mail.message_id)]
    return headers


def fallback_of(row: Message) -> str | None:
    """For the queue's marker: why `row` goes as UTF-8 though ISO-2022-JP was asked for."""
    store = row.store
    if row.device != "mobile" or store is None or store.mobile_charset == "utf-8":
        return None
    try:
        return utf8_fallback(sending.build_mail(row, store))
    except ValueError:
        return None


def template_why(row: Message) -> str:
    """Which template the row's mail was made from and why, as decided at its creation."""
    return template_choice.describe(row.template_choice)


def address_of(addr: Address | str) -> Address:
    return addr if isinstance(addr, Address) else parse_address(addr)


def _mailbox(name: str, addr: Address | str) -> str:
    name, smtp = clean_header_text(name), address_of(addr).smtp
    return f"{name} <{smtp}>" if name else smtp
