"""A real, scriptable SMTP server (aiosmtpd, in-process, loopback only) as a pytest plugin.

Load with ``-p tests.support.smtp`` or ``pytest_plugins = ["tests.support.smtp"]``; the
``smtp_server`` fixture starts a fresh server per test. Its handler can refuse or defer
recipients, refuse the greeting, require AUTH, drop or delay after DATA — the ways real
relays fail — so transport code is tested against SMTP on a socket, never a mock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import ipaddress
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from shopmail.mail.transport import Relay

__all__ = ["ReceivedMail", "SinkHandler", "SmtpServer", "running_sink", "smtp_server"]

_PARSER = BytesParser(policy=policy.default)


@dataclass
class ReceivedMail:
    """One message as the server received it, and as a recipient's mail client would parse it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    connection: int  # 1-based number of the connection it came over
    at: float = 0.0  # when it arrived (time.monotonic)


class SinkHandler:
    """Stores every message and answers as scripted. Attributes may be changed mid-test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[ReceivedMail] = []
        self.refuse: dict[str, tuple[int, str]] = {}
        self.defer_rcpt: dict[str, int] = {}
        self.greeting_code: int | None = None
        self.greeting_text = "Service not available, closing transmission channel"
        self.auth_required = False
        self.credentials: tuple[str, str] | None = None
        self.drop_after_data = 0
        self.delay_after_data = 0.0
        self.data_reply: str | None = None  # e.g. "554 5.7.1 rejected" instead of 250
        self.connections = 0
        self.most_at_once = 0  # the most connections open at the same time
        self.raw_rcpt: list[str] = []  # each RCPT command's argument as sent
        # Answer the next N MAIL FROMs with a relay's "too many" (a throttling relay).
        self.throttle_mail = 0
        self.throttle_from = 0  # …once this many messages have arrived
        self.throttle_reply = "421 4.7.0 Too many messages, slow down"
        self.throttled = 0
        self.logins: list[str] = []
        # Advertise PIPELINING (RFC 2920) as Postfix does; False gives a one-command-a-time
        # server, so both ways of talking are tested.
        self.pipelining = True
        self._arrived = threading.Condition(self.lock)

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = (login, password) == self.credentials
        if ok:
            with self.lock:
                self.logins.append(login)
        return AuthResult(success=ok, handled=False)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        with self.lock:
            if self.throttle_mail > 0 and len(self.messages) >= self.throttle_from:
                self.throttle_mail -= 1
                self.throttled += 1
                return self.throttle_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        with self.lock:
            if address in self.refuse:
                code, text = self.refuse[address]
                return f"{code} {text}"
            if self.defer_rcpt.get(address, 0) > 0:
                self.defer_rcpt[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        received = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            message=_PARSER.parsebytes(data),  # type: ignore[arg-type]
            connection=getattr(server, "connection_number", 0),
            at=time.monotonic(),
        )
        with self.lock:
            drop = self.drop_after_data > 0
            if drop:
                self.drop_after_data -= 1
            delay = self.delay_after_data
            reply = self.data_reply
            self.messages.append(received)
            self._arrived.notify_all()
        if drop:
            # The message is here, but the client never hears so: the "unknown" case.
            assert server.transport is not None
            server.transport.abort()
            await asyncio.sleep(3600)  # cancelled by connection_lost
        if delay:
            await asyncio.sleep(delay)
        return reply or "250 2.0.0 OK queued"

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self._arrived.wait(left)
            return list(self.messages)


class _ScriptedSMTP(SMTP):
    """aiosmtpd's server plus a scriptable greeting and connection bookkeeping."""

    def __init__(self, handler: SinkHandler, live: set[_ScriptedSMTP], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.sink = handler
        self.live = live
        self.connection_number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        with self.sink.lock:
            self.sink.connections += 1
            self.connection_number = self.sink.connections
            self.live.add(self)
            self.sink.most_at_once = max(self.sink.most_at_once, len(self.live))
        super().connection_made(transport)

    async def smtp_RCPT(self, arg: str) -> None:
        # The command as the client wrote it, before aiosmtpd parses the address.
        with self.sink.lock:
            self.sink.raw_rcpt.append(arg)
        await super().smtp_RCPT(arg)

    def connection_lost(self, error: Exception | None) -> None:
        with self.sink.lock:
            self.live.discard(self)
        super().connection_lost(error)

    async def check_auth_needed(self, caller_method: str) -> bool:
        # Read the script on every command (aiosmtpd fixes auth_required at construction and
        # warns when it is set without TLS, which loopback tests deliberately do).
        assert self.session is not None
        if self.sink.auth_required and not self.session.authenticated:
            await self.push("530 5.7.0 Authentication required")
            return True
        return False

    async def _handle_client(self) -> None:
        code = self.sink.greeting_code
        if code is not None and code != 220:
            await self.push(f"{code} {self.sink.greeting_text}")
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class _Controller(Controller):
    def __init__(self, handler: SinkHandler, security: str = "none") -> None:
        # "tls": TLS from the first byte (port 465's way); "starttls": offered after EHLO.
        implicit = _server_tls() if security == "tls" else None
        super().__init__(handler, hostname="127.0.0.1", port=0, ssl_context=implicit)
        self.sink = handler
        self.security = security
        self.live: set[_ScriptedSMTP] = set()

    def factory(self) -> SMTP:
        return _ScriptedSMTP(
            self.sink,
            self.live,
            hostname="sink.shopmail.test",
            auth_require_tls=False,  # loopback tests speak plain text
            authenticator=self.sink.authenticator,
            enable_SMTPUTF8=False,
            tls_context=_server_tls() if self.security == "starttls" else None,
        )

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd's start-up probe connects.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """What the fixture yields: where the server listens and how it behaves."""

    def __init__(self, controller: _Controller) -> None:
        self._controller = controller
        self.handler: SinkHandler = controller.sink
        self.host = "127.0.0.1"
        self.port: int = controller.port
        self.security = controller.security

    def relay(self, **overrides: Any) -> Relay:
        """A :class:`Relay` pointing at this server (its security, short timeout)."""
        settings: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "timeout": 5,
            "security": self.security,
        }
        settings.update(overrides)
        return Relay(**settings)

    @staticmethod
    def client_tls() -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and verifies it)."""
        return ssl.create_default_context(cadata=_certificate()[0].decode("ascii"))

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMail]:
        """Wait until ``count`` messages arrived; returns all messages received so far."""
        return self.handler.wait_for(count, timeout)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.messages)

    def disconnect_clients(self) -> None:
        """Close every open client connection from the server side (an idle timeout)."""
        done = threading.Event()

        def close_all() -> None:
            for server in list(self._controller.live):
                if server.transport is not None:
                    server.transport.close()
            done.set()

        self._controller.loop.call_soon_threadsafe(close_all)
        done.wait(5)


@functools.cache
def _certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM), made once per test run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sink.shopmail.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@functools.cache
def _server_tls() -> ssl.SSLContext:
    """The server's context, made once (a STARTTLS server asks for it at every connection)."""
    certificate, key = _certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile(suffix=".pem") as pem:
        pem.write(certificate + key)
        pem.flush()
        context.load_cert_chain(pem.name)
    return context


@contextlib.contextmanager
def running_sink(security: str = "none") -> Iterator[SmtpServer]:
    """A sink on a free loopback port for as long as the block runs; `security` "tls" or
    "starttls" for a relay that speaks TLS (with a self-signed certificate for 127.0.0.1)."""
    handler = SinkHandler()
    controller = _Controller(handler, security)
    controller.start()
    # aiosmtpd's start-up probe connected once; tests count only their own connections.
    deadline = time.monotonic() + 5
    while controller.live and time.monotonic() < deadline:
        time.sleep(0.01)
    with handler.lock:
        handler.connections = handler.most_at_once = 0
    try:
        yield SmtpServer(controller)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_sink() as server:
        yield server
