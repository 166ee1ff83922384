"""The member list and a member's page, as staff use them."""

from __future__ import annotations

import re

from shopmail.extensions import db
from shopmail.models import AuditEntry, Member
from tests.conftest import csrf_token
from tests.factories import MemberFactory


def add(n: int, **fields) -> list[Member]:
    rows = [
        MemberFactory.build(
            **{
                "number": f"M{i:04d}",
                "company": f"テスト商事{i}",
                "contact_name": f"山田 {i}",
                "email": f"m{i}@example.jp",
                "industry": "食品",
                **fields,
            },
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_a_bookmarked_filter_url_shows_the_count_and_pages_of_50(staff_client):
    add(120)
    MemberFactory(number="X1", company="衣料店", email="x@example.jp", industry="衣料")
    page = staff_client.get("/members/?industry=食品").get_data(as_text=True)
    assert "該当する会員: 120 名" in page
    assert page.count('name="member_ids"') == 50
    assert "衣料店" not in page
    assert "<option selected>食品</option>" in page  # the select shows the filter
    assert 'hx-push-url="true"' in page and "<html" in page
    page2 = staff_client.get("/members/?industry=食品&page=3").get_data(as_text=True)
    assert page2.count('name="member_ids"') == 20


def test_htmx_gets_only_the_table(staff_client):
    add(3)
    response = staff_client.get("/members/?q=m1%40", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "<html" not in page and 'id="member-table"' in page
    assert "該当する会員: 1 名" in page
    assert "HX-Request" in response.headers["Vary"]


def test_invalid_members_show_a_flag(staff_client):
    add(1, email_invalid=True, invalid_reason="550 User unknown")
    page = staff_client.get("/members/?invalid=yes").get_data(as_text=True)
    assert re.search(r'class="badge bad"[^>]*>無効<', page)


def test_a_bad_date_says_so(staff_client):
    add(1)
    page = staff_client.get("/members/?purchased_from=2026-99-99").get_data(as_text=True)
    assert "日付(YYYY-MM-DD)ではありません" in page and "該当する会員: 1 名" in page


def test_staff_fix_the_address_then_clear_the_flag(staff_client):
    [member] = add(1, email_invalid=True, invalid_reason="550 User unknown")
    url = f"/members/{member.id}"
    token = csrf_token(staff_client, url)
    bad = staff_client.post(f"{url}/address", data={"csrf_token": token, "email": "no at sign"})
    assert bad.status_code == 200 and "field-error" in bad.get_data(as_text=True)
    ok = staff_client.post(f"{url}/address", data={"csrf_token": token, "email": "new@example.jp"})
    assert ok.status_code == 302
    db.session.refresh(member)
    assert member.email == "new@example.jp" and member.email_invalid  # flag stays
    staff_client.post(f"{url}/clear-invalid", data={"csrf_token": token})
    db.session.refresh(member)
    assert not member.email_invalid and member.invalid_reason == ""
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]
    assert "member.updated" in actions and "member.invalid_cleared" in actions
    page = staff_client.get(url).get_data(as_text=True)
    assert "無効フラグを外しました" in page


def test_members_need_a_log_in(app):
    assert app.test_client().get("/members/").status_code == 302
