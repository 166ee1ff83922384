"""The manual's first start, clicked through in Chromium: create (held) → review and delete →
release and send → history."""

from __future__ import annotations

from playwright.sync_api import expect

from shopmail.extensions import db
from tests.conftest import PASSWORD, run_worker
from tests.integration.test_automatic import make_order, make_store


def test_admin_creates_reviews_releases_sends_and_sees_the_history(
    app, sign_in, admin, live_server, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "B-1", "keep@example.jp", days_ago=2)
    make_order(store, "B-2", "test-order@example.jp", days_ago=3)
    db.session.commit()
    page = sign_in(admin, PASSWORD)

    page.get_by_role("link", name="運用設定").click()
    expect(page.locator('[data-step="1"]')).to_have_attribute("data-state", "next")
    page.get_by_role("checkbox", name="受注確認連絡").check()
    page.get_by_role("button", name="自動送信設定を登録").click()
    page.get_by_role("button", name="メール作成処理を起動").click()
    expect(page.get_by_role("button", name="メール作成処理を停止")).to_be_visible()
    page.get_by_role("button", name="今すぐ作成").click()
    expect(page.get_by_role("status").first).to_contain_text("メールの作成を開始しました")
    run_worker(app)
    page.reload()
    expect(page.locator('[data-step="2"]')).to_have_attribute("data-state", "next")

    page.get_by_role("link", name="送信待ち", exact=True).first.click()
    expect(page.get_by_role("cell", name="購入者 B-2 <test-order@example.jp>")).to_be_visible()
    expect(page.get_by_text("確認待ち(保留)").first).to_be_visible()
    page.get_by_label("選択 test-order@example.jp").check()
    page.once("dialog", lambda dialog: dialog.accept())  # "1 通のメールを削除します。…"
    page.get_by_role("button", name="選択したメールを削除").click()
    expect(page.get_by_role("status")).to_contain_text("1通のメールを削除しました")
    expect(page.get_by_text("test-order@example.jp")).to_have_count(0)
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="保留中の1通すべての送信を許可").click()
    expect(page.get_by_role("status")).to_contain_text("1通のメールを送信待ちにしました")
    assert questions == ["確認待ちの 1 通すべてをお客様に送信します。よろしいですか？"]

    page.get_by_role("link", name="運用設定").click()
    page.get_by_role("button", name="メールサーバを開始").click()
    page.get_by_role("link", name="運用設定").click()
    page.get_by_role("button", name="メール送信処理を起動").click()
    expect(page.locator('[data-step="3"]')).to_have_attribute("data-state", "done")
    run_worker(app)
    assert [r.rcpt_tos[0] for r in smtp_server.wait_for(1)] == ["keep@example.jp"]

    page.get_by_role("link", name="送信履歴").click()
    row = page.get_by_role("row").filter(has_text="keep@example.jp")
    expect(row).to_contain_text("送信済み")
    row.get_by_role("link").click()
    expect(page.get_by_role("row", name="BCC(エンベロープ)")).to_contain_text("archive-own@")
    expect(page.locator("pre.mail")).to_contain_text("B-1")
