"""A manual mail from the order list, through Chromium: search, tick, compose, preview, send."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD, run_worker
from tests.factories import RecordMailTemplateFactory
from tests.integration.test_record_mail import make_order


def test_staff_mail_two_orders_found_by_search(
    app, sign_in, staff, mail_store, smtp_server, live_server
):
    make_order(mail_store, "OWN-1", "山田 太郎", "taro@example.jp")
    make_order(mail_store, "OWN-2", "山田 花子", "hanako@example.jp")
    make_order(mail_store, "OWN-3", "佐藤 一郎", "ichiro@example.jp")
    RecordMailTemplateFactory(
        name="ご注文の確認",
        title="【[TENPO_NAME]】ご注文 [ORDER_NO] について",
        header="[BUYER_NAME] 様",
        footer="よろしくお願いいたします。",
    )
    page = sign_in(staff, PASSWORD)

    page.get_by_role("link", name="受注一覧").click()
    expect(page.get_by_role("status").first).to_contain_text("3件")
    page.get_by_label("検索").fill("山田")
    expect(page).to_have_url(re.compile(r"/records/orders\?.*q=%E5%B1%B1%E7%94%B0"))
    expect(page.get_by_role("status").first).to_contain_text("2件")
    expect(page.get_by_role("cell", name="佐藤 一郎")).to_have_count(0)

    page.get_by_label("OWN-1").check()
    page.get_by_label("OWN-2").check()
    page.get_by_role("button", name="チェックしたデータにメール送信").click()

    expect(page.get_by_role("heading", name="メールの作成")).to_be_visible()
    expect(page.get_by_label("署名を挿入")).to_be_checked()
    page.get_by_label("テンプレート").select_option(label="ご注文の確認")
    expect(page.get_by_label("タイトル")).to_have_value(
        "【[TENPO_NAME]】ご注文 [ORDER_NO] について"
    )
    page.reload()  # the draft lives in the database: a reload keeps the step
    page.get_by_label("テンプレート").select_option(label="ご注文の確認")
    expect(page.get_by_label("本文下部(フッタ)")).to_have_value("よろしくお願いいたします。")
    page.get_by_role("button", name="確認画面へ").click()

    expect(page.get_by_role("heading", name="確認して送信")).to_be_visible()
    expect(page.get_by_role("cell", name="OWN-1")).to_be_visible()
    expect(page.get_by_role("cell", name="hanako@example.jp")).to_be_visible()
    subject = page.locator(".preview-subject")
    expect(subject).to_have_text("【さくら雑貨 本店】ご注文 OWN-2 について")  # newest first
    page.get_by_label("送信先").select_option(label="OWN-1 — 山田 太郎 <taro@example.jp>")
    expect(subject).to_have_text("【さくら雑貨 本店】ご注文 OWN-1 について")
    expect(page.locator(".preview-body")).to_contain_text("注文番号：OWN-1")
    expect(page.locator(".preview-body")).to_contain_text("山田 太郎 様")
    expect(page.locator(".preview-body")).not_to_contain_text("OWN-2")
    page.get_by_role("button", name="2通を送信").click()

    expect(page).to_have_url(re.compile(r"/records/mailings/\d+/done$"))
    run_worker(app)
    expect(page.get_by_text("メール送信を完了いたしました")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("送信済み 2 · 送信待ち 0 · 失敗 0")).to_be_visible()
    received = {m.message["To"].addresses[0].addr_spec for m in smtp_server.wait_for(2)}
    assert received == {"taro@example.jp", "hanako@example.jp"}
