"""A broadcast through Chromium: a bookmarked filter, compose, the live bar, flag a refusal."""

from __future__ import annotations

import re
import threading

from playwright.sync_api import expect
from rq.timeouts import TimerDeathPenalty

from shopmail.core.dispatch import make_worker
from shopmail.extensions import db
from shopmail.models import Member
from tests.conftest import PASSWORD
from tests.factories import MemberFactory


def work_in_background(app) -> threading.Thread:
    """`run_worker` in a thread: RQ installs signal handlers, which only the main thread may."""
    worker = make_worker(app)
    worker._install_signal_handlers = lambda: None
    worker.death_penalty_class = TimerDeathPenalty
    thread = threading.Thread(
        target=worker.work, kwargs={"burst": True, "logging_level": "WARNING"}, daemon=True
    )
    thread.start()
    return thread


def test_send_to_a_bookmarked_filter_and_flag_a_refused_address(
    app, sign_in, live_server, staff, mail_store, smtp_server
):
    db.session.add_all(
        MemberFactory.build(
            number=f"M{i:04d}",
            company=f"テスト商事{i}",
            contact_name=f"山田 {i}",
            email=f"m{i}@example.jp",
            industry="食品" if i < 60 else "衣料",
        )
        for i in range(70)
    )
    db.session.commit()
    smtp_server.handler.refuse["m3@example.jp"] = (550, "5.1.1 User unknown")
    page = sign_in(staff, PASSWORD)

    page.goto(f"{live_server}/members/?industry=食品")
    expect(page.get_by_text("該当する会員: 60 名")).to_be_visible()
    page.get_by_label("会社名・担当者名・メールアドレス・会員番号").fill("m42@")
    page.get_by_role("button", name="検索", exact=True).click()
    expect(page.get_by_text("該当する会員: 1 名")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=m42%40"))  # the filter went into the URL
    page.go_back()
    expect(page.get_by_text("該当する会員: 60 名")).to_be_visible()

    page.get_by_role("button", name="検索結果すべてに送信").click()
    expect(page.get_by_role("heading", name="配信メールの作成")).to_be_visible()
    page.get_by_label("件名").fill("[COMPANY] 様 秋のセール")
    page.get_by_label("本文").fill("[MEMBER_NAME] 様\nセールのお知らせです。")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.get_by_text("60 通のメールを送信します。")).to_be_visible()
    expect(page.locator("pre.mail")).to_contain_text("山田 0 様")
    page.get_by_role("button", name="送信").click()
    expect(page.get_by_role("progressbar")).to_be_visible()

    work_in_background(app)
    expect(page.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "100", timeout=30_000
    )
    expect(page.get_by_text("メール送信を完了いたしました。")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("一部のメールが送信できませんでした")
    page.get_by_role("link", name="OK").click()

    expect(page.get_by_role("cell", name="m3@example.jp")).to_be_visible()
    expect(page.get_by_role("cell", name="550 5.1.1 User unknown")).to_be_visible()
    page.get_by_role("checkbox", name="M0003").check()
    page.get_by_role("button", name="無効フラグを設定").click()
    expect(page.get_by_text("1 名の会員に無効フラグを設定しました。")).to_be_visible()
    expect(page.get_by_role("cell", name="m3@example.jp 無効")).to_be_visible()
    member = db.session.scalar(db.select(Member).filter_by(number="M0003"))
    db.session.refresh(member)
    assert member.email_invalid and "User unknown" in member.invalid_reason
