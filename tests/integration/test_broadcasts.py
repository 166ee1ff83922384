"""Member broadcasts on real parts: the wizard over HTTP, rows in the database, jobs on Redis,
mail over SMTP to a server that refuses some addresses."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from urllib.parse import urlsplit

import pytest

from shopmail.broadcasts import quota
from shopmail.core import outbox
from shopmail.extensions import db
from shopmail.mail.addresses import device_of
from shopmail.models import (
    AuditEntry,
    Broadcast,
    BroadcastTemplate,
    DeskSettings,
    Member,
    Message,
    QuotaMonth,
)
from tests.conftest import csrf_token, run_worker
from tests.factories import BroadcastFactory, MemberFactory

REFUSED = ("m7@example.jp", "m150@example.jp")


def add_members(n: int, start: int = 0, **fields) -> list[Member]:
    """Members numbered `start`…: m<i>@example.jp, 山田 <i>郎 of 株式会社テスト<i>, food retail."""
    members = [
        MemberFactory.build(
            **{
                "number": f"M{i:06d}",
                "company": f"株式会社テスト{i}",
                "contact_name": f"山田 {i}郎",
                "email": f"m{i}@example.jp",
                "industry": "食品",
                "business_type": "小売",
                **fields,
            }
        )
        for i in range(start, start + n)
    ]
    db.session.add_all(members)
    db.session.commit()
    return members


def settings(quota_limit: int = 10000, admin_copy: str = "") -> None:
    desk = DeskSettings.get()
    desk.monthly_quota, desk.admin_copy_addr = quota_limit, admin_copy
    db.session.commit()


def draft(client, filters: dict | None = None, ticked: list[int] | None = None) -> int:
    token = csrf_token(client, "/members/")
    data = {"csrf_token": token, "scope": "ticked" if ticked else "all", **(filters or {})}
    if ticked:
        data["member_ids"] = [str(i) for i in ticked]
    response = client.post("/broadcasts/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/broadcasts/(\d+)/compose", response.headers["Location"])[1])


def compose(client, bid: int, store, **fields):
    data = {
        "csrf_token": csrf_token(client, f"/broadcasts/{bid}/compose"),
        "store_id": str(store.id),
        "template_id": "0",
        "subject": "[COMPANY] 様 新商品のお知らせ",
        "body": "[MEMBER_NAME] 様\n会員番号 [MEMBER_ID]\n配信停止: [UNSUBSCRIBE_URL]\n",
        "html_source": "html",
        "insert_signature": "y",
        "only_wanting": "y",
        "action": "confirm",
        **fields,
    }
    return client.post(f"/broadcasts/{bid}/compose", data={k: v for k, v in data.items() if v})


def send(client, bid: int):
    return client.post(
        f"/broadcasts/{bid}/send",
        data={"csrf_token": csrf_token(client, "/broadcasts/")},
    )


def broadcast_to(client, store, filters=None, ticked=None, **fields) -> int:
    bid = draft(client, filters, ticked)
    response = compose(client, bid, store, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert send(client, bid).headers["Location"].endswith(f"/broadcasts/{bid}/progress")
    return bid


def used_quota() -> int:
    db.session.expire_all()
    row = db.session.get(QuotaMonth, quota.month_of())
    return row.used if row else 0


def test_a_filtered_broadcast_reaches_each_member_once_and_reports_refusals(
    app, staff_client, mail_store, smtp_server
):
    settings(quota_limit=1000, admin_copy="boss@sakura.example.jp")
    add_members(300)
    add_members(20, start=300, industry="衣料")  # not matched by the filter
    add_members(5, start=400, wants_mail=False)
    add_members(2, start=500, email_invalid=True)
    add_members(3, start=600, email="")
    for addr in REFUSED:
        smtp_server.handler.refuse[addr] = (550, f"5.1.1 <{addr}>: User unknown")

    bid = draft(staff_client, {"industry": "食品"})
    page = staff_client.get(f"/broadcasts/{bid}/compose").get_data(as_text=True)
    assert "送信可能" in page and "305" in page and "うちメール不要: 5" in page
    assert "アドレスが空: 3、無効: 2" in page
    assert compose(staff_client, bid, mail_store).status_code == 302
    confirm = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    assert "300 通のメールを送信します" in confirm
    assert "山田 0郎" in confirm  # the first recipient's preview
    send(staff_client, bid)
    assert used_quota() == 300  # reserved when queued, before anything was sent

    run_worker(app)
    received = smtp_server.wait_for(299)  # 298 members + the admin copy
    to = Counter(str(m.message["To"]).rsplit("<", 1)[-1].rstrip(">") for m in received)
    assert to["boss@sakura.example.jp"] == 1
    members_reached = {a for a in to if a.startswith("m")}
    assert len(members_reached) == 298 and max(to.values()) == 1
    assert not members_reached & {*REFUSED, "m300@example.jp", "m400@example.jp"}

    mail = next(m.message for m in received if "m42@" in str(m.message["To"]))
    assert mail["Subject"] == "株式会社テスト42 様 新商品のお知らせ"
    body = mail.get_content()
    assert "山田 42郎 様" in body and "会員番号 M000042" in body
    assert "TEL 075-000-0000" in body  # the store's signature
    unsubscribe = mail["List-Unsubscribe"]
    assert re.fullmatch(r"<https://desk\.example\.jp/unsubscribe/[\w.-]+>", unsubscribe)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in body
    copy = next(m.message for m in received if "boss@" in str(m.message["To"]))
    assert copy["Subject"].startswith("[控え] 株式会社テスト0 様")
    assert "/unsubscribe/sample" in copy.get_content()  # never a member's real link

    progress = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "一部のメールが送信できませんでした" in progress and "100%" in progress
    assert 'hx-trigger="load delay:1s"' not in progress  # ended: polling stops
    refused = staff_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True)
    for addr, number in zip(REFUSED, ("M000007", "M000150"), strict=True):
        assert addr in refused and number in refused
    assert "User unknown" in refused

    ids = [
        str(m.id) for m in db.session.scalars(db.select(Member).where(Member.email.in_(REFUSED)))
    ]
    response = staff_client.post(
        f"/broadcasts/{bid}/flag",
        data={
            "csrf_token": csrf_token(staff_client, f"/broadcasts/{bid}/refused"),
            "member_ids": ids,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    flagged = db.session.scalars(db.select(Member).where(Member.email.in_(REFUSED))).all()
    assert all(m.email_invalid and "User unknown" in m.invalid_reason for m in flagged)
    [entry] = db.session.scalars(db.select(AuditEntry).filter_by(action="member.flagged_invalid"))
    assert entry.details["count"] == 2
    listing = staff_client.get("/members/?q=m7%40example.jp").get_data(as_text=True)
    assert "無効" in listing

    # The next broadcast skips the flagged members and counts them as unsendable.
    smtp_server.handler.messages.clear()
    bid2 = draft(staff_client, {"industry": "食品"})
    page = staff_client.get(f"/broadcasts/{bid2}/compose").get_data(as_text=True)
    assert "無効: 4" in page
    compose(staff_client, bid2, mail_store)
    send(staff_client, bid2)
    run_worker(app)
    received = smtp_server.wait_for(299)
    assert not {a for m in received for a in m.rcpt_tos} & set(REFUSED)
    assert used_quota() == 300 + 298

    # One-click unsubscribe, as a mail client does it: no log-in, no CSRF token.
    anonymous = app.test_client()
    response = anonymous.post(
        urlsplit(unsubscribe[1:-1]).path, data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200 and "配信を停止しました" in response.get_data(as_text=True)
    member = db.session.scalar(db.select(Member).filter_by(number="M000042"))
    db.session.refresh(member)
    assert member.wants_mail is False
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="member.unsubscribed"))
    assert entry.actor == "unsubscribe"


def test_broadcasts_list_shows_state_and_counts(app, staff_client, mail_store, smtp_server):
    add_members(3)
    bid = broadcast_to(staff_client, mail_store)
    run_worker(app)
    smtp_server.wait_for(3)
    staff_client.get(f"/broadcasts/{bid}/progress")
    page = staff_client.get("/broadcasts/").get_data(as_text=True)
    assert "完了" in page and "新商品のお知らせ" in page
    assert db.session.get(Broadcast, bid).sent == 3


def test_sending_more_than_the_quota_left_is_refused_and_changes_nothing(
    app, staff_client, mail_store, smtp_server
):
    settings(quota_limit=10)
    add_members(25)
    bid = draft(staff_client)
    response = compose(staff_client, bid, mail_store)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "25" in page and "10" in page and "今月の残り" in page
    assert staff_client.get(f"/broadcasts/{bid}/confirm").status_code == 302

    # The limit drops between confirm and send (another admin): the send is refused too.
    settings(quota_limit=100)
    assert compose(staff_client, bid, mail_store).status_code == 302
    settings(quota_limit=10)
    response = send(staff_client, bid)
    # Back to writing, with the refusal said once (the confirm step would have said it again).
    assert response.headers["Location"].endswith(f"/broadcasts/{bid}/compose")
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count("この配信は 25 通を送信しますが、今月の残りは 10 通です。") == 1
    db.session.expire_all()
    assert db.session.get(Broadcast, bid).state == "draft"
    assert outbox.count_by_state() == {} and used_quota() == 0
    run_worker(app)
    assert smtp_server.messages == []


def test_two_starts_cannot_overrun_the_quota(app, staff, mail_store):
    from shopmail.broadcasts import drafts as broadcasts

    settings(quota_limit=30)
    add_members(20)
    first, second = BroadcastFactory.create_batch(
        2, store=mail_store, created_by=staff.id, subject="お知らせ", body="本文"
    )
    assert broadcasts.start(first, staff) == 20
    with app.test_request_context(), pytest.raises(broadcasts.BroadcastError) as refused:
        broadcasts.start(second, staff)
    with app.test_request_context():
        assert "20" in str(refused.value) and "10" in str(refused.value)
    assert used_quota() == 20
    assert outbox.count_by_state(broadcast_id=second.id) == {}


def test_pause_stops_sending_and_resume_finishes(app, staff_client, mail_store, smtp_server):
    add_members(40)
    bid = broadcast_to(staff_client, mail_store)
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    staff_client.post(f"/broadcasts/{bid}/pause", data={"csrf_token": token})
    run_worker(app)
    assert smtp_server.messages == []
    assert outbox.count_by_state(broadcast_id=bid) == {"queued": 40}
    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "一時停止中" in page and "再開" in page

    staff_client.post(f"/broadcasts/{bid}/resume", data={"csrf_token": token})
    run_worker(app)
    assert len(smtp_server.wait_for(40)) == 40
    page = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "100%" in page and "メール送信を完了いたしました" in page


def test_cancel_deletes_unsent_rows_and_releases_their_quota(
    app, staff_client, mail_store, smtp_server
):
    add_members(30)
    bid = broadcast_to(staff_client, mail_store)
    assert used_quota() == 30
    token = csrf_token(staff_client, f"/broadcasts/{bid}/progress")
    staff_client.post(f"/broadcasts/{bid}/cancel", data={"csrf_token": token})
    run_worker(app)
    assert smtp_server.messages == []
    assert outbox.count_by_state(broadcast_id=bid) == {"deleted": 30}
    assert used_quota() == 0
    assert db.session.get(Broadcast, bid).state == "cancelled"


def test_ticked_members_only(app, staff_client, mail_store, smtp_server):
    members = add_members(10)
    broadcast_to(staff_client, mail_store, ticked=[members[2].id, members[5].id])
    run_worker(app)
    received = smtp_server.wait_for(2)
    assert sorted(a for m in received for a in m.rcpt_tos) == ["m2@example.jp", "m5@example.jp"]


def test_ticking_nobody_says_so(staff_client):
    response = staff_client.post(
        "/broadcasts/new",
        data={"csrf_token": csrf_token(staff_client, "/members/"), "scope": "ticked"},
    )
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "会員にチェックを入れてください" in page
    assert db.session.scalar(db.select(db.func.count(Broadcast.id))) == 0


def test_html_broadcast_from_mjml_escapes_member_data_and_has_a_text_part(
    app, staff_client, mail_store, smtp_server
):
    add_members(1, company="<b>悪意</b>商事")
    mjml = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>[COMPANY] 御中 [MEMBER_NAME] 様"
        '<a href="[UNSUBSCRIBE_URL]">配信停止</a></mj-text></mj-column></mj-section>'
        "</mj-body></mjml>"
    )
    bid = broadcast_to(staff_client, mail_store, body=mjml, send_as_html="y", html_source="mjml")
    run_worker(app)
    [received] = smtp_server.wait_for(1)
    html = received.message.get_body(("html",)).get_content()
    text = received.message.get_body(("plain",)).get_content()
    assert "&lt;b&gt;悪意&lt;/b&gt;商事 御中" in html and "<b>悪意" not in html
    assert "山田 0郎 様" in text and "https://desk.example.jp/unsubscribe/" in text
    assert db.session.get(Broadcast, bid).format == "mjml"


def test_unknown_tags_and_broken_mjml_are_refused_with_a_message(staff_client, mail_store):
    add_members(1)
    bid = draft(staff_client)
    page = compose(staff_client, bid, mail_store, body="[ORDER_NO] です").get_data(as_text=True)
    assert "使用できないタグがあります: [ORDER_NO]" in page
    page = compose(
        staff_client, bid, mail_store, body="<mjml><mj-body>", send_as_html="y", html_source="mjml"
    ).get_data(as_text=True)
    assert "MJMLテンプレートにエラーがあります" in page
    db.session.expire_all()
    assert db.session.get(Broadcast, bid).body == ""


def test_confirm_shows_the_html_in_a_sandboxed_frame(staff_client, mail_store):
    add_members(1)
    bid = draft(staff_client)
    compose(
        staff_client,
        bid,
        mail_store,
        body="<p>[MEMBER_NAME] 様</p><script>x()</script>",
        send_as_html="y",
    )
    page = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    srcdoc = unescape(re.search(r'<iframe class="preview" sandbox srcdoc="([^"]*)"', page)[1])
    assert "<p>山田 0郎 様</p>" in srcdoc and "<script" not in srcdoc
    assert '<pre class="mail">山田 0郎 様' in page


def test_templates_are_admin_only_and_fill_the_compose_form(admin_client, staff_client, mail_store):
    assert staff_client.get("/broadcasts/templates").status_code == 403
    token = csrf_token(admin_client, "/broadcasts/templates/new")
    response = admin_client.post(
        "/broadcasts/templates/new",
        data={
            "csrf_token": token,
            "name": "セール",
            "subject": "セールのお知らせ",
            "body": "[MEMBER_NAME] 様 セール開催",
            "format": "text",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    bad = admin_client.post(
        "/broadcasts/templates/new",
        data={"csrf_token": token, "name": "x", "body": "[NOPE]", "format": "text"},
    )
    assert "使用できないタグがあります" in bad.get_data(as_text=True)
    template = db.session.scalar(db.select(BroadcastTemplate))

    add_members(1)
    bid = draft(staff_client)
    compose(
        staff_client,
        bid,
        mail_store,
        template_id=str(template.id),
        action="template",
        subject="",
        body="",
    )
    page = staff_client.get(f"/broadcasts/{bid}/compose").get_data(as_text=True)
    assert "セールのお知らせ" in page and "セール開催" in page


def test_admin_sets_the_monthly_limit_and_admin_copy_address(admin_client):
    token = csrf_token(admin_client, "/broadcasts/templates")
    bad = admin_client.post(
        "/broadcasts/settings",
        data={"csrf_token": token, "monthly_quota": "500", "admin_copy_addr": "not an address"},
    )
    assert bad.status_code == 422
    assert DeskSettings.get().monthly_quota == 10000
    db.session.commit()
    ok = admin_client.post(
        "/broadcasts/settings",
        data={"csrf_token": token, "monthly_quota": "500", "admin_copy_addr": "boss@example.jp"},
    )
    assert ok.status_code == 302
    db.session.expire_all()
    desk = DeskSettings.get()
    assert (desk.monthly_quota, desk.admin_copy_addr) == (500, "boss@example.jp")


def test_unsubscribe_page_and_bad_tokens(app, staff, mail_store):
    from shopmail.broadcasts.unsubscribe import make_token

    [member] = add_members(1)
    client = app.test_client()
    page = client.get(f"/unsubscribe/{make_token(member.id, 1)}").get_data(as_text=True)
    assert "配信停止" in page and "m0@example.jp" in page
    response = client.get("/unsubscribe/not-a-token")
    assert response.status_code == 404
    assert "この配信停止リンクは無効です" in response.get_data(as_text=True)
    assert client.post("/unsubscribe/not-a-token").status_code == 404
    db.session.refresh(member)
    assert member.wants_mail is True
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_a_tag_inside_a_link_cannot_make_a_script_or_data_link(
    app, staff_client, mail_store, smtp_server
):
    add_members(1, company="javascript:alert(1)")
    add_members(1, start=1, company="data:text/html,<script>alert(1)</script>")
    add_members(1, start=2, company="https://shop.example.jp/sale")
    body = '<p><a href="[COMPANY]">会社のページ</a> <img src="[COMPANY]"> [MEMBER_NAME] 様</p>'
    bid = draft(staff_client)
    assert compose(staff_client, bid, mail_store, body=body, send_as_html="y").status_code == 302
    page = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    preview = unescape(re.search(r'<iframe class="preview" sandbox srcdoc="([^"]*)"', page)[1])
    assert "山田 0郎" in preview and "javascript:" not in preview  # the first member's copy
    send(staff_client, bid)
    run_worker(app)
    html = {
        m.rcpt_tos[0]: m.message.get_body(("html",)).get_content() for m in smtp_server.wait_for(3)
    }
    for address in ("m0@example.jp", "m1@example.jp"):
        assert "javascript:" not in html[address] and "data:" not in html[address]
        assert "山田" in html[address]  # the rest of the copy is there
    assert 'href="https://shop.example.jp/sale"' in html["m2@example.jp"]


CARRIER_ADDRESSES = {
    "taro@docomo.ne.jp": "mobile",
    "Hanako@EZWEB.NE.JP": "mobile",  # any case
    "jiro@di.pdx.ne.jp": "mobile",  # a carrier's subdomain
    "saburo@i.softbank.jp": "mobile",
    "shiro@gmail.com": "pc",
    "goro@notdocomo.ne.jp": "pc",  # only the carrier's own domain and its subdomains
    "rokuro@docomo.ne.jp.example.com": "pc",
}


def test_carrier_addresses_get_the_mobile_copy(app, staff_client, mail_store, smtp_server):
    """Starting a broadcast sorts recipients into PC and mobile in the database itself; the
    sorting is the one record mails and automatic mails use (`addresses.device_of`)."""
    settings()
    for i, addr in enumerate(CARRIER_ADDRESSES):
        add_members(1, start=i, email=addr)
    bid = broadcast_to(
        staff_client, mail_store, ticked=[m.id for m in db.session.scalars(db.select(Member))]
    )
    rows = db.session.scalars(db.select(Message).filter_by(broadcast_id=bid, kind="broadcast"))
    assert {row.to_addr: row.device for row in rows} == CARRIER_ADDRESSES
    assert {a: device_of(a) for a in CARRIER_ADDRESSES} == CARRIER_ADDRESSES
    run_worker(app)
    received = smtp_server.wait_for(len(CARRIER_ADDRESSES))
    for mail in received:
        addr = mail.rcpt_tos[0]
        body = mail.message.get_content()
        expected = CARRIER_ADDRESSES[
            next(a for a in CARRIER_ADDRESSES if a.lower() == addr.lower())
        ]
        assert ("TEL 075-000-0000" in body) is (expected == "pc"), addr
        assert "さくら雑貨" in body
