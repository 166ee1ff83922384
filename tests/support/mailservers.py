"""Real IMAP4rev1 and POP3 servers on loopback, just big enough for imaplib and poplib.

Each keeps its mailbox in memory and logs every command, so tests see what the desk did to the
mailbox (flags set, nothing deleted). The IMAP server speaks CAPABILITY, LOGIN, SELECT, UID
SEARCH (ALL, UNSEEN, UNKEYWORD), UID FETCH (BODY.PEEK[] / BODY[]), UID STORE (+FLAGS), NOOP and
LOGOUT; the POP3 server USER, PASS, STAT, UIDL, RETR, DELE, NOOP and QUIT.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

__all__ = ["ImapServer", "Pop3Server", "imap_server", "pop3_server"]

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|\(([^)]*)\)|(\S+)')


@dataclass
class StoredMail:
    uid: int
    data: bytes
    flags: set[str] = field(default_factory=set)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _Base:
    handler: type[socketserver.StreamRequestHandler]

    def __init__(self, user: str = "bounces", password: str = "p@ss:word") -> None:  # noqa: S107
        self.user, self.password = user, password
        self.lock = threading.Lock()
        self.commands: list[str] = []
        self.mails: list[StoredMail] = []
        self._next_uid = 1
        self.server = _Server(("127.0.0.1", 0), self.handler)
        self.server.owner = self  # type: ignore[attr-defined]
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, data: bytes, flags: set[str] | None = None) -> StoredMail:
        with self.lock:
            mail = StoredMail(self._next_uid, data, set(flags or ()))
            self._next_uid += 1
            self.mails.append(mail)
            return mail

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def log(self, line: str) -> None:
        with self.lock:
            self.commands.append(line)


class _ImapHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        owner: ImapServer = self.server.owner  # type: ignore[attr-defined]
        self.out(b"* OK [CAPABILITY IMAP4rev1] shopmail test IMAP ready")
        selected = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            command, _, args = rest.partition(b" ")
            name = command.upper().decode()
            if name == "UID":
                sub, _, args = args.partition(b" ")
                name = "UID " + sub.upper().decode()
            owner.log(f"{name} {args.decode('utf-8', 'replace')}".strip())
            words = [next(g for g in m.groups() if g is not None) for m in _TOKEN.finditer(args)]
            if name == "CAPABILITY":
                self.out(b"* CAPABILITY IMAP4rev1")
                self.ok(tag, "CAPABILITY completed")
            elif name == "NOOP":
                self.ok(tag, "NOOP completed")
            elif name == "LOGIN":
                user, password = (w.replace(b'\\"', b'"').decode() for w in words[:2])
                if (user, password) == (owner.user, owner.password):
                    self.ok(tag, "LOGIN completed")
                else:
                    self.out(tag + b" NO [AUTHENTICATIONFAILED] invalid credentials")
            elif name == "SELECT":
                selected = True
                flags = r"(\Seen \Answered \Flagged \Deleted \Draft"
                permanent = flags + (r" \*)" if owner.keywords else ")")
                with owner.lock:
                    self.out(f"* {len(owner.mails)} EXISTS".encode())
                self.out(b"* 0 RECENT")
                self.out(f"* FLAGS {flags})".encode())
                self.out(f"* OK [PERMANENTFLAGS {permanent}] flags".encode())
                self.out(b"* OK [UIDVALIDITY 1] UIDs valid")
                self.ok(tag, "[READ-WRITE] SELECT completed")
            elif name == "UID SEARCH" and selected:
                self.out(b"* SEARCH " + " ".join(str(m.uid) for m in owner.search(words)).encode())
                self.ok(tag, "SEARCH completed")
            elif name == "UID FETCH" and selected:
                for number, mail in owner.by_uid(words[0].decode()):
                    peek = b"PEEK" in args.upper()
                    head = f"* {number} FETCH (UID {mail.uid} BODY[] {{{len(mail.data)}}}"
                    self.wfile.write(head.encode() + b"\r\n" + mail.data + b")\r\n")
                    if not peek:
                        with owner.lock:
                            mail.flags.add("\\Seen")
                self.ok(tag, "FETCH completed")
            elif name == "UID STORE" and selected:
                added = {w for w in words[2].decode().split()} if len(words) > 2 else set()
                if words[1].upper().startswith(b"+FLAGS"):
                    for _, mail in owner.by_uid(words[0].decode()):
                        with owner.lock:
                            mail.flags |= added
                self.ok(tag, "STORE completed")
            elif name == "LOGOUT":
                self.out(b"* BYE logging out")
                self.ok(tag, "LOGOUT completed")
                return
            else:
                self.out(tag + b" BAD command unknown or not allowed here")

    def out(self, data: bytes) -> None:
        self.wfile.write(data + b"\r\n")

    def ok(self, tag: bytes, text: str) -> None:
        self.out(tag + b" OK " + text.encode())


class ImapServer(_Base):
    handler = _ImapHandler

    def __init__(self, *args, keywords: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.keywords = keywords  # PERMANENTFLAGS with \* (a folder that keeps keywords)

    def search(self, words: list[bytes]) -> list[StoredMail]:
        criteria = [w.decode() for w in words]
        with self.lock:
            found = list(self.mails)
        if criteria[:1] == ["UNSEEN"]:
            found = [m for m in found if "\\Seen" not in m.flags]
        elif criteria[:1] == ["UNKEYWORD"]:
            found = [m for m in found if criteria[1] not in m.flags]
        return found

    def by_uid(self, spec: str) -> list[tuple[int, StoredMail]]:
        wanted = {int(u) for u in spec.split(",") if u.isdigit()}
        with self.lock:
            return [(i + 1, m) for i, m in enumerate(self.mails) if m.uid in wanted]

    def url(self, folder: str = "INBOX") -> str:
        from urllib.parse import quote

        return (
            f"imap://{self.user}:{quote(self.password, safe='')}@{self.host}:{self.port}/{folder}"
        )


class _Pop3Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        owner: Pop3Server = self.server.owner  # type: ignore[attr-defined]
        self.out(b"+OK shopmail test POP3 ready")
        user = None
        logged_in = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command, _, arg = line.rstrip(b"\r\n").decode().partition(" ")
            command = command.upper()
            owner.log(f"{command} {arg if command != 'PASS' else '********'}".strip())
            if command == "USER":
                user = arg
                self.out(b"+OK")
            elif command == "PASS":
                logged_in = (user, arg) == (owner.user, owner.password)
                self.out(b"+OK logged in" if logged_in else b"-ERR invalid credentials")
            elif not logged_in and command != "QUIT":
                self.out(b"-ERR log in first")
            elif command == "STAT":
                with owner.lock:
                    size = sum(len(m.data) for m in owner.mails)
                    self.out(f"+OK {len(owner.mails)} {size}".encode())
            elif command == "UIDL":
                with owner.lock:
                    listing = [f"{i + 1} uid-{m.uid}" for i, m in enumerate(owner.mails)]
                self.out(b"+OK")
                for entry in listing:
                    self.out(entry.encode())
                self.out(b".")
            elif command == "RETR":
                with owner.lock:
                    mail = owner.mails[int(arg) - 1]
                self.out(f"+OK {len(mail.data)} octets".encode())
                for body_line in mail.data.split(b"\r\n"):
                    self.out(b"." + body_line if body_line.startswith(b".") else body_line)
                self.out(b".")
            elif command == "DELE":
                owner.deleted.append(int(arg))
                self.out(b"+OK marked for deletion")
            elif command == "NOOP":
                self.out(b"+OK")
            elif command == "QUIT":
                self.out(b"+OK bye")
                return
            else:
                self.out(b"-ERR unknown command")

    def out(self, data: bytes) -> None:
        self.wfile.write(data + b"\r\n")


class Pop3Server(_Base):
    handler = _Pop3Handler

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deleted: list[int] = []

    def url(self) -> str:
        from urllib.parse import quote

        return f"pop3://{self.user}:{quote(self.password, safe='')}@{self.host}:{self.port}"


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    server = ImapServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pop3_server() -> Iterator[Pop3Server]:
    server = Pop3Server().start()
    try:
        yield server
    finally:
        server.stop()
