"""The record block and each recipient's mail, on plain objects (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shopmail.models import DeskSettings, Order, RecordMailing
from shopmail.record_mails.block import record_block
from shopmail.record_mails.drafts import UnknownTags, check_tags, recipient_of, render_mail
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    QuoteFactory,
    QuoteLineFactory,
    RecordMailingFactory,
    ShipmentFactory,
    StoreFactory,
)

STORE = StoreFactory.build(
    id=1,
    name="さくら雑貨 本店",
    from_name="さくら雑貨 本店",
    from_addr="shop@sakura.example.jp",
    signature_pc="--\nさくら雑貨 本店(PC)",
    signature_mobile="--\nさくら雑貨(携帯)",
)


def settings(**kw) -> DeskSettings:
    values = dict(
        record_mail_shipping_instructions=False,
        bank_account_in_order_mails=False,
        bank_account_text="さくら銀行 本店 普通 1234567",
    )
    values.update(kw)
    return DeskSettings(**values)


def an_order(**kw) -> Order:
    fields = dict(
        id=7,
        number="A-1001",
        ordered_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        payment_method="クレジットカード",
        payment_kind="card",
        item_total=5390,
        tax=490,
        shipping_fee=0,
        points_used=0,
        total=5390,
        buyer_name="山田 太郎",
        buyer_email="taro@example.jp",
        buyer_zip="600-8216",
        buyer_address="京都府京都市下京区",
        buyer_tel="075-000-0001",
        ship_name="山田 花子",
        ship_company="",
        ship_zip="",
        ship_address="東京都千代田区",
        ship_tel="03-0000-0000",
        shipping_instructions="午前中指定",
        lines=[
            OrderLineFactory.build(
                name="有田焼 マグカップ", unit_price=2200, quantity=2, options=""
            ),
            OrderLineFactory.build(name="手ぬぐい", unit_price=990, quantity=1, options=""),
        ],
    )
    fields.update(kw)
    return OrderFactory.build(store=STORE, **fields)


def sections(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.startswith("■")]


def test_an_order_block_has_the_manuals_parts_in_order():
    block = record_block("order", an_order(), settings())
    assert sections(block) == ["■ご注文内容", "■ご注文詳細", "■ご注文者様情報", "■配送先情報"]
    assert "注文番号：A-1001\n" in block and "決済方法：クレジットカード\n" in block
    # The tax is the part of the price it is, not an amount on top; the lines add up.
    assert "商品合計：5,390円（うち消費税 490円）\n送料：0円\nご請求額：5,390円" in block
    assert "氏名：山田 太郎 様\n住所：〒600-8216 京都府京都市下京区" in block
    # Empty parts are left out: no ship-to company, no postal code.
    assert "会社名" not in block and "住所：東京都千代田区" in block


def test_points_and_options_only_when_used():
    plain = record_block("order", an_order(), settings())
    assert "ポイント" not in plain and "(" not in plain
    lines = [
        OrderLineFactory.build(name="手ぬぐい", unit_price=990, quantity=1, options="名入れ: 山田")
    ]
    used = record_block("order", an_order(points_used=300, lines=lines), settings())
    assert "ポイント利用：-300円\nご請求額：" in used and "・手ぬぐい\n  (名入れ: 山田)" in used


@pytest.mark.parametrize(
    ("kind", "shown", "expected"),
    [
        ("bank_transfer", True, True),
        ("bank_transfer", False, False),
        ("card", True, False),
    ],
)
def test_bank_account_only_for_bank_transfers_when_switched_on(kind, shown, expected):
    order = an_order(payment_kind=kind, payment_method="銀行振込")
    block = record_block("order", order, settings(bank_account_in_order_mails=shown))
    assert ("■お振込先\nさくら銀行 本店 普通 1234567" in block) is expected


def test_shipping_instructions_only_when_switched_on_and_present():
    assert "発送指示" not in record_block("order", an_order(), settings())
    on = settings(record_mail_shipping_instructions=True)
    assert record_block("order", an_order(), on).endswith("■発送指示\n午前中指定")
    assert "発送指示" not in record_block("order", an_order(shipping_instructions=""), on)


def test_a_shipment_block_leads_with_its_id_and_tracking_then_the_order():
    order = an_order()
    shipment = ShipmentFactory.build(
        order=order,
        id=3,
        number="S0000042",
        carrier="ヤマト運輸",
        tracking_no="123456789012",
        confirmed_at=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
    )
    block = record_block("shipment", shipment, settings())
    assert sections(block)[:2] == ["■出荷情報", "■ご注文内容"]
    assert "出荷番号：S0000042\n出荷日：2026-11-24\n配送業者：ヤマト運輸" in block
    assert "お問い合わせ伝票番号：123456789012" in block
    assert "kuronekoyamato" in block


def test_a_quote_block_has_number_validity_lines_totals_and_customer():
    quote = QuoteFactory.build(
        number="Q202611-0007",
        issued_at=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        expires_on=date(2026, 12, 1),
        company="京都商事株式会社",
        contact_name="高橋 誠",
        email="buyer@kyoto.example.jp",
        item_total=15400,
        tax=1540,
        shipping_fee=0,
        total=16940,
        lines=[QuoteLineFactory.build(name="美濃焼 豆皿", unit_price=1540, quantity=10)],
        notes="",
    )
    block = record_block("quote", quote, settings())
    assert sections(block) == ["■お見積内容", "■お見積明細", "■お客様情報"]
    assert "見積番号：Q202611-0007\n発行日：2026-11-01\n有効期限：2026-12-01" in block
    assert "・美濃焼 豆皿\n  1,540円 × 10 = 15,400円" in block
    assert "お見積総額：16,940円" in block and "会社名：京都商事株式会社" in block


def mailing(**kw) -> RecordMailing:
    values = dict(
        id=1,
        record_type="order",
        title="【[TENPO_NAME]】ご注文 [ORDER_NO]\nについて",
        header="[BUYER_NAME] 様",
        footer="ありがとうございました。",
        insert_signature=True,
    )
    values.update(kw)
    return RecordMailingFactory.build(**values)


def test_each_mail_is_header_block_footer_and_the_signature_for_the_device():
    pc = recipient_of("order", an_order())
    subject, body = render_mail(mailing(), pc, settings())
    assert subject == "【さくら雑貨 本店】ご注文 A-1001 について"
    assert body.startswith("山田 太郎 様\n\n■ご注文内容\n")
    assert body.endswith("ありがとうございました。\n\n--\nさくら雑貨 本店(PC)\n")
    mobile = recipient_of("order", an_order(buyer_email="taro@docomo.ne.jp"))
    assert mobile.device == "mobile"
    assert render_mail(mailing(), mobile, settings())[1].endswith("--\nさくら雑貨(携帯)\n")
    _, unsigned = render_mail(mailing(insert_signature=False), pc, settings())
    assert unsigned.endswith("ありがとうございました。\n")


@pytest.mark.parametrize(
    ("address", "code"), [("", "empty"), ("taro@@example", "invalid"), ("a b@x.jp", "space")]
)
def test_a_record_without_a_usable_address_is_not_sendable(address, code):
    recipient = recipient_of("order", an_order(buyer_email=address))
    assert not recipient.sendable and recipient.address_error.code == code


def test_unknown_tags_are_refused_by_field():
    check_tags(title="[ORDER_NO] [QUOTE_NO] [SHIPMENT_ID]", header="[注意] [1]", footer="")
    with pytest.raises(UnknownTags) as caught:
        check_tags(title="[UNSUBSCRIBE_URL]", header="ok", footer="\n[NOPE]")
    assert set(caught.value.errors) == {"title", "footer"}
    assert caught.value.errors["footer"].unknown[0].line == 2
