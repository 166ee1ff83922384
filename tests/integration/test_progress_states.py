"""The progress pages in the states merchants met (issue 16): mails waiting for a retry, a
cancelled broadcast, a paused one, a finished record mailing — on real parts: mail over SMTP to
the test server, the real worker, the pages over HTTP. And the admin copy of a broadcast goes out
when it starts, so a broadcast cancelled once members have the mail has sent its copy too."""

from __future__ import annotations

import re
import time

from shopmail.core import dispatch, outbox
from shopmail.core.i18n import tokyo
from shopmail.extensions import db
from shopmail.models import Message
from tests.browser.test_broadcasts import work_in_background
from tests.conftest import csrf_token, run_worker
from tests.integration.test_broadcasts import add_members, broadcast_to, settings
from tests.integration.test_record_mail import BUYERS, make_order, send_mailing

BAR = re.compile(r'role="progressbar"[^>]*aria-valuenow="(\d+)"')


def percent(page: str) -> int:
    return int(BAR.search(page)[1])


def test_a_broadcast_with_a_mail_waiting_for_its_retry_says_when_and_is_not_complete(
    app, staff_client, mail_store, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_RETRY_DELAYS", [600, 600, 600, 600])
    add_members(3)
    smtp_server.handler.defer_rcpt["m1@example.jp"] = 99  # greylisted, again and again
    bid = broadcast_to(staff_client, mail_store)
    run_worker(app)
    assert len(smtp_server.wait_for(2)) == 2

    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    retry = db.session.scalar(db.select(Message).filter_by(to_addr="m1@example.jp"))
    assert retry.state == "retrying"
    assert f"1 通が再試行待ち、次回 {tokyo(retry.next_attempt_at, '%H:%M')}" in page
    assert percent(page) == 66 and "100%" not in page
    assert 'hx-trigger="load delay:1s"' in page  # still running: it keeps polling
    assert "送信はバックグラウンドで続きます" in page
    assert "メール送信を完了いたしました" not in page


def test_a_record_mailing_waiting_for_a_retry_says_so_and_its_heading_follows_the_state(
    app, staff_client, mail_store, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_RETRY_DELAYS", [600, 600, 600, 600])
    smtp_server.handler.defer_rcpt[BUYERS[1][1]] = 99
    orders = [make_order(mail_store, f"OWN-{i}", n, e) for i, (n, e) in enumerate(BUYERS[:2])]
    mailing_id = send_mailing(staff_client, "order", [o.id for o in orders])
    run_worker(app)
    page = staff_client.get(f"/records/mailings/{mailing_id}/done").get_data(as_text=True)
    assert "<h1>送信中</h1>" in page and "1 通が再試行待ち、次回 " in page
    assert percent(page) == 50

    # The retry goes through: the heading says the sending is complete, not 「送信中」.
    smtp_server.handler.defer_rcpt.clear()
    db.session.execute(db.update(Message).values(next_attempt_at=None))
    dispatch.send_soon([mail_store.id])  # what the scheduler does when the retry is due
    db.session.commit()
    run_worker(app)
    smtp_server.wait_for(2)
    page = staff_client.get(f"/records/mailings/{mailing_id}/done").get_data(as_text=True)
    assert "<h1>送信完了</h1>" in page and "<title>送信完了" in page
    assert "<h1>送信中</h1>" not in page and percent(page) == 100
    partial = staff_client.get(
        f"/records/mailings/{mailing_id}/done", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<h1>送信完了</h1>" in partial  # the heading is part of what polls


def test_a_paused_broadcast_says_how_many_wait_for_resuming(
    app, staff_client, mail_store, smtp_server
):
    add_members(5)
    bid = broadcast_to(staff_client, mail_store)
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    staff_client.post(f"/broadcasts/{bid}/pause", data={"csrf_token": token})
    run_worker(app)
    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "一時停止中です。残り 5 通は、再開するまで送信されません。" in page
    assert percent(page) == 0 and "再開" in page


def test_a_cancelled_broadcast_shows_what_was_sent_and_not_a_full_bar_and_its_admin_copy_went(
    app, staff_client, mail_store, smtp_server
):
    """Cancelled while the worker sends: one session, so the later chunks are still queued."""
    settings(admin_copy="boss@sakura.example.jp")
    mail_store.smtp_sessions = 1
    db.session.commit()
    add_members(120)
    smtp_server.handler.delay_after_data = 0.02
    bid = broadcast_to(staff_client, mail_store)
    copy = db.session.scalar(db.select(Message).filter_by(kind="admin_copy"))
    first = db.session.scalar(db.select(db.func.min(Message.id)).filter_by(broadcast_id=bid))
    assert copy.id == first  # queued first: it goes with the first chunk

    worker = work_in_background(app)
    smtp_server.wait_for(3, timeout=20)
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert 'data-confirm="残り ' in page and "通の送信を中止します。" in page
    staff_client.post(f"/broadcasts/{bid}/cancel", data={"csrf_token": token})
    worker.join(timeout=60)
    time.sleep(0.2)

    db.session.expire_all()
    counts = outbox.count_by_state(broadcast_id=bid, kind="broadcast")
    sent, cancelled = counts.get("sent", 0), counts.get("deleted", 0)
    assert sent > 0 and cancelled > 0 and sent + cancelled == 120
    to = [str(m.message["To"]) for m in smtp_server.handler.messages]
    assert sum("boss@" in t for t in to) == 1  # the admin has the copy, exactly once
    assert sum("boss@" not in t for t in to) == sent

    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert f"配信を中止しました。送信済み {sent} 通、未送信 {cancelled} 通です。" in page
    assert percent(page) == sent * 100 // 120 < 100
    assert "hx-trigger" not in page  # ended: no more polling
    assert "バックグラウンドで続きます" not in page  # nothing goes on any more


def test_a_broadcast_cancelled_before_anything_went_out_sends_no_admin_copy(
    app, staff_client, mail_store, smtp_server
):
    settings(admin_copy="boss@sakura.example.jp")
    add_members(4)
    bid = broadcast_to(staff_client, mail_store)
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    staff_client.post(f"/broadcasts/{bid}/cancel", data={"csrf_token": token})
    run_worker(app)
    assert smtp_server.handler.messages == []
    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "送信済み 0 通、未送信 4 通" in page and percent(page) == 0
