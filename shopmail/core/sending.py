"""Sending: which mail may go now, through which relay, built how; the test mail.

Gates: nothing leaves while the mail server switch is stopped; automatic kinds leave only while
auto-sending is on; a kind in its quiet hours waits (`quiet_hours`); a store whose relay
refused its credentials waits. The send loop that uses these is `delivery`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import current_app

from shopmail.core import crypto, dkim_keys, outbox, quiet_hours, verp
from shopmail.core.boundary import commits
from shopmail.core.states import AUTOMATIC_KINDS, MessageKind, MessageState, RelayMode
from shopmail.extensions import db
from shopmail.mail.addresses import AddressError, parse_address, parse_address_list
from shopmail.mail.compose import Mail, compose, envelope_recipients, new_message_id
from shopmail.mail.signing import Signer
from shopmail.mail.transport import AuthError, Outcome, Relay, RelayError, Result, SmtpSession
from shopmail.models import DeskSettings, Message, Store

# Test copies (`core.test_sends`) go out like the mail they copy: whenever the server runs.
MANUAL_KINDS = (
    MessageKind.RECORD,
    MessageKind.BROADCAST,
    MessageKind.ADMIN_COPY,
    MessageKind.TEST,
)


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


def switched_on_kinds() -> tuple[str, ...]:
    settings = DeskSettings.current()
    if not settings.mail_server_running:
        return ()
    return MANUAL_KINDS + (AUTOMATIC_KINDS if settings.auto_send else ())


def sendable_kinds() -> tuple[str, ...]:
    """The kinds that may leave now: switched on and not in their quiet hours."""
    return quiet_hours.open_kinds(switched_on_kinds())


def relay_from_url(url: str, timeout: float = 30) -> Relay:
    """`smtp://host:25`, `smtp+starttls://user:pass@host:587`, `smtps://host:465`."""
    parts = urlsplit(url)
    security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}.get(parts.scheme)
    if security is None or not parts.hostname:
        raise ValueError(f"not an SMTP URL: {parts.scheme}://{parts.hostname}")
    default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
    return Relay(
        host=parts.hostname,
        port=parts.port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def relay_for(store: Store) -> Relay:
    config = current_app.config
    timeout = float(config.get("SHOPMAIL_SMTP_TIMEOUT", 30))
    password = crypto.decrypt(store.smtp_password_enc) if store.smtp_password_enc else None
    if store.relay_mode == RelayMode.RAKUTEN:
        base = relay_from_url(config["SHOPMAIL_RAKUTEN_SMTP_URL"], timeout)
        return Relay(base.host, base.port, base.security, store.smtp_user, password, timeout)
    if store.relay_mode == RelayMode.OWN:
        return Relay(
            store.smtp_host,
            store.smtp_port,
            store.smtp_security,
            store.smtp_user or None,
            password,
            timeout,
        )
    return relay_from_url(config["SHOPMAIL_SMTP_URL"], timeout)


@dataclass(frozen=True)
class Content:
    """What a renderer fills in: the subject and the text (and HTML) parts."""

    subject: str
    text: str
    html: str | None


def build_mail(
    row: Message | outbox.Claimed,
    store: Store,
    content: Content | None = None,
    bcc: list[str] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Mail:
    """A row's finished mail: the store's sender settings around the row's content (the one
    rendered when the row was created, unless a renderer gives its own)."""
    content = content or Content(row.subject, row.body, row.html)
    if bcc is None:
        bcc = (
            [a.addr for a in parse_address_list(store.bcc)] if row.kind != MessageKind.TEST else []
        )
    return Mail(
        from_addr=store.from_addr,
        from_name=store.from_name,
        to=row.to_addr,
        to_name=row.to_name,
        subject=content.subject,
        text=content.text,
        html=content.html,
        reply_to=store.reply_to or None,
        bcc=bcc,
        # Random on the From domain; kept on the row, so a retry and the history keep it and a
        # bounce that quotes it finds its row.
        message_id=row.message_id
        or new_message_id(
            _domain_of(store.from_addr) or current_app.config["SHOPMAIL_MAIL_DOMAIN"]
        ),
        charset=store.mobile_charset if row.device == "mobile" else "utf-8",
        extra_headers=[("X-Shopmail-Id", str(row.id)), *headers],
    )


def _domain_of(addr: str) -> str:
    try:
        return parse_address(addr).domain
    except (AddressError, ValueError):
        return ""


# A renderer turns a chunk of one kind's rows into their mails, in the rows' order: a finished
# `Mail`, or a `Result` saying why that row cannot be sent. The map kind → renderer is built
# explicitly by the caller (`jobs.RENDERERS`); the send loop knows no kind.
Renderer = Callable[[list[outbox.Claimed], Store], list[Mail | Result]]


def invalid_mail(exc: Exception, stage: str = "mail") -> Result:
    """A mail that cannot be built; `stage` "address" when the recipient's address is no
    address (the row goes on the refused list, flaggable)."""
    return Result(Outcome.PERMANENT, None, f"invalid mail: {exc}", stage)


def stored_mails(rows: list[outbox.Claimed], store: Store) -> list[Mail | Result]:
    """The renderer of rows whose subject and body were rendered when they were created."""
    out: list[Mail | Result] = []
    for row in rows:
        try:
            out.append(build_mail(row, store))
        except (AddressError, ValueError) as exc:
            out.append(invalid_mail(exc))
    return out


def mails_for(
    rows: list[outbox.Claimed], store: Store, renderers: Mapping[str, Renderer]
) -> list[tuple[outbox.Claimed, Mail | Result]]:
    out: list[tuple[outbox.Claimed, Mail | Result]] = []
    for kind in dict.fromkeys(row.kind for row in rows):
        group = [row for row in rows if row.kind == kind]
        render = renderers.get(kind)
        if render is None:
            refused = Result(Outcome.PERMANENT, None, f"no renderer for {kind!r} mail", "mail")
            out.extend((row, refused) for row in group)
        else:
            out.extend(zip(group, render(group, store), strict=True))
    return out


def message_bytes(mail: Mail, signer: Signer | None) -> bytes:
    """What goes after DATA: the composed mail, signed by `signer`
    (`dkim_keys.signer_for(store)`) when it holds the key of the mail's From domain."""
    data = compose(mail)
    if signer is not None and signer.signs(mail.from_addr):
        data = signer.sign(data)
    return data


