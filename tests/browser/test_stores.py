"""Store settings through Chromium: stop the mail server, change the sender, see it listed."""

import re

from playwright.sync_api import expect

from shopmail.extensions import db
from shopmail.models import DeskSettings, Store
from tests.conftest import PASSWORD


def test_admin_stops_the_server_edits_the_from_name_and_sees_it_in_the_list(
    sign_in, live_server, admin
):
    db.session.add(
        Store(
            code="own",
            name="さくら雑貨 本店",
            channel="own",
            from_addr="shop@sakura.example.jp",
            from_name="さくら雑貨",
            reply_to="support@sakura.example.jp",
        )
    )
    DeskSettings.get().mail_server_running = True
    db.session.commit()
    page = sign_in(admin, PASSWORD)

    page.get_by_role("link", name="店舗").click()
    page.get_by_role("link", name="さくら雑貨 本店").click()
    expect(page.get_by_text("停止中にしか変更できません")).to_be_visible()
    expect(page.get_by_label("送信者名")).to_be_disabled()

    page.get_by_role("button", name="メールサーバを停止").click()
    expect(
        page.get_by_text("メールサーバは停止中です。メールは送信されません。").first
    ).to_be_visible()
    page.get_by_label("送信者名").fill("さくら雑貨 京都本店")
    page.get_by_role("button", name="保存", exact=True).click()

    expect(page.get_by_role("status").first).to_contain_text("設定を保存しました")
    expect(page.get_by_role("cell", name="さくら雑貨 京都本店")).to_be_visible()
    db.session.expire_all()
    assert DeskSettings.get().mail_server_running is False


def test_admin_sets_an_own_relays_limits_and_is_told_when_they_do_not_fit(
    sign_in, live_server, admin
):
    store = Store(
        code="own",
        name="さくら雑貨 本店",
        channel="own",
        from_addr="shop@sakura.example.jp",
        reply_to="support@sakura.example.jp",
    )
    db.session.add(store)
    DeskSettings.get().mail_server_running = False
    db.session.commit()
    page = sign_in(admin, PASSWORD)
    page.goto(f"{live_server}/stores/{store.id}")
    expect(page.locator("#relay-limits")).to_contain_text("SHOPMAIL_SMTP_SESSIONS")

    page.get_by_label("独自の SMTP サーバ").check()
    page.get_by_label("SMTP ホスト").fill("smtp.sakura.example.jp")
    page.get_by_label(re.compile("^同時接続数")).fill("2")
    page.get_by_label(re.compile("^1分あたりの送信上限")).fill("600")
    page.get_by_label(re.compile("^1時間あたりの送信上限")).fill("500")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="1時間あたりの送信上限は")).to_contain_text(
        "1分あたりの送信上限(600 通)以上にしてください"
    )

    page.get_by_label(re.compile("^1時間あたりの送信上限")).fill("20,000")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("設定を保存しました")
    expect(page.get_by_text("接続 0/2・直近1分 0 通")).to_be_visible()
    db.session.expire_all()
    saved = db.session.get(Store, store.id)
    assert (saved.smtp_sessions, saved.smtp_per_minute, saved.smtp_per_hour) == (2, 600, 20000)
