"""`flask --app app …` commands. A command is one transaction: it commits at its end."""

from __future__ import annotations

import sys

import click
from flask import Flask

from shopmail.core.boundary import commits
from shopmail.core.states import ApiScope, Role
from shopmail.extensions import db

CLI = "the CLI command boundary"


def register(app: Flask) -> None:
    @app.cli.command("demo-data")
    @commits(CLI)
    def demo_data() -> None:
        """Fill the desk with realistic Japanese stores, orders, quotes and members."""
        from shopmail import demo

        created = demo.load()
        db.session.commit()
        if created:
            click.echo("demo data loaded: " + ", ".join(f"{v} {k}" for k, v in created.items()))
        else:
            click.echo("demo data already present: nothing changed")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
    @click.option("--name", default="")
    @click.option("--language", type=click.Choice(["ja", "en"]), default="ja")
    @commits(CLI)
    def create_user(email: str, role: str, name: str, language: str) -> None:
        """Create a user; the password is prompted for, or read from stdin."""
        from shopmail.people.users import UserError, create_user

        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        try:
            create_user(email, password, role=role, name=name, language=language, actor="cli")
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"created {role} {email}")

    @app.cli.command("create-api-token")
    @click.argument("name")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        type=click.Choice([s.value for s in ApiScope]),
        help="What the token may do; repeat for several. Every scope when none is given.",
    )
    @commits(CLI)
    def create_api_token(name: str, scopes: tuple[str, ...]) -> None:
        """Create an API token; its secret is printed once and stored only as a hash."""
        from shopmail.data_in.tokens import TokenError, create_token

        try:
            token, secret = create_token(name, actor="cli", scopes=scopes or None)
        except TokenError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        scope_names = ", ".join(token.scope_list)
        click.echo(
            f"created API token {token.name!r} (scopes: {scope_names}); it is shown only this once:"
        )
        click.echo(secret)

    @app.cli.command("create-mails")
    @commits(CLI)
    def create_mails() -> None:
        """Create the automatic mails now (order confirmation, shipping notice, follow-up)."""
        from shopmail.automatic import creation as automatic
        from shopmail.core import dispatch

        report = automatic.create_mails("cli")
        if report.queued:
            dispatch.send_soon()
        db.session.commit()
        kinds = ", ".join(f"{n} {kind}" for kind, n in report.created.items()) or "nothing new"
        click.echo(
            f"created {report.total} mails ({kinds}): {report.held} held for review, "
            f"{report.queued} queued"
        )
        for where, n in report.missing_templates.items():
            click.echo(f"no template for {where}: {n} orders skipped", err=True)

    @app.cli.command("dkim-key")
    @click.argument("domain")
    @click.option("--selector", help="The new key's selector (default: sm + the month, sm202612).")
    @click.option("--remove", metavar="SELECTOR", help="Delete this selector's key instead.")
    @click.option("--list", "listing", is_flag=True, help="Only list the domain's keys.")
    @commits(CLI)
    def dkim_key(domain: str, selector: str | None, remove: str | None, listing: bool) -> None:
        """Create a DKIM key for DOMAIN; print the DNS record to publish (one line on stdout).

        The new key signs at once. The previous one is kept, its record still listed, until
        removed with --remove SELECTOR (once no mail signed with it can still be in transit)."""
        from shopmail.core import dkim_keys

        try:
            if remove:
                key = dkim_keys.remove_key(domain, remove, actor="cli")
            elif not listing:
                key = dkim_keys.create_key(domain, selector, actor="cli")
            keys = dkim_keys.keys_for(domain)
        except dkim_keys.DkimKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        if remove:
            stopped = "; its mail is no longer signed" if key.retired_at is None else ""
            click.echo(f"removed the key {key.selector} of {key.domain}{stopped}", err=True)
        elif not listing:
            click.echo(dkim_keys.record_of(key))
            click.echo(f"{key.domain} is signed with {key.selector} from now on.", err=True)
            keys = [k for k in keys if k.id != key.id]
        for other in keys:
            state = "signs" if other.retired_at is None else "retired, kept until removed"
            line = f"{other.selector} ({state}): {dkim_keys.record_of(other)}"
            click.echo(line, err=not listing)
        if listing and not keys:
            click.echo(f"{domain} has no DKIM key", err=True)

    @app.cli.command("rotate-secrets")
    @commits(CLI)
    def rotate_secrets() -> None:
        """Encrypt every secret at rest again with the first key of SHOPMAIL_SECRET_KEYS."""
        from shopmail.core import crypto
        from shopmail.models import DkimKey, Store

        count = 0
        for store in db.session.scalars(db.select(Store).where(Store.smtp_password_enc != "")):
            store.smtp_password_enc = crypto.rotate(store.smtp_password_enc)
            count += 1
        for key in db.session.scalars(db.select(DkimKey)):
            key.private_key_enc = crypto.rotate(key.private_key_enc)
            count += 1
        db.session.commit()
        click.echo(f"{count} secret(s) encrypted with the first key; older keys may now go")

    @app.cli.command("run-desk")
    @click.option("--port", default=5000, show_default=True)
    def run_desk(port: int) -> None:
        """Start web, worker and scheduler (and embedded Redis / dev SMTP when not configured)."""
        from shopmail import desk

        desk.run(app, port)

    @app.cli.command("bounce-endpoint")
    @click.option("--listen", help="host:port (default: SHOPMAIL_BOUNCE_LISTEN).")
    def bounce_endpoint(listen: str | None) -> None:
        """Run the SMTP endpoint bounces come back to, until Ctrl-C (what `make run` starts)."""
        import time

        from shopmail.bounces.endpoint import BounceEndpoint

        endpoint = BounceEndpoint(app, listen).start()
        click.echo(f"bounce endpoint (SMTP) on {endpoint.host}:{endpoint.port}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            endpoint.stop()

    @app.cli.command("poll-bounces")
    def poll_bounces() -> None:
        """Read the bounce mailboxes (SHOPMAIL_BOUNCE_MAILBOX) once, now."""
        from shopmail.bounces import mailbox

        counts = mailbox.poll_all(app.config.get("SHOPMAIL_BOUNCE_MAILBOX") or "")
        click.echo(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing new")
