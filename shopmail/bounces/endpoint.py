"""The bounce endpoint: an SMTP server (aiosmtpd) that takes mail for the bounce domain only.

An MX record for the bounce domain, or a relay's bounce forwarding, points here
(`SHOPMAIL_BOUNCE_LISTEN`, default 127.0.0.1:2626; `make run` starts it). RCPT is refused with
550 for any other domain, so it is no open relay. Each message is handed to the bounce service
and committed before the sender hears 250; when that fails the answer is 451 and the sender
tries again later (a repeat then counts once).
"""

from __future__ import annotations

import asyncio
import logging
import socket

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from shopmail.bounces import service
from shopmail.core import verp
from shopmail.core.boundary import in_transaction
from shopmail.extensions import db

log = logging.getLogger(__name__)
MAX_SIZE = 10 * 1024 * 1024  # bounces quote the original mail; newsletters are not this big


def listen_address(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:2626` for IPv6); port 0 picks a free one. Raises OSError at once
    when the address is taken (aiosmtpd would only say so after its start-up timeout)."""
    host, _, port = value.strip().rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        return host, sock.getsockname()[1]


class BounceHandler:
    """aiosmtpd handler: RCPT for the bounce domain only, DATA to the bounce service."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        with self.app.app_context():
            ours = verp.is_bounce_address(address)
        if not ours:
            return "550 5.7.1 Relaying denied: this server takes mail for its bounce domain only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        rcpts = list(envelope.rcpt_tos)
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._receive, raw, rcpts)
        except Exception:  # noqa: BLE001 - the sender keeps the report and tries again
            log.exception("a bounce could not be recorded")
            return "451 4.3.0 The report could not be recorded now; try again later"
        return "250 2.0.0 OK"

    def _receive(self, raw: bytes, rcpts: list[str]) -> None:
        with self.app.app_context():
            try:
                receive_report(raw, rcpts, "smtp")
            finally:
                db.session.remove()


def receive_report(raw: bytes, rcpts: list[str], via: str) -> service.Received:
    """One received report as one transaction, committed before the sender hears 250."""
    return in_transaction(service.receive, raw, rcpts, via)


class BounceEndpoint:
    """The endpoint on its own thread (aiosmtpd's Controller); `start()` / `stop()`."""

    def __init__(self, app: Flask, listen: str | None = None) -> None:
        self.host, self.port = listen_address(listen or app.config["SHOPMAIL_BOUNCE_LISTEN"])
        self.controller = Controller(
            BounceHandler(app),
            hostname=self.host,
            port=self.port,
            data_size_limit=MAX_SIZE,
            server_hostname=verp_domain(app),
            ready_timeout=10,
        )

    def start(self) -> BounceEndpoint:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def verp_domain(app: Flask) -> str:
    with app.app_context():
        return verp.bounce_domain()
