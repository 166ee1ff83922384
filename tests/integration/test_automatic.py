"""Automatic mails on real parts: creation from orders, review in the queue, sending over SMTP,
the history — as the manual's first start goes (create → review and delete → send)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings, Message, Order, OrderLine, Shipment, Store
from shopmail.models.types import utcnow
from shopmail.services import automatic, operations
from tests.conftest import csrf_token, run_worker


def make_store(smtp_server, code: str, channel: str, **extra) -> Store:
    store = Store(
        code=code,
        name=extra.pop("name", f"さくら雑貨 {code}"),
        channel=channel,
        from_addr=f"{code}@sakura.example.jp",
        from_name=extra.pop("from_name", f"さくら雑貨 {code}店"),
        reply_to=f"support-{code}@sakura.example.jp",
        bcc=f"archive-{code}@sakura.example.jp",
        signature_pc=f"--\nさくら雑貨 {code}店 PC署名",
        signature_mobile=f"--\n{code} 携帯署名",
        relay_mode="own",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        follow_up_days=1,
        **extra,
    )
    db.session.add(store)
    db.session.flush()
    return store


def make_order(store, number, email, *, days_ago=1, count=1, carrier="ヤマト運輸", shipped=None):
    order = Order(
        store_id=store.id,
        number=number,
        ordered_at=utcnow() - timedelta(days=days_ago),
        buyer_name=f"購入者 {number}",
        buyer_email=email,
        purchase_count=count,
        ship_name=f"購入者 {number}",
        delivery_method=carrier,
        payment_method="クレジットカード",
        item_total=2200,
        total=2420,
        tax=220,
        lines=[OrderLine(position=1, name="有田焼 マグカップ 藍", unit_price=2200, quantity=1)],
    )
    db.session.add(order)
    db.session.flush()
    if shipped is not None:
        db.session.add(
            Shipment(
                store_id=store.id,
                order_id=order.id,
                number=f"S-{number}",
                carrier=carrier,
                tracking_no="1234-5678-9012",
                confirmed_at=utcnow() - timedelta(days=shipped),
            )
        )
    return order


def post(client, path, data, page="/automatic/queue"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def rows(**filters) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Message).filter_by(**filters).order_by(Message.id)))


def test_first_start_creates_held_mails_that_go_out_once_released(
    app, admin_client, staff_client, smtp_server
):
    rakuten = make_store(smtp_server, "rakuten", "rakuten", repeat_from_count=3)
    amazon = make_store(smtp_server, "amazon", "amazon")
    first = make_order(rakuten, "R-1", "taro@example.jp", days_ago=3, shipped=2)
    mobile = make_order(rakuten, "R-2", "hanako@docomo.ne.jp", days_ago=2)
    repeat = make_order(rakuten, "R-3", "jiro@example.jp", count=3)
    make_order(rakuten, "R-OLD", "old@example.jp", days_ago=30)  # outside the reach-back
    buyer = make_order(amazon, "A-1", "buyer@example.com", days_ago=4, carrier="佐川急便", shipped=3)
    db.session.commit()

    page = "/automatic/operations"
    kinds = ["order_confirmation", "shipping_notice", "follow_up"]
    assert post(admin_client, "/automatic/operations/kinds", {"kinds": kinds}, page).status_code == 302
    assert post(admin_client, "/automatic/operations/create-now", {}, page).status_code == 302
    run_worker(app)
    automatic.create_mails("test")  # a second run (the hourly job) adds nothing
    made = rows()
    assert sorted((m.kind, m.order_id) for m in made) == sorted(
        [("order_confirmation", o) for o in (first.id, mobile.id, repeat.id, buyer.id)]
        + [("shipping_notice", first.id), ("shipping_notice", buyer.id), ("follow_up", first.id)]
    )
    assert {m.state for m in made} == {"held"}

    queue_page = staff_client.get("/automatic/queue").get_data(as_text=True)
    assert "確認待ち(保留)" in queue_page and "hanako@docomo.ne.jp" in queue_page
    assert smtp_server.messages == []  # nothing leaves while held

    smtp_server.handler.defer_rcpt["jiro@example.jp"] = 2
    response = post(staff_client, "/automatic/queue/release", {"held": "all"})
    assert response.status_code == 302
    assert {m.state for m in rows()} == {"queued"}
    settings = DeskSettings.get()
    settings.mail_server_running = True
    db.session.commit()
    post(admin_client, "/automatic/operations/switch/auto_send", {"on": "1"}, page)
    run_worker(app)

    received = smtp_server.wait_for(7)
    by_subject = {r.message["Subject"]: r for r in received}
    assert len(received) == 7 and len(by_subject) == 7
    to = {}
    for r in received:
        to.setdefault(r.message["To"].addresses[0].addr_spec, []).append(r)
    assert sorted(len(v) for v in to.values()) == [1, 1, 2, 3]

    mobile_mail = to["hanako@docomo.ne.jp"][0]
    assert mobile_mail.message["Subject"] == "ご注文確認R-2"
    assert "rakuten 携帯署名" in mobile_mail.message.get_content()
    assert "PC署名" not in mobile_mail.message.get_content()
    repeat_mail = to["jiro@example.jp"][0]
    assert "いつもありがとうございます" in repeat_mail.message["Subject"]
    assert "3回目のご注文" in repeat_mail.message.get_content()
    taro = {r.message["Subject"]: r.message for r in to["taro@example.jp"]}
    notice = next(m for s, m in taro.items() if "発送" in s)
    assert "ヤマト運輸にて発送" in notice.get_content() and "1234-5678-9012" in notice.get_content()
    assert "ご注文ありがとうございます" in next(s for s in taro if "R-1" in s and "発送" not in s)
    amazon_mails = to["buyer@example.com"]
    assert len(amazon_mails) == 2  # confirmation + shipping notice, never a follow-up
    assert any("佐川急便にて発送" in r.message.get_content() for r in amazon_mails)
    for r in amazon_mails:
        assert str(r.message["From"]) == "さくら雑貨 amazon店 <amazon@sakura.example.jp>"
        assert str(r.message["Reply-To"]) == "support-amazon@sakura.example.jp"
        assert "archive-amazon@sakura.example.jp" in r.rcpt_tos
        assert "さくら雑貨 amazon店 PC署名" in r.message.get_content()
    for r in to["taro@example.jp"]:
        assert "archive-rakuten@sakura.example.jp" in r.rcpt_tos
        assert str(r.message["Reply-To"]) == "support-rakuten@sakura.example.jp"

    retried = rows(order_id=repeat.id, kind="order_confirmation")[0]
    assert retried.state == "sent" and retried.attempts == 3
    history = staff_client.get(f"/automatic/history?store={rakuten.id}").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*jiro@example.jp(?:(?!</tr>).)*</tr>", history, re.S)
    assert row and "送信済み" in row.group(0) and "250" in row.group(0)
    assert "buyer@example.com" not in history  # one store chosen
    assert "buyer@example.com" in staff_client.get("/automatic/history").get_data(as_text=True)
