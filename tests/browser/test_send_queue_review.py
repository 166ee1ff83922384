"""The manual's review step in Chromium, as staff click it: the queue shows each mail's order or
shipment day and why it is held, filters by that day, asks before deleting (saying how many) and
gives deleted mails back; the actions stay in reach above a long list."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from shopmail.automatic import creation as automatic
from shopmail.core import outbox
from shopmail.extensions import db
from shopmail.models.types import utcnow
from tests.conftest import PASSWORD
from tests.integration.test_automatic import make_order, make_store, rows, switch_on

TOKYO = ZoneInfo("Asia/Tokyo")


def day(at) -> str:
    return at.astimezone(TOKYO).strftime("%Y-%m-%d")


def test_staff_review_by_date_confirm_the_delete_and_restore_the_mail(
    app, sign_in, staff, live_server, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    test_order = make_order(store, "T-9", "test-order@example.jp", days_ago=6)
    keep = make_order(store, "K-1", "keep@example.jp", days_ago=2, shipped=1)
    db.session.commit()
    switch_on("order_confirmation", "shipping_notice", days_ago=0)
    automatic.create_mails("test")
    db.session.commit()
    page = sign_in(staff, PASSWORD)

    page.get_by_role("link", name="送信待ち", exact=True).first.click()
    old_row = page.get_by_role("row").filter(has_text="test-order@example.jp")
    expect(old_row).to_contain_text(f"受注日 {day(test_order.ordered_at)}")
    expect(old_row).to_contain_text("T-9")
    expect(old_row).to_contain_text("遡り分: この種別の使用開始")
    notice = page.get_by_role("row").filter(has_text="発送連絡")
    expect(notice).to_contain_text(f"出荷日 {day(keep.shipments[0].confirmed_at)}")

    # The filter by the order day: only the old test order is left, and the URL says so.
    page.get_by_label("受注日・出荷日(まで)").fill(day(test_order.ordered_at))
    expect(page.get_by_role("row").filter(has_text="keep@example.jp")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/automatic/queue\?.*end={day(test_order.ordered_at)}"))
    expect(old_row).to_be_visible()

    # Asked first; "Cancel" deletes nothing.
    questions = []

    def answer(accept: bool):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    page.get_by_label("選択 test-order@example.jp").check()
    answer(False)
    page.get_by_role("button", name="選択したメールを削除").click()
    expect(old_row).to_be_visible()
    assert questions == ["1 通のメールを削除します。よろしいですか？"]
    assert rows(to_addr="test-order@example.jp")[0].state == "held"

    answer(True)
    page.get_by_role("button", name="選択したメールを削除").click()
    expect(page.get_by_role("status")).to_contain_text("1通のメールを削除しました")
    expect(page.get_by_text("test-order@example.jp")).to_have_count(0)
    assert questions[-1] == "1 通のメールを削除します。よろしいですか？"
    assert rows(to_addr="test-order@example.jp")[0].state == "deleted"

    # Deleted by mistake: it comes back from the deleted view, held for review as it was.
    page.get_by_role("link", name="削除済み: 1 通").click()
    deleted_row = page.get_by_role("row").filter(has_text="test-order@example.jp")
    expect(deleted_row).to_contain_text("確認待ち(保留)")
    expect(deleted_row).to_contain_text("まで元に戻せます")
    page.get_by_label("選択 test-order@example.jp").check()
    page.get_by_role("button", name="選択したメールを元に戻す").click()
    expect(page.get_by_role("status")).to_contain_text("1 通のメールを削除前の状態に戻しました")
    assert rows(to_addr="test-order@example.jp")[0].state == "held"
    page.get_by_role("link", name="送信待ち・確認待ち").click()
    expect(page.get_by_role("row").filter(has_text="test-order@example.jp")).to_contain_text(
        "確認待ち(保留)"
    )

    # "All shown by this filter": the question counts every mail the filter shows.
    page.goto(f"{live_server}/automatic/queue")
    page.get_by_label("この条件の3通すべてに適用する", exact=False).check()
    answer(False)
    page.get_by_role("button", name="選択したメールを削除").click()
    expect(page.get_by_role("row").filter(has_text="keep@example.jp")).to_have_count(2)
    assert questions[-1] == "3 通のメールを削除します。よろしいですか？"
    assert {m.state for m in rows()} == {"held"}


def test_the_actions_stay_in_reach_above_two_hundred_mails(app, sign_in, staff, live_server):
    from tests.factories import StoreFactory

    store = StoreFactory(code="big", name="さくら雑貨 大口")
    held = [
        dict(
            dedupe_key=f"order_confirmation:test:{i}",
            kind="order_confirmation",
            state="held",
            store_id=store.id,
            to_addr=f"buyer{i}@example.jp",
            to_name=f"購入者 {i}",
            subject="ご注文ありがとうございます",
            body="本文",
            created_at=utcnow() - timedelta(minutes=i),
        )
        for i in range(210)
    ]
    outbox.add_messages(held)
    db.session.commit()
    page = sign_in(staff, PASSWORD)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server}/automatic/queue")

    delete = page.get_by_role("button", name="選択したメールを削除")
    release = page.get_by_role("button", name="保留中の210通すべての送信を許可")
    for where in ("top", "middle"):
        if where == "middle":
            page.get_by_label("選択 buyer120@example.jp").scroll_into_view_if_needed()
        for button in (delete, release):
            box = button.bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, where
