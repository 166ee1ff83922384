"""The audit trail: what it keeps (never a secret) and the admin page that reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import AuditEntry
from tests.factories import StoreFactory


def add_entry(action: str, at: datetime, actor=None, obj=None, **details) -> AuditEntry:
    entry = audit.record(actor, action, obj, **details)
    entry.at = at
    db.session.commit()
    return entry


def rows(page: str) -> int:
    return page.count("<tr>") - 1  # minus the header row


def trail(client, query: str) -> str:
    """The entries part of the audit page, as htmx asks for it when a filter changes."""
    return client.get(f"/audit?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_secrets_never_reach_the_trail(admin):
    entry = audit.record(
        admin,
        "store.updated",
        None,
        smtp_password="hunter2-long",
        api_token="tok-123",
        client_secret="s3cr3t",
        changes={"SMTP_Password": "nested-pw", "from_addr": "shop@example.jp"},
        history=[{"token": "in-a-list"}],
        from_name="さくら雑貨",
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    text = str(stored.details)
    for secret in ("hunter2-long", "tok-123", "s3cr3t", "nested-pw", "in-a-list"):
        assert secret not in text
    assert stored.details["smtp_password"] == "********"
    assert stored.details["changes"] == {
        "SMTP_Password": "********",
        "from_addr": "shop@example.jp",
    }
    assert stored.details["from_name"] == "さくら雑貨"


def test_the_audit_page_shows_who_did_what_newest_first_in_japanese(admin_client, admin, staff):
    now = datetime.now(UTC)
    add_entry("user.role_changed", now - timedelta(minutes=5), admin, staff, old="staff")
    add_entry("user.deactivated", now, admin, staff)
    page = admin_client.get("/audit").get_data(as_text=True)
    assert "<h1>操作履歴</h1>" in page
    assert page.index("ユーザー無効化") < page.index("権限変更")  # newest first
    assert "管理 太郎" in page
    assert f'href="/users#user-{staff.id}"' in page


def test_objects_without_a_page_show_type_and_id_and_other_actors_their_label(admin_client):
    store = StoreFactory(code="own", name="本店", channel="own", from_addr="a@example.jp")
    add_entry("store.updated", datetime.now(UTC), "cli", store)
    page = admin_client.get("/audit").get_data(as_text=True)
    assert f"stores #{store.id}" in page
    assert "store.updated" in page  # an action without a label shows its name
    assert "<td>cli</td>" in page


def test_the_trail_filters_by_user_action_and_tokyo_dates(admin_client, admin, staff):
    # 2025-04-01 00:30 in Tokyo is still 31 March in UTC: the filter's days are Tokyo days.
    april_first = datetime(2025, 3, 31, 15, 30, tzinfo=UTC)
    add_entry("user.deactivated", april_first, admin, staff)
    add_entry("account.password_changed", april_first, staff, staff)
    add_entry("user.reactivated", april_first + timedelta(days=2), admin, staff)
    db.session.query(AuditEntry).filter(AuditEntry.at > april_first + timedelta(days=30)).delete()
    db.session.commit()

    page = trail(admin_client, f"user={staff.id}")
    assert rows(page) == 1 and "自分のパスワード変更" in page

    page = trail(admin_client, "action=user.reactivated")
    assert rows(page) == 1 and "ユーザー再有効化" in page

    page = trail(admin_client, "start=2025-04-01&end=2025-04-01")
    assert rows(page) == 2 and "ユーザー再有効化" not in page

    page = trail(admin_client, "start=2025-04-02")
    assert rows(page) == 1 and "ユーザー再有効化" in page

    page = trail(admin_client, "end=2025-03-31")
    assert "0件" in page and "該当する記録はありません" in page


def test_a_nonsense_filter_is_ignored_with_a_note(admin_client):
    response = admin_client.get("/audit?start=yesterday&user=abc")
    assert response.status_code == 200
    assert "正しくない値のため無視しました" in response.get_data(as_text=True)


def test_the_trail_pages_fifty_at_a_time_keeping_the_filter(admin_client, admin, staff):
    start = datetime.now(UTC) - timedelta(hours=2)
    for i in range(60):
        add_entry("user.reactivated", start + timedelta(seconds=i), admin, staff, n=i)
    first = trail(admin_client, "action=user.reactivated")
    assert rows(first) == 50
    assert "n</span>: 59" in first and "n</span>: 9<" not in first
    assert "/audit?action=user.reactivated&amp;page=2" in first
    second = trail(admin_client, "action=user.reactivated&page=2")
    assert rows(second) == 10 and "n</span>: 0<" in second


def test_htmx_gets_only_the_entries(admin_client, admin, staff):
    add_entry("user.deactivated", datetime.now(UTC), admin, staff)
    page = trail(admin_client, "action=user.deactivated")
    assert page.lstrip().startswith('<div id="entries">')
    assert "<html" not in page and "ユーザー無効化" in page
    restore = admin_client.get(
        "/audit", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)
