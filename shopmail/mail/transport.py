"""SMTP sessions to a store's relay, and what each recipient's reply means for the outbox.

One :class:`SmtpSession` sends many messages over one connection (no reconnect, no EHLO per
message). DATA is driven by hand so that a connection lost *after* the final dot was written
is told apart from one lost before it: the first may have been delivered (``UNKNOWN``, never
silently resent), the second certainly was not (``TEMPORARY``).

With PIPELINING a caller that knows the next message's envelope passes it as ``then``: its
MAIL, RCPT and DATA leave in the same write as this message's final dot (RFC 2920 allows
commands after the end of data), so each message costs one write and one round trip instead
of two. Nothing of the next message's content is sent before its own 354; a session that ends
(or is dropped) with such commands outstanding closes the connection without QUIT, so the
relay discards the transaction and no empty message is delivered.
"""

from __future__ import annotations

import enum
import functools
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from types import TracebackType

from .smtp_wire import Lost, Wire

__all__ = ["AuthError", "Outcome", "Relay", "RelayError", "Result", "SmtpSession"]

_UNSAFE_ADDRESS = re.compile(r"[\x00-\x20\x7f<>]")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
# A dot after a line end, found by the regular expression engine: `b"\n." in data` tries every
# line end of a base64 body in turn and took 4 µs for a 4 KB mail, this 1.5 µs.
_DOT_AFTER_LINE_END = re.compile(rb"\n\.")


@dataclass(frozen=True)
class Relay:
    """Where and how to hand mail over. ``security`` is "none", "starttls" or "tls"."""

    host: str
    port: int
    security: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30
    helo: str | None = None

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "tls"):
            raise ValueError(f"unknown SMTP security {self.security!r}")

    def __repr__(self) -> str:
        # Never let the password reach a log line or a traceback.
        return (
            f"Relay(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, password={'********' if self.password else None})"
        )


class Outcome(enum.Enum):
    """What became of one recipient of one message."""

    SENT = "sent"
    TEMPORARY = "temporary"  # retry later
    PERMANENT = "permanent"  # refused for good: a candidate invalid address
    UNKNOWN = "unknown"  # the data was handed over but the reply never came


@dataclass
class Result:
    """One recipient's outcome and the server's words, for the history page."""

    outcome: Outcome
    code: int | None
    reply: str
    # Where it ended: "mail", "rcpt", "data" (DATA or the final reply) or "connection".
    stage: str = ""

    @property
    def address_refused(self) -> bool:
        """True when the server refused this recipient for good: an invalid-address candidate."""
        return self.outcome is Outcome.PERMANENT and self.stage == "rcpt"


