"""The words a merchant reads on the desk's pages (issue 16, "Words and layout"): each says what
it means here — a date filter is a date range, a name is the template's or token's, a paused
broadcast is paused for now — and every switch says its new state."""

from __future__ import annotations

import re

from shopmail.extensions import db
from shopmail.models import Broadcast, DeskSettings, RecordMailing
from tests.conftest import csrf_token
from tests.factories import BroadcastFactory, MemberFactory, OrderFactory, RecordMailingFactory
from tests.integration.test_broadcasts import add_members, settings


def label_texts(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", t).strip() for t in re.findall(r"<label>(.*?)<", page)]


def test_the_record_lists_filter_a_date_range_not_a_sender_and_a_recipient(staff_client):
    for path in ("/records/orders", "/records/shipments", "/records/quotes"):
        page = staff_client.get(path).get_data(as_text=True)
        labels = label_texts(page)
        assert "開始日" in labels and "終了日" in labels, path
        assert "送信元" not in labels and "宛先" not in labels, path


def test_a_broadcast_template_and_an_api_token_have_names_not_a_persons_name(admin_client):
    page = admin_client.get("/broadcasts/templates/new").get_data(as_text=True)
    assert "テンプレート名" in page and "氏名" not in page
    page = admin_client.get("/broadcasts/templates").get_data(as_text=True)
    assert "<th>テンプレート名</th>" in page and "氏名" not in page
    page = admin_client.get("/api-tokens/").get_data(as_text=True)
    assert "<th>トークン名</th>" in page and "氏名" not in page


def test_the_member_list_says_wanting_mail_in_the_filters_words(staff_client):
    MemberFactory(number="M1", email="a@example.jp", wants_mail=True)
    MemberFactory(number="M2", email="b@example.jp", wants_mail=False)
    page = staff_client.get("/members/").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    cells = [r for r in rows if "a@example.jp" in r or "b@example.jp" in r]
    assert len(cells) == 2
    assert all(
        ("希望" in r or "不要" in r) and "はい" not in r and "いいえ" not in r for r in cells
    )
    assert '<option value="1">希望</option>' in page or "希望" in page.split("<table")[0]


def test_a_paused_broadcast_reads_paused_for_now(staff_client, mail_store):
    b = BroadcastFactory(store=mail_store, state="paused", total=3)
    page = staff_client.get(f"/broadcasts/{b.id}/progress").get_data(as_text=True)
    assert "一時停止中" in page and "送信停止中" not in page
    assert "再開するまで送信されません" in page
    listing = staff_client.get("/broadcasts/").get_data(as_text=True)
    assert "一時停止中" in listing


def test_starting_the_mail_server_says_what_goes_out_while_sending_is_off(admin_client):
    desk = DeskSettings.get()
    desk.mail_server_running, desk.auto_send = False, False
    db.session.commit()
    token = csrf_token(admin_client, "/stores")
    response = admin_client.post(
        "/stores/mail-server", data={"csrf_token": token, "running": "1"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "メールサーバを開始しました。メールが送信されます。" not in page
    assert "自動メールは、メール送信処理を起動するまで送信されません" in page

    desk = DeskSettings.get()
    db.session.refresh(desk)
    desk.mail_server_running, desk.auto_send = False, True
    db.session.commit()
    response = admin_client.post(
        "/stores/mail-server", data={"csrf_token": token, "running": "1"}, follow_redirects=True
    )
    assert "メールサーバを開始しました。メールが送信されます。" in response.get_data(as_text=True)


def test_switching_creation_or_sending_says_the_new_state(admin_client):
    desk = DeskSettings.get()
    desk.mail_server_running, desk.auto_create, desk.auto_send = False, False, False
    db.session.commit()
    token = csrf_token(admin_client, "/automatic/operations")

    def switch(name: str, on: str) -> str:
        response = admin_client.post(
            f"/automatic/operations/switch/{name}",
            data={"csrf_token": token, "on": on},
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    assert "メール作成処理を起動しました" in switch("auto_create", "1")
    assert "メール作成処理を停止しました" in switch("auto_create", "0")
    page = switch("auto_send", "1")
    assert "メール送信処理を起動しました" in page and "メールサーバが停止中のため" in page
    assert "メール送信処理を停止しました" in switch("auto_send", "0")


def test_choosing_rakuten_on_a_new_store_changes_the_hints_and_the_relay_at_once(
    admin_client,
):
    parts = admin_client.get(
        "/stores/relay-parts?channel=rakuten&relay_mode=system", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="sender-hints" hx-swap-oob="true"' in parts
    assert "楽天に登録されたアドレス" in parts
    assert re.search(r'value="rakuten"[^>]*checked|checked[^>]*value="rakuten"', parts)
    assert "SHOPMAIL_RAKUTEN_SMTP_SESSIONS" in parts and "SHOPMAIL_SMTP_SESSIONS" not in parts

    # Back to an own shop: the Rakuten relay is no longer offered as chosen.
    parts = admin_client.get("/stores/relay-parts?channel=own&relay_mode=rakuten").get_data(
        as_text=True
    )
    assert re.search(r'value="system"[^>]*checked|checked[^>]*value="system"', parts)
    assert "楽天に登録されたアドレス" not in parts
    page = admin_client.get("/stores/new").get_data(as_text=True)
    assert 'hx-get="/stores/relay-parts"' in page and 'id="relay-choice"' in page


def test_the_unsubscribe_page_carries_the_shops_name_not_the_desks(app, mail_store):
    from shopmail.broadcasts.unsubscribe import make_token

    [member] = add_members(1)
    b = BroadcastFactory(store=mail_store, state="done")
    anonymous = app.test_client()
    page = anonymous.get(f"/unsubscribe/{make_token(member.id, b.id)}").get_data(as_text=True)
    assert "さくら雑貨 本店" in page and "shopmail" not in page
    done = anonymous.post(
        f"/unsubscribe/{make_token(member.id, b.id)}", data={"List-Unsubscribe": "One-Click"}
    ).get_data(as_text=True)
    assert "配信を停止しました" in done and "さくら雑貨 本店" in done and "shopmail" not in done
    invalid = anonymous.get("/unsubscribe/1.2.AAAAAAAAAAAAAAAA").get_data(as_text=True)
    assert "shopmail" not in invalid


def test_a_draft_refused_for_the_quota_is_listed_with_its_audience_and_why(
    staff_client, mail_store
):
    settings(quota_limit=10)
    add_members(25)
    BroadcastFactory(store=mail_store, subject="夏のセール")
    page = staff_client.get("/broadcasts/").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page, re.S) if "夏のセール" in r)
    assert '<td class="num">25</td>' in row
    assert "この配信は 25 通を送信しますが、今月の残りは 10 通です。" in row
    assert '>0</td><td class="num">0</td>' not in row


def test_discarding_a_broadcast_draft_asks_with_the_count_and_lands_on_the_list(
    staff_client, mail_store
):
    add_members(3)
    bid = BroadcastFactory(store=mail_store).id
    page = staff_client.get(f"/broadcasts/{bid}/compose").get_data(as_text=True)
    assert 'data-confirm="3 名の会員あての下書きを破棄します。よろしいですか？"' in page
    token = csrf_token(staff_client, "/broadcasts/")
    response = staff_client.post(f"/broadcasts/{bid}/discard", data={"csrf_token": token})
    assert response.headers["Location"].endswith("/broadcasts/")
    page = staff_client.get("/broadcasts/").get_data(as_text=True)
    assert "下書きを破棄しました。" in page and "中止" not in page and "0/0" not in page
    db.session.expire_all()
    assert db.session.get(Broadcast, bid) is None


def test_discarding_a_record_mail_draft_asks_with_the_count_and_lands_on_the_list(
    staff, staff_client, store
):
    orders = [OrderFactory(store=store) for _ in range(2)]
    mid = RecordMailingFactory(record_ids=[o.id for o in orders], created_by=staff.id).id
    page = staff_client.get(f"/records/mailings/{mid}/compose").get_data(as_text=True)
    assert "2 件のデータあてのメールの下書きを破棄します。よろしいですか？" in page
    token = csrf_token(staff_client, "/records/orders")
    response = staff_client.post(f"/records/mailings/{mid}/discard", data={"csrf_token": token})
    assert response.headers["Location"].endswith("/records/orders")
    assert "下書きを破棄しました。" in staff_client.get("/records/orders").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RecordMailing, mid) is None


def test_a_started_broadcast_cannot_be_discarded_as_a_draft(staff_client, mail_store):
    bid = BroadcastFactory(store=mail_store, state="sending", total=3).id
    token = csrf_token(staff_client, "/broadcasts/")
    response = staff_client.post(
        f"/broadcasts/{bid}/discard", data={"csrf_token": token}, follow_redirects=True
    )
    assert "この配信は現在の状態ではその操作ができません" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Broadcast, bid).state == "sending"
