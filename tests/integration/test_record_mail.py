"""Manual mails from the order, shipment and quote lists, on real parts: lists, the compose
wizard, previews, outbox rows, a real worker and a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

from shopmail.extensions import db
from shopmail.models import (
    AuditEntry,
    DeskSettings,
    Message,
    Order,
    QuotaMonth,
    Quote,
    RecordMailing,
    RecordMailTemplate,
    Shipment,
)
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker
from tests.factories import (
    MailStoreFactory,
    OrderFactory,
    OrderLineFactory,
    QuoteFactory,
    RecordMailTemplateFactory,
    ShipmentFactory,
)

BUYERS = [
    ("山田 太郎", "taro@example.jp"),
    ("佐藤 花子", "hanako@example.jp"),
    ("鈴木 一郎", "ichiro@example.jp"),
]


def make_order(store, number, name="山田 太郎", email="taro@example.jp", **extra) -> Order:
    """An order of two lines (4,400 円 + tax 400 + shipping 660 = 5,060 円) from `name`."""
    lines = [
        OrderLineFactory.build(position=1, name="有田焼 マグカップ 藍", unit_price=2200),
        OrderLineFactory.build(
            position=2, name="今治タオル", unit_price=2200, options=extra.pop("options", "")
        ),
    ]
    address = f"京都府京都市下京区 {number}"
    values = dict(
        buyer_name=name,
        buyer_email=email,
        buyer_zip="600-8216",
        buyer_address=address,
        buyer_tel="075-000-0001",
        ship_company="",
        shipping_fee=660,
    )
    values.update(extra)
    return OrderFactory(store=store, number=number, lines=lines, **values)


def make_quote(store, number="Q202611-0007", email="buyer@kyoto-shoji.example.jp") -> Quote:
    """京都商事's quote for 100 plates: 154,000 円 + tax 15,400 = 169,400 円."""
    return QuoteFactory(
        store=store,
        number=number,
        company="京都商事株式会社",
        contact_name="高橋 誠",
        email=email,
        zip="604-0000",
        address="京都府京都市中京区",
        tel="075-111-2222",
    )


def make_shipment(order, number="S0000042") -> Shipment:
    return ShipmentFactory(order=order, number=number, tracking_no="123456789012")


def start(client, record_type, ids) -> str:
    """Tick rows and press "send mail": returns the compose URL."""
    token = csrf_token(client, "/records/orders")
    response = client.post(
        f"/records/{record_type}/mailings",
        data={"ids": [str(i) for i in ids], "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def compose(
    client,
    compose_url,
    title="[TENPO_NAME] ご注文について",
    header="",
    footer="",
    signature=True,
    template_id=0,
):
    data = {
        "csrf_token": csrf_token(client, compose_url),
        "template_id": str(template_id),
        "title": title,
        "header": header,
        "footer": footer,
    }
    if signature:
        data["insert_signature"] = "y"
    return client.post(compose_url, data=data)


def send_mailing(client, record_type, ids, **fields) -> int:
    """Tick, compose, confirm and send, as staff would; returns the mailing id."""
    compose_url = start(client, record_type, ids)
    response = compose(client, compose_url, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    confirm_url = response.headers["Location"]
    assert client.get(confirm_url).status_code == 200
    mailing_id = int(re.search(r"/mailings/(\d+)/", confirm_url)[1])
    response = client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(client, confirm_url)},
    )
    assert response.headers["Location"].endswith(f"/records/mailings/{mailing_id}/done")
    return mailing_id


def received_by(smtp_server, count):
    mails = smtp_server.wait_for(count)
    return {str(m.message["To"].addresses[0].addr_spec): m.message for m in mails}


def text_of(mail) -> str:
    """The plain-text body as a mail client shows it (line ends as written)."""
    return mail.get_content().replace("\r\n", "\n")


def preview(client, mailing_id, record_id=None) -> str:
    query = f"?preview={record_id}" if record_id else ""
    return client.get(f"/records/mailings/{mailing_id}/confirm{query}").get_data(as_text=True)


