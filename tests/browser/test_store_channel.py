"""A new store in Chromium: choosing 楽天市場 changes the hints and the relay at once (issue 16),
not only after a save was refused; and locked fields look locked."""

from __future__ import annotations

from playwright.sync_api import expect

from shopmail.extensions import db
from shopmail.models import DeskSettings, Store
from tests.conftest import PASSWORD


def test_choosing_rakuten_switches_the_hints_and_the_relay_before_any_save(
    sign_in, live_server, admin
):
    page = sign_in(admin, PASSWORD)
    page.goto(f"{live_server}/stores/new")
    hints = page.locator("#sender-hints")
    expect(hints).to_contain_text("システムのメールドメイン")
    expect(page.get_by_label("システムの送信サーバ")).to_be_checked()

    page.get_by_label("販売チャネル").select_option(label="楽天市場")
    expect(hints).to_contain_text("楽天に登録されたアドレス")
    expect(page.get_by_label("楽天の送信サーバ(SMTP AUTH)")).to_be_checked()
    expect(page.locator("#relay-limits")).to_contain_text("楽天の送信サーバ(SMTP AUTH)の送信上限")
    expect(page.locator("#relay-limits")).to_contain_text("SHOPMAIL_RAKUTEN_SMTP_SESSIONS")
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing was refused on the way

    page.get_by_label("販売チャネル").select_option(label="自社サイト")
    expect(hints).not_to_contain_text("楽天に登録されたアドレス")
    expect(page.get_by_label("システムの送信サーバ")).to_be_checked()
    page.get_by_label("独自の SMTP サーバ").check()
    expect(page.locator("#relay-limits")).to_have_count(0)  # an own relay's limits are below


def test_locked_fields_look_locked(sign_in, live_server, admin):
    db.session.add(
        Store(
            code="own",
            name="さくら雑貨 本店",
            channel="own",
            from_addr="shop@sakura.example.jp",
            reply_to="support@sakura.example.jp",
        )
    )
    DeskSettings.get().mail_server_running = True
    db.session.commit()
    page = sign_in(admin, PASSWORD)
    page.goto(f"{live_server}/stores")
    page.get_by_role("link", name="さくら雑貨 本店").click()
    locked = page.get_by_label("送信者名")
    expect(locked).to_be_disabled()
    style = locked.evaluate(
        "e => [getComputedStyle(e).cursor, getComputedStyle(e).backgroundColor]"
    )
    assert style[0] == "not-allowed" and style[1] != "rgb(255, 255, 255)"
    editable = page.get_by_label("店舗名")
    assert editable.evaluate("e => getComputedStyle(e).cursor") != "not-allowed"
    save = page.get_by_role("button", name="保存", exact=True)
    assert save.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
