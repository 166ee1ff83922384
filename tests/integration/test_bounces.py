"""Bounces on real parts: mail goes out through the real send loop to a real SMTP server; a
remote MTA's bounce (DSN) comes back over SMTP to the desk's bounce endpoint, started here, at the
envelope sender the mail really carried; what a user sees is read from the pages and the API."""

from __future__ import annotations

import re
import smtplib
import socket

import pytest

from shopmail.broadcasts import drafts as broadcasts
from shopmail.core import dispatch
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, BounceReceipt, DeskSettings, Member, Message
from tests.conftest import csrf_token, run_worker
from tests.factories import MemberFactory, MessageFactory, OrderFactory, StoreFactory
from tests.support.bounces import arf, dsn, send_report

VERP = re.compile(r"m(\d+)-[a-z2-7]{12}@bounce\.mail\.shopmail\.example")


def members(n: int) -> list[Member]:
    found = [
        MemberFactory(
            number=f"M{i:06d}",
            company=f"株式会社テスト{i}",
            contact_name=f"山田 {i}郎",
            email=f"m{i}@example.jp",
        )
        for i in range(n)
    ]
    return found


def start_broadcast(store, admin) -> int:
    """A broadcast to every member, started as staff start one."""
    DeskSettings.get().monthly_quota = 1000
    draft = broadcasts.create_draft({}, None, admin)
    broadcasts.save_draft(
        draft,
        broadcasts.Draft(
            store_id=store.id,
            subject="[COMPANY] 様 新商品のお知らせ",
            body="[MEMBER_NAME] 様\n新商品のご案内です。",
            format="text",
            insert_signature=False,
            only_wanting=False,
        ),
        admin,
    )
    db.session.commit()
    broadcasts.start(draft, admin)
    db.session.commit()
    return draft.id


def arrived_for(smtp_server, addr: str):
    """The mail that reached the test relay for `addr` (its envelope, as the relay saw it)."""
    return next(m for m in smtp_server.messages if addr in m.rcpt_tos)


def row_of(addr: str, **filters) -> Message:
    db.session.expire_all()
    return db.session.scalar(db.select(Message).filter_by(to_addr=addr, **filters))


def member(number: str) -> Member:
    db.session.expire_all()
    return db.session.scalar(db.select(Member).filter_by(number=number))


@pytest.fixture
def sent_broadcast(app, admin, mail_store, smtp_server):
    """Three members' copies (and the admin copy) sent through the real send loop."""
    members(3)
    bid = start_broadcast(mail_store, admin)
    run_worker(app)
    smtp_server.wait_for(3)
    return bid


def refused_api(app, bid: int) -> list[dict]:
    _, secret = create_token("配信システム", actor="test", scopes=["broadcasts"])
    db.session.commit()
    response = app.test_client().get(
        f"/api/v1/broadcasts/{bid}/refused", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    return response.json["refused"]


def test_a_dsn_at_a_mails_envelope_sender_marks_it_bounced_and_lists_the_address(
    app, staff_client, sent_broadcast, smtp_server, bounce_endpoint
):
    bid = sent_broadcast
    mail = arrived_for(smtp_server, "m1@example.jp")
    # The envelope sender names the row, signed; the headers stay the store's.
    match = VERP.fullmatch(mail.mail_from)
    assert match and int(match[1]) == row_of("m1@example.jp").id
    assert str(mail.message["From"]) == "さくら雑貨 本店 <shop@sakura.example.jp>"
    assert str(mail.message["Reply-To"]) == "support@sakura.example.jp"
    assert row_of("m1@example.jp").state == "sent"  # the relay said 250
    assert (
        staff_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True).count("m1@example.jp")
        == 0
    )

    report = dsn(mail.mail_from, "m1@example.jp", "5.1.1", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)

    row = row_of("m1@example.jp")
    assert (row.state, row.refused_by, row.bounce_status) == ("bounced", "bounce", "5.1.1")
    assert "User unknown" in row.bounce_diagnostic
    assert member("M000001").hard_bounces == 1
    assert row_of("m0@example.jp").state == "sent"  # the others are untouched
    page = staff_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True)
    assert "m1@example.jp" in page and "M000001" in page and "5.1.1" in page
    assert "エラーメール(送信後)" in page
    [refused] = refused_api(app, bid)
    assert refused["email"] == "m1@example.jp" and refused["source"] == "bounce"
    assert refused["status"] == "5.1.1" and refused["code"] == 550
    progress = staff_client.get(f"/broadcasts/{bid}/progress").get_data(as_text=True)
    assert "一部のメールが送信できませんでした" in progress and "エラーで戻り" in progress

    # Staff tick and flag it invalid, as for an address refused while sending.
    flag = staff_client.post(
        f"/broadcasts/{bid}/flag",
        data={
            "csrf_token": csrf_token(staff_client, f"/broadcasts/{bid}/refused"),
            "member_ids": [str(member("M000001").id)],
        },
    )
    assert flag.status_code == 302
    flagged = member("M000001")
    assert flagged.email_invalid and "5.1.1" in flagged.invalid_reason

    # The same DSN again (the remote MTA retried its delivery): it counts once.
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    assert member("M000001").hard_bounces == 1
    assert db.session.scalar(db.select(db.func.count(BounceReceipt.id))) == 1
    # Another report about the same mail (a second MTA on the way): the mail bounced once.
    again = dsn(mail.mail_from, "m1@example.jp", "5.1.1", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, again)
    assert member("M000001").hard_bounces == 1