def draft(client, record_type, ids, **fields) -> int:
    compose_url = start(client, record_type, ids)
    assert compose(client, compose_url, **fields).status_code == 302
    return int(re.search(r"/mailings/(\d+)/", compose_url)[1])


def test_three_ticked_orders_each_get_only_their_own_order(
    app, mail_store, smtp_server, staff_client
):
    orders = [
        make_order(mail_store, f"OWN-{i}", name, email)
        for i, (name, email) in enumerate(BUYERS, start=1)
    ]
    mailing_id = send_mailing(
        staff_client,
        "order",
        [o.id for o in orders],
        title="【[TENPO_NAME]】ご注文 [ORDER_NO] について",
        header="[BUYER_NAME] 様\nいつもありがとうございます。",
        footer="ご不明な点はご返信ください。",
    )
    run_worker(app)
    mails = received_by(smtp_server, 3)
    assert set(mails) == {email for _, email in BUYERS}
    for order, (name, email) in zip(orders, BUYERS, strict=True):
        mail = mails[email]
        body = text_of(mail)
        assert mail["Subject"] == f"【さくら雑貨 本店】ご注文 {order.number} について"
        assert str(mail["From"]) == "さくら雑貨 本店 <shop@sakura.example.jp>"
        assert body.startswith(f"{name} 様\nいつもありがとうございます。")
        assert f"注文番号：{order.number}" in body and f"氏名：{name} 様" in body
        for other in orders:
            if other is not order:
                assert other.number not in body and other.buyer_name not in body
        # Header, the record's block in the manual's order, footer, then the signature.
        positions = [
            body.index(part)
            for part in (
                "いつもありがとうございます",
                "■ご注文内容",
                "■ご注文詳細",
                "■ご注文者様情報",
                "■配送先情報",
                "ご不明な点はご返信ください。",
                "TEL 075-000-0000",
            )
        ]
        assert positions == sorted(positions)
        assert "決済方法：クレジットカード" in body and "注文総額：5,060円" in body
        assert "商品合計：4,400円（うち消費税 400円）\n送料：660円\nご請求額：5,060円" in body
        assert "メールアドレス：" + email in body and "電話番号：075-000-0001" in body
    db.session.expire_all()
    rows = db.session.scalars(db.select(Message).order_by(Message.id)).all()
    assert [(r.kind, r.state, r.mailing_id, r.record_type) for r in rows] == [
        ("record", "sent", mailing_id, "order")
    ] * 3
    page = staff_client.get(f"/records/mailings/{mailing_id}/done").get_data(as_text=True)
    assert "メール送信を完了いたしました" in page and "hx-trigger" not in page
    assert db.session.get(RecordMailing, mailing_id).state == "done"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="record_mailing.sent"))
    assert entry.details["count"] == 3 and entry.actor == "staff@example.com"
    assert db.session.scalars(db.select(QuotaMonth)).all() == []


def test_each_mail_comes_from_the_store_of_its_record(app, mail_store, smtp_server, staff_client):
    other = MailStoreFactory(
        smtp_server=smtp_server,
        code="b2b",
        name="さくら卸 B2B",
        channel="b2b",
        from_addr="b2b@oroshi.example.jp",
        from_name="さくら卸",
        reply_to="b2b@oroshi.example.jp",
        bcc="",
        signature_pc="--\nさくら卸",
        signature_mobile="",
    )
    first = make_order(mail_store, "OWN-1")
    second = make_order(other, "B2B-1", "佐藤 花子", "hanako@example.jp")
    send_mailing(staff_client, "order", [first.id, second.id], title="[TENPO_NAME]より")
    run_worker(app)
    mails = received_by(smtp_server, 2)
    assert str(mails["hanako@example.jp"]["From"]) == "さくら卸 <b2b@oroshi.example.jp>"
    assert mails["hanako@example.jp"]["Subject"] == "さくら卸より"
    assert text_of(mails["hanako@example.jp"]).rstrip().endswith("--\nさくら卸")
    assert mails["taro@example.jp"]["Subject"] == "さくら雑貨 本店より"


