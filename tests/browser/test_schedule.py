"""Scheduling a broadcast in Chromium: the confirm step's forecast, "send later" at a Tokyo date
and time, and the scheduled broadcast first on the list with its time — then moved and
cancelled from its confirm page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from shopmail.core.i18n import TOKYO
from shopmail.extensions import db
from shopmail.models import Broadcast
from shopmail.models.types import utcnow
from tests.conftest import PASSWORD
from tests.factories import BroadcastFactory, MemberFactory


def test_schedule_from_the_confirm_step_and_see_it_first_on_the_list(
    app, sign_in, live_server, staff, mail_store
):
    db.session.add_all(
        MemberFactory.build(
            number=f"M{i:04d}",
            company=f"テスト商事{i}",
            contact_name=f"山田 {i}",
            email="same@example.jp" if i >= 8 else f"m{i}@example.jp",
        )
        for i in range(10)
    )
    BroadcastFactory(store=mail_store, subject="先月のお知らせ", state="done")
    db.session.commit()
    when = (utcnow() + timedelta(days=2)).astimezone(TOKYO).replace(hour=9, minute=30)
    page = sign_in(staff, PASSWORD)

    page.goto(f"{live_server}/members/")
    page.get_by_role("button", name="検索結果すべてに送信").click()
    page.get_by_label("件名").fill("[COMPANY] 様 年末のご案内")
    page.get_by_label("本文").fill("[MEMBER_NAME] 様\n年末年始の営業日のお知らせです。")
    page.get_by_role("button", name="確認画面へ").click()

    forecast = page.get_by_role("region", name="送信前の見込み")
    expect(forecast.locator('[data-forecast="recipients"]')).to_have_text("9")
    expect(forecast.get_by_role("link", name="他の会員と同じアドレス")).to_be_visible()
    page.get_by_label("送信日（日本時間）").fill(when.strftime("%Y-%m-%d"))
    page.get_by_label("時刻").fill("09:30")
    page.get_by_role("button", name="予約する").click()

    expect(page.get_by_text("配信を予約しました。")).to_be_visible()
    first = page.locator("table.list tbody tr").first
    expect(first).to_contain_text("予約済み")
    expect(first).to_contain_text("年末のご案内")
    expect(first).to_contain_text(when.strftime("%Y-%m-%d") + " 09:30 に開始")
    expect(page.locator("table.list tbody tr").nth(1)).to_contain_text("先月のお知らせ")

    first.get_by_role("link", name=re.compile("年末のご案内")).click()
    expect(page.get_by_text(re.compile(r"09:30（日本時間）に開始する予約です"))).to_be_visible()
    page.get_by_label("時刻").fill("11:00")
    page.get_by_role("button", name="日時を変更").click()
    expect(page.get_by_text(re.compile(r"11:00（日本時間）に開始する予約です"))).to_be_visible()
    page.get_by_role("button", name="予約を取り消す").click()
    expect(page.get_by_text("予約を取り消しました。配信は下書きに戻りました。")).to_be_visible()
    db.session.expire_all()
    scheduled = db.session.scalars(
        db.select(Broadcast).filter_by(subject="[COMPANY] 様 年末のご案内")
    )
    assert [b.state for b in scheduled] == ["draft"]