def test_a_forged_bounce_address_changes_nothing(app, sent_broadcast, smtp_server, bounce_endpoint):
    row_id = row_of("m2@example.jp").id
    forged = f"m{row_id}-aaaaaaaaaaaa@bounce.mail.shopmail.example"
    report = dsn(forged, "m2@example.jp", "5.1.1")  # quotes no original mail of ours
    send_report(bounce_endpoint.host, bounce_endpoint.port, forged, report)
    # A made-up Message-ID naming the row in the quoted original is no proof either.
    unsigned = dsn(forged, "m2@example.jp", "5.1.1").replace(
        b"Subject: (unknown)",
        f"Message-ID: <m{row_id}.broadcast@mail.shopmail.example>\r\n"
        f"X-Shopmail-Id: {row_id}".encode(),
    )
    send_report(bounce_endpoint.host, bounce_endpoint.port, forged, unsigned)
    # Another domain is refused at RCPT: the endpoint relays nothing.
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_report(bounce_endpoint.host, bounce_endpoint.port, "m2@example.jp", report)
    assert refused.value.recipients["m2@example.jp"][0] == 550

    row = row_of("m2@example.jp")
    assert row.state == "sent" and row.refused_by is None
    assert member("M000002").hard_bounces == 0
    assert {r.outcome for r in db.session.scalars(db.select(BounceReceipt))} == {"ignored"}


