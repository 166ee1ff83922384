"""Quiet hours on real parts: windows set over HTTP (validated, audited), a clock put in
place of the real one, a real worker and SMTP server. Nothing leaves in quiet hours (the rows
stay queued, no attempt used); everything leaves after; Sundays and public holidays are
skipped when set; the queue and the broadcast progress say until when."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from shopmail.core import dispatch, quiet_hours
from shopmail.core.i18n import TOKYO
from shopmail.core.quiet_hours import Window
from shopmail.extensions import db
from shopmail.models import AuditEntry, KindSetting, Message
from tests.conftest import csrf_token, run_worker
from tests.integration.test_broadcasts import add_members, broadcast_to
from tests.integration.test_outbox import queue_mail

FOLLOW_UPS_9_TO_20 = {"send_from": "09:00", "send_until": "20:00"}


def tokyo(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def clock(monkeypatch):
    """The time quiet hours read; `clock.now = …` moves it."""

    class Clock:
        now = tokyo(2026, 12, 3, 22, 0)

    fixed = Clock()
    monkeypatch.setattr(quiet_hours, "clock", lambda: fixed.now)
    return fixed


def set_window(client, kind: str, **fields):
    url = "/automatic/operations"
    data = {"csrf_token": csrf_token(client, url), **fields}
    return client.post(f"{url}/quiet-hours/{kind}", data=data)


def mail_states(kind: str) -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(Message).filter_by(kind=kind).order_by(Message.id))
    return [(row.state, row.attempts) for row in rows]


def test_a_window_opens_at_its_start_and_skips_the_days_set():
    window = Window(9 * 60, 20 * 60)
    assert window.is_open(tokyo(2026, 12, 3, 9, 0)) and not window.is_open(
        tokyo(2026, 12, 3, 20, 0)
    )
    assert window.opens_at(tokyo(2026, 12, 3, 20, 0)) == tokyo(2026, 12, 4, 9, 0)
    assert window.opens_at(tokyo(2026, 12, 3, 7, 30)) == tokyo(2026, 12, 3, 9, 0)
    night = Window(22 * 60, 2 * 60)  # past midnight
    assert night.is_open(tokyo(2026, 12, 3, 1, 59)) and not night.is_open(tokyo(2026, 12, 3, 2, 0))
    # 2027-01-01 is a holiday (元日, a Friday), 01-02 a Saturday, 01-03 a Sunday.
    skipping = Window(9 * 60, 20 * 60, skip_saturday=True, skip_sunday=True, skip_holidays=True)
    assert skipping.opens_at(tokyo(2026, 12, 31, 21, 0)) == tokyo(2027, 1, 4, 9, 0)
    no_hours = Window(skip_holidays=True)
    assert no_hours.opens_at(tokyo(2027, 1, 1, 12, 0)) == tokyo(2027, 1, 2, 0, 0)
    assert Window(skip_sunday=True).opens_at(tokyo(2027, 1, 3, 23, 59)) == tokyo(2027, 1, 4, 0, 0)


def test_the_window_is_validated_and_audited(app, admin_client, staff_client):
    for bad in (
        {"send_from": "25:00", "send_until": "20:00"},
        {"send_from": "09:00"},
        {"send_from": "09:00", "send_until": "09:00"},
    ):
        page = set_window(admin_client, "follow_up", **bad)
        assert "保存されませんでした" in admin_client.get(page.headers["Location"]).get_data(
            as_text=True
        )
    every_day_skipped = {"skip_saturday": "1", "skip_sunday": "1"}
    assert db.session.scalar(db.select(KindSetting).filter_by(kind="follow_up")) is None
    assert set_window(staff_client, "follow_up", **FOLLOW_UPS_9_TO_20).status_code in (302, 403)
    assert (
        db.session.scalar(db.select(KindSetting).filter_by(kind="follow_up")) is None
    )  # staff may not

    saved = set_window(
        admin_client, "follow_up", **FOLLOW_UPS_9_TO_20, skip_holidays="1", **every_day_skipped
    )
    page = admin_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "フォロー連絡の送信する時間帯を保存しました" in page
    assert 'value="09:00"' in page and 'value="20:00"' in page
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="quiet_hours.updated"))
    assert entry.details["kind"] == "follow_up" and entry.details["send_from"] == [None, 540]
    assert "送信する時間帯の変更" in admin_client.get("/audit").get_data(as_text=True)


def test_nothing_leaves_in_quiet_hours_and_everything_leaves_after(
    app, admin_client, staff_client, mail_store, smtp_server, clock
):
    set_window(admin_client, "follow_up", **FOLLOW_UPS_9_TO_20)
    queue_mail(mail_store, to="later@example.jp", n=3, kind="follow_up")
    queue_mail(mail_store, to="now@example.jp", n=2, kind="order_confirmation")
    dispatch.dispatch_sending()
    run_worker(app)

    # 22:00: order confirmations go, follow-ups wait, queued, no attempt used.
    smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages if "now" in m.rcpt_tos[0]) == [
        "0.now@example.jp",
        "1.now@example.jp",
    ]
    assert mail_states("follow_up") == [("queued", 0)] * 3
    assert not any("later" in rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)
    queue = staff_client.get("/automatic/queue").get_data(as_text=True)
    assert queue.count("送信停止時間帯のため 12/4 09:00 まで待機") == 3
    # The send loop asked to be woken when the window opens (11 hours from 22:00).
    registry = dispatch.get_queue("mail").scheduled_job_registry
    wake = [int(j.rsplit("-at-", 1)[1]) for j in registry.get_job_ids() if "-at-" in j]
    assert any(abs(at - time.time() - 11 * 3600) < 10 for at in wake), wake

    clock.now = tokyo(2026, 12, 4, 8, 59)  # still quiet: the reconciler finds nothing to send
    dispatch.dispatch_sending()
    run_worker(app)
    assert mail_states("follow_up") == [("queued", 0)] * 3

    clock.now = tokyo(2026, 12, 4, 9, 0)
    assert "送信停止時間帯" not in staff_client.get("/automatic/queue").get_data(as_text=True)
    dispatch.dispatch_sending()
    run_worker(app)
    smtp_server.wait_for(5)
    assert mail_states("follow_up") == [("sent", 1)] * 3


def test_a_public_holiday_and_a_sunday_are_skipped_when_set(
    app, admin_client, staff_client, mail_store, smtp_server, clock
):
    set_window(
        admin_client, "shipping_notice", **FOLLOW_UPS_9_TO_20, skip_sunday="1", skip_holidays="1"
    )
    clock.now = tokyo(2027, 1, 1, 10, 0)  # 元日 (a Friday), inside the hours
    queue_mail(mail_store, to="ship@example.jp", n=2, kind="shipping_notice")
    dispatch.dispatch_sending()
    run_worker(app)
    assert mail_states("shipping_notice") == [("queued", 0)] * 2
    assert "送信停止時間帯のため 1/2 09:00 まで待機" in staff_client.get(
        "/automatic/queue"
    ).get_data(as_text=True)

    clock.now = tokyo(2027, 1, 3, 10, 0)  # a Sunday
    dispatch.dispatch_sending()
    run_worker(app)
    assert mail_states("shipping_notice") == [("queued", 0)] * 2
    assert "1/4 09:00 まで待機" in staff_client.get("/automatic/queue").get_data(as_text=True)

    clock.now = tokyo(2027, 1, 4, 9, 0)  # Monday
    dispatch.dispatch_sending()
    run_worker(app)
    smtp_server.wait_for(2)
    assert mail_states("shipping_notice") == [("sent", 1)] * 2


def test_a_broadcast_waits_for_its_hours_and_its_progress_says_until_when(
    app, admin_client, staff_client, mail_store, smtp_server, clock
):
    token = csrf_token(admin_client, "/broadcasts/templates")
    saved = admin_client.post(
        "/broadcasts/quiet-hours",
        data={
            "csrf_token": token,
            "send_from": "10:00",
            "send_until": "18:00",
            "skip_saturday": "1",
        },
    )
    assert "メール配信の送信する時間帯を保存しました" in admin_client.get(
        saved.headers["Location"]
    ).get_data(as_text=True)
    clock.now = tokyo(2027, 1, 2, 11, 0)  # a Saturday
    add_members(4)
    bid = broadcast_to(staff_client, mail_store)
    run_worker(app)
    assert mail_states("broadcast") == [("queued", 0)] * 4
    progress = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "送信停止時間帯のため 1/3 10:00 まで待機" in progress

    clock.now = tokyo(2027, 1, 3, 10, 0)
    dispatch.dispatch_sending()
    run_worker(app)
    smtp_server.wait_for(4)
    assert mail_states("broadcast") == [("sent", 1)] * 4
    assert "送信停止時間帯" not in staff_client.get(f"/broadcasts/{bid}/progress").get_data(
        as_text=True
    )


def test_a_store_whose_only_due_mail_waits_is_woken_by_the_reconciler_when_the_window_opens(
    app, admin_client, mail_store, clock
):
    """No send job runs for a store with nothing sendable now; the minute reconciler asks for
    one at the minute its quiet hours end, not a minute after."""
    set_window(admin_client, "follow_up", **FOLLOW_UPS_9_TO_20)
    queue_mail(mail_store, to="later@example.jp", n=2, kind="follow_up")
    registry = dispatch.get_queue("mail").scheduled_job_registry
    assert dispatch.due_stores() == []  # nothing may leave at 22:00
    report = dispatch.reconcile()
    db.session.commit()  # the job's commit enqueues what it asked for
    assert report["woken_after_quiet_hours"] == 1
    wake = [int(j.rsplit("-at-", 1)[1]) for j in registry.get_job_ids() if "-at-" in j]
    assert any(abs(at - time.time() - 11 * 3600) < 10 for at in wake), wake
