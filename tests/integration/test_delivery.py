"""The delivery engine on real parts: session budgets, the pace and throttling, with one and with
two real worker processes against a real SMTP server."""

from __future__ import annotations

import collections
import time
from datetime import timedelta

from shopmail.core import dispatch
from shopmail.extensions import db
from shopmail.models import Message, RelaySend, RelaySession, RelayState
from shopmail.models.types import utcnow
from tests.conftest import run_worker
from tests.integration.test_outbox import queue_mail, states
from tests.support.workers import start_worker


def received_once(smtp_server) -> bool:
    counts = collections.Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    return set(counts.values()) <= {1}


def relay_of(store) -> RelayState:
    db.session.expire_all()
    return db.session.get(RelayState, f"store:{store.id}")


def a_minute_passes() -> None:
    """As if the clock moved on: the pace log, pauses and back-offs are a minute older."""
    for logged in db.session.scalars(db.select(RelaySend)):
        logged.at -= timedelta(seconds=61)
    db.session.execute(db.update(RelayState).values(paused_until=None))
    db.session.execute(db.update(Message).values(next_attempt_at=None))
    db.session.commit()


def two_workers(app, store) -> None:
    """Two worker processes, each with a send job for the store at the same moment (burst
    workers leave when the queue is empty, so each gets its job up front)."""
    for _ in range(2):
        dispatch.get_queue("mail").enqueue("shopmail.jobs.send_store", store.id)
    workers = [start_worker(app, SHOPMAIL_WORKERS="2") for _ in range(2)]
    assert [w.wait(120) for w in workers] == [0, 0]


def test_two_workers_share_the_relays_session_budget(app, mail_store, smtp_server):
    smtp_server.handler.delay_after_data = 0.02
    mail_store.bcc, mail_store.smtp_sessions = "", 3
    db.session.commit()
    queue_mail(mail_store, to="m@example.jp", n=400)
    two_workers(app, mail_store)
    assert len(smtp_server.wait_for(400)) == 400 and states() == {"sent": 400}
    assert received_once(smtp_server)
    # Each worker took its share (2 + 1): more than one session, never more than three.
    assert 2 <= smtp_server.handler.most_at_once <= 3
    # Every lease was given back.
    assert db.session.scalar(db.select(db.func.count()).where(RelaySession.holder.isnot(None))) == 0


def test_a_killed_workers_session_lease_lapses(app, mail_store, smtp_server):
    mail_store.smtp_sessions = 1
    key = f"store:{mail_store.id}"
    # The only session, held by a worker that was killed mid-session: a live lease blocks…
    db.session.add(
        RelaySession(
            relay_key=key, slot=0, holder="dead:1", expires_at=utcnow() + timedelta(seconds=30)
        )
    )
    db.session.commit()
    queue_mail(mail_store, n=3)
    dispatch.dispatch_sending()
    run_worker(app)
    assert smtp_server.messages == [] and states() == {"queued": 3}
    # …until it lapses, without anyone giving it back.
    db.session.execute(db.update(RelaySession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    queue_mail(mail_store, n=3)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.wait_for(3)) == 3 and states() == {"sent": 3}


def test_the_pace_holds_with_two_workers(app, mail_store, smtp_server):
    mail_store.bcc, mail_store.smtp_per_minute = "", 40
    db.session.commit()
    queue_mail(mail_store, to="m@example.jp", n=100)
    two_workers(app, mail_store)
    # Both workers asked at once; together they sent exactly the minute's 40.
    assert len(smtp_server.messages) == 40
    assert states() == {"sent": 40, "queued": 60}
    a_minute_passes()
    two_workers(app, mail_store)
    assert len(smtp_server.messages) == 80 and received_once(smtp_server)


def test_the_hourly_pace_holds_too(app, mail_store, smtp_server):
    mail_store.bcc, mail_store.smtp_per_hour = "", 30
    db.session.commit()
    queue_mail(mail_store, to="m@example.jp", n=50)
    dispatch.dispatch_sending()
    run_worker(app)
    a_minute_passes()  # a minute is not an hour: still nothing more
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.messages) == 30 and states() == {"sent": 30, "queued": 20}