def test_a_quote_mail_carries_its_quote_number(app, mail_store, smtp_server, staff_client):
    quote = make_quote(mail_store)
    send_mailing(
        staff_client,
        "quote",
        [quote.id],
        title="お見積り [QUOTE_NO]",
        footer="有効期限は[QUOTE_EXPIRES]です。",
    )
    run_worker(app)
    [received] = smtp_server.wait_for(1)
    mail = received.message
    body = text_of(mail)
    assert mail["Subject"] == "お見積り Q202611-0007"
    assert "見積番号：Q202611-0007" in body and "有効期限：2030-01-31" in body
    assert "美濃焼 豆皿 5枚セット" in body and "お見積総額：169,400円" in body
    assert "会社名：京都商事株式会社" in body and "ご担当者：高橋 誠 様" in body
    assert "有効期限は2030-01-31です。" in body
    assert "■ご注文内容" not in body


def test_a_shipment_mail_has_its_shipment_id_tracking_and_its_order(
    app, mail_store, smtp_server, staff_client
):
    order = make_order(mail_store, "OWN-77")
    shipment = make_shipment(order)
    send_mailing(staff_client, "shipment", [shipment.id], title="出荷 [SHIPMENT_ID]")
    run_worker(app)
    [received] = smtp_server.wait_for(1)
    body = text_of(received.message)
    assert received.message["Subject"] == "出荷 S0000042"
    assert "出荷番号：S0000042" in body and "配送業者：ヤマト運輸" in body
    assert "お問い合わせ伝票番号：123456789012" in body and "注文番号：OWN-77" in body
    assert body.index("■出荷情報") < body.index("■ご注文内容")


def test_points_and_options_appear_only_when_used(app, mail_store, smtp_server, staff_client):
    plain = make_order(mail_store, "OWN-1")
    with_points = make_order(
        mail_store,
        "OWN-2",
        "佐藤 花子",
        "hanako@example.jp",
        points_used=300,
        options="ギフト包装: あり",
    )
    send_mailing(staff_client, "order", [plain.id, with_points.id])
    run_worker(app)
    mails = received_by(smtp_server, 2)
    plain_body = text_of(mails["taro@example.jp"])
    points_body = text_of(mails["hanako@example.jp"])
    assert "ポイント" not in plain_body and "ギフト包装" not in plain_body
    assert "ポイント利用：-300円" in points_body
    assert "・今治タオル\n  (ギフト包装: あり)" in points_body


def test_bank_account_shows_only_for_bank_transfers_when_the_setting_is_on(
    app, mail_store, smtp_server, staff_client, admin_client
):
    transfer = make_order(
        mail_store, "OWN-1", payment_method="銀行振込", payment_kind="bank_transfer"
    )
    card = make_order(mail_store, "OWN-2", "佐藤 花子", "hanako@example.jp")
    account = "さくら銀行 本店 普通 1234567"
    DeskSettings.get().bank_account_text = account
    db.session.commit()
    mailing_id = draft(staff_client, "order", [transfer.id, card.id])
    assert account not in preview(staff_client, mailing_id, transfer.id)

    response = admin_client.post(
        "/records/settings",
        data={
            "csrf_token": csrf_token(admin_client, "/records/templates"),
            "bank_account_shown": "y",
            "bank_account_text": account,
        },
    )
    assert response.status_code == 302
    assert f"■お振込先\n{account}" in preview(staff_client, mailing_id, transfer.id)
    assert account not in preview(staff_client, mailing_id, card.id)
    send_mailing(staff_client, "order", [transfer.id, card.id])
    run_worker(app)
    mails = received_by(smtp_server, 2)
    assert account in text_of(mails["taro@example.jp"])
    assert account not in text_of(mails["hanako@example.jp"])