class RelayError(Exception):
    """No session could be had (connect, greeting, TLS): temporary for every message.
    `code` is the relay's reply code when it gave one (421 "too many connections")."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class AuthError(RelayError):
    """The relay refused the credentials: pause the store rather than burn retries."""


class _Stale(Exception):
    """MAIL FROM got no answer, or 421: nothing was sent; a fresh connection may try again."""

    def __init__(self, code: int | None, reply: str) -> None:
        super().__init__(reply)
        self.code, self.reply = code, reply


class SmtpSession:
    """A reusable SMTP connection to one relay; use as a context manager."""

    def __init__(self, relay: Relay, ssl_context: ssl.SSLContext | None = None) -> None:
        self.relay = relay
        self.ssl_context = ssl_context
        self.connections = 0  # how many times a connection was opened (for logs and tests)
        self.writes = 0  # how many writes carried commands or a message (for tests)
        self._wire: Wire | None = None  # the open connection
        # The envelope whose MAIL/RCPT/DATA already left behind the last final dot.
        self._announced: tuple[str, tuple[str, ...]] | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """QUIT politely; errors are ignored because the session is over either way. With a
        next message's commands outstanding the connection is just closed: a QUIT after its
        354 would be read as message content."""
        if self._announced is not None:
            self._drop()
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.quit()

    def send(
        self,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        *,
        primary: bool = False,
        then: tuple[str, list[str]] | None = None,
    ) -> dict[str, Result]:
        """Send one message; returns a :class:`Result` for every recipient.

        With ``primary`` the first recipient is the addressee and the others are copies (BCC):
        when the addressee is refused the transaction is abandoned, so no copy goes out for a
        mail that did not. ``then``: the envelope (sender, recipients) of the message the
        caller sends next over this session, announced behind this one's final dot.

        Raises :class:`RelayError` / :class:`AuthError` only when no session can be had.
        """
        for address in (envelope_from, *recipients):
            if not _safe(address):
                raise ValueError(f"unsafe envelope address {address!r}")
        if not recipients:
            return {}
        if then is not None and not (
            _in_one_write(then[1], primary=True) and all(map(_safe, (then[0], *then[1])))
        ):
            then = None  # announced only when it would go in one write, and safe to write
        if self._announced is not None and self._announced != (envelope_from, tuple(recipients)):
            self._drop()  # not the message that was announced: start afresh
        reused = self._wire is not None
        try:
            return self._transaction(
                self._connection(), envelope_from, recipients, data, primary, then
            )
        except _Stale as stale:
            self._drop()
            if not reused:
                if stale.code is None:
                    raise RelayError("the relay closed the connection at MAIL FROM") from None
                return self._all(recipients, _classify(stale.code), stale.code, stale.reply, "mail")
        # The relay hung up while idle (timeout, 421); nothing was sent, so one fresh
        # connection is safe and invisible to the caller.
        try:
            return self._transaction(
                self._connection(), envelope_from, recipients, data, primary, then
            )
        except _Stale as stale:
            self._drop()
            outcome = Outcome.TEMPORARY if stale.code is None else _classify(stale.code)
            return self._all(recipients, outcome, stale.code, stale.reply, "connection")

    def _transaction(
        self,
        wire: Wire,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        primary: bool,
        then: tuple[str, list[str]] | None = None,
    ) -> dict[str, Result]:
        """MAIL, RCPT(s), DATA. With PIPELINING (RFC 2920) the commands leave in one write and
        the replies are read after: half the round trips of one command at a time. A mail with
        copies and a `primary` addressee goes one command at a time, so the copies can be
        withheld when the addressee is refused."""
        pipelining = wire.pipelining
        pipelined = pipelining and _in_one_write(recipients, primary)
        announced, self._announced = self._announced, None
        try:
            if announced is None:  # else they left behind the last message's final dot
                self.writes += 1
                wire.write(_commands(envelope_from, recipients, pipelined))
            code, reply = wire.reply()
        except Lost as lost:
            raise _Stale(None, str(lost)) from None
        if code == 421:
            raise _Stale(code, reply)
        if code == 530:
            # "Authentication required": a store set-up problem, not the recipients' fault.
            self._drop()
            raise AuthError(f"{code} {reply}")
        if code != 250:
            if pipelined:  # the queued RCPTs and DATA would be answered too: start afresh
                self._drop()
            return self._failed_transaction(recipients, code, reply)
        if pipelined:
            return self._pipelined_rest(wire, recipients, data, then if pipelining else None)
        return self._recipients_and_data(wire, recipients, data, primary)

    def _pipelined_rest(
        self,
        wire: Wire,
        recipients: list[str],
        data: bytes,
        then: tuple[str, list[str]] | None = None,
    ) -> dict[str, Result]:
        results: dict[str, Result] = {}
        accepted: list[str] = []
        try:
            for rcpt in recipients:
                code, reply = wire.reply()
                if code == 421:  # the relay is closing: nothing of this mail goes out
                    self._drop()
                    rest = [r for r in recipients if r not in results]
                    results.update(self._all(rest, Outcome.TEMPORARY, code, reply, "rcpt"))
                    return results
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    results[rcpt] = Result(_classify(code), code, reply, "rcpt")
            code, reply = wire.reply()  # to DATA
        except Lost as lost:
            self._drop()
            rest = [r for r in recipients if r not in results]
            results.update(self._all(rest, Outcome.TEMPORARY, None, str(lost), "connection"))
            return results
        if code != 354:
            if code == 421:
                self._drop()
            else:
                self._reset()
            results.update(self._all(accepted, _classify(code), code, reply, "data"))
            return results
        if not accepted:
            # A relay that said 354 with no recipient: end the empty message, deliver nothing.
            try:
                wire.write(b".\r\n")
                wire.reply()
            except Lost:
                self._drop()
            return results
        results.update(self._payload(wire, accepted, data, then))
        return results

    def _recipients_and_data(
        self, wire: Wire, recipients: list[str], data: bytes, primary: bool
    ) -> dict[str, Result]:
        results: dict[str, Result] = {}
        accepted: list[str] = []
        for index, rcpt in enumerate(recipients):
            try:
                code, reply = self._command(wire, f"RCPT TO:<{rcpt}>")
            except Lost as lost:
                self._drop()
                rest = recipients[index:] + accepted
                results.update(self._all(rest, Outcome.TEMPORARY, None, str(lost), "connection"))
                return results
            if code in (250, 251):
                accepted.append(rcpt)
                continue
            results[rcpt] = Result(_classify(code), code, reply, "rcpt")
            if primary and index == 0 and code != 421:
                self._reset()
                skipped = "not sent: the addressee was refused"
                results.update(self._all(recipients[1:], Outcome.TEMPORARY, None, skipped, "rcpt"))
                return results
            if code == 421:
                self._drop()
                rest = recipients[index + 1 :] + accepted
                results.update(self._all(rest, Outcome.TEMPORARY, code, reply, "rcpt"))
                return results
        if not accepted:
            self._reset()
            return results
        results.update(self._data(wire, accepted, data))
        return results

    def _data(self, wire: Wire, accepted: list[str], data: bytes) -> dict[str, Result]:
        try:
            code, reply = self._command(wire, "DATA")
        except Lost as lost:
            self._drop()
            return self._all(accepted, Outcome.TEMPORARY, None, str(lost), "connection")
        if code != 354:
            if code == 421:
                self._drop()
            else:
                self._reset()
            return self._all(accepted, _classify(code), code, reply, "data")
        return self._payload(wire, accepted, data)

    def _payload(
        self,
        wire: Wire,
        accepted: list[str],
        data: bytes,
        then: tuple[str, list[str]] | None = None,
    ) -> dict[str, Result]:
        """After the 354: the message, the final dot (and the next message's commands), and
        the reply that decides its fate."""
        # Dot-stuffing (RFC 5321 4.5.2); base64 bodies never need it, so look before replacing.
        stuff = data.startswith(b".") or _DOT_AFTER_LINE_END.search(data) is not None
        payload = _LEADING_DOT.sub(b"..", data) if stuff else data
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        ahead = b"" if then is None else _commands(*then, True)
        self.writes += 1
        try:
            wire.write(payload + b".\r\n" + ahead)
        except Lost as lost:
            # sendall failed, so the final dot never left: certainly not delivered.
            self._drop()
            return self._all(accepted, Outcome.TEMPORARY, None, str(lost), "connection")
        if then is not None:
            self._announced = (then[0], tuple(then[1]))
        try:
            code, reply = wire.reply()
        except Lost as exc:
            self._drop()
            reply = f"no reply after the message was handed over: {exc}"
            return self._all(accepted, Outcome.UNKNOWN, None, reply, "data")
        if code == 421:
            self._drop()
        return self._all(accepted, _classify(code), code, reply, "data")

    def _failed_transaction(
        self, recipients: list[str], code: int, reply: str
    ) -> dict[str, Result]:
        if code == 421:
            self._drop()
        else:
            self._reset()
        return self._all(recipients, _classify(code), code, reply, "mail")

    @staticmethod
    def _command(wire: Wire, line: str) -> tuple[int, str]:
        wire.write(f"{line}\r\n".encode("ascii"))
        return wire.reply()

    def _reset(self) -> None:
        if self._wire is None:
            return
        try:
            code, _ = self._command(self._wire, "RSET")
        except Lost:
            code = 0
        if code != 250:
            self._drop()

    def _drop(self) -> None:
        self._announced = None
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.close()

    @staticmethod
    def _all(
        recipients: list[str], outcome: Outcome, code: int | None, reply: str, stage: str
    ) -> dict[str, Result]:
        return {rcpt: Result(outcome, code, reply, stage) for rcpt in recipients}

    def _connection(self) -> Wire:
        if self._wire is not None:
            return self._wire
        relay = self.relay
        options = {"local_hostname": relay.helo or _default_helo(), "timeout": relay.timeout}
        try:
            if relay.security == "tls":
                context = self._tls_context()
                smtp = smtplib.SMTP_SSL(relay.host, relay.port, context=context, **options)
            else:
                smtp = smtplib.SMTP(relay.host, relay.port, **options)
        except smtplib.SMTPConnectError as exc:
            raise RelayError(f"{exc.smtp_code} {_decode(exc.smtp_error)}", exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RelayError(f"cannot connect to {relay.host}:{relay.port}: {exc}") from None
        self.connections += 1
        try:
            self._greet(smtp)
            wire = Wire(smtp, relay.timeout)
        except BaseException:
            smtp.close()
            raise
        self._wire = wire
        return wire

    def _greet(self, smtp: smtplib.SMTP) -> None:
        relay = self.relay
        try:
            smtp.ehlo_or_helo_if_needed()
            if relay.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
        except smtplib.SMTPResponseException as exc:
            raise RelayError(f"{exc.smtp_code} {_decode(exc.smtp_error)}", exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RelayError(f"session set-up with {relay.host} failed: {exc}") from None
        if relay.username:
            try:
                smtp.login(relay.username, relay.password or "")
            except smtplib.SMTPAuthenticationError as exc:
                message = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
                # 4xx (e.g. 454) is the relay's own trouble, not wrong credentials.
                raise (RelayError if exc.smtp_code < 500 else AuthError)(message) from None
            except smtplib.SMTPNotSupportedError:
                raise AuthError(f"{relay.host} does not offer SMTP AUTH") from None
            except smtplib.SMTPException as exc:
                raise AuthError(f"authentication with {relay.host} failed: {exc}") from None
            except OSError as exc:
                raise RelayError(f"connection lost during AUTH: {exc}") from None

    def _tls_context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()


def _safe(address: str) -> bool:
    """An envelope address that cannot add a command: ASCII, no blank, control or bracket."""
    return address.isascii() and not _UNSAFE_ADDRESS.search(address)


def _in_one_write(recipients: list[str], primary: bool) -> bool:
    """Whether a message's commands may all leave in one write: one recipient, or copies that
    need not wait for the addressee's answer."""
    return len(recipients) == 1 or not primary


def _commands(envelope_from: str, recipients: list[str], pipelined: bool) -> bytes:
    commands = [f"MAIL FROM:<{envelope_from}>"]
    if pipelined:
        commands += [*(f"RCPT TO:<{rcpt}>" for rcpt in recipients), "DATA"]
    return "".join(f"{command}\r\n" for command in commands).encode("ascii")


def _classify(code: int) -> Outcome:
    if 200 <= code < 300:
        return Outcome.SENT
    if 400 <= code < 500:
        return Outcome.TEMPORARY
    if 500 <= code < 600:
        return Outcome.PERMANENT
    # Anything else (smtplib's -1 for a garbled reply) may be a relay in trouble: retry.
    return Outcome.TEMPORARY


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    return raw.decode("utf-8", "replace")


@functools.lru_cache(maxsize=1)
def _default_helo() -> str:
    # smtplib would call getfqdn() (a DNS lookup) on every connect; once per process is enough.
    return socket.getfqdn() or "localhost"
