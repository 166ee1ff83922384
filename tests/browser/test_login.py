"""Log-in through Chromium."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import StoreFactory


def test_admin_logs_in_and_sees_the_stores(sign_in, admin):
    StoreFactory(code="own", name="さくら雑貨 本店", channel="own", from_addr="a@example.jp")
    page = sign_in(admin, PASSWORD)
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    expect(page.get_by_role("cell", name="さくら雑貨 本店")).to_be_visible()
    expect(page.get_by_text("管理 太郎")).to_be_visible()


def test_wrong_password_shows_a_message(page, live_server, staff):
    page.goto(f"{live_server}/login")
    page.get_by_label("メールアドレス").fill(staff.email)
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("正しくありません")