def test_a_temporary_failure_is_counted_but_refuses_nothing(
    app, staff_client, sent_broadcast, smtp_server, bounce_endpoint
):
    mail = arrived_for(smtp_server, "m0@example.jp")
    report = dsn(mail.mail_from, "m0@example.jp", "4.2.2", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    row = row_of("m0@example.jp")
    assert (row.state, row.soft_bounces, row.refused_by) == ("sent", 1, None)
    assert (member("M000000").soft_bounces, member("M000000").hard_bounces) == (1, 0)
    page = staff_client.get(f"/broadcasts/{sent_broadcast}/refused").get_data(as_text=True)
    assert "m0@example.jp" not in page


def test_an_arf_complaint_sets_the_member_to_want_no_mail(
    app, sent_broadcast, smtp_server, bounce_endpoint
):
    mail = arrived_for(smtp_server, "m2@example.jp")
    report = arf(mail.mail_from, "m2@example.jp", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    assert member("M000002").wants_mail is False
    assert member("M000001").wants_mail is True
    [entry] = db.session.scalars(db.select(AuditEntry).filter_by(action="member.complained"))
    assert entry.actor == "bounce" and entry.object_id == str(member("M000002").id)
    assert row_of("m2@example.jp").state == "sent"  # a complaint is no bounce


def order_mail(store, number: str, email: str):
    order = OrderFactory(store=store, number=number, buyer_email=email)
    MessageFactory(
        store=store,
        kind="order_confirmation",
        order_id=order.id,
        to_addr=email,
        dedupe_key=f"order_confirmation:order:{order.id}",
    )
    return order


def test_an_order_mail_that_bounces_is_on_the_bounces_page_with_its_order(
    app, staff_client, mail_store, smtp_server, bounce_endpoint
):
    order_mail(mail_store, "R-1001", "taro@example.jp")
    order_mail(mail_store, "R-1002", "hanako@example.jp")
    assert dispatch.dispatch_sending() == 1
    run_worker(app)
    smtp_server.wait_for(2)
    mail = arrived_for(smtp_server, "taro@example.jp")
    # The store's BCC copy went in the same transaction, so its bounce comes back to the same
    # address: it is not the customer's bounce.
    assert "archive@sakura.example.jp" in mail.rcpt_tos
    bcc_bounce = dsn(mail.mail_from, "archive@sakura.example.jp", "5.2.2", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, bcc_bounce)
    assert row_of("taro@example.jp").state == "sent"

    report = dsn(mail.mail_from, "taro@example.jp", "5.1.1", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    assert row_of("taro@example.jp").state == "bounced"

    page = staff_client.get("/bounces/").get_data(as_text=True)
    assert "taro@example.jp" in page and "hanako@example.jp" not in page
    assert "5.1.1" in page and "受注確認連絡" in page
    assert re.search(r'href="/records/orders\?q=R-1001&amp;store=\d+"', page)
    assert "エラーメール" in staff_client.get("/").get_data(as_text=True)  # in the navigation
    other_kind = staff_client.get("/bounces/?kind=shipping_notice").get_data(as_text=True)
    assert "taro@example.jp" not in other_kind
    history = staff_client.get("/automatic/history").get_data(as_text=True)
    assert "taro@example.jp" in history and "エラーで戻り" in history


def test_the_desk_flags_an_address_by_itself_after_n_hard_bounces_when_set(
    app, admin_client, sent_broadcast, smtp_server, bounce_endpoint
):
    mail = arrived_for(smtp_server, "m1@example.jp")
    report = dsn(mail.mail_from, "m1@example.jp", "5.1.1", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    assert member("M000001").email_invalid is False  # off by default: staff flag

    response = admin_client.post(
        "/bounces/settings",
        data={"csrf_token": csrf_token(admin_client, "/bounces/"), "flag_after": "1"},
    )
    assert response.status_code == 302
    mail = arrived_for(smtp_server, "m2@example.jp")
    report = dsn(mail.mail_from, "m2@example.jp", "5.1.1", original=mail)
    send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    flagged = member("M000002")
    assert flagged.email_invalid and "5.1.1" in flagged.invalid_reason
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
    assert "desk_settings.bounce_flag_updated" in actions
    assert "member.flagged_invalid" in actions


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_relay_outage_never_reaches_the_refused_list(
    app, staff_client, admin, mail_store, smtp_server
):
    members(3)
    smtp_server.handler.refuse["m2@example.jp"] = (550, "5.1.1 <m2@example.jp>: User unknown")
    real_port, mail_store.smtp_port = mail_store.smtp_port, closed_port()
    db.session.commit()
    bid = start_broadcast(mail_store, admin)
    run_worker(app)  # every try finds no relay; the retries (no delay in tests) run out
    assert {row_of(f"m{i}@example.jp").state for i in range(3)} == {"failed"}
    assert refused_api(app, bid) == []
    page = staff_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True)
    assert "未配信:メールサーバに接続できませんでした" in page
    refused_part, undelivered_part = page.split('id="undelivered"')
    assert "m0@example.jp" not in refused_part and "m0@example.jp" in undelivered_part
    assert 'name="member_ids"' not in refused_part  # nothing offered for flagging

    # The relay is back: "send again" sends them; the 550 now is a refusal.
    mail_store.smtp_port = real_port
    db.session.commit()
    response = staff_client.post(
        f"/broadcasts/{bid}/send-again",
        data={"csrf_token": csrf_token(staff_client, f"/broadcasts/{bid}/refused"), "all": "1"},
    )
    assert response.status_code == 302
    run_worker(app)
    assert {row_of(f"m{i}@example.jp").state for i in range(2)} == {"sent"}
    [refused] = refused_api(app, bid)
    assert (refused["email"], refused["source"], refused["code"]) == ("m2@example.jp", "smtp", 550)
    page = staff_client.get(f"/broadcasts/{bid}/refused").get_data(as_text=True)
    assert 'id="undelivered"' not in page
    assert [e.action for e in db.session.scalars(db.select(AuditEntry))].count(
        "broadcast.sent_again"
    ) == 1


def test_the_member_api_shows_the_member_with_its_bounce_counts(
    app, sent_broadcast, smtp_server, bounce_endpoint
):
    for status in ("5.1.1", "4.2.2"):
        mail = arrived_for(smtp_server, "m1@example.jp")
        report = dsn(mail.mail_from, "m1@example.jp", status, original=mail)
        send_report(bounce_endpoint.host, bounce_endpoint.port, mail.mail_from, report)
    client = app.test_client()
    for scopes, status in ((["members"], 200), (["read"], 200), (["records"], 403)):
        _, secret = create_token(f"会員 {scopes}", actor="test", scopes=scopes)
        db.session.commit()
        response = client.get(
            "/api/v1/members/M000001", headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == status, scopes
    body = client.get(
        "/api/v1/members/M000001", headers={"Authorization": f"Bearer {secret_of(['members'])}"}
    ).json
    assert body["number"] == "M000001" and body["email"] == "m1@example.jp"
    assert body["company"] == "株式会社テスト1"
    assert body["wants_mail"] is True and body["email_invalid"] is False
    assert (body["hard_bounces"], body["soft_bounces"]) == (1, 1)
    missing = client.get(
        "/api/v1/members/M999999", headers={"Authorization": f"Bearer {secret_of(['read'])}"}
    )
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/members/{number}"]["get"]
    assert operation["security"] and "StoredMember" in document["components"]["schemas"]


def secret_of(scopes: list[str]) -> str:
    _, secret = create_token(f"t {scopes} {id(scopes)}", actor="test", scopes=scopes)
    db.session.commit()
    return secret


def test_make_run_starts_the_bounce_endpoint_and_goes_on_without_it_when_the_port_is_taken(
    app, monkeypatch, capsys
):
    from shopmail.desk import _bounce_endpoint

    monkeypatch.setitem(app.config, "SHOPMAIL_BOUNCE_LISTEN", "127.0.0.1:0")
    endpoint = _bounce_endpoint(app)
    try:
        with smtplib.SMTP(endpoint.host, endpoint.port, timeout=10) as smtp:
            smtp.ehlo()
            smtp.mail("")
            assert smtp.rcpt("someone@example.jp")[0] == 550
            assert smtp.rcpt("m1-aaaaaaaaaaaa@Bounce.Mail.Shopmail.Example")[0] == 250
    finally:
        endpoint.stop()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setitem(
            app.config, "SHOPMAIL_BOUNCE_LISTEN", f"127.0.0.1:{busy.getsockname()[1]}"
        )
        assert _bounce_endpoint(app) is None
    assert "bounce endpoint NOT started" in capsys.readouterr().err


def test_a_rakuten_stores_mail_keeps_the_stores_own_envelope_sender(
    app, mail_store, smtp_server, monkeypatch
):
    # The mall's relay sends only for the store's registered address (README, "Bounces").
    monkeypatch.setitem(
        app.config, "SHOPMAIL_RAKUTEN_SMTP_URL", f"smtp://{smtp_server.host}:{smtp_server.port}"
    )
    rakuten = StoreFactory(
        code="rakuten",
        channel="rakuten",
        from_addr="rakuten@sakura.example.jp",
        relay_mode="rakuten",
        smtp_user="",
    )
    MessageFactory(store=rakuten, kind="record", to_addr="buyer@example.jp")
    MessageFactory(store=mail_store, kind="record", to_addr="other@example.jp")
    dispatch.dispatch_sending()
    run_worker(app)
    smtp_server.wait_for(2)
    assert arrived_for(smtp_server, "buyer@example.jp").mail_from == "rakuten@sakura.example.jp"
    assert VERP.fullmatch(arrived_for(smtp_server, "other@example.jp").mail_from)