def deliver(
    session: SmtpSession,
    row: Message | outbox.Claimed,
    mail: Mail,
    data: bytes,
    envelope_from: str,
    *,
    then: tuple[str, list[str]] | None = None,
) -> outbox.Delivery:
    """One row's SMTP transaction (`data`: `message_bytes(mail, …)`); the row's outcome is its
    To address's outcome. Every mail passes here. `then`: the envelope of the mail the caller
    sends next over this session (`envelope`), announced behind this one's final dot."""
    # The addressee first, then each BCC, in wire form (pre-2009 docomo/au local parts quoted).
    recipients = envelope_recipients(mail)
    results = session.send(envelope_from, recipients, data, primary=True, then=then)
    result = results[recipients[0]]
    return outbox.Delivery(
        row.id,
        row.attempts + 1,
        result.outcome,
        result.code,
        result.reply,
        mail.message_id,
        stage=result.stage,
    )


def envelope(mail: Mail, envelope_from: str) -> tuple[str, list[str]] | None:
    """The envelope `deliver` will use for `mail` (None if its addresses cannot make one)."""
    try:
        return envelope_from, envelope_recipients(mail)
    except (AddressError, ValueError):
        return None


@commits("the send loop: a test mail's row reads `failed` as soon as the relay refused it")
def send_test_mail(store: Store, to_addr: str, subject: str, body: str) -> Result:
    """Send one mail now through the store's relay (also while the server switch is stopped)."""
    key = f"test:{store.id}:{to_addr}:{os.urandom(6).hex()}"
    outbox.add_messages(
        [
            dict(
                dedupe_key=key,
                kind=MessageKind.TEST,
                state=MessageState.SENDING,
                store_id=store.id,
                to_addr=to_addr,
                subject=subject,
                body=body,
            )
        ]
    )
    row = db.session.scalar(db.select(Message).filter_by(dedupe_key=key))
    try:
        with SmtpSession(relay_for(store)) as session:
            envelope_from = verp.envelope_sender(row.id, store)
            mail = build_mail(row, store)
            data = message_bytes(mail, dkim_keys.signer_for(store))
            delivery = deliver(session, row, mail, data, envelope_from)
        result = Result(delivery.outcome, delivery.code, delivery.reply)
    except (RelayError, AddressError, ValueError) as exc:
        result = Result(
            Outcome.PERMANENT if isinstance(exc, AuthError) else Outcome.TEMPORARY, None, str(exc)
        )
        delivery = outbox.Delivery(row.id, 1, result.outcome, None, str(exc))
    outbox.record([delivery], retry_delays=())
    if result.outcome is not Outcome.SENT:
        db.session.execute(
            db.update(Message).where(Message.id == row.id).values(state=MessageState.FAILED)
        )
        db.session.commit()
    return result