def test_a_421_storm_slows_the_pace_and_loses_nothing(app, mail_store, smtp_server, admin_client):
    mail_store.bcc, mail_store.smtp_sessions = "", 2
    db.session.commit()
    queue_mail(mail_store, to="m@example.jp", n=300)
    # After 60 mails the relay answers "421 too many messages" to the next six MAIL FROMs.
    smtp_server.handler.throttle_from, smtp_server.handler.throttle_mail = 60, 6
    dispatch.dispatch_sending()
    run_worker(app)
    assert 60 <= len(smtp_server.messages) <= 62  # (a mail per session may be under way)
    paces = []
    while smtp_server.handler.throttle_mail and len(paces) < 20:  # the storm
        relay = relay_of(mail_store)
        paces.append(relay.slow_per_minute)
        before = len(smtp_server.messages)
        a_minute_passes()
        dispatch.dispatch_sending()
        run_worker(app)
        assert len(smtp_server.messages) - before <= relay.slow_per_minute  # never faster
    assert paces == sorted(paces, reverse=True) and paces[-1] < paces[0]  # slower each time
    relay = relay_of(mail_store)
    page = admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True)
    assert "メールサーバが送信を制限しています。" in page  # staff see why mail is slow
    assert f"1分あたり {relay.slow_per_minute} 通までに抑えて送信します" in page
    # (a 421 on a reused connection is tried once more on a fresh one: 2 answers, 1 throttle)
    assert relay.throttles >= 3 and "Too many" in relay.throttle_reply
    relay.slowed_until = utcnow()  # the slow while is over: full speed again
    a_minute_passes()
    dispatch.dispatch_sending()
    run_worker(app)
    assert states() == {"sent": 300}
    assert len(smtp_server.messages) == 300 and received_once(smtp_server)
    # A throttled try is no attempt: every mail went at its first counted attempt.
    assert {m.attempts for m in db.session.scalars(db.select(Message))} == {1}


def test_while_slowed_a_minute_carries_no_more_than_the_slow_pace(app, mail_store, smtp_server):
    mail_store.bcc = ""
    db.session.add(
        RelayState(
            key=f"store:{mail_store.id}",
            throttles=1,
            throttle_reply="421 4.7.0 Too many messages",
            slow_per_minute=7,
            slowed_until=utcnow() + timedelta(minutes=10),
        )
    )
    db.session.commit()
    queue_mail(mail_store, to="m@example.jp", n=20)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.messages) == 7 and states() == {"sent": 7, "queued": 13}


def test_a_retry_goes_out_when_it_is_due_not_when_the_reconciler_next_looks(
    app, mail_store, smtp_server
):
    """No cron runs here: only the send loop itself can bring the retry back, on time."""
    smtp_server.handler.defer_rcpt["taro@example.jp"] = 1  # greylisted once
    queue_mail(mail_store)
    dispatch.dispatch_sending()
    worker = start_worker(app, burst=False, SHOPMAIL_RETRY_DELAYS="3,3,3,3")
    try:
        deferred = time.monotonic()
        [mail] = smtp_server.wait_for(1, timeout=30)
        waited = time.monotonic() - deferred
    finally:
        worker.terminate()
        worker.wait(20)
    assert "taro@example.jp" in mail.rcpt_tos
    assert 2 <= waited < 15, waited  # the 3 s back-off, not the reconciler's minute
    [row] = db.session.scalars(db.select(Message)).all()
    db.session.refresh(row)
    assert row.state == "sent" and row.attempts == 2


def test_a_mail_that_cannot_be_composed_fails_alone_and_the_rest_of_its_chunk_goes(
    app, mail_store, smtp_server
):
    """A chunk's mails are composed before the first is sent: one that cannot be (here its
    Message-ID was damaged) is failed with the reason, and the others still go out."""
    mail_store.bcc = ""
    db.session.commit()
    ids = queue_mail(mail_store, to="m@example.jp", n=3)
    db.session.execute(
        db.update(Message).where(Message.id == ids[1]).values(message_id="no message id")
    )
    db.session.commit()
    dispatch.dispatch_sending()
    run_worker(app)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == [
        "0.m@example.jp",
        "2.m@example.jp",
    ]
    damaged = db.session.get(Message, ids[1])
    db.session.refresh(damaged)
    assert damaged.state == "failed"
    assert damaged.last_reply == "invalid mail: invalid Message-ID 'no message id'"
    assert states() == {"sent": 2, "failed": 1}
