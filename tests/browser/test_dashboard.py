"""The dashboard's chart through Chromium: it is drawn, names itself for screen readers, and the
numbers printed beside it equal what the history lists — for all stores and for one store
chosen in the filter (the URL then carries it)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from playwright.sync_api import expect

from shopmail.core.i18n import tokyo_midnight
from shopmail.core.mail_stats import tokyo_today
from shopmail.extensions import db
from tests.conftest import PASSWORD
from tests.factories import MessageFactory, StoreFactory

STATES = {"送信済み": "sent", "送信失敗": "failed", "エラーで戻り": "bounced"}


def history_counts(page, url: str) -> Counter:
    """(day, state) → mails, read from the history table as a person sees it."""
    page.goto(url)
    counts = Counter()
    for row in page.locator("#history tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        if len(cells) > 2 and cells[0].strip() in STATES:
            counts[(cells[1].strip()[:10], STATES[cells[0].strip()])] += 1
    return counts


def dashboard_counts(page) -> Counter:
    counts = Counter()
    for row in page.locator("#daily-numbers tbody tr").all():
        day = row.get_attribute("data-day")
        for state in STATES.values():
            number = int(row.locator(f'td[data-state="{state}"]').inner_text().replace(",", ""))
            if number:
                counts[(day, state)] = number
    return counts


def test_the_chart_is_drawn_and_its_numbers_are_the_historys(sign_in, live_server, staff):
    shop, b2b = StoreFactory(name="さくら雑貨 本店"), StoreFactory(name="さくら雑貨 法人店")
    midnight = tokyo_midnight(tokyo_today())
    rows = [
        (shop, "order_confirmation", "sent", midnight + timedelta(seconds=20)),
        (shop, "order_confirmation", "sent", midnight - timedelta(seconds=20)),
        (shop, "shipping_notice", "failed", midnight - timedelta(days=3)),
        (b2b, "record", "sent", midnight - timedelta(days=3)),
        (b2b, "follow_up", "bounced", midnight - timedelta(days=12)),
    ]
    for store, kind, state, at in rows:
        sent_at = at if state != "failed" else None
        MessageFactory(store=store, kind=kind, state=state, sent_at=sent_at, updated_at=at)
    db.session.commit()

    page = sign_in(staff, PASSWORD)
    page.goto(f"{live_server}/")
    chart = page.get_by_role("img", name="1日ごとのメール")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 150
    expect(page.locator("#daily-chart rect[data-series]")).to_have_count(5)
    shown = dashboard_counts(page)
    assert shown[(tokyo_today().isoformat(), "sent")] == 1  # the one 20 s after midnight
    assert shown == history_counts(page, f"{live_server}/automatic/history")

    page.goto(f"{live_server}/")
    page.get_by_label("店舗").select_option(label="さくら雑貨 法人店")
    page.wait_for_url(f"**/?store={b2b.id}&kind=")
    expect(page.locator('#daily-numbers td[data-total="sent"]')).to_have_text("1")
    one_store = dashboard_counts(page)
    assert one_store == history_counts(page, f"{live_server}/automatic/history?store={b2b.id}")
    assert sum(one_store.values()) == 2
