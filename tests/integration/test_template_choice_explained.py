"""「なぜこのテンプレート?」: every automatic mail says which template won and why — store or
common default (or the shipped text), PC or mobile by the buyer's domain, stage 1 or 2 by the
purchase count against the store's threshold, the carrier's notice or the generic one.

The templates are saved through the editor with a marker in their subject; mails are created
and sent by a real worker to a real SMTP server; for each mail that arrived, the marker (or
the shipped text) says which template was used, and the mail page, the history and the queue
must say the same.
"""

from __future__ import annotations

import re
from datetime import timedelta

from shopmail.extensions import db
from shopmail.models import DeskSettings, Message, Store
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker
from tests.factories import MailStoreFactory, OrderFactory, ShipmentFactory

OC, SN, FU = "order_confirmation", "shipping_notice", "follow_up"
DEFAULT_SLOTS = [
    (OC, "pc", "1"),
    (OC, "pc", "2"),
    (OC, "mobile", "1"),
    (OC, "mobile", "2"),
    (SN, "pc", ""),
    (SN, "mobile", ""),
    (SN, "pc", "ヤマト運輸"),
    (SN, "mobile", "ヤマト運輸"),
    (SN, "pc", "佐川急便"),
    (SN, "mobile", "佐川急便"),
]  # 日本郵便 and the follow-up keep the shipped text
STORE_A_SLOTS = [(OC, "pc", "1"), (SN, "mobile", "ヤマト運輸"), (SN, "pc", "")]
# (store, number, address, purchase count, carrier shipped with or None)
ORDERS = [
    ("A", "A-1", "a1@example.jp", 1, None),
    ("A", "A-2", "a2@gmail.com", 2, None),
    ("A", "A-3", "a3@docomo.ne.jp", 1, None),
    ("A", "A-4", "a4@ezweb.ne.jp", 5, None),
    ("A", "A-5", "a5@example.jp", 1, "ヤマト運輸"),
    ("A", "A-6", "a6@docomo.ne.jp", 3, "ヤマト運輸"),
    ("A", "A-7", "a7@example.co.jp", 1, "佐川急便"),
    ("A", "A-8", "a8@example.jp", 2, "西濃運輸"),
    ("A", "A-9", "a9@softbank.ne.jp", 1, "西濃運輸"),
    ("A", "A-10", "a10@i.softbank.jp", 2, "日本郵便"),
    ("A", "A-11", "a11@yahoo.co.jp", 2, "ヤマト運輸"),
    ("A", "A-12", "a12@docomo.ne.jp", 2, None),
    ("B", "B-1", "b1@example.jp", 1, None),
    ("B", "B-2", "b2@example.jp", 7, None),
    ("B", "B-3", "b3@docomo.ne.jp", 1, None),
    ("B", "B-4", "b4@example.jp", 1, "ヤマト運輸"),
    ("B", "B-5", "b5@ezweb.ne.jp", 1, "佐川急便"),
    ("B", "B-6", "b6@example.jp", 4, "日本郵便"),
    ("B", "B-7", "b7@example.jp", 1, "西濃運輸"),
    ("B", "B-8", "b8@example.co.jp", 3, None),
]
THRESHOLD = {"A": 2, "B": 0}  # B has no repeat-customer stage


def make_store(smtp_server, code: str) -> Store:
    return MailStoreFactory(
        smtp_server=smtp_server,
        code=code,
        name=f"さくら雑貨 {code}",
        from_addr=f"{code.lower()}@sakura.example.jp",
        signature_pc=f"--\n{code} PC署名",
        signature_mobile=f"--\n{code} 携帯署名",
        repeat_from_count=THRESHOLD[code],
        follow_up_days=1,
        bcc="",
    )


