"""Test sends on real parts: the confirm steps, the template editor and the API over HTTP, the
rows in the outbox, a real worker and a real SMTP server. A test copy reaches only the typed
addresses, marked [テスト], with the chosen recipient's values; the quota does not move; the
history lists it as a test mail; a wrong address or a sixth one sends nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest

from shopmail.core.states import MessageKind
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import AuditEntry, Broadcast, DeskSettings, Message
from tests.conftest import csrf_token, run_worker
from tests.integration.test_automatic import make_order as make_automatic_order
from tests.integration.test_automatic import make_store
from tests.integration.test_broadcasts import add_members, compose, draft, settings, used_quota
from tests.integration.test_record_mail import compose as compose_record_mail
from tests.integration.test_record_mail import make_order, start

HX = {"HX-Request": "true"}
TYPED = ["tenchou@sakura.example.jp", "kakunin@partner.example.co.jp"]


def confirmed_broadcast(client, store, n: int = 3) -> tuple[int, list]:
    """A broadcast to `n` members, written and waiting on its confirm step."""
    members = add_members(n)
    bid = draft(client)
    assert compose(client, bid, store).status_code == 302
    return bid, members


def press_test_send(client, url: str, to: str, **fields):
    """Press "send the test" as htmx does: the box comes back in place."""
    token = csrf_token(client, fields.pop("page", "/broadcasts/"))
    return client.post(url, data={"csrf_token": token, "test_to": to, **fields}, headers=HX)


def outbox_tests() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Message).filter_by(kind=MessageKind.TEST)))


def test_a_broadcast_test_reaches_only_the_typed_addresses_with_the_chosen_members_copy(
    app, staff_client, staff, mail_store, smtp_server
):
    settings(quota_limit=100)
    bid, members = confirmed_broadcast(staff_client, mail_store)
    chosen = members[1]
    page = staff_client.get(f"/broadcasts/{bid}/confirm?member={chosen.id}").get_data(as_text=True)
    assert "テスト送信" in page and "山田 1郎" in page

    answer = press_test_send(
        staff_client, f"/broadcasts/{bid}/test", ", ".join(TYPED), member=str(chosen.id)
    )
    box = unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200
    assert "テストメールを tenchou@sakura.example.jp, kakunin@partner.example.co.jp 宛てに" in box
    run_worker(app)

    mails = smtp_server.handler.wait_for(2)
    # RCPT TO exactly the typed addresses, one each: not the member, not the store's BCC.
    assert sorted(rcpt for m in mails for rcpt in m.rcpt_tos) == sorted(TYPED)
    for mail in mails:
        assert len(mail.rcpt_tos) == 1
        assert mail.message["Subject"] == "[テスト] 株式会社テスト1 様 新商品のお知らせ"
        text = mail.message.get_body(("plain",)).get_content()
        assert "山田 1郎 様" in text and "会員番号 M000001" in text
        assert "/unsubscribe/sample" in text  # inert: unsubscribes no one
        assert mail.message["List-Unsubscribe"] is None
    assert "m1@example.jp" not in str(smtp_server.handler.raw_rcpt)

    assert used_quota() == 0
    assert db.session.get(Broadcast, bid).state == "draft"
    history = staff_client.get("/automatic/history?kind=test").get_data(as_text=True)
    assert history.count("テストメール") >= 2 and "[テスト] 株式会社テスト1" in history
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="broadcast.test_sent"))
    assert entry.actor == staff.email and entry.details["to"] == TYPED
    assert entry.details["member"] == "M000001"
    # The unsubscribe page of the test link unsubscribes no one.
    assert staff_client.get("/unsubscribe/sample").status_code == 404


def test_six_addresses_are_refused_and_nothing_is_sent(app, staff_client, mail_store, smtp_server):
    settings()
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    six = " ".join(f"t{i}@sakura.example.jp" for i in range(6))
    box = press_test_send(staff_client, f"/broadcasts/{bid}/test", six).get_data(as_text=True)
    assert "テストメールの送信先は5件までです(6件入力されています)。" in box
    assert six in box  # the typed text stays to be corrected
    run_worker(app)
    assert outbox_tests() == [] and smtp_server.handler.messages == []
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="broadcast.test_sent")) is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("ok@sakura.example.jp, tanaka@@example.jp", "2番目のアドレス「tanaka@@example.jp」"),
        ("taro@shop.rakuten.co.jp", "1番目のアドレス「taro@shop.rakuten.co.jp」は楽天のマスク"),
        ("", "テストメールの送信先アドレスを入力してください。"),
    ],
)
def test_a_bad_address_is_refused_and_nothing_is_sent(
    app, staff_client, mail_store, smtp_server, typed, message
):
    settings()
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    box = unescape(
        press_test_send(staff_client, f"/broadcasts/{bid}/test", typed).get_data(as_text=True)
    )
    assert message in box
    run_worker(app)
    assert outbox_tests() == [] and smtp_server.handler.messages == []


def test_without_htmx_the_test_send_flashes_and_returns_to_the_confirm_step(
    app, staff_client, mail_store, smtp_server
):
    settings()
    bid, members = confirmed_broadcast(staff_client, mail_store)
    token = csrf_token(staff_client, f"/broadcasts/{bid}/confirm")
    data = {"csrf_token": token, "test_to": TYPED[0], "member": str(members[2].id)}
    answer = staff_client.post(f"/broadcasts/{bid}/test", data=data)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/broadcasts/{bid}/confirm?member={members[2].id}")
    page = staff_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "テストメールを tenchou@sakura.example.jp 宛てに送信待ちにしました。" in page
    assert "山田 2郎" in page  # the preview stays on the member the test was for


def test_a_member_outside_the_audience_cannot_be_tested(app, staff_client, mail_store):
    settings()
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    outsider = add_members(1, start=50, industry="衣料")[0]
    db.session.get(Broadcast, bid).member_filter = {"industry": "食品"}
    db.session.commit()
    box = press_test_send(
        staff_client, f"/broadcasts/{bid}/test", TYPED[0], member=str(outsider.id)
    )
    assert "この会員はこのメール配信の送信対象に含まれていません。" in box.get_data(as_text=True)
    assert outbox_tests() == []


def test_test_sends_are_rate_limited_per_user(app, staff_client, mail_store, monkeypatch):
    settings()
    monkeypatch.setitem(app.config, "TEST_SEND_RATE_LIMIT", "3 per minute")
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    url = f"/broadcasts/{bid}/test"
    assert "送信待ちにしました" in press_test_send(staff_client, url, ", ".join(TYPED)).get_data(
        True
    )
    refused = press_test_send(staff_client, url, ", ".join(TYPED)).get_data(as_text=True)
    assert "短時間にテストメールを送りすぎています" in refused
    assert len(outbox_tests()) == 2


def test_a_record_mail_test_carries_the_chosen_records_mail(
    app, staff_client, mail_store, smtp_server
):
    first = make_order(mail_store, "R-1001", "山田 太郎", "taro@example.jp")
    second = make_order(mail_store, "R-1002", "佐藤 花子", "hanako@example.jp")
    compose_url = start(staff_client, "order", [first.id, second.id])
    assert compose_record_mail(staff_client, compose_url).status_code == 302
    mailing_id = int(re.search(r"/mailings/(\d+)/", compose_url)[1])
    confirm = f"/records/mailings/{mailing_id}/confirm"
    assert "テスト送信" in staff_client.get(confirm).get_data(as_text=True)

    url = f"/records/mailings/{mailing_id}/test"
    answer = press_test_send(staff_client, url, TYPED[0], preview=str(second.id), page=confirm)
    assert "送信待ちにしました" in answer.get_data(as_text=True)
    run_worker(app)

    (mail,) = smtp_server.handler.wait_for(1)
    assert mail.rcpt_tos == [TYPED[0]]
    assert mail.message["Subject"] == "[テスト] さくら雑貨 本店 ご注文について"
    text = mail.message.get_content()
    assert "R-1002" in text and "佐藤 花子" in text and "R-1001" not in text
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 1  # no real mail queued
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="record_mailing.test_sent"))
    assert entry.details["to"] == [TYPED[0]] and entry.details["record"] == "R-1002"


def test_the_template_editor_sends_the_typed_text_merged_with_the_preview_order(
    app, admin_client, admin, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    make_automatic_order(store, "T-7001", "buyer7001@example.jp")
    desk = DeskSettings.get()
    desk.mail_server_running = True
    db.session.commit()
    editor = "/automatic/templates?store=default&kind=order_confirmation&device=pc&variant=1"
    page = admin_client.get(editor).get_data(as_text=True)
    assert "テスト送信" in page
    fields = {
        "subject": "[BUYER_NAME] 様 ご注文 [ORDER_NO]",
        "body": "[BUYER_NAME] 様\n未保存の本文\n",
    }
    url = editor.replace("/templates?", "/templates/test?")
    answer = press_test_send(admin_client, url, TYPED[1], page=editor, **fields)
    assert "送信待ちにしました" in answer.get_data(as_text=True)
    run_worker(app)

    (mail,) = smtp_server.handler.wait_for(1)
    assert mail.rcpt_tos == [TYPED[1]]  # not the buyer, not the store's BCC
    assert mail.message["Subject"] == "[テスト] 購入者 T-7001 様 ご注文 T-7001"
    assert "未保存の本文" in mail.message.get_content()
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="template.test_sent"))
    assert entry.actor == admin.email and entry.details["order"] == "T-7001"


def test_the_template_editor_refuses_unknown_tags(app, admin_client, smtp_server):
    store = make_store(smtp_server, "own", "own")
    make_automatic_order(store, "T-7002", "buyer7002@example.jp")
    db.session.commit()
    editor = "/automatic/templates?store=default&kind=follow_up&device=pc"
    url = editor.replace("/templates?", "/templates/test?")
    answer = press_test_send(
        admin_client, url, TYPED[0], page=editor, subject="[TENPO_NAM]", body="x"
    )
    assert "不明なタグまたは誤ったタグがあります" in answer.get_data(as_text=True)
    assert outbox_tests() == []


@pytest.fixture
def api(app):
    _, secret = create_token("配信システム", actor="test", scopes=["broadcasts"])
    db.session.commit()
    client = app.test_client()

    def call(path: str, body: dict):
        headers = {"Authorization": f"Bearer {secret}"}
        return client.post(f"/api/v1{path}", json=body, headers=headers)

    return call


def test_the_api_sends_a_members_test_copy(app, api, staff_client, mail_store, smtp_server):
    settings(quota_limit=100)
    bid, members = confirmed_broadcast(staff_client, mail_store)
    answer = api(f"/broadcasts/{bid}/test", {"to": TYPED, "member": members[2].number})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json() == {
        "id": bid,
        "member": "M000002",
        "to": TYPED,
        "subject": "[テスト] 株式会社テスト2 様 新商品のお知らせ",
    }
    run_worker(app)
    mails = smtp_server.handler.wait_for(2)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(TYPED)
    assert used_quota() == 0
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="broadcast.test_sent"))
    assert entry.actor == "api:配信システム" and entry.details["member"] == "M000002"


def test_the_api_refuses_six_addresses_and_unknown_members_in_its_error_shape(
    app, api, staff_client, mail_store
):
    settings()
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    six = [f"t{i}@sakura.example.jp" for i in range(6)]
    answer = api(f"/broadcasts/{bid}/test", {"to": six})
    assert answer.status_code == 422
    assert answer.get_json()["error"] == "validation"
    assert answer.get_json()["errors"][0]["field"] == "to"
    answer = api(f"/broadcasts/{bid}/test", {"to": TYPED[:1], "member": "M999999"})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "member"
    answer = api(f"/broadcasts/{bid}/test", {"to": "a@example.jp"})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == "to"
    assert api("/broadcasts/99999/test", {"to": TYPED}).status_code == 404
    assert outbox_tests() == []


def test_while_the_mail_server_is_stopped_the_test_waits_and_says_so(
    app, staff_client, mail_store, smtp_server
):
    settings()
    bid, _ = confirmed_broadcast(staff_client, mail_store)
    DeskSettings.get().mail_server_running = False
    db.session.commit()
    box = press_test_send(staff_client, f"/broadcasts/{bid}/test", TYPED[0]).get_data(as_text=True)
    assert "メールサーバーが停止中のため" in box
    run_worker(app)
    assert [row.state for row in outbox_tests()] == ["queued"]
    assert smtp_server.handler.messages == []
    queue = staff_client.get("/automatic/queue?kind=test").get_data(as_text=True)
    assert "[テスト] 株式会社テスト0" in queue
