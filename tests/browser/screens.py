"""The screenshots in docs/screens/ (issue 16): the send queue, the template editor and a
broadcast's progress page at 1366×768, in Chromium set to Japanese and Tokyo time.

Not a test module (no `test_` prefix): `pytest tests` does not collect it. `make screens`
runs it by name and rewrites the PNGs; look at them before committing them."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shopmail.automatic import creation as automatic
from shopmail.core.i18n import tokyo
from shopmail.extensions import db
from shopmail.models import Broadcast, Store
from shopmail.models.types import utcnow
from tests.browser.test_progress_states import broadcast_with
from tests.conftest import PASSWORD
from tests.factories import MessageFactory, OrderFactory, ShipmentFactory, StoreFactory, create_many
from tests.integration.test_automatic import make_order, make_store, switch_on

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Date inputs read 年/月/日 only in a Chromium whose own language is Japanese (the page's
    # locale does not reach them): LANGUAGE, with chromium-l10n installed (.ci/setup-machine).
    return {**browser_type_launch_args, "env": {**os.environ, "LANGUAGE": "ja"}}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": VIEWPORT,
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
    }


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SCREENS / name, animations="disabled", caret="hide")


# (order number, buyer, address, placed days ago, shipped days ago or None); the kinds went
# into use 2 days ago, so what is older is held for review and the rest is queued.
ORDERS = {
    "rakuten": [
        ("284511-00001712", "山田 花子", "hanako.yamada@example.jp", 4, 3.5),
        ("284511-00001715", "佐藤 健一", "k-sato@docomo.ne.jp", 3, None),
        ("284511-00001721", "鈴木 美咲", "misaki.suzuki@example.jp", 2.5, 1.5),
        ("284511-00001734", "高橋 大輔", "d.takahashi@example.co.jp", 0.5, None),
    ],
    "amazon": [
        ("503-1234567-8901234", "田中 由美", "yumi.tanaka@example.jp", 3, 2.5),
        ("503-7654321-0987654", "伊藤 翔太", "shota.ito@example.jp", 1, 0.5),
    ],
    "own": [
        ("S-000481", "渡辺 さくら", "sakura.w@ezweb.ne.jp", 2.5, None),
        ("S-000487", "中村 拓也", "takuya.nakamura@example.jp", 0.5, None),
    ],
}
STORE_NAMES = {
    "rakuten": "さくら雑貨 楽天市場店",
    "amazon": "さくら雑貨 Amazon店",
    "own": "さくら雑貨 本店",
}


def test_queue(app, sign_in, staff, live_server, smtp_server):
    """Held (reached back for) and queued mails of three kinds and three stores."""
    for code, orders in ORDERS.items():
        store = make_store(
            smtp_server, code, code, name=STORE_NAMES[code], from_name=STORE_NAMES[code]
        )
        for number, buyer, email, placed, shipped in orders:
            order = make_order(store, number, email, days_ago=placed, shipped=shipped)
            order.buyer_name = order.ship_name = buyer
    db.session.commit()
    switch_on("order_confirmation", "shipping_notice", "follow_up", days_ago=2)
    automatic.create_mails("test")
    db.session.commit()

    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/automatic/queue")
    expect(page.get_by_role("button", name="選択したメールを削除")).to_be_visible()
    page.get_by_label("選択 hanako.yamada@example.jp").first.check()
    page.get_by_label("選択 k-sato@docomo.ne.jp").first.check()
    shoot(page, "queue.png")


def test_template_editor(app, sign_in, admin, live_server):
    """The store's shipping notice with a tag typo: the preview beside it warns, with where."""
    store = StoreFactory(code="own", name="さくら雑貨 本店", from_name="さくら雑貨")
    order = OrderFactory(store=store, number="S-000481", buyer_name="山田 花子")
    ShipmentFactory(order=order, confirmed_at=utcnow() - timedelta(days=3))
    db.session.commit()
    page = sign_in(admin, PASSWORD)
    page.goto(f"{live_server}/automatic/templates?store=default&kind=follow_up&device=pc")

    body = page.get_by_label("本文")
    text = body.input_value()
    assert "[TENPO_NAME]" in text, text
    body.fill(text.replace("[TENPO_NAME]", "[tenpo_name]", 1))
    body.press("End")  # a keystroke, as typing triggers the preview
    expect(page.locator("#preview .tag-note").first).to_contain_text("[tenpo_name]")
    shoot(page, "template-editor.png")


def started_broadcast(rows: dict[str, int]) -> Broadcast:
    """A broadcast being sent to many members, its copies in the given states (no worker)."""
    bid = broadcast_with("sending", {})
    broadcast = db.session.get(Broadcast, bid)
    broadcast.subject = "【さくら雑貨】秋の新商品のご案内"
    store = db.session.get(Store, broadcast.store_id)
    store.name = "さくら雑貨 本店"
    for state, n in rows.items():
        create_many(MessageFactory, n, store=store, kind="broadcast", broadcast_id=bid, state=state)
    broadcast.total = sum(rows.values())
    db.session.commit()
    return broadcast


def test_progress(app, sign_in, staff, live_server):
    """Half-way through, three mails waiting for their retry."""
    next_try = utcnow() + timedelta(minutes=7)
    broadcast = started_broadcast({"sent": 684, "failed": 2, "queued": 551})
    create_many(
        MessageFactory,
        3,
        store=db.session.get(Store, broadcast.store_id),
        kind="broadcast",
        broadcast_id=broadcast.id,
        state="retrying",
        attempts=1,
        next_attempt_at=next_try,
    )
    broadcast.total += 3
    db.session.commit()
    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/broadcasts/{broadcast.id}/progress")
    expect(page.get_by_text(f"3 通が再試行待ち、次回 {tokyo(next_try, '%H:%M')}")).to_be_visible()
    shoot(page, "progress.png")


def test_progress_cancelled(app, sign_in, staff, live_server):
    """Cancelled after the question: what was sent, what was not, and no full bar."""
    broadcast = started_broadcast({"sent": 412, "queued": 828})
    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/broadcasts/{broadcast.id}/progress")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="配信を中止").click()
    expect(
        page.get_by_text("配信を中止しました。送信済み 412 通、未送信 828 通です。")
    ).to_be_visible()
    shoot(page, "progress-cancelled.png")