def test_shipping_instructions_show_only_when_the_option_is_on(
    app, mail_store, staff_client, admin_client
):
    order = make_order(mail_store, "OWN-1", shipping_instructions="午前中指定")
    mailing_id = draft(staff_client, "order", [order.id])
    assert "午前中指定" not in preview(staff_client, mailing_id)
    admin_client.post(
        "/records/settings",
        data={
            "csrf_token": csrf_token(admin_client, "/records/templates"),
            "shipping_instructions": "y",
        },
    )
    assert "■発送指示\n午前中指定" in preview(staff_client, mailing_id)
    entry = db.session.scalar(
        db.select(AuditEntry).filter_by(action="desk_settings.record_mail_updated")
    )
    assert entry.details["shipping_instructions"] is True


def test_records_without_a_usable_address_are_listed_and_get_no_mail(
    app, mail_store, smtp_server, staff_client
):
    good = make_order(mail_store, "OWN-1")
    empty = make_order(mail_store, "OWN-2", "佐藤 花子", "")
    invalid = make_order(mail_store, "OWN-3", "鈴木 一郎", "ichiro@@example")
    mailing_id = draft(staff_client, "order", [good.id, empty.id, invalid.id])
    page = preview(staff_client, mailing_id)
    assert "1通のメールを送信します。2件のデータは送信できません。" in page
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    empty_row = next(r for r in rows if "OWN-2" in r)
    invalid_row = next(r for r in rows if "OWN-3" in r)
    assert "送信不可" in empty_row and "メールアドレスがありません" in empty_row
    assert "送信不可" in invalid_row and "ichiro@@example" in invalid_row
    assert "メールアドレスが正しくありません" in invalid_row
    staff_client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(staff_client, "/records/orders")},
    )
    run_worker(app)
    [received] = smtp_server.wait_for(1)
    assert received.message["To"].addresses[0].addr_spec == "taro@example.jp"
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 1
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="record_mailing.sent"))
    assert entry.details == {"count": 1, "record_type": "order", "not_sendable": 2}


def test_a_mailing_where_no_record_has_an_address_is_refused(app, mail_store, staff_client):
    order = make_order(mail_store, "OWN-2", "佐藤 花子", "")
    mailing_id = draft(staff_client, "order", [order.id])
    response = staff_client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(staff_client, "/records/orders")},
        follow_redirects=True,
    )
    assert "メールアドレスを使えるデータがありません" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(RecordMailing, mailing_id).state == "draft"
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_a_draft_without_a_title_cannot_be_sent(app, mail_store, staff_client):
    order = make_order(mail_store, "OWN-1")
    compose_url = start(staff_client, "order", [order.id])
    mailing_id = int(re.search(r"/mailings/(\d+)/", compose_url)[1])
    confirm = staff_client.get(f"/records/mailings/{mailing_id}/confirm")
    assert confirm.headers["Location"].endswith(compose_url)
    response = staff_client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(staff_client, "/records/orders")},
        follow_redirects=True,
    )
    assert "先にタイトルを入力してください" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_sending_the_same_draft_twice_sends_nothing_twice(
    app, mail_store, smtp_server, staff_client
):
    orders = [make_order(mail_store, f"OWN-{i}", n, e) for i, (n, e) in enumerate(BUYERS)]
    mailing_id = send_mailing(staff_client, "order", [o.id for o in orders])
    again = staff_client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(staff_client, "/records/orders")},
    )
    assert again.headers["Location"].endswith(f"/records/mailings/{mailing_id}/done")
    run_worker(app)
    assert len(smtp_server.wait_for(3)) == 3
    staff_client.post(
        f"/records/mailings/{mailing_id}/send",
        data={"csrf_token": csrf_token(staff_client, "/records/orders")},
    )
    run_worker(app)
    assert len(smtp_server.messages) == 3
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 3
    # Once sent, the wizard's steps lead to the done page, not back to editing.
    compose_page = staff_client.get(f"/records/mailings/{mailing_id}/compose")
    assert compose_page.headers["Location"].endswith("/done")


