"""The Content-Security-Policy allows no inline script: the pages still work in Chromium, the
confirm dialogs and self-submitting filters included, and the browser reports no violation."""

from playwright.sync_api import expect

from shopmail.extensions import db
from shopmail.models import ApiToken
from tests.conftest import PASSWORD


def test_pages_work_under_the_csp_with_no_violation(sign_in, admin, store, live_server):
    page = sign_in(admin, PASSWORD)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    for path in ("/", "/automatic/templates", "/automatic/queue", "/broadcasts", "/stores"):
        page.goto(f"{live_server}{path}")
    # A list filtered by htmx as one types (its trigger once needed eval).
    page.goto(f"{live_server}/records/orders")
    page.get_by_label("検索").fill("山田")
    page.wait_for_url("**/records/orders?*q=*")
    # A filter form that sends itself when a field changes (was an inline onchange).
    page.goto(f"{live_server}/automatic/templates")
    page.locator("form[data-autosubmit] select").first.select_option(index=1)
    page.wait_for_url("**/automatic/templates?*")
    # A destructive button asks first (was an inline onclick): cancelling changes nothing.
    page.goto(f"{live_server}/api-tokens/")
    page.get_by_role("textbox").first.fill("受注連携")
    page.get_by_role("button", name="トークンを作成").click()
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="失効させる").click()
    assert questions and "トークン" in questions[0]
    db.session.expire_all()
    assert db.session.scalar(db.select(ApiToken.revoked_at)) is None
    expect(page.get_by_role("button", name="失効させる")).to_be_visible()
    assert violations == []
