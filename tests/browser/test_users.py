"""User management through Chromium: an admin adds a staff member, who then logs in."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def test_admin_adds_staff_who_logs_in_without_the_admin_pages(sign_in, admin, browser, live_server):
    page = sign_in(admin, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="ユーザー", exact=True).click()
    form = page.get_by_role("form", name="ユーザーの追加")
    form.get_by_label("メールアドレス").fill("hanako@example.jp")
    form.get_by_label("氏名").fill("山田 花子")
    form.get_by_label("権限").select_option("staff")
    form.get_by_role("button", name="ユーザーを追加").click()
    expect(page.get_by_role("heading", name="ユーザーを作成しました")).to_be_visible()
    password = page.get_by_test_id("new-password").inner_text()

    context = browser.new_context()
    try:
        staff_page = context.new_page()
        staff_page.goto(f"{live_server}/login")
        staff_page.get_by_label("メールアドレス").fill("hanako@example.jp")
        staff_page.get_by_label("パスワード").fill(password)
        staff_page.get_by_role("button", name="ログイン").click()
        staff_page.wait_for_url(f"{live_server}/")
        expect(staff_page.get_by_text("山田 花子")).to_be_visible()
        nav = staff_page.get_by_role("navigation", name="メイン")
        expect(nav.get_by_role("link", name="ダッシュボード")).to_be_visible()
        expect(nav.get_by_role("link", name="ユーザー", exact=True)).to_have_count(0)
        expect(nav.get_by_role("link", name="操作履歴", exact=True)).to_have_count(0)

        staff_page.goto(f"{live_server}/users")
        expect(staff_page.get_by_role("heading", name="403")).to_be_visible()
        expect(staff_page.get_by_text("このページはご利用の権限では開けません")).to_be_visible()
    finally:
        context.close()

    page.get_by_role("link", name="ユーザー一覧に戻る").click()
    expect(page.get_by_role("row", name="hanako@example.jp")).to_contain_text("スタッフ")
