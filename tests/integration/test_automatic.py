"""Automatic mails on real parts: creation from orders, review in the queue, sending over SMTP,
the history — as the manual's first start goes (create → review and delete → send)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from shopmail.automatic import creation as automatic
from shopmail.automatic import operations
from shopmail.core import dispatch
from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings, Message, Store
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker
from tests.factories import MailStoreFactory, OrderFactory, OrderLineFactory, ShipmentFactory


def make_store(smtp_server, code: str, channel: str, **extra) -> Store:
    """A store sending through the test SMTP server; its addresses and signatures name `code`."""
    values = dict(
        name=f"さくら雑貨 {code}",
        from_addr=f"{code}@sakura.example.jp",
        from_name=f"さくら雑貨 {code}店",
        reply_to=f"support-{code}@sakura.example.jp",
        bcc=f"archive-{code}@sakura.example.jp",
        signature_pc=f"--\nさくら雑貨 {code}店 PC署名",
        signature_mobile=f"--\n{code} 携帯署名",
        follow_up_days=1,
    )
    values.update(extra)
    return MailStoreFactory(smtp_server=smtp_server, code=code, channel=channel, **values)


def make_order(store, number, email, *, days_ago=1, count=1, carrier="ヤマト運輸", shipped=None):
    """An order by 購入者 <number>, placed `days_ago`; shipped (confirmed) `shipped` days ago."""
    order = OrderFactory(
        store=store,
        number=number,
        ordered_at=utcnow() - timedelta(days=days_ago),
        buyer_name=f"購入者 {number}",
        buyer_email=email,
        purchase_count=count,
        delivery_method=carrier,
        lines=[OrderLineFactory.build(name="有田焼 マグカップ 藍", unit_price=2200)],
        tax=220,
        total=2420,
    )
    if shipped is not None:
        ShipmentFactory(
            order=order,
            number=f"S-{number}",
            carrier=carrier,
            tracking_no="1234-5678-9012",
            confirmed_at=utcnow() - timedelta(days=shipped),
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
    buyer = make_order(
        amazon, "A-1", "buyer@example.com", days_ago=4, carrier="佐川急便", shipped=3
    )
    db.session.commit()

    page = "/automatic/operations"
    kinds = ["order_confirmation", "shipping_notice", "follow_up"]
    assert (
        post(admin_client, "/automatic/operations/kinds", {"kinds": kinds}, page).status_code == 302
    )
    assert post(admin_client, "/automatic/operations/create-now", {}, page).status_code == 302
    run_worker(app)
    automatic.create_mails("test")  # a second run (the hourly job) adds nothing
    db.session.commit()  # as the job would
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
    assert mobile_mail.message["Subject"] == "【さくら雑貨 rakuten店】ご注文確認（R-2）"
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


def switch_on(*kinds, days_ago=0):
    """Kinds in use since `days_ago` (so orders after that are new, not reached back for)."""
    operations.set_kinds("test", set(kinds), now=utcnow() - timedelta(days=days_ago))


def test_two_creators_at_once_make_one_mail_per_order_and_kind(app, smtp_server):
    store = make_store(smtp_server, "own", "own")
    for i in range(60):
        make_order(store, f"P-{i}", f"buyer{i}@example.jp", shipped=0.5)
    db.session.commit()
    switch_on("order_confirmation", "shipping_notice")
    errors = []

    def create():
        with app.app_context():
            try:
                automatic.create_mails("test")
                db.session.commit()  # as the job (or command) commits
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    assert errors == []
    made = rows()
    assert len(made) == 120
    assert len({(m.kind, m.order_id) for m in made}) == 120


def test_orders_after_the_switch_are_queued_and_old_ones_held(app, smtp_server):
    store = make_store(smtp_server, "own", "own")
    old = make_order(store, "OLD", "old@example.jp", days_ago=3)
    new = make_order(store, "NEW", "new@example.jp", days_ago=1)
    db.session.commit()
    switch_on("order_confirmation", days_ago=2)
    report = automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    assert (report.held, report.queued) == (1, 1)
    assert {m.order_id: m.state for m in rows()} == {old.id: "held", new.id: "queued"}
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="mails.created"))
    assert entry.details["held"] == 1 and entry.details["queued"] == 1


def test_follow_up_waits_for_the_stores_delay_and_never_goes_to_amazon(app, smtp_server):
    own = make_store(smtp_server, "own", "own")
    amazon = make_store(smtp_server, "amazon", "amazon")
    own.follow_up_days = 5
    due = make_order(own, "DUE", "due@example.jp", days_ago=9, shipped=6)
    make_order(own, "EARLY", "early@example.jp", days_ago=4, shipped=3)
    make_order(amazon, "AMZ", "amz@example.jp", days_ago=9, shipped=6)
    db.session.commit()
    switch_on("follow_up")
    automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    assert [(m.kind, m.order_id) for m in rows()] == [("follow_up", due.id)]


def test_a_carrier_without_any_template_is_reported_not_skipped_in_silence(
    app, admin_client, smtp_server
):
    from shopmail.automatic import templates as order_templates
    from shopmail.models import OrderMailTemplate

    store = make_store(smtp_server, "own", "own")
    make_order(store, "S-1", "s1@example.jp", carrier="西濃運輸", shipped=0.5)
    db.session.commit()
    order_templates.ensure_defaults()
    db.session.execute(
        db.delete(OrderMailTemplate).where(
            OrderMailTemplate.kind == "shipping_notice", OrderMailTemplate.variant == ""
        )
    )
    db.session.commit()
    switch_on("shipping_notice")
    report = automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    assert report.total == 0 and report.missing_templates
    page = admin_client.get("/automatic/operations").get_data(as_text=True)
    assert "西濃運輸" in page
    assert "テンプレートなし: 発送連絡は作成されません" in page
    assert "該当するテンプレートがないため" in page


def test_a_saved_store_template_stops_following_the_default_until_reset(
    app, admin_client, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "T-1", "t1@example.jp")
    db.session.commit()
    url = f"/automatic/templates?store={store.id}&kind=order_confirmation&device=pc&variant=1"
    page = admin_client.get(url).get_data(as_text=True)
    assert "共通設定(既定値)が適用されています" in page
    assert re.search(r"<button type=\"submit\" disabled[^>]*>共通設定\(既定値\)で上書きする", page)

    token = csrf_token(admin_client, url)
    bad = admin_client.post(
        url, data={"csrf_token": token, "subject": "ご注文 [ORDER_NO]", "body": "様\n  [ODRER_NO]"}
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "[ODRER_NO](2行目 3文字目)" in text
    saved = admin_client.post(
        url, data={"csrf_token": token, "subject": "店舗版 [ORDER_NO]", "body": "[BUYER_NAME]様"}
    )
    assert saved.status_code == 302
    page = admin_client.get(url).get_data(as_text=True)
    assert "共通設定(既定値)から変更されています" in page and "店舗版 [ORDER_NO]" in page

    preview = admin_client.post(
        url.replace("/templates?", "/templates/preview?"),
        data={"subject": "件名 [ORDER_NO]", "body": "[BUYER_NAME]様 [NOPE]"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "件名 T-1" in preview and "購入者 T-1様" in preview and "[NOPE]" in preview

    reset = admin_client.post(
        url.replace("/templates?", "/templates/reset?"), data={"csrf_token": token}
    )
    assert reset.status_code == 302
    page = admin_client.get(url).get_data(as_text=True)
    assert "共通設定(既定値)が適用されています" in page and "店舗版" not in page
    actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert "template.saved" in actions and "template.reset" in actions


def test_staff_review_the_queue_delete_a_mail_and_see_what_will_be_sent(
    app, staff_client, smtp_server
):
    store = make_store(smtp_server, "own", "own")
    keep = make_order(store, "K-1", "keep@example.jp", days_ago=2)
    drop = make_order(store, "D-1", "drop@docomo.ne.jp", days_ago=2)
    db.session.commit()
    switch_on("order_confirmation")
    automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    [keep_row] = rows(order_id=keep.id)
    [drop_row] = rows(order_id=drop.id)

    detail = staff_client.get(f"/automatic/messages/{keep_row.id}").get_data(as_text=True)
    assert "さくら雑貨 own店 &lt;own@sakura.example.jp&gt;" in detail
    assert "support-own@sakura.example.jp" in detail and "BCC(エンベロープ)" in detail
    assert "archive-own@sakura.example.jp" in detail and "K-1" in detail
    assert "PC署名" in detail

    filtered = staff_client.get(f"/automatic/queue?store={store.id}&kind=order_confirmation")
    assert "drop@docomo.ne.jp" in filtered.get_data(as_text=True)
    partial = staff_client.get("/automatic/queue?kind=follow_up", headers={"HX-Request": "true"})
    assert "<h1>" not in partial.get_data(as_text=True)
    assert "drop@docomo.ne.jp" not in partial.get_data(as_text=True)

    response = post(staff_client, "/automatic/queue/delete", {"ids": [drop_row.id]})
    assert response.status_code == 302
    assert {m.order_id: m.state for m in rows()} == {keep.id: "held", drop.id: "deleted"}
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="queue.deleted"))
    assert entry.details["count"] == 1
    automatic.create_mails("test")  # a deleted mail is never made again
    db.session.commit()  # as the job (or command) commits
    assert len(rows()) == 2


def test_a_failed_mail_can_be_sent_again_by_staff(app, staff_client, smtp_server):
    store = make_store(smtp_server, "own", "own")
    order = make_order(store, "F-1", "refused@example.jp")
    db.session.commit()
    switch_on("order_confirmation", days_ago=2)
    settings = DeskSettings.get()
    settings.mail_server_running = settings.auto_send = True
    db.session.commit()
    smtp_server.handler.refuse["refused@example.jp"] = (550, "5.1.1 No such user")
    automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    dispatch.dispatch_sending()
    run_worker(app)
    [row] = rows(order_id=order.id)
    assert row.state == "failed"
    history = staff_client.get("/automatic/history").get_data(as_text=True)
    assert "No such user" in history and "550" in history
    del smtp_server.handler.refuse["refused@example.jp"]
    detail = staff_client.get(f"/automatic/messages/{row.id}").get_data(as_text=True)
    assert "二重に届く可能性" in detail
    post(staff_client, f"/automatic/messages/{row.id}/send-again", {})
    run_worker(app)
    assert len(smtp_server.wait_for(1)) == 1
    assert rows(order_id=order.id)[0].state == "sent"


def test_operations_and_templates_are_for_admins_queue_and_history_for_staff(
    app, staff_client, admin_client
):
    for path in ("/automatic/operations", "/automatic/templates"):
        assert staff_client.get(path).status_code == 403
        assert admin_client.get(path).status_code == 200
    for path in ("/automatic/queue", "/automatic/history"):
        assert staff_client.get(path).status_code == 200
    token = csrf_token(staff_client, "/automatic/queue")
    refused = staff_client.post(
        "/automatic/operations/switch/auto_send", data={"csrf_token": token, "on": "1"}
    )
    assert refused.status_code == 403
    assert DeskSettings.get().auto_send is False


def test_switches_are_audited_and_the_guide_follows_the_data(app, admin_client, smtp_server):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "G-1", "g1@example.jp", days_ago=2)
    db.session.commit()
    page = "/automatic/operations"
    guide = admin_client.get(page).get_data(as_text=True)
    assert re.search(r'data-step="1" data-state="next"', guide)
    post(admin_client, f"{page}/switch/auto_create", {"on": "1"}, page)
    post(admin_client, f"{page}/kinds", {"kinds": ["order_confirmation"]}, page)
    automatic.create_mails("test")
    db.session.commit()  # as the job (or command) commits
    guide = admin_client.get(page).get_data(as_text=True)
    assert 'data-step="1" data-state="done"' in guide and 'data-step="2" data-state="next"' in guide
    assert "確認待ちのメール 1通" in guide
    post(admin_client, "/automatic/queue/release", {"held": "all"})
    guide = admin_client.get(page).get_data(as_text=True)
    assert 'data-step="2" data-state="done"' in guide and 'data-step="3" data-state="next"' in guide
    post(
        admin_client,
        f"{page}/stores/{store.id}",
        {"follow_up_days": "0", "repeat_from_count": "3"},
        page,
    )
    db.session.expire_all()
    assert store.follow_up_days == 1  # refused: nothing changed
    post(
        admin_client,
        f"{page}/stores/{store.id}",
        {"follow_up_days": "10", "repeat_from_count": "3"},
        page,
    )
    db.session.expire_all()
    assert (store.follow_up_days, store.repeat_from_count) == (10, 3)
    actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"desk.auto_create_on", "kind.enabled", "mails.created", "queue.released"} <= actions


def test_the_create_mails_command_creates_and_reports(app, smtp_server):
    store = make_store(smtp_server, "own", "own")
    make_order(store, "C-1", "c1@example.jp", days_ago=2)
    db.session.commit()
    switch_on("order_confirmation")
    result = app.test_cli_runner().invoke(args=["create-mails"])
    assert result.exit_code == 0, result.output
    assert "created 1 mails" in result.output and "1 held" in result.output
    assert len(rows()) == 1
