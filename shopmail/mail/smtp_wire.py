"""An open SMTP session's commands and replies, on its socket.

smtplib opens the session (connect, greeting, EHLO, STARTTLS, AUTH) and says goodbye (QUIT);
what goes between, thousands of transactions, goes through a :class:`Wire`, which owns the
connection from then on: each write one ``sendall``, replies parsed off one buffer that a
single ``recv`` fills with every reply already there (a pipelined message's four come
together). smtplib reads a reply line by line, each through Python's socket file layer: on
loopback a 4 KB mail cost 62–65 µs of CPU that way, 59–61 µs this way.

On a plain connection the session's timeout becomes the kernel's (``SO_RCVTIMEO`` /
``SO_SNDTIMEO``): Python's own socket timeout polls the socket before every read and write, a
second system call each. Under TLS Python's timeout stays (see `Wire`).
"""

from __future__ import annotations

import errno
import smtplib
import socket
import ssl
import struct

__all__ = ["Lost", "Wire"]

_LONGEST_REPLY = 65536  # bytes without a line end: no SMTP server says this much in one line


class Lost(Exception):
    """The connection failed, closed or timed out mid-command; says how, for the history."""


class Wire:
    """The data path of one session smtplib has opened; `smtp` is not read from again."""

    def __init__(self, smtp: smtplib.SMTP, timeout: float) -> None:
        sock = smtp.sock
        self._smtp = smtp
        self._sock = sock
        self.pipelining = smtp.has_extn("pipelining")
        self._buffer = bytearray(_read_ahead(smtp))  # leaves the socket non-blocking
        if isinstance(sock, ssl.SSLSocket):
            # Python's TLS layer retries a read the kernel timed out, for ever: it keeps its
            # own timeout.
            sock.settimeout(timeout)
            return
        sock.settimeout(None)
        seconds, fraction = divmod(max(timeout, 0.001), 1)
        limit = struct.pack("@ll", int(seconds), int(fraction * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)

    def write(self, data: bytes) -> None:
        """All of `data`, or :class:`Lost`."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise Lost(f"connection lost: {_why(exc)}") from None

    def reply(self) -> tuple[int, str]:
        """The next reply: its code (-1 when garbled) and its lines' text joined by newlines."""
        lines: list[bytes] = []
        buffer = self._buffer
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                del buffer[:start]
                start = 0
                if len(buffer) > _LONGEST_REPLY:
                    raise Lost("the relay's reply has no line end")
                self._fill()
                continue
            line = bytes(buffer[start:end]).rstrip(b"\r")
            start = end + 1
            lines.append(line[4:])
            if line[3:4] != b"-":
                del buffer[:start]
                code = int(line[:3]) if line[:3].isdigit() else -1
                return code, b"\n".join(lines).decode("utf-8", "replace")

    def quit(self) -> None:
        """QUIT politely, then close; errors are ignored (the session is over either way)."""
        try:
            self.write(b"QUIT\r\n")
            self.reply()
        except Lost:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self._smtp.close()

    def _fill(self) -> None:
        try:
            data = self._sock.recv(65536)
        except OSError as exc:
            raise Lost(f"connection lost: {_why(exc)}") from None
        if not data:
            raise Lost("connection lost: closed by the server")
        self._buffer += data


def _read_ahead(smtp: smtplib.SMTP) -> bytes:
    """What smtplib's reader holds beyond the replies it parsed (normally nothing): read
    without waiting, so no byte the relay sent is dropped at the hand-over."""
    smtp.sock.setblocking(False)
    if smtp.file is None:
        return b""
    try:
        return smtp.file.read1(65536) or b""
    except OSError:  # nothing buffered and nothing on the socket (TLS says so by raising)
        return b""


def _why(exc: OSError) -> str:
    # The kernel's timeout reads as EAGAIN on a plain socket, as "want read" under TLS.
    if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) or isinstance(
        exc, (TimeoutError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
    ):
        return "timed out"
    return str(exc) or "closed by the server"
