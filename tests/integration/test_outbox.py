"""The outbox on real parts: rows in the database, jobs on Redis, mail over SMTP."""

from __future__ import annotations

import collections
import re
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from shopmail.core import delivery, dispatch, outbox, sending
from shopmail.extensions import db
from shopmail.jobs import RENDERERS
from shopmail.models import DeskSettings, Message
from shopmail.models.types import utcnow
from tests.conftest import run_worker


def queue_mail(store, to="taro@example.jp", n=1, kind="record", **extra) -> list[int]:
    rows = [
        dict(
            dedupe_key=f"{kind}:test:{to}:{i}",
            kind=kind,
            state="queued",
            store_id=store.id,
            to_addr=to if n == 1 else f"{i}.{to}",
            to_name="山田 太郎",
            subject="ご注文ありがとうございます",
            body=f"山田様\nご注文番号 A-{i}\n",
            **extra,
        )
        for i in range(n)
    ]
    outbox.add_messages(rows)
    db.session.commit()
    return [m.id for m in db.session.scalars(db.select(Message).order_by(Message.id))]


def states() -> dict[str, int]:
    db.session.expire_all()
    return outbox.count_by_state()


def test_creating_the_same_row_twice_makes_one_row(app, mail_store):
    queue_mail(mail_store)
    assert queue_mail(mail_store) and states() == {"queued": 1}


def test_queued_mail_arrives_with_its_store_sender(app, mail_store, smtp_server):
    queue_mail(mail_store)
    assert dispatch.dispatch_sending() == 1
    run_worker(app)
    [received] = smtp_server.wait_for(1)
    mail = received.message
    assert str(mail["From"]) == "さくら雑貨 本店 <shop@sakura.example.jp>"
    assert str(mail["To"]) == "山田 太郎 <taro@example.jp>"
    assert str(mail["Reply-To"]) == "support@sakura.example.jp"
    assert mail["Subject"] == "ご注文ありがとうございます"
    assert "ご注文番号 A-0" in mail.get_content()
    assert mail["Bcc"] is None
    assert sorted(received.rcpt_tos) == ["archive@sakura.example.jp", "taro@example.jp"]
    row = db.session.scalar(db.select(Message))
    db.session.refresh(row)
    assert row.state == "sent" and row.last_code == 250 and row.sent_at is not None
    assert mail["Message-ID"] == row.message_id


def test_many_rows_go_over_one_session_when_the_relay_allows_one(app, mail_store, smtp_server):
    mail_store.smtp_sessions = 1
    db.session.commit()
    queue_mail(mail_store, n=120)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.wait_for(120)) == 120
    assert states() == {"sent": 120}
    assert smtp_server.handler.connections == 1


def test_a_session_reconnects_after_its_message_limit(app, mail_store, smtp_server):
    mail_store.smtp_sessions, mail_store.smtp_per_session = 1, 25
    db.session.commit()
    queue_mail(mail_store, n=60)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.wait_for(60)) == 60 and states() == {"sent": 60}
    per_connection = collections.Counter(m.connection for m in smtp_server.messages)
    assert sorted(per_connection.values()) == [10, 25, 25]


def test_due_mail_goes_over_several_sessions_at_once(app, mail_store, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPMAIL_WORKERS", 1)  # this one worker takes them all
    smtp_server.handler.delay_after_data = 0.02
    mail_store.smtp_sessions = 3
    db.session.commit()
    queue_mail(mail_store, n=300)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.wait_for(300)) == 300 and states() == {"sent": 300}
    assert smtp_server.handler.most_at_once == 3  # in one worker, never more than the budget


def test_temporary_failures_are_retried_then_sent(app, mail_store, smtp_server):
    smtp_server.handler.defer_rcpt["taro@example.jp"] = 2
    queue_mail(mail_store)
    dispatch.dispatch_sending()
    run_worker(app)
    assert len(smtp_server.wait_for(1)) == 1
    row = db.session.scalar(db.select(Message))
    db.session.refresh(row)
    assert (row.state, row.attempts, row.last_code) == ("sent", 3, 250)


def test_a_mail_still_deferred_after_four_retries_fails(app, mail_store, smtp_server):
    smtp_server.handler.defer_rcpt["taro@example.jp"] = 99
    queue_mail(mail_store)
    dispatch.dispatch_sending()
    run_worker(app)
    row = db.session.scalar(db.select(Message))
    db.session.refresh(row)
    assert (row.state, row.attempts, row.last_code) == ("failed", 5, 451)


def test_a_refused_address_fails_only_its_own_row(app, mail_store, smtp_server):
    smtp_server.handler.refuse["0.bad@example.jp"] = (550, "5.1.1 User unknown")
    queue_mail(mail_store, to="bad@example.jp", n=2)
    dispatch.dispatch_sending()
    run_worker(app)
    rows = {m.to_addr: m for m in db.session.scalars(db.select(Message))}
    for row in rows.values():
        db.session.refresh(row)
    assert rows["0.bad@example.jp"].state == "failed"
    assert "User unknown" in rows["0.bad@example.jp"].last_reply
    assert rows["1.bad@example.jp"].state == "sent"