def test_a_refused_mail_is_listed_with_the_servers_answer(
    app, mail_store, smtp_server, staff_client
):
    smtp_server.handler.refuse["hanako@example.jp"] = (550, "5.1.1 User unknown")
    orders = [make_order(mail_store, f"OWN-{i}", n, e) for i, (n, e) in enumerate(BUYERS[:2])]
    mailing_id = send_mailing(staff_client, "order", [o.id for o in orders])
    page = staff_client.get(f"/records/mailings/{mailing_id}/done").get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in page and "送信待ち 2" in page
    run_worker(app)
    page = staff_client.get(
        f"/records/mailings/{mailing_id}/done", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in page and "hx-trigger" not in page
    assert "送信済み 1" in page and "失敗 1" in page
    assert "OWN-1" in page and "hanako@example.jp" in page and "User unknown" in page


def test_the_done_page_says_when_the_mail_server_is_stopped(app, mail_store, staff_client):
    DeskSettings.get().mail_server_running = False
    db.session.commit()
    order = make_order(mail_store, "OWN-1")
    mailing_id = send_mailing(staff_client, "order", [order.id])
    page = staff_client.get(f"/records/mailings/{mailing_id}/done").get_data(as_text=True)
    assert "メールサーバーが停止しています" in page and "送信待ち 1" in page


def test_the_order_list_filters_pages_and_answers_htmx_with_the_table(
    app, mail_store, staff_client
):
    now = utcnow()
    for i in range(60):
        make_order(
            mail_store,
            f"OWN-{i:03d}",
            "山田 太郎",
            f"t{i}@example.jp",
            ordered_at=now - timedelta(hours=i),
        )
    make_order(
        mail_store,
        "OWN-OLD",
        "佐藤 花子",
        "hanako@example.jp",
        ordered_at=now - timedelta(days=40),
        status="shipped",
    )
    page = staff_client.get("/records/orders").get_data(as_text=True)
    assert "<html" in page and "61件" in page and page.count('name="ids"') == 50
    assert 'data-select-all="ids"' in page and 'hx-push-url="true"' in page
    page2 = staff_client.get("/records/orders?page=2").get_data(as_text=True)
    assert page2.count('name="ids"') == 11
    found = staff_client.get("/records/orders?q=hanako").get_data(as_text=True)
    assert found.count('name="ids"') == 1 and "OWN-OLD" in found
    partial = staff_client.get("/records/orders?q=佐藤", headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert "<html" not in text and "OWN-OLD" in text and text.count('name="ids"') == 1
    start_day = (now - timedelta(days=41)).date().isoformat()
    end_day = (now - timedelta(days=30)).date().isoformat()
    ranged = staff_client.get(f"/records/orders?start={start_day}&end={end_day}")
    assert ranged.get_data(as_text=True).count('name="ids"') == 1
    shipped = staff_client.get("/records/orders?status=shipped").get_data(as_text=True)
    assert shipped.count('name="ids"') == 1
    none = staff_client.get("/records/orders?store=999").get_data(as_text=True)
    assert "条件に合うデータはありません" in none
    bad = staff_client.get("/records/orders?start=not-a-date")
    assert bad.status_code == 200 and bad.get_data(as_text=True).count('name="ids"') == 50


def test_shipment_and_quote_lists_search_their_numbers(app, mail_store, staff_client):
    shipment = make_shipment(make_order(mail_store, "OWN-5"))
    make_quote(mail_store)
    page = staff_client.get("/records/shipments?q=S0000042").get_data(as_text=True)
    assert "S0000042" in page and "OWN-5" in page and page.count('name="ids"') == 1
    assert (
        staff_client.get("/records/shipments?status=unconfirmed")
        .get_data(as_text=True)
        .count('name="ids"')
        == 0
    )
    page = staff_client.get("/records/quotes?q=京都商事").get_data(as_text=True)
    assert "Q202611-0007" in page and page.count('name="ids"') == 1
    assert shipment.id


def test_sending_mail_without_ticking_anything_says_so(app, mail_store, staff_client):
    make_order(mail_store, "OWN-1")
    response = staff_client.post(
        "/records/order/mailings",
        data={
            "csrf_token": csrf_token(staff_client, "/records/orders"),
            "back": "/records/orders?q=OWN",
        },
    )
    assert response.headers["Location"] == "/records/orders?q=OWN"
    page = staff_client.get("/records/orders").get_data(as_text=True)
    assert "送信するデータにチェックを入れてください" in page
    assert db.session.scalar(db.select(db.func.count(RecordMailing.id))) == 0


def test_compose_refuses_unknown_tags_and_keeps_the_draft(app, mail_store, staff_client):
    order = make_order(mail_store, "OWN-1")
    compose_url = start(staff_client, "order", [order.id])
    page = staff_client.get(compose_url).get_data(as_text=True)
    assert "checked" in re.search(r'<input[^>]*name="insert_signature"[^>]*>', page)[0]
    response = compose(staff_client, compose_url, title="ご案内", header="[MEMBER_NAME] 様")
    assert response.status_code == 400
    assert "使用できないタグがあります: [MEMBER_NAME](1行目 1文字目)" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.scalar(db.select(RecordMailing)).header == ""


def test_choosing_a_template_fills_the_fields(app, mail_store, staff_client):
    template = RecordMailTemplateFactory(
        name="出荷のご案内",
        title="【[TENPO_NAME]】出荷のお知らせ",
        header="いつもありがとうございます。",
        footer="またのご利用を",
    )
    order = make_order(mail_store, "OWN-1")
    compose_url = start(staff_client, "order", [order.id])
    assert "出荷のご案内" in staff_client.get(compose_url).get_data(as_text=True)
    fields = staff_client.get(
        f"{compose_url}/template?template_id={template.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="compose-fields"' in fields and "【[TENPO_NAME]】出荷のお知らせ" in fields
    assert "またのご利用を" in fields
    response = compose(
        staff_client,
        compose_url,
        title=template.title,
        header=template.header,
        footer=template.footer,
        template_id=template.id,
    )
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "【さくら雑貨 本店】出荷のお知らせ" in page


def test_without_signature_the_mail_ends_with_the_footer(app, mail_store, staff_client):
    order = make_order(mail_store, "OWN-1", email="taro@docomo.ne.jp")
    with_sig = draft(staff_client, "order", [order.id], footer="以上")
    assert "以上\n\n--\nさくら雑貨\n</pre>" in preview(staff_client, with_sig)  # mobile signature
    without = draft(staff_client, "order", [order.id], footer="以上", signature=False)
    assert "以上\n</pre>" in preview(staff_client, without)


def test_record_templates_are_managed_by_admins_with_an_audit_trail(
    app, staff_client, admin_client
):
    assert staff_client.get("/records/templates").status_code == 403
    token = csrf_token(admin_client, "/records/templates")
    refused = admin_client.post(
        "/records/templates/new",
        data={
            "csrf_token": token,
            "name": "お知らせ",
            "title": "[COMPANY] 様",
            "header": "",
            "footer": "",
        },
    )
    assert refused.status_code == 400 and "[COMPANY]" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(RecordMailTemplate.id))) == 0
    created = admin_client.post(
        "/records/templates/new",
        data={
            "csrf_token": token,
            "name": "お知らせ",
            "title": "[TENPO_NAME]より",
            "header": "拝啓",
            "footer": "敬具",
        },
    )
    assert created.status_code == 302
    template = db.session.scalar(db.select(RecordMailTemplate))
    admin_client.post(
        f"/records/templates/{template.id}",
        data={
            "csrf_token": token,
            "name": "お知らせ2",
            "title": "[TENPO_NAME]より",
            "header": "拝啓",
            "footer": "敬具",
        },
    )
    page = admin_client.get("/records/templates").get_data(as_text=True)
    assert "お知らせ2" in page
    admin_client.post(f"/records/templates/{template.id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(RecordMailTemplate.id))) == 0
    actions = db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("record_template.")] == [
        "record_template.created",
        "record_template.updated",
        "record_template.deleted",
    ]
