"""No public default secret: the app refuses to start without its secrets (outside tests),
`make run` creates random ones in var/, and secrets at rest have key material of their own."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from shopmail import create_app
from shopmail.config import MissingSecret, development_secrets
from shopmail.core import crypto
from shopmail.extensions import db
from shopmail.models import Store


@pytest.fixture
def no_secrets(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "SHOPMAIL_SECRET_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOPMAIL_VAR_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def start(**config):
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **config})


def test_the_desk_refuses_to_start_without_a_secret_or_with_a_known_one(no_secrets):
    with pytest.raises(MissingSecret, match="SECRET_KEY is not set"):
        start()
    with pytest.raises(MissingSecret, match="publicly known development value"):
        start(SECRET_KEY="dev-only-secret-change-me", SHOPMAIL_SECRET_KEYS=Fernet.generate_key())
    with pytest.raises(MissingSecret, match="SHOPMAIL_SECRET_KEYS is not set"):
        start(SECRET_KEY="a-long-random-production-value-0123456789")


def test_make_run_creates_private_random_secrets_once_and_reuses_them(no_secrets):
    development_secrets()
    files = [no_secrets / "secret-key", no_secrets / "secret-keys"]
    assert [stat.S_IMODE(f.stat().st_mode) for f in files] == [0o600, 0o600]
    first = [f.read_text() for f in files]
    development_secrets()
    assert [f.read_text() for f in files] == first  # reused, not replaced
    app = start()  # the desk starts on them
    assert app.config["SECRET_KEY"] == first[0].strip() and len(first[0].strip()) >= 48
    assert app.config["SHOPMAIL_SECRET_KEYS"] == first[1].strip()


def test_relay_passwords_need_their_own_key_not_secret_key(app, store, monkeypatch):
    """Changing SECRET_KEY leaves them readable; another Fernet key cannot read them; after
    `rotate-secrets` the old key can be dropped."""
    old, new = app.config["SHOPMAIL_SECRET_KEYS"], Fernet.generate_key().decode()
    store.smtp_password_enc = crypto.encrypt("relay-password")
    db.session.commit()

    def keys(value: str, session_secret: str | None = None) -> None:
        monkeypatch.setitem(app.config, "SHOPMAIL_SECRET_KEYS", value)
        if session_secret:
            monkeypatch.setitem(app.config, "SECRET_KEY", session_secret)
        crypto.configure(app)

    keys(old, session_secret="another-secret-key")  # the same keys, another SECRET_KEY: readable
    assert crypto.decrypt(store.smtp_password_enc) == "relay-password"
    keys(new)
    with pytest.raises(ValueError):
        crypto.decrypt(store.smtp_password_enc)
    keys(f"{new},{old}")  # rotation: the new key first, the old one still decrypts
    result = app.test_cli_runner().invoke(args=["rotate-secrets"])
    assert result.exit_code == 0 and "1 secret(s)" in result.output
    db.session.expire_all()
    keys(new)  # the old key is gone
    assert crypto.decrypt(db.session.get(Store, store.id).smtp_password_enc) == "relay-password"
    keys(old)