def test_a_chunks_mixed_results_are_written_back_as_decided(
    app, mail_store, smtp_server, monkeypatch
):
    """One chunk, three endings, written in one statement: each row reads back its own."""
    monkeypatch.setitem(app.config, "SHOPMAIL_RETRY_DELAYS", [600, 600, 600, 600])
    smtp_server.handler.refuse["0.mix@example.jp"] = (550, "5.1.1 User unknown")
    smtp_server.handler.refuse["1.mix@example.jp"] = (451, "4.3.0 Try again later")
    queue_mail(mail_store, to="mix@example.jp", n=3)
    before = utcnow()
    delivery.send_store(mail_store.id, RENDERERS)
    after = utcnow()
    db.session.expire_all()
    rows = {m.to_addr: m for m in db.session.scalars(db.select(Message))}
    refused, later, sent = (rows[f"{i}.mix@example.jp"] for i in range(3))
    assert (refused.state, refused.refused_by, refused.last_code) == ("failed", "smtp", 550)
    assert refused.sent_at is None and refused.next_attempt_at is None
    assert (later.state, later.attempts, later.last_code) == ("retrying", 1, 451)
    assert "Try again later" in later.last_reply and later.refused_by is None
    wait = later.next_attempt_at - before
    assert timedelta(seconds=599) <= wait <= timedelta(seconds=600) + (after - before)
    assert (sent.state, sent.attempts, sent.last_code) == ("sent", 1, 250)
    assert before <= sent.sent_at <= after and sent.claimed_by is None
    [received] = [m for m in smtp_server.messages if "2.mix@example.jp" in m.rcpt_tos]
    assert received.message["Message-ID"] == sent.message_id


def test_nothing_leaves_while_the_mail_server_is_stopped(app, mail_store, smtp_server):
    DeskSettings.get().mail_server_running = False
    db.session.commit()
    queue_mail(mail_store)
    assert dispatch.dispatch_sending() == 0
    assert delivery.send_store(mail_store.id, RENDERERS) == {}
    assert states() == {"queued": 1} and smtp_server.messages == []


def test_automatic_kinds_wait_while_auto_sending_is_off(app, mail_store, smtp_server):
    DeskSettings.get().auto_send = False
    db.session.commit()
    queue_mail(mail_store, kind="order_confirmation")
    queue_mail(mail_store, to="hanako@example.jp", kind="record")
    dispatch.dispatch_sending()
    run_worker(app)
    assert [m.rcpt_tos[0] for m in smtp_server.wait_for(1)] == ["hanako@example.jp"]
    assert states() == {"queued": 1, "sent": 1}


def test_refused_credentials_pause_the_store_without_burning_retries(app, mail_store, smtp_server):
    from shopmail.core import crypto

    smtp_server.handler.auth_required = True
    smtp_server.handler.credentials = ("shop", "right-password")
    mail_store.smtp_user = "shop"
    mail_store.smtp_password_enc = crypto.encrypt("wrong-password")
    db.session.commit()
    queue_mail(mail_store, n=3)
    dispatch.dispatch_sending()
    run_worker(app)
    db.session.expire_all()
    assert "535" in mail_store.sending_paused_reason
    assert states() == {"queued": 3}
    assert all(m.attempts == 0 for m in db.session.scalars(db.select(Message)))


def test_a_connection_lost_after_the_data_leaves_the_row_unknown(app, mail_store, smtp_server):
    smtp_server.handler.drop_after_data = 1
    queue_mail(mail_store)
    dispatch.dispatch_sending()
    run_worker(app)
    assert states() == {"unknown": 1}


def test_rows_left_sending_by_a_dead_worker_become_unknown(app, mail_store):
    ids = queue_mail(mail_store, n=3)
    outbox.claim_chunk("dead-worker", mail_store.id, ["record"], 1)
    db.session.execute(
        db.update(Message).where(Message.id == ids[1]).values(claimed_by="dead-worker")
    )
    old = utcnow() - timedelta(seconds=600)
    db.session.execute(db.update(Message).values(claimed_at=old))
    db.session.commit()
    assert outbox.reconcile(lease=300) == {"unknown": 1, "released": 1}  # ids[1] only
    assert states() == {"unknown": 1, "queued": 2}


def test_the_reconciler_finishes_work_that_redis_lost(app, mail_store, smtp_server, redis_server):
    queue_mail(mail_store, n=5)
    dispatch.dispatch_sending()
    redis_server.flushall()  # Redis restarted without persistence: the job is gone
    run_worker(app)
    assert smtp_server.messages == []
    report = dispatch.reconcile()
    db.session.commit()  # as the job would: the work is enqueued when the repair commits
    assert report["dispatched"] == 1
    run_worker(app)
    assert len(smtp_server.wait_for(5)) == 5 and states() == {"sent": 5}


