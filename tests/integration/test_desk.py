"""`make run`'s own parts: the development relay and demo stores that obey the store rules."""

from __future__ import annotations

from pathlib import Path

from shopmail import demo
from shopmail.core import sending
from shopmail.extensions import db
from shopmail.mail.transport import Outcome, SmtpSession
from shopmail.models import Store
from shopmail.stores.forms import StoreForm


def test_the_development_relay_keeps_mail_in_a_maildir_and_accepts_rakuten_auth(tmp_path: Path):
    from shopmail.desk import _DevSmtp

    relay_server = _DevSmtp(tmp_path / "mail")
    try:
        relay = sending.relay_from_url(f"smtp://127.0.0.1:{relay_server.port}")
        with SmtpSession(
            relay.__class__(relay.host, relay.port, username="id", password="pw")
        ) as s:
            result = s.send("shop@example.jp", ["buyer@example.jp"], b"Subject: hi\r\n\r\nbody\r\n")
    finally:
        relay_server.stop()
    assert result["buyer@example.jp"].outcome is Outcome.SENT
    [kept] = list((tmp_path / "mail" / "new").iterdir())
    assert b"Subject: hi" in kept.read_bytes()


def test_every_demo_store_passes_the_store_rules(app):
    demo.load()
    db.session.commit()
    for store in db.session.scalars(db.select(Store)):
        with app.test_request_context():
            form = StoreForm(store, formdata=None, meta={"csrf": False})
            assert form.validate(), (store.code, form.errors)
