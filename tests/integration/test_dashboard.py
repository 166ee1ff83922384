"""The dashboard's 30 days of mail, on real parts: mails go out through a real worker to a real
SMTP server (one refused), others were sent days ago (one just after Tokyo midnight, one just
before); the numbers the dashboard prints equal what the history lists, day by day, for every
store and kind, and its chart names itself for screen readers."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from html import unescape

import pytest

from shopmail.core import dispatch
from shopmail.core.i18n import tokyo, tokyo_midnight
from shopmail.core.mail_stats import tokyo_today
from shopmail.extensions import db
from shopmail.models.types import utcnow
from tests.conftest import run_worker
from tests.factories import BroadcastFactory, MessageFactory, StoreFactory

LABELS = {
    "送信済み": "sent",
    "送信失敗": "failed",
    "エラーで戻り": "bounced",
    "不明(届いた可能性あり)": "unknown",
}
HISTORY_ROW = re.compile(
    r'<span class="badge[^"]*">([^<]+)</span></td>\s*<td class="nowrap">(\d{4}-\d\d-\d\d) '
)
DAY_ROW = re.compile(r'<tr data-day="([\d-]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'data-state="(\w+)">([\d,]+)<')


def history_counts(client, **query) -> Counter:
    """(day, state) → mails of the last 30 Tokyo days, as the history page lists them."""
    page = unescape(client.get("/automatic/history", query_string=query).get_data(as_text=True))
    first = (tokyo_today() - timedelta(days=29)).isoformat()
    counts = Counter()
    for label, day in HISTORY_ROW.findall(page):
        if label in LABELS and day >= first:
            counts[(day, LABELS[label])] += 1
    return counts


def dashboard_counts(client, **query) -> Counter:
    """(day, state) → mails, as the dashboard's table prints them (zeros left out)."""
    response = client.get("/", query_string=query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    counts = Counter()
    for day, cells in DAY_ROW.findall(page):
        for state, number in CELL.findall(cells):
            if int(number.replace(",", "")):
                counts[(day, state)] = int(number.replace(",", ""))
    return counts


@pytest.fixture
def mails(app, mail_store, smtp_server):
    """Two stores' mails of several kinds over the last days, and today's sent by a worker."""
    other = StoreFactory(code="b2b", name="さくら雑貨 法人店")
    midnight = tokyo_midnight(tokyo_today())  # today, 00:00 in Tokyo
    just_after, just_before = midnight + timedelta(seconds=30), midnight - timedelta(seconds=30)
    week_ago = midnight - timedelta(days=6, hours=-10)
    rows = [
        (mail_store, "order_confirmation", "sent", just_after),
        (mail_store, "order_confirmation", "sent", just_before),
        (mail_store, "shipping_notice", "sent", week_ago),
        (mail_store, "shipping_notice", "failed", week_ago),
        (other, "follow_up", "bounced", just_before),
        (other, "order_confirmation", "unknown", week_ago),
        (other, "order_confirmation", "sent", midnight - timedelta(days=40)),  # too old
    ]
    for store, kind, state, at in rows:
        sent_at = at if state in ("sent", "bounced") else None
        MessageFactory(store=store, kind=kind, state=state, sent_at=sent_at, updated_at=at)
    smtp_server.handler.refuse["nobody@example.jp"] = (550, "5.1.1 User unknown")
    for addr in ("a@example.jp", "b@example.jp", "nobody@example.jp"):
        MessageFactory(store=mail_store, kind="record", to_addr=addr)
    db.session.commit()
    dispatch.send_soon([mail_store.id])
    db.session.commit()
    run_worker(app)
    smtp_server.wait_for(2)
    return mail_store, other


def test_the_dashboard_counts_what_the_history_lists_per_tokyo_day(mails, staff_client):
    store, other = mails
    today = tokyo_today().isoformat()
    yesterday = (tokyo_today() - timedelta(days=1)).isoformat()

    counts = dashboard_counts(staff_client)
    # The mail sent 30 seconds after Tokyo midnight is today's; 30 seconds before, yesterday's.
    assert counts[(today, "sent")] == 3  # just after midnight, and the worker's two
    assert counts[(today, "failed")] == 1  # the worker's refused one
    assert counts[(yesterday, "sent")] == 1 and counts[(yesterday, "bounced")] == 1
    assert sum(counts.values()) == 9  # the 40-day-old mail is not drawn
    assert counts == history_counts(staff_client)

    for query in (
        {"store": store.id},
        {"store": other.id},
        {"kind": "order_confirmation"},
        {"kind": "record"},
        {"store": store.id, "kind": "shipping_notice"},
    ):
        assert dashboard_counts(staff_client, **query) == history_counts(staff_client, **query)
    assert dashboard_counts(staff_client, store=other.id)[(yesterday, "bounced")] == 1


def test_the_chart_names_itself_and_the_filter_is_a_bookmark(mails, staff_client):
    store, _ = mails
    page = unescape(staff_client.get("/", query_string={"store": store.id}).get_data(as_text=True))
    svg = page[page.index('<svg class="chart" id="daily-chart"') : page.index("</svg>")]
    assert 'role="img"' in svg and 'aria-label="1日ごとのメール"' in svg
    assert "<title" in svg and "<desc" in svg and "日本時間" in svg
    assert svg.count('<g class="bar">') == 30
    assert f'<option value="{store.id}" selected>' in page
    total = page[page.index('data-total="sent"') :]
    assert total.startswith('data-total="sent">5<')  # the store's sent mails of the 30 days

    partial = staff_client.get(
        "/", query_string={"store": store.id}, headers={"HX-Request": "true"}
    )
    assert partial.get_data(as_text=True).lstrip().startswith('<section id="daily"')


def test_a_broadcasts_page_counts_its_copies_per_minute_and_per_outcome(app, staff_client):
    store = StoreFactory()
    b = BroadcastFactory(
        store=store, state="done", total=7, started_at=utcnow(), subject="冬の新商品"
    )
    base = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
    copies = [
        ("sent", 5, None),
        ("sent", 30, None),
        ("sent", 65, None),
        ("bounced", 70, "bounce"),
        ("sent", 190, None),
        ("failed", None, "smtp"),  # refused
        ("failed", None, None),  # not delivered
    ]
    for state, second, refused_by in copies:
        sent_at = base + timedelta(seconds=second) if second is not None else None
        MessageFactory(
            store=store,
            kind="broadcast",
            broadcast_id=b.id,
            state=state,
            sent_at=sent_at,
            refused_by=refused_by,
        )
    db.session.commit()

    page = unescape(staff_client.get(f"/broadcasts/{b.id}/progress").get_data(as_text=True))
    table = page[
        page.index('id="delivery-numbers"') : page.index(
            "</table>", page.index('id="delivery-numbers"')
        )
    ]
    minute = [tokyo(base + timedelta(minutes=n)) for n in (0, 1, 3)]
    rows = re.findall(r'<th scope="row" class="nowrap">([^<]+)</th><td class="num">(\d+)<', table)
    assert rows == [(minute[0], "2"), (minute[1], "2"), (minute[2], "1")]
    assert 'data-delivery="total">5<' in table
    assert "1分ごとの送信数" in table
    outcome = dict(re.findall(r'data-outcome="(\w+)">([\d,]+)<', page))
    assert outcome == {
        "sent": "4",
        "refused": "1",
        "bounced": "1",
        "unknown": "0",
        "undelivered": "1",
        "total": "7",
    }
    chart = page[page.index('id="delivery-chart"') :]
    assert chart.count('<g class="bar">') == 4  # minutes 0 to 3, the empty one drawn too
    assert 'id="outcome-chart" role="img"' in page
