"""The bounce mailbox on real parts: real IMAP and POP3 servers on loopback (started here),
read by the desk's periodic job with imaplib / poplib; the bounces are those of mail that went
out through the real send loop."""

from __future__ import annotations

import pytest

from shopmail import jobs
from shopmail.core import dispatch
from shopmail.extensions import db
from shopmail.models import Member, Message
from tests.conftest import run_worker
from tests.factories import MemberFactory, MessageFactory, OrderFactory
from tests.integration.test_bounces import arrived_for, start_broadcast
from tests.support.bounces import arf, dsn, plain_bounce


@pytest.fixture
def sent(app, admin, mail_store, smtp_server):
    """Two members' broadcast copies, sent through the real send loop."""
    for i in range(2):
        MemberFactory(number=f"M{i:06d}", company=f"会社{i}", email=f"m{i}@example.jp")
    start_broadcast(mail_store, admin)
    run_worker(app)
    smtp_server.wait_for(2)
    return smtp_server


def state_of(addr: str) -> Message:
    db.session.expire_all()
    return db.session.scalar(db.select(Message).filter_by(to_addr=addr))


def member(number: str) -> Member:
    db.session.expire_all()
    return db.session.scalar(db.select(Member).filter_by(number=number))


def delivered(raw: bytes, to: str) -> bytes:
    """The bounce as the mailbox keeps it: the delivering MTA notes the envelope recipient."""
    return f"Return-Path: <>\r\nDelivered-To: {to}\r\n".encode() + raw


@pytest.mark.parametrize("keywords", [True, False], ids=["keyword", "seen-flag"])
def test_bounces_in_an_imap_mailbox_are_read_once_flagged_and_never_deleted(
    app, sent, imap_server, monkeypatch, keywords
):
    imap_server.keywords = keywords
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", imap_server.url())
    m0, m1 = arrived_for(sent, "m0@example.jp"), arrived_for(sent, "m1@example.jp")
    hard = imap_server.add(delivered(dsn(m0.mail_from, "m0@example.jp", original=m0), m0.mail_from))
    complaint = imap_server.add(
        delivered(arf(m1.mail_from, "m1@example.jp", original=m1), m1.mail_from)
    )
    unrelated = imap_server.add(b"From: someone@example.jp\r\nSubject: hello\r\n\r\nhi\r\n")

    assert jobs.poll_bounce_mailboxes() == {"hard": 1, "complaint": 1, "ignored": 1}
    assert state_of("m0@example.jp").state == "bounced"
    assert member("M000000").hard_bounces == 1
    assert member("M000001").wants_mail is False
    read = {"\\Seen", "$ShopmailRead"} if keywords else {"\\Seen"}
    assert all(m.flags == read for m in (hard, complaint, unrelated))
    assert len(imap_server.mails) == 3  # nothing deleted, nothing expunged
    assert not [c for c in imap_server.commands if "Deleted" in c or c.startswith("EXPUNGE")]

    # The next poll reads nothing again; a new bounce is read.
    soft = imap_server.add(
        delivered(dsn(m1.mail_from, "m1@example.jp", "4.2.2", original=m1), m1.mail_from)
    )
    assert jobs.poll_bounce_mailboxes() == {"soft": 1}
    assert soft.flags == read
    assert member("M000000").hard_bounces == 1 and member("M000001").soft_bounces == 1


def test_a_message_read_twice_still_counts_once(app, sent, imap_server, monkeypatch):
    # As after a crash between the commit and the flag: the mailbox offers it again.
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", imap_server.url())
    m0 = arrived_for(sent, "m0@example.jp")
    bounce = imap_server.add(delivered(dsn(m0.mail_from, "m0@example.jp"), m0.mail_from))
    jobs.poll_bounce_mailboxes()
    bounce.flags.clear()
    assert jobs.poll_bounce_mailboxes() == {"ignored": 1}
    assert member("M000000").hard_bounces == 1


def test_a_forged_bounce_in_the_mailbox_changes_nothing(app, sent, imap_server, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", imap_server.url())
    row = state_of("m0@example.jp")
    forged = f"m{row.id}-abcdefabcdef@bounce.mail.shopmail.example"
    imap_server.add(delivered(dsn(forged, "m0@example.jp"), forged))
    assert jobs.poll_bounce_mailboxes() == {"ignored": 1}
    assert state_of("m0@example.jp").state == "sent"


def test_a_bounce_without_its_envelope_is_matched_by_the_message_id_it_quotes(
    app, mail_store, smtp_server, imap_server, monkeypatch
):
    # A mailbox that received the bounce at the store's own address (a relay that keeps the
    # envelope sender, as the Rakuten relay does): only the quoted original names the row.
    order = OrderFactory(store=mail_store, number="R-77", buyer_email="jiro@example.jp")
    MessageFactory(
        store=mail_store,
        kind="order_confirmation",
        order_id=order.id,
        to_addr="jiro@example.jp",
        dedupe_key="order_confirmation:order:77",
    )
    dispatch.dispatch_sending()
    run_worker(app)
    [mail] = smtp_server.wait_for(1)
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", imap_server.url())
    imap_server.add(plain_bounce("shop@sakura.example.jp", "jiro@example.jp", original=mail))
    assert jobs.poll_bounce_mailboxes() == {"hard": 1}
    row = state_of("jiro@example.jp")
    assert row.state == "bounced" and row.bounce_status == "5.1.1"
    assert "unknown user" in row.bounce_diagnostic


def test_bounces_in_a_pop3_mailbox_are_read_once_and_left_on_the_server(
    app, sent, pop3_server, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", pop3_server.url())
    m0, m1 = arrived_for(sent, "m0@example.jp"), arrived_for(sent, "m1@example.jp")
    pop3_server.add(delivered(dsn(m0.mail_from, "m0@example.jp", original=m0), m0.mail_from))
    assert jobs.poll_bounce_mailboxes() == {"hard": 1}
    assert state_of("m0@example.jp").state == "bounced"

    pop3_server.add(delivered(arf(m1.mail_from, "m1@example.jp", original=m1), m1.mail_from))
    assert jobs.poll_bounce_mailboxes() == {"complaint": 1}  # the first one is not read again
    assert member("M000001").wants_mail is False
    assert member("M000000").hard_bounces == 1
    retrieved = [c for c in pop3_server.commands if c.startswith("RETR")]
    assert retrieved == ["RETR 1", "RETR 2"]
    assert pop3_server.deleted == [] and len(pop3_server.mails) == 2


def test_a_mailbox_that_cannot_be_read_is_reported_not_fatal(app, imap_server, monkeypatch):
    url = imap_server.url()
    imap_server.password = "changed on the server"
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", url)
    assert jobs.poll_bounce_mailboxes() == {"errors": 1}
    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_MAILBOX", "")
    assert jobs.poll_bounce_mailboxes() == {}
