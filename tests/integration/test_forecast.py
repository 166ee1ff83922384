"""The confirm step's forecast on real parts: the counts it shows — sent, left out by reason,
the quota left after — are what a real worker then sends to a real SMTP server; each reason
links to the member list showing those members; an address shared by several members gets one
copy."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape

from tests.conftest import run_worker
from tests.integration.test_broadcasts import add_members, compose, draft, send, settings

REASONS = {
    "no_address": "メールアドレスがありません",
    "invalid": "アドレスが無効（フラグあり）",
    "bounced": "エラーメール（宛先不明など）が戻り無効",
    "no_mail": "メール不要の会員",
    "duplicate": "他の会員と同じアドレス",
}


def audience_of_every_kind() -> None:
    add_members(4)  # m0…m3: each gets a copy
    add_members(2, start=10, email="")
    add_members(1, start=20, email_invalid=True)
    add_members(1, start=21, email_invalid=True, hard_bounces=2)
    add_members(1, start=22, hard_bounces=1)  # bounced once, not flagged: still mailed
    add_members(3, start=30, wants_mail=False)
    # One address on three members, in two spellings: one copy, to the oldest (M000040).
    for i, email in (
        (40, "shared@example.jp"),
        (41, "Shared@Example.jp"),
        (42, "shared@example.jp"),
    ):
        add_members(1, start=i, email=email)


def forecast_rows(page: str) -> dict[str, tuple[int, str]]:
    """reason → (count, link) from the forecast's table."""
    rows = re.findall(
        r'<tr data-reason="(\w+)"><td><a href="([^"]+)">[^<]+</a></td>\s*<td class="num">([\d,]+)',
        page,
    )
    return {reason: (int(n.replace(",", "")), unescape(href)) for reason, href, n in rows}


def listed_numbers(client, href: str) -> list[str]:
    page = client.get(href).get_data(as_text=True)
    return sorted(set(re.findall(r"M0000\d\d", page)))


def test_the_forecast_counts_are_what_is_sent(app, staff_client, mail_store, smtp_server):
    settings(quota_limit=100)
    audience_of_every_kind()
    bid = draft(staff_client)
    assert compose(staff_client, bid, mail_store).status_code == 302
    page = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)

    assert re.search(r'data-forecast="recipients">6<', page)
    assert re.search(r'data-forecast="quota-left">94<', page)
    assert "完了時刻は毎分約" in page and "1接続あたり毎分約 60 通" in page
    rows = forecast_rows(page)
    assert {reason: n for reason, (n, _) in rows.items()} == {
        "no_address": 2,
        "invalid": 1,
        "bounced": 1,
        "no_mail": 3,
        "duplicate": 2,
    }
    for reason, label in REASONS.items():
        assert label in page, reason

    # Each reason's link lists exactly those members (the shared address: all who share it).
    expected = {
        "no_address": ["M000010", "M000011"],
        "invalid": ["M000020"],
        "bounced": ["M000021"],
        "no_mail": ["M000030", "M000031", "M000032"],
        "duplicate": ["M000040", "M000041", "M000042"],
    }
    for reason, (_, href) in rows.items():
        assert href.startswith("/members/?") and f"broadcast={bid}" in href
        assert listed_numbers(staff_client, href) == expected[reason], reason

    send(staff_client, bid)
    run_worker(app)
    received = smtp_server.wait_for(6)
    to = Counter(str(m.message["To"]).rsplit("<", 1)[-1].rstrip(">").lower() for m in received)
    assert sum(to.values()) == 6 and to["shared@example.jp"] == 1
    assert set(to) == {f"m{i}@example.jp" for i in (0, 1, 2, 3, 22)} | {"shared@example.jp"}
    shared = next(m.message for m in received if "shared@" in str(m.message["To"]).lower())
    assert "株式会社テスト40" in shared["Subject"]  # the oldest of the three members


def test_without_only_wanting_those_members_are_not_left_out(
    app, staff_client, mail_store, smtp_server
):
    settings(quota_limit=100)
    add_members(2)
    add_members(2, start=30, wants_mail=False)
    bid = draft(staff_client)
    assert compose(staff_client, bid, mail_store, only_wanting="").status_code == 302
    page = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    assert re.search(r'data-forecast="recipients">4<', page)
    assert "対象の会員全員に送信します。" in page and forecast_rows(page) == {}
    send(staff_client, bid)
    run_worker(app)
    assert len(smtp_server.wait_for(4)) == 4
