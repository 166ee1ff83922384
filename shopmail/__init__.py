"""shopmail: the mail desk of an online shop."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from shopmail import config
from shopmail.config import ROOT
from shopmail.core import crypto, i18n
from shopmail.extensions import babel, csrf, db, htmx, limiter, login, migrate


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config.load())
    app.config.update(overrides or {})
    config.check_secrets(app.config)

    from shopmail import models  # noqa: F401  (registers every table with the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    htmx.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    crypto.configure(app)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)

    from shopmail import cli, web
    from shopmail.core import dispatch
    from shopmail.web.api_auth import is_api_blueprint

    dispatch.init_app(app)
    web.init_app(app)
    for blueprint, prefix in _blueprints():
        app.register_blueprint(blueprint, url_prefix=prefix)
        if is_api_blueprint(blueprint):  # bearer tokens, not cookies: no CSRF to forge
            csrf.exempt(blueprint)
    cli.register(app)

    @app.after_request
    def vary_on_htmx(response):
        # Pages and their HTMX partials share URLs: caches must keep them apart.
        if request.headers.get("HX-Request") is not None or response.mimetype == "text/html":
            response.vary.add("HX-Request")
        return response

    return app


def _blueprints() -> list:
    """Every area of the desk, one blueprint per view module (`<feature>/*views.py`)."""
    from shopmail.automatic import operations_views
    from shopmail.automatic import views as automatic
    from shopmail.bounces import views as bounces
    from shopmail.broadcasts import api_views as broadcasts_api
    from shopmail.broadcasts import schedule_views, test_send_views, unsubscribe_views
    from shopmail.broadcasts import views as broadcasts
    from shopmail.data_in import api_views, import_views, token_views
    from shopmail.members import views as members
    from shopmail.people import account_views, audit_views, login_views, user_views
    from shopmail.record_mails import views as record_mails
    from shopmail.stores import views as stores
    from shopmail.web import home_views, version_views

    return [
        (home_views.bp, None),
        (login_views.bp, None),
        (account_views.bp, None),
        (user_views.bp, None),
        (audit_views.bp, None),
        (operations_views.bp, None),
        (automatic.bp, None),
        (bounces.bp, None),
        (record_mails.bp, None),
        (members.bp, None),
        (broadcasts.bp, None),
        (schedule_views.bp, None),
        (test_send_views.bp, None),
        (unsubscribe_views.bp, None),
        (stores.bp, None),
        (import_views.bp, None),
        (token_views.bp, None),
        (version_views.bp, None),
        (api_views.bp, "/api/v1"),
        (broadcasts_api.bp, "/api/v1"),
    ]


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # Web and workers share one SQLite file: WAL lets readers run beside the writer and the
    # busy timeout makes a writer wait for the lock instead of failing at once.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # Safe with WAL: an application crash loses nothing; only a power cut may lose the
        # last commits (rows then read `sending` and become `unknown`, never resent).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
