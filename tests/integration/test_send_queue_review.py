"""The manual's review step on real parts (database, Redis, SMTP): the send queue shows what staff
review a mail by — the order or shipment day, the buyer, why it is held — and filters by that
day; deleting says how many and can be undone for a while; the history says the relay's
answer in plain Japanese beside its own words; Back / Forward after a cache miss gets a page."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shopmail.automatic import creation as automatic
from shopmail.core import dispatch
from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings
from shopmail.models.types import utcnow
from tests.conftest import run_worker
from tests.factories import ShipmentFactory
from tests.integration.test_automatic import make_order, make_store, post, rows, switch_on

TOKYO = ZoneInfo("Asia/Tokyo")


def day(at: datetime) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d")


def row_html(page: str, text: str) -> str:
    found = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(text)}(?:(?!</tr>).)*</tr>", page, re.S)
    assert found, f"no row with {text}"
    return found.group(0)


def kind_row(page: str, kind: str, addr: str) -> str:
    [found] = [r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if kind in r and addr in r]
    return found


def test_the_queue_shows_the_order_or_shipment_day_the_buyer_and_why_it_is_held(
    app, staff_client, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    old = make_order(store, "R-OLD", "old@example.jp", days_ago=5, shipped=4)
    new = make_order(store, "R-NEW", "new@example.jp", days_ago=0)
    db.session.commit()
    switch_on("order_confirmation", "shipping_notice", days_ago=1)
    automatic.create_mails("test")
    db.session.commit()
    started = day(utcnow() - timedelta(days=1))

    page = staff_client.get("/automatic/queue").get_data(as_text=True)
    assert "受注日・出荷日" in page and "注文者" in page
    confirmation = kind_row(page, "受注確認連絡", "old@example.jp")
    assert day(old.ordered_at) in confirmation and "受注日" in confirmation
    assert '<small class="line">R-OLD</small>' in confirmation  # the order number
    assert "購入者 R-OLD" in confirmation
    assert f"遡り分: この種別の使用開始({started})より前の受注" in confirmation
    shipped = day(old.shipments[0].confirmed_at)
    notice = kind_row(page, "発送連絡", "old@example.jp")
    assert shipped in notice and "出荷日" in notice and day(old.ordered_at) not in notice
    assert f"遡り分: この種別の使用開始({started})より前の出荷" in notice
    queued = row_html(page, "new@example.jp")
    assert "送信待ち" in queued and "遡り分" not in queued  # not held: no reason
    assert day(new.ordered_at) in queued


def tokyo_time(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO).astimezone(UTC)


def test_the_filter_selects_by_the_order_or_shipment_day_in_tokyo(app, staff_client, smtp_server):
    store = make_store(smtp_server, "own", "own")
    first = (utcnow() - timedelta(days=4)).astimezone(TOKYO).date()
    second, third = first + timedelta(days=1), first + timedelta(days=2)
    # 23:30 in Tokyo is 14:30 UTC: the order belongs to its Tokyo day, not to the next one.
    late = make_order(store, "D-LATE", "late@example.jp")
    late.ordered_at = tokyo_time(second, 23, 30)
    early = make_order(store, "D-EARLY", "early@example.jp")
    early.ordered_at = tokyo_time(third, 0, 10)
    # Ordered on the first day, shipped on the third: its shipping notice is about the third.
    shipped = make_order(store, "D-SHIP", "shipped@example.jp")
    shipped.ordered_at = tokyo_time(first, 10)
    ShipmentFactory(order=shipped, number="S-1", confirmed_at=tokyo_time(third, 11))
    db.session.commit()
    switch_on("order_confirmation", "shipping_notice")
    automatic.create_mails("test")
    db.session.commit()
    assert len(rows()) == 4

    page = staff_client.get(f"/automatic/queue?start={second}&end={second}").get_data(as_text=True)
    assert "late@example.jp" in page and "early@example.jp" not in page
    assert f'name="start" value="{second}"' in page  # the filter is in the page and the URL
    on_third = staff_client.get(
        f"/automatic/queue?start={third}&kind=shipping_notice", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "shipped@example.jp" in on_third and str(third) in on_third and "<h1>" not in on_third
    assert "late@example.jp" not in on_third and "early@example.jp" not in on_third
    assert "この条件の1通すべてに適用する" in on_third

    # "All shown by this filter" keeps to the days chosen.
    response = post(
        staff_client,
        "/automatic/queue/delete",
        {"all_matching": "1", "start": str(third), "end": str(third)},
    )
    assert response.status_code == 302 and f"start={third}" in response.headers["Location"]
    deleted = {m.to_addr for m in rows(state="deleted")}
    assert deleted == {"early@example.jp", "shipped@example.jp"}
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="queue.deleted"))
    assert entry.details["start"] == str(third) and entry.details["count"] == 2


def test_deleting_says_how_many_and_deleted_mails_come_back_as_they_were(
    app, staff_client, admin_client, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "H-1", "held@example.jp", days_ago=3)
    make_order(store, "H-2", "held2@example.jp", days_ago=3)
    make_order(store, "Q-1", "queued@example.jp", days_ago=0)
    db.session.commit()
    switch_on("order_confirmation", days_ago=1)
    automatic.create_mails("test")
    db.session.commit()
    by_addr = {m.to_addr: m for m in rows()}
    assert by_addr["queued@example.jp"].state == "queued"

    page = staff_client.get("/automatic/queue").get_data(as_text=True)
    # The browser asks before deleting (static/js/desk.js): "{n}" is the ticked count, or all 3.
    assert 'data-confirm="{n} 通のメールを削除します。よろしいですか？"' in page
    assert 'data-confirm-count="ids"' in page and 'data-confirm-all-count="3"' in page

    picked = [by_addr["held@example.jp"].id, by_addr["queued@example.jp"].id]
    post(staff_client, "/automatic/queue/delete", {"ids": picked})
    assert {m.to_addr: m.state for m in rows()} == {
        "held@example.jp": "deleted",
        "held2@example.jp": "held",
        "queued@example.jp": "deleted",
    }
    page = staff_client.get("/automatic/queue").get_data(as_text=True)
    assert "削除済み: 2 通" in page and "held@example.jp" not in page

    deleted = staff_client.get("/automatic/queue?view=deleted").get_data(as_text=True)
    assert "削除前の状態" in deleted and "30 日間、元に戻せます" in deleted
    assert "確認待ち(保留)" in row_html(deleted, "held@example.jp")
    assert "送信待ち" in row_html(deleted, "queued@example.jp")
    until = day(utcnow() + timedelta(days=30))
    assert f"{until} まで元に戻せます" in row_html(deleted, "queued@example.jp")
    assert "held2@example.jp" not in deleted

    response = post(
        staff_client, "/automatic/queue/restore", {"all_matching": "1", "view": "deleted"}
    )
    assert response.headers["Location"].endswith("view=deleted")
    assert {m.to_addr: m.state for m in rows()} == {
        "held@example.jp": "held",
        "held2@example.jp": "held",
        "queued@example.jp": "queued",
    }
    assert "2 通のメールを削除前の状態に戻しました" in staff_client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    entries = {e.action: e.details for e in db.session.scalars(db.select(AuditEntry))}
    assert entries["queue.deleted"]["ids"] == sorted(picked)
    assert entries["queue.restored"]["ids"] == sorted(picked)
    trail = admin_client.get("/audit").get_data(as_text=True)
    assert "削除したメールを元に戻した" in trail


def test_a_mail_deleted_longer_ago_than_the_window_is_not_offered_nor_restored(
    app, staff_client, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "O-1", "old-delete@example.jp", days_ago=3)
    make_order(store, "O-2", "recent-delete@example.jp", days_ago=3)
    db.session.commit()
    switch_on("order_confirmation", days_ago=1)
    automatic.create_mails("test")
    db.session.commit()
    post(staff_client, "/automatic/queue/delete", {"all_matching": "1"})
    old = rows(to_addr="old-delete@example.jp")[0]
    old.deleted_at = utcnow() - timedelta(days=31)
    db.session.commit()

    deleted = staff_client.get("/automatic/queue?view=deleted").get_data(as_text=True)
    assert "recent-delete@example.jp" in deleted and "old-delete@example.jp" not in deleted
    post(staff_client, "/automatic/queue/restore", {"ids": [old.id]})
    assert rows(to_addr="old-delete@example.jp")[0].state == "deleted"
    post(staff_client, "/automatic/queue/restore", {"all_matching": "1"})
    assert {m.to_addr: m.state for m in rows()} == {
        "old-delete@example.jp": "deleted",
        "recent-delete@example.jp": "held",
    }


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused ([Errno 111])."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_history_says_the_relays_answer_in_plain_words_beside_its_own(
    app, staff_client, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_RETRY_DELAYS", [3600, 3600, 3600, 3600])
    store = make_store(smtp_server, "own", "own")
    down = make_store(smtp_server, "down", "own", smtp_port=closed_port())
    make_order(store, "N-1", "nobody@example.jp")
    make_order(down, "C-1", "waits@example.jp")
    db.session.commit()
    switch_on("order_confirmation", days_ago=2)
    settings = DeskSettings.get()
    settings.mail_server_running = settings.auto_send = True
    db.session.commit()
    smtp_server.handler.refuse["nobody@example.jp"] = (550, "5.1.1 No such user here")
    automatic.create_mails("test")
    db.session.commit()
    dispatch.dispatch_sending()
    run_worker(app)
    assert {m.to_addr: m.state for m in rows()} == {
        "nobody@example.jp": "failed",
        "waits@example.jp": "retrying",
    }
    retrying = rows(to_addr="waits@example.jp")[0]

    history = staff_client.get("/automatic/history").get_data(as_text=True)
    refused = row_html(history, "nobody@example.jp")
    assert (
        "宛先が拒否されました。メールサーバが nobody@example.jp を受け付けませんでした" in refused
    )
    assert re.search(r'class="raw muted"><code>550 5\.1\.1 No such user here', refused)
    waiting = row_html(history, "waits@example.jp")
    assert "メールサーバに接続できませんでした。ホスト名・ポート番号" in waiting
    assert "Connection refused" in waiting and "[Errno 111]" in waiting
    next_try = retrying.next_attempt_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    assert f"次回の再試行 {next_try}・残り 4 回" in waiting


@pytest.mark.parametrize("path", ["/automatic/queue?kind=order_confirmation", "/automatic/history"])
def test_back_and_forward_after_a_cache_miss_get_the_whole_page(staff_client, path):
    region = staff_client.get(path, headers={"HX-Request": "true"})
    assert "<h1>" not in region.get_data(as_text=True)
    restored = staff_client.get(
        path, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    page = restored.get_data(as_text=True)
    assert "<h1>" in page and 'class="filters"' in page and "<nav" in page
    for response in (region, restored):
        assert "HX-Request" in response.headers["Vary"]
