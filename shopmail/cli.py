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

    @app.cli.command("run-desk")
    @click.option("--port", default=5000, show_default=True)
    def run_desk(port: int) -> None:
        """Start web, worker and scheduler (and embedded Redis / dev SMTP when not configured)."""
        from shopmail import desk

        desk.run(app, port)
