"""Test sends: one recipient's exact mail sent to addresses staff type, before the real send.

The broadcast confirm step, the record-mail confirm step and the automatic template editor (and
the broadcast API) each render their chosen recipient's copy and hand it here. A test copy is
an ordinary outbox row of kind `test`: it goes through the send loop and the store's relay
(VERP, DKIM, pace) like every mail, is listed in the history as a test mail, and reserves no
quota. Its subject starts with 「[テスト]」; the store's BCC is not added (`sending.build_mail`).

The typed addresses follow the desk's address rules (`mail.addresses`), at most
`MAX_ADDRESSES`, no Rakuten mask address (a real buyer's relay address); anything wrong sends
nothing. Each actor may send `RATE_LIMIT` test copies (counted per address) — Flask-Limiter's
storage keeps the count, so a test send cannot become a way to mail strangers in bulk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from limits import parse_many

from shopmail.core import dispatch, outbox
from shopmail.core.sending import Content, sendable_kinds
from shopmail.core.states import MessageKind, MessageState
from shopmail.extensions import db, limiter
from shopmail.mail.addresses import AddressError, is_rakuten_mask, parse_address
from shopmail.models import Message, Store, User

MAX_ADDRESSES = 5
SUBJECT_MARK = "[テスト] "
# Test copies (one per address) an actor may send; `TEST_SEND_RATE_LIMIT` overrides it.
RATE_LIMIT = "25 per 10 minutes; 200 per day"
# Typed addresses may be separated by commas (also full-width), semicolons, blanks or lines.
_SEPARATORS = re.compile(r"[,\s;、，；]+")


@dataclass(frozen=True)
class TestSent:
    """What a test send queued: the addresses, the subject they get and their rows."""

    __test__ = False  # not a pytest test class, despite its name

    to: list[str]
    subject: str
    ids: list[int]


class TestSendError(ValueError):
    """What is wrong with a test send, in the user's language; nothing was sent."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, message: object, field: str = "to") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


def split_addresses(text: str) -> list[str]:
    """The addresses typed in one field, in order."""
    return [part for part in _SEPARATORS.split(text or "") if part]


def check_addresses(typed: Iterable[str]) -> list[str]:
    """The typed addresses, validated and without repeats; raises TestSendError naming the
    first bad one (its number and text) — or when there are none, or more than five."""
    wanted = [str(item).strip() for item in typed if str(item).strip()]
    if not wanted:
        raise TestSendError(_l("Enter the addresses to send the test to."))
    addresses: list[str] = []
    for number, item in enumerate(wanted, start=1):
        try:
            address = parse_address(item)
        except AddressError as exc:
            detail = exc.message_ja if str(get_locale()) == "ja" else exc.message_en
            raise TestSendError(
                _l("Address %(n)s (%(addr)s): %(error)s", n=number, addr=item, error=detail)
            ) from None
        if is_rakuten_mask(address):
            raise TestSendError(
                _l(
                    "Address %(n)s (%(addr)s) is a Rakuten mask address: a test is never sent "
                    "to a buyer's address. Enter your own address.",
                    n=number,
                    addr=item,
                )
            )
        if address.addr.lower() not in (a.lower() for a in addresses):
            addresses.append(address.addr)
    if len(addresses) > MAX_ADDRESSES:
        raise TestSendError(
            _l(
                "A test goes to at most %(max)s addresses; %(n)s were entered.",
                max=MAX_ADDRESSES,
                n=len(addresses),
            )
        )
    return addresses


def queue_test(
    store: Store | None,
    content: Content,
    device: str,
    to: list[str],
    actor: User | str,
    source: str,
) -> TestSent:
    """Queue the copy for each address (already checked) as a test row.

    `source` names what was tested ("broadcast:3:member:9"); it is part of each row's dedupe
    key, so the history and the audit trail can be read side by side. Sending starts when the
    caller commits; while the mail server is stopped the rows wait in the send queue.
    """
    if store is None or not store.from_addr:
        raise TestSendError(_l("Choose a store that has a From address."), "store")
    _count_against_limit(actor, len(to))
    keys = [f"test:{source}:{os.urandom(6).hex()}" for _ in to]
    subject = (SUBJECT_MARK + content.subject)[:500]
    outbox.add_messages(
        [
            dict(
                dedupe_key=key,
                kind=MessageKind.TEST,
                state=MessageState.QUEUED,
                store_id=store.id,
                to_addr=addr,
                device=device,
                subject=subject,
                body=content.text,
                html=content.html,
            )
            for key, addr in zip(keys, to, strict=True)
        ]
    )
    ids = list(db.session.scalars(db.select(Message.id).where(Message.dedupe_key.in_(keys))))
    dispatch.send_soon([store.id])
    return TestSent(list(to), subject, sorted(ids))


def _count_against_limit(actor: User | str, n: int) -> None:
    key = f"user:{actor.id}" if isinstance(actor, User) else f"actor:{actor}"
    wanted = current_app.config.get("TEST_SEND_RATE_LIMIT") or RATE_LIMIT
    items = parse_many(wanted)
    strategy = limiter.limiter
    if not all(strategy.test(item, "test_send", key, cost=n) for item in items):
        raise TestSendError(
            _l("Too many test mails were sent in a short time. Please wait a while and try again."),
            "rate_limit",
        )
    for item in items:
        strategy.hit(item, "test_send", key, cost=n)


def server_note() -> object | None:
    """What to say after a test send while mail cannot go out yet, else None."""
    if MessageKind.TEST in sendable_kinds():
        return None
    return _l("The mail server is stopped: the test mail waits in the send queue until it starts.")
