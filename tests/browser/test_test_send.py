"""The test send from the broadcast confirm step, through Chromium: pick a member, type two
addresses, press the button; the box says where it went, and the copy arrives at exactly those
addresses with that member's values. A sixth address is refused in place."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from shopmail.extensions import db
from shopmail.models import DeskSettings, Message
from tests.browser.test_broadcasts import work_in_background
from tests.conftest import PASSWORD
from tests.factories import BroadcastFactory, MemberFactory


def sent_rows(n: int, timeout: float = 15) -> None:
    """Wait until the worker has written `n` rows as sent (it writes right after the 250)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        sent = db.select(db.func.count(Message.id)).filter_by(state="sent")
        if db.session.scalar(sent) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"{n} rows were not sent in time")


TYPED = ["tenchou@sakura.example.jp", "kakunin@partner.example.co.jp"]


def test_a_test_send_from_the_confirm_step_reaches_the_typed_addresses(
    app, sign_in, live_server, staff, mail_store, smtp_server
):
    db.session.add_all(
        MemberFactory.build(
            number=f"M{i:04d}",
            company=f"テスト商事{i}",
            contact_name=f"山田 {i}",
            email=f"m{i}@example.jp",
        )
        for i in range(3)
    )
    DeskSettings.get().monthly_quota = 100
    broadcast = BroadcastFactory(store=mail_store, body="[MEMBER_NAME] 様\n会員番号 [MEMBER_ID]\n")
    db.session.commit()
    page = sign_in(staff, PASSWORD)
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{live_server}/broadcasts/{broadcast.id}/confirm")
    expect(page.locator("pre.mail")).to_contain_text("山田 0 様")
    page.get_by_label("プレビュー・テストに使う宛先").select_option(
        label="M0002 — 山田 2 <m2@example.jp>"
    )
    expect(page.locator("pre.mail")).to_contain_text("山田 2 様")

    box = page.locator("#test-send")
    box.get_by_label("テストメールの宛先").fill(
        "a@example.jp b@example.jp c@example.jp d@example.jp e@example.jp f@example.jp"
    )
    box.get_by_role("button", name="テストメールを送る").click()
    expect(page.get_by_role("alert")).to_have_text(
        "テストメールの送信先は5件までです(6件入力されています)。"
    )
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 0

    box.get_by_label("テストメールの宛先").fill(", ".join(TYPED))
    box.get_by_role("button", name="テストメールを送る").click()
    expect(page.get_by_role("status")).to_contain_text(
        "テストメールを tenchou@sakura.example.jp, kakunin@partner.example.co.jp 宛てに"
    )
    expect(box.get_by_label("テストメールの宛先")).to_have_value("")
    page.screenshot(path="/tmp/test_send_confirm.png", full_page=True)

    work_in_background(app)
    mails = smtp_server.handler.wait_for(2, timeout=30)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(TYPED)
    assert {m.message["Subject"] for m in mails} == {"[テスト] テスト商事2 様 新商品のお知らせ"}
    assert "会員番号 M0002" in mails[0].message.get_content()
    sent_rows(2)

    page.get_by_role("link", name="履歴で確認").click()
    expect(page.get_by_role("cell", name=TYPED[0])).to_be_visible()
    expect(page.get_by_role("cell", name="テストメール").first).to_be_visible()
