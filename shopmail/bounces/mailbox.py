"""The bounce mailbox: where a relay or a mail host keeps the bounces, polled every few minutes.

`SHOPMAIL_BOUNCE_MAILBOX` names one or more mailboxes (comma-separated):
`imaps://user:pass@host/INBOX`, `pop3s://user:pass@host`, or plain `imap://` / `pop3://` (for
a server on the same machine). They are read with the standard library (imaplib, poplib) and
never changed beyond marking what was read:
- IMAP: a message is flagged `$ShopmailRead` (and `\\Seen`) after what it reported is committed;
  servers that take no keywords get `\\Seen` alone and only unseen messages are read;
- POP3 has no flags: each message's UIDL is remembered in the database.
Nothing is deleted. A message read twice (a crash between the commit and the flag) still
counts once: the report itself is remembered (`BounceReceipt`).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import poplib
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from shopmail.bounces import service
from shopmail.core.boundary import in_transaction

log = logging.getLogger(__name__)
KEYWORD = "$ShopmailRead"
DEFAULT_PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
TIMEOUT = 60


@dataclass(frozen=True)
class Mailbox:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @property
    def tls(self) -> bool:
        return self.scheme.endswith("s")

    @property
    def name(self) -> str:
        """The mailbox without its password: for logs and the remembered UIDLs."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"

    def __repr__(self) -> str:
        return f"Mailbox({self.name!r})"


def parse_mailboxes(value: str) -> list[Mailbox]:
    """Every mailbox of the setting; raises ValueError naming a bad one (without password)."""
    return [parse_mailbox(part) for part in value.split(",") if part.strip()]


def parse_mailbox(url: str) -> Mailbox:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or not parts.username:
        raise ValueError(f"not a mailbox URL: {scheme}://{parts.hostname or ''}")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return Mailbox(
        scheme=scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[scheme],
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=folder,
    )


def poll_all(setting: str) -> dict[str, int]:
    """Read every configured mailbox once; a mailbox that cannot be read is logged, the others
    are still read."""
    counts: dict[str, int] = {}
    for mailbox in parse_mailboxes(setting):
        try:
            found = poll(mailbox)
        except (OSError, imaplib.IMAP4.error, poplib.error_proto) as exc:
            log.warning("bounce mailbox %s could not be read: %s", mailbox.name, exc)
            counts["errors"] = counts.get("errors", 0) + 1
            continue
        for key, value in found.items():
            counts[key] = counts.get(key, 0) + value
    return counts


def poll(mailbox: Mailbox) -> dict[str, int]:
    if mailbox.scheme.startswith("imap"):
        return _poll_imap(mailbox)
    return _poll_pop3(mailbox)


def _context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _poll_imap(mailbox: Mailbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    if mailbox.tls:
        conn = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=_context(), timeout=TIMEOUT
        )
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
    try:
        conn.login(mailbox.user, mailbox.password)
        status, _ = conn.select(_quoted(mailbox.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {mailbox.folder!r}")
        keywords = _takes_keywords(conn)
        criteria = f"UNKEYWORD {KEYWORD}" if keywords else "UNSEEN"
        flags = f"(\\Seen {KEYWORD})" if keywords else "(\\Seen)"
        status, found = conn.uid("SEARCH", None, criteria)
        uids = found[0].split() if status == "OK" and found and found[0] else []
        for uid in uids:
            raw = _fetch(conn, uid)
            if raw is None:
                continue
            outcome = _receive(raw, mailbox.scheme)
            counts[outcome] = counts.get(outcome, 0) + 1
            conn.uid("STORE", uid, "+FLAGS.SILENT", flags)  # only once it is committed
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return counts


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _takes_keywords(conn: imaplib.IMAP4) -> bool:
    """PERMANENTFLAGS with `\\*`: the folder keeps keywords of the client's choosing."""
    _, flags = conn.response("PERMANENTFLAGS")
    return any(b"\\*" in (f or b"") for f in flags or [])


def _fetch(conn: imaplib.IMAP4, uid: bytes) -> bytes | None:
    # BODY.PEEK: reading sets no \Seen by itself; the flag is set after the commit.
    status, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def _poll_pop3(mailbox: Mailbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    if mailbox.tls:
        conn = poplib.POP3_SSL(mailbox.host, mailbox.port, context=_context(), timeout=TIMEOUT)
    else:
        conn = poplib.POP3(mailbox.host, mailbox.port, timeout=TIMEOUT)
    try:
        conn.user(mailbox.user)
        conn.pass_(mailbox.password)
        _, listing, _ = conn.uidl()
        for line in listing:
            number, _, uidl = line.decode("ascii", "replace").partition(" ")
            key = f"pop3:{mailbox.name}:{uidl.strip()}"[:250]
            if service.was_read(key):
                continue
            _, lines, _ = conn.retr(int(number))
            outcome = _receive(b"\r\n".join(lines) + b"\r\n", mailbox.scheme, read_key=key)
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        with contextlib.suppress(OSError, poplib.error_proto):
            conn.quit()  # no DELE was sent: every message stays on the server
    return counts


def _receive(raw: bytes, via: str, read_key: str | None = None) -> str:
    """One message as one transaction, committed before it is marked read on the server."""
    return str(in_transaction(_take, raw, via, read_key).outcome)


def _take(raw: bytes, via: str, read_key: str | None) -> service.Received:
    received = service.receive(raw, (), via)
    if read_key is not None:
        service.note_read(read_key, via)
    return received
