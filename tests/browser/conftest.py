"""Playwright drives Debian's Chromium (the machine has no network to fetch its own)."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def sign_in(page, live_server):
    """Log in through the real form, as a person would."""

    def sign_in(user, password):
        page.goto(f"{live_server}/login")
        page.get_by_label("メールアドレス").fill(user.email)
        page.get_by_label("パスワード").fill(password)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url(f"{live_server}/")
        return page

    return sign_in