def test_test_mail_reports_the_relays_answer(app, mail_store, smtp_server):
    DeskSettings.get().mail_server_running = False  # settings are edited while stopped
    db.session.commit()
    result = sending.send_test_mail(mail_store, "admin@example.jp", "テスト", "テスト送信です")
    assert result.outcome.value == "sent" and result.code == 250
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "テスト"
    smtp_server.handler.refuse["nobody@example.jp"] = (550, "5.1.1 No such user")
    result = sending.send_test_mail(mail_store, "nobody@example.jp", "テスト", "本文")
    assert result.outcome.value == "permanent" and "No such user" in result.reply


def test_a_pre_2009_docomo_address_is_quoted_in_rcpt_to_as_in_the_to_header(
    app, mail_store, smtp_server
):
    mail_store.bcc = "copy@example.jp"
    db.session.commit()
    queue_mail(mail_store, to="taro..hanako@docomo.ne.jp")
    dispatch.dispatch_sending()
    run_worker(app)
    [mail] = smtp_server.wait_for(1)
    assert smtp_server.handler.raw_rcpt == [
        'TO:<"taro..hanako"@docomo.ne.jp>',
        "TO:<copy@example.jp>",
    ]
    assert b'<"taro..hanako"@docomo.ne.jp>' in mail.data.split(b"\r\n\r\n")[0]  # the To header
    assert states() == {"sent": 1}


def test_message_ids_are_random_on_the_from_domain_and_kept_on_the_row(
    app, mail_store, smtp_server
):
    ids = queue_mail(mail_store, n=2)
    dispatch.dispatch_sending()
    run_worker(app)
    arrived = {m.rcpt_tos[0]: m.message["Message-ID"] for m in smtp_server.wait_for(2)}
    shape = re.compile(r"<[0-9a-f]{32}@sakura\.example\.jp>")  # 128 random bits
    assert all(shape.fullmatch(value) for value in arrived.values())
    assert len(set(arrived.values())) == 2  # not the row number, not the desk's domain
    row = db.session.get(Message, ids[0])
    db.session.refresh(row)
    assert row.message_id == arrived["0.taro@example.jp"]
    # Sent again by staff: the same mail, the same Message-ID.
    db.session.execute(db.update(Message).where(Message.id == row.id).values(state="failed"))
    outbox.requeue([row.id])
    db.session.commit()
    dispatch.dispatch_sending()
    run_worker(app)
    assert smtp_server.wait_for(3)[-1].message["Message-ID"] == row.message_id


def test_a_broadcast_ends_with_its_last_recorded_chunk_whichever_session_records_it(
    app, mail_store
):
    """Two sessions hold a broadcast's rows: the first to record leaves it sending (the other
    session's rows are still open), the second finishes it, with the counts."""
    from shopmail.core.states import BroadcastState
    from shopmail.mail.transport import Outcome
    from shopmail.models import Broadcast

    broadcast = Broadcast(store_id=mail_store.id, state=BroadcastState.SENDING, subject="冬")
    db.session.add(broadcast)
    db.session.commit()
    queue_mail(mail_store, n=3, kind="broadcast", broadcast_id=broadcast.id)
    first = outbox.claim_chunk("w1/0", mail_store.id, ["broadcast"], 2)
    second = outbox.claim_chunk("w2/0", mail_store.id, ["broadcast"], 2)
    db.session.commit()
    assert [len(first), len(second)] == [2, 1]

    def record(rows, outcome):
        deliveries = [outbox.Delivery(r.id, 1, outcome, 250, "ok") for r in rows]
        outbox.record(deliveries, retry_delays=[0])
        db.session.expire_all()
        return db.session.get(Broadcast, broadcast.id)

    assert record(second, Outcome.SENT).state == BroadcastState.SENDING
    done = record(first, Outcome.PERMANENT)
    assert done.state == BroadcastState.DONE and done.finished_at is not None
    assert (done.sent, done.failed) == (1, 2)


def _rows_skipped(plan: dict) -> int:
    """Rows a plan node and the nodes under it read and threw away."""
    own = plan.get("Rows Removed by Filter", 0) * plan.get("Actual Loops", 1)
    return own + sum(_rows_skipped(child) for child in plan.get("Plans", []))


def test_a_claim_reads_only_due_rows_even_when_the_statistics_say_every_row_is_due(app, mail_store):
    """PostgreSQL takes a claim's rows from the index of due rows, not by walking the table
    from its first row: statistics taken while 3,000 rows were queued, 2,950 sent since, and
    the next chunk reads none of the sent rows."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL query plan")
    ids = queue_mail(mail_store, n=3000)
    db.session.execute(text("ANALYZE messages"))
    db.session.execute(update(Message).where(Message.id <= ids[2949]).values(state="sent"))
    db.session.commit()
    connection = db.session.connection()
    compiled = outbox.next_due("postgresql", ("record",)).compile(dialect=connection.dialect)
    query = compiled.construct_expanded_state(outbox.due_params(mail_store.id, 25, utcnow()))
    [[explained]] = connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + query.statement, query.parameters
    ).all()
    assert _rows_skipped(explained[0]["Plan"]) == 0
    db.session.rollback()
    claimed = outbox.claim_chunk("w1/0", mail_store.id, ["record"], 25)
    assert [row.id for row in claimed] == ids[2950:2975]
