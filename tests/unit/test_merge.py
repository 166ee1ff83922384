"""Tag values for records: what a [TAG] becomes in a customer's mail."""

from datetime import UTC, date, datetime

from shopmail.core.merge import format_items, member_values, order_values, store_values
from shopmail.mail.tags import render
from shopmail.models import Order
from tests.factories import (
    MemberFactory,
    OrderFactory,
    OrderLineFactory,
    ShipmentFactory,
    StoreFactory,
)


def an_order(**kw) -> Order:
    lines = [
        OrderLineFactory.build(
            name="有田焼 マグカップ", unit_price=2200, quantity=2, options="ギフト包装: あり"
        ),
        OrderLineFactory.build(name="手ぬぐい", unit_price=990, quantity=1, options=""),
    ]
    fields = dict(
        number="A-1001",
        ordered_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
        payment_method="銀行振込",
        payment_kind="bank_transfer",
        item_total=5390,
        tax=490,
        shipping_fee=0,
        points_used=0,
        total=5390,
        buyer_name="山田 太郎",
        purchase_count=1,
        delivery_method="ヤマト運輸",
        lines=lines,
    )
    fields.update(kw)
    return OrderFactory.build(**fields)


def test_items_block_lists_each_line_with_options_and_subtotals():
    block = format_items(an_order().lines)
    assert block.splitlines() == [
        "・有田焼 マグカップ",
        "  (ギフト包装: あり)",
        "  2,200円 × 2 = 4,400円",
        "・手ぬぐい",
        "  990円 × 1 = 990円",
    ]


def test_order_values_fill_a_template():
    order = an_order()
    shipment = ShipmentFactory.build(
        order=order,
        number="S1",
        carrier="ヤマト運輸",
        tracking_no="123456789012",
        confirmed_at=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
    )
    order.shipments = [shipment]  # the relationship loaded, as from the database
    text = render(
        "[BUYER_NAME]様 [ORDER_NO] [ORDER_DATE] [TOTAL] [TRACKING_URL]", order_values(order)
    )
    assert text == (
        "山田 太郎様 A-1001 2026-11-24 00:00 5,390円 "
        "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01=123456789012"
    )


def test_points_and_bank_account_only_when_they_apply():
    assert order_values(an_order())["POINTS_USED"] == ""
    assert order_values(an_order(points_used=300))["POINTS_USED"] == "300"
    assert order_values(an_order(), bank_account="京都銀行 本店 普通 1234567")["BANK_ACCOUNT"]
    card = an_order(payment_kind="card")
    assert order_values(card, bank_account="京都銀行")["BANK_ACCOUNT"] == ""


def test_store_and_member_values():
    store = StoreFactory.build(
        name="本店", from_name="さくら雑貨", signature_pc="PC署名", signature_mobile="携帯署名"
    )
    values = store_values(store, now=datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert values == {
        "TENPO_NAME": "さくら雑貨",
        "SIGN": "PC署名",
        "SIGN_M": "携帯署名",
        "TODAY": "2027-01-01",
    }
    member = MemberFactory.build(
        number="M000001",
        contact_name="佐藤 花子",
        company="佐藤商店",
        email="h@example.jp",
        last_purchase_on=date(2026, 10, 1),
    )
    assert render("[COMPANY] [MEMBER_NAME]様 [LAST_PURCHASE_DATE]", member_values(member)) == (
        "佐藤商店 佐藤 花子様 2026-10-01"
    )
