"""The shipped default templates, as a Japanese shop's customer reads them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopmail.automatic.default_templates import is_retired, shipped_templates
from shopmail.core.merge import order_values, store_values
from shopmail.mail.tags import find_unknown, find_warnings, render
from tests.factories import OrderFactory, OrderLineFactory, ShipmentFactory, StoreFactory

SHIPPED = shipped_templates()


def a_real_order(points_used: int = 300):
    """A 2-line order with shipping and points, shipped four days ago (a backfilled notice)."""
    store = StoreFactory.build(
        name="さくら雑貨 本店",
        from_name="さくら雑貨",
        signature_pc="--\nさくら雑貨",
        signature_mobile="--",
    )
    lines = [
        OrderLineFactory.build(name="有田焼 マグカップ 藍", unit_price=1320, quantity=1),
        OrderLineFactory.build(position=2, name="手ぬぐい", unit_price=660, quantity=1),
    ]
    order = OrderFactory.build(
        store=store,
        number="A-1001",
        buyer_name="山田 太郎",
        lines=lines,
        item_total=1980,
        tax=180,
        shipping_fee=660,
        points_used=points_used,
        total=1980 + 660 - points_used,
        purchase_count=3,
        delivery_method="ヤマト運輸",
    )
    shipped = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
    shipment = ShipmentFactory.build(order=order, carrier="ヤマト運輸", confirmed_at=shipped)
    return order, shipment


def rendered(template, order, shipment):
    values = {**store_values(order.store, shipped_at()), **order_values(order, shipment)}
    return render(template["subject"], values), render(template["body"], values)


def shipped_at():
    return datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the notice is created days later


def yen(text: str, label: str) -> int:
    found = re.search(rf"^{label}[　 ]*：(-?[\d,]+)円", text, re.MULTILINE)
    assert found, f"{label} missing in:\n{text}"
    return int(found[1].replace(",", ""))


@pytest.mark.parametrize(
    "template", SHIPPED, ids=lambda t: f"{t['kind']}-{t['device']}-{t['variant']}"
)
def test_every_shipped_default_renders_with_a_real_order(template):
    order, shipment = a_real_order()
    subject, body = rendered(template, order, shipment)
    for text in (template["subject"], template["body"]):
        assert find_unknown(text, "order") == [] and find_warnings(text, "order") == []
    assert not re.search(r"\[[A-Z_]+\]", subject + body), "a tag was left unfilled"
    assert "さくら雑貨" in subject and "山田 太郎" in body
    assert "本日" not in body  # a notice created days later must not say "today"
    if template["device"] == "mobile":
        (subject + body).encode("iso2022_jp")  # mobile stores may send ISO-2022-JP


@pytest.mark.parametrize("points", [0, 300])
@pytest.mark.parametrize("stage", ["1", "2"])
def test_the_pc_order_confirmation_adds_up_with_the_tax_as_included(stage, points):
    [template] = [
        t
        for t in SHIPPED
        if (t["kind"], t["device"], t["variant"]) == ("order_confirmation", "pc", stage)
    ]
    order, shipment = a_real_order(points_used=points)
    _, body = rendered(template, order, shipment)
    items, fee, used = yen(body, "商品合計"), yen(body, "送料"), yen(body, "ポイント利用")
    assert (items, fee, used) == (1980, 660, -points)
    assert items + fee + used == yen(body, "ご請求額") == order.total
    assert "商品合計　　：1,980円（うち消費税 180円）" in body
    assert not re.search(r"^消費税", body, re.MULTILINE)  # never a line read as an added amount


def test_the_shipping_notice_says_the_day_it_was_shipped():
    order, shipment = a_real_order()
    for template in SHIPPED:
        if template["kind"] == "shipping_notice":
            _, body = rendered(template, order, shipment)
            assert "2026-11-28に" in body and "発送" in body


def test_the_mobile_order_confirmation_says_the_total_includes_tax():
    order, shipment = a_real_order()
    for template in SHIPPED:
        if (template["kind"], template["device"]) == ("order_confirmation", "mobile"):
            assert "合計:2,340円(税込)" in rendered(template, order, shipment)[1]


def test_the_earlier_shipped_texts_are_known_as_retired_and_todays_are_not():
    old = Path(__file__).with_name("shipped_defaults_v1.txt").read_text(encoding="utf-8")
    blocks = old.split("\n=====\n")
    assert len(blocks) == len(SHIPPED)
    for block in blocks:
        key, subject, body = block.split("\n-----\n")
        kind, device, variant = key.split("|")
        assert is_retired(kind, device, variant, subject, body)
        assert is_retired(kind, device, variant, subject + " ", body.replace("\n", "\r\n"))
        assert not is_retired(kind, device, variant, subject, body + "店長より一言")
    for t in SHIPPED:
        assert not is_retired(**t)
