"""A broadcast's progress page through Chromium in the states merchants met (issue 16): mails
waiting for a retry, paused, and cancelled — after a question that says how many mails the
cancel stops."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from shopmail.core.i18n import tokyo
from shopmail.extensions import db
from shopmail.models import Broadcast, DeskSettings, Store
from shopmail.models.types import utcnow
from tests.conftest import PASSWORD
from tests.factories import BroadcastFactory, MessageFactory, StoreFactory


def broadcast_with(state: str, rows: dict[str, int], **row_fields) -> int:
    """A started broadcast whose copies are in the given states (no worker runs)."""
    DeskSettings.get().mail_server_running = True
    store = StoreFactory()
    total = sum(rows.values())
    b = BroadcastFactory(
        store=store, state=state, total=total, started_at=utcnow(), subject="秋の新商品"
    )
    for row_state, n in rows.items():
        for _ in range(n):
            MessageFactory(
                store=store, kind="broadcast", broadcast_id=b.id, state=row_state, **row_fields
            )
    db.session.commit()
    return b.id


def test_mails_waiting_for_a_retry_say_when_and_keep_the_bar_short_of_full(
    sign_in, live_server, staff
):
    next_try = utcnow() + timedelta(minutes=7)
    bid = broadcast_with("sending", {"sent": 2})
    broadcast = db.session.get(Broadcast, bid)
    broadcast.total = 3
    MessageFactory(
        store=db.session.get(Store, broadcast.store_id),
        kind="broadcast",
        broadcast_id=bid,
        state="retrying",
        attempts=1,
        next_attempt_at=next_try,
    )
    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/broadcasts/{bid}/progress")
    expect(page.get_by_text(f"1 通が再試行待ち、次回 {tokyo(next_try, '%H:%M')}")).to_be_visible()
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "66")
    page.wait_for_timeout(1500)  # it polls and stays so
    expect(bar).to_have_attribute("aria-valuenow", "66")
    expect(page.locator(".percent")).to_have_text("66%")


def test_a_paused_broadcast_says_how_many_wait_and_offers_to_resume(sign_in, live_server, staff):
    bid = broadcast_with("paused", {"sent": 1, "queued": 3})
    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/broadcasts/{bid}/progress")
    expect(page.locator(".badge", has_text="一時停止中")).to_be_visible()
    expect(
        page.get_by_text("一時停止中です。残り 3 通は、再開するまで送信されません。")
    ).to_be_visible()
    expect(page.get_by_role("button", name="再開")).to_be_visible()
    expect(page.get_by_role("button", name="一時停止")).to_have_count(0)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")


def test_cancelling_asks_with_the_count_and_then_shows_what_was_sent_not_a_full_bar(
    sign_in, live_server, staff
):
    bid = broadcast_with("sending", {"sent": 2, "queued": 3})
    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/broadcasts/{bid}/progress")
    questions: list[str] = []

    def answer(dialog, accept: bool):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="配信を中止").click()
    assert questions and "残り 3 通の送信を中止します" in questions[0]
    expect(page.locator(".badge", has_text="送信中")).to_be_visible()  # nothing happened

    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="配信を中止").click()
    expect(page.get_by_text("配信を中止しました。送信済み 2 通、未送信 3 通です。")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "40")
    expect(page.locator(".percent")).to_have_text("40%")
    expect(page.get_by_role("button", name="配信を中止")).to_have_count(0)