def save_template(client, store: str, kind: str, device: str, variant: str) -> None:
    url = f"/automatic/templates?store={store}&kind={kind}&device={device}&variant={variant}"
    marker = f"T:{'s' if store != 'default' else 'd'}|{kind}|{device}|{variant}|"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "subject": f"{marker} [ORDER_NO]",
            "body": "[BUYER_NAME]様\nご注文番号 [ORDER_NO]\n"
            + ("[SIGN_M]" if device == "mobile" else "[SIGN]"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post(client, path: str, data: dict, page: str = "/automatic/operations"):
    response = client.post(path, data={"csrf_token": csrf_token(client, page), **data})
    assert response.status_code == 302
    return response


def expected_why(mail, order, store: Store, code: str) -> tuple[str, str]:
    """(kind, explanation) from the mail that arrived: its marker names the template used."""
    subject, text = str(mail["Subject"]), mail.get_content()
    marker = re.search(r"T:([sd])\|(\w+)\|(\w+)\|([^|]*)\|", subject)
    mobile = f"{code} 携帯署名" in text
    assert mobile != (f"{code} PC署名" in text)
    if marker:
        source, kind, device, variant = marker.groups()
        assert (device == "mobile") == mobile
    else:  # the shipped text (日本郵便's notice, the follow-up)
        source, variant = "shipped", order.shipments[0].carrier if "発送" in subject else ""
        kind = SN if "発送" in subject else FU if "届き" in subject or "到着" in subject else OC
    parts = [
        {
            "s": f"店舗別テンプレート({store.name})",
            "d": "共通設定(既定値)",
            "shipped": "標準テンプレート(既定値・未編集)",
        }[source],
        f"{'モバイル' if mobile else 'PC'}({order.buyer_email.rpartition('@')[2]})",
    ]
    threshold, count = THRESHOLD[code], order.purchase_count
    if kind == OC:
        if variant == "2":
            parts.append(f"2回目以降(購入{count}回 ≥ 基準{threshold}回)")
        elif threshold == 0:
            parts.append("1回目(2回目以降の基準なし)")
        else:
            parts.append(f"1回目(購入{count}回 < 基準{threshold}回)")
    elif kind == SN:
        carrier = order.shipments[0].carrier
        parts.append(f"{carrier}用" if variant == carrier else f"汎用({carrier}用なし)")
    return kind, "・".join(parts)


def test_the_explanation_matches_the_template_used_for_twenty_varied_orders(
    app, admin_client, staff_client, smtp_server
):
    stores = {code: make_store(smtp_server, code) for code in ("A", "B")}
    orders = {}
    for code, number, address, count, carrier in ORDERS:
        order = OrderFactory(
            store=stores[code],
            number=number,
            buyer_email=address,
            purchase_count=count,
            delivery_method=carrier or "ヤマト運輸",
            ordered_at=utcnow() - timedelta(days=3),
        )
        if carrier:
            ShipmentFactory(order=order, carrier=carrier, confirmed_at=utcnow() - timedelta(days=2))
        orders[address] = order
    db.session.commit()
    for slot in DEFAULT_SLOTS:
        save_template(admin_client, "default", *slot)
    for slot in STORE_A_SLOTS:
        save_template(admin_client, str(stores["A"].id), *slot)

    post(admin_client, "/automatic/operations/kinds", {"kinds": [OC, SN, FU]})
    post(admin_client, "/automatic/operations/create-now", {})
    run_worker(app)  # the creation job
    db.session.expire_all()
    made = db.session.scalars(db.select(Message)).all()
    shipped = sum(1 for o in ORDERS if o[4])
    assert len(made) == len(ORDERS) + 2 * shipped

    # The queue says why before anything is sent (the reach-back mails are held there).
    queue = staff_client.get("/automatic/queue").get_data(as_text=True)
    assert "店舗別テンプレート(さくら雑貨 A)・PC(example.jp)・1回目(購入1回 &lt; 基準2回)" in queue

    settings = DeskSettings.get()
    settings.mail_server_running, settings.auto_send = True, False
    db.session.commit()
    post(staff_client, "/automatic/queue/release", {"held": "all"}, "/automatic/queue")
    post(admin_client, "/automatic/operations/switch/auto_send", {"on": "1"})
    run_worker(app)
    received = smtp_server.wait_for(len(made))
    assert len(received) == len(made)

    # Settings change afterwards: what is shown is what decided it then.
    stores["A"].repeat_from_count = 10
    db.session.commit()

    history = staff_client.get("/automatic/history").get_data(as_text=True)
    seen_sources, seen_kinds = set(), set()
    for mail in received:
        address = mail.message["To"].addresses[0].addr_spec
        order = orders[address]
        code = order.store.code
        kind, why = expected_why(mail.message, order, stores[code], code)
        row = db.session.scalar(db.select(Message).filter_by(order_id=order.id, kind=kind))
        page = staff_client.get(f"/automatic/messages/{row.id}").get_data(as_text=True)
        shown = re.search(r"テンプレート選択の理由:</strong> ([^<]+?) <small", page)
        assert shown, page
        assert shown.group(1).replace("&lt;", "<").replace("&gt;", ">") == why, (address, kind)
        assert why.replace("<", "&lt;") in history
        seen_sources.add(why.split("・")[0][:4])
        seen_kinds.add(kind)
    assert seen_sources == {"店舗別テ", "共通設定", "標準テン"}
    assert seen_kinds == {OC, SN, FU}


def test_the_preview_with_a_real_order_says_which_template_it_gets(app, admin_client, smtp_server):
    store = make_store(smtp_server, "A")
    OrderFactory(store=store, number="P-1", buyer_email="p1@docomo.ne.jp", purchase_count=3)
    db.session.commit()
    save_template(admin_client, str(store.id), OC, "pc", "1")
    url = f"/automatic/templates/preview?store={store.id}&kind={OC}&device=mobile&variant=2"
    token = csrf_token(admin_client, "/automatic/templates")
    preview = admin_client.post(
        url,
        data={"subject": "件名 [ORDER_NO]", "body": "[BUYER_NAME]様"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "件名 P-1" in preview
    assert (
        "標準テンプレート(既定値・未編集)・モバイル(docomo.ne.jp)・2回目以降(購入3回 ≥ 基準2回)"
        in preview
    )
    # Editing the store's PC stage 1 slot: this mobile repeat buyer gets another template.
    url = url.replace("device=mobile&variant=2", "device=pc&variant=1")
    preview = admin_client.post(
        url,
        data={"subject": "件名 [ORDER_NO]", "body": "[BUYER_NAME]様"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "編集中のものとは別のテンプレート" in preview
