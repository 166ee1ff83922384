"""The JSON API as an order system meets it: upserts that can be re-sent safely, clear errors
naming the field, tokens, limits, and an order's mails read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopmail.data_in.tokens import create_token, revoke_token
from shopmail.extensions import db, limiter
from shopmail.models import AuditEntry, Member, Message, Order, Quote, Shipment


@pytest.fixture
def token(app):
    row, secret = create_token("受注システム", actor="test")
    db.session.commit()
    return row, secret


@pytest.fixture
def api(app, token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token[1]}"}

    def call(method: str, path: str, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def order(number: str = "R-1001", **changes) -> dict:
    data = {
        "store": "own",
        "number": number,
        "ordered_at": "2025-04-01T10:15:00+09:00",
        "buyer": {
            "name": "山田 太郎",
            "email": "taro@example.jp",
            "zip": "600-8001",
            "address": "京都府京都市下京区四条通 1-2-3",
            "tel": "075-000-0000",
        },
        "ship_to": {"name": "山田 花子", "company": "", "address": "大阪府大阪市北区 1-1"},
        "delivery_method": "ヤマト運輸",
        "payment": {"method": "クレジットカード"},
        "shipping_fee": 660,
        "points_used": 100,
        "lines": [
            {"sku": "SKU-1", "name": "有田焼 マグカップ 藍", "unit_price": 2200, "quantity": 2},
            {"name": "手ぬぐい 麻の葉", "options": "ギフト包装: あり", "unit_price": 990},
        ],
        "shipment": {"tracking_number": "1234-5678-9012", "confirmed_at": "2025-04-02T09:00:00"},
    }
    data.update(changes)
    return data


def test_an_order_is_stored_with_lines_buyer_payment_and_a_confirmed_shipment(api, store):
    response = api("POST", "/orders", json={"orders": [order()]})
    assert response.status_code == 200, response.json
    assert response.json["created"] == 1
    db.session.expire_all()
    row = db.session.scalar(db.select(Order).filter_by(number="R-1001"))
    assert row.buyer_email == "taro@example.jp" and row.ship_name == "山田 花子"
    assert [(line.name, line.quantity) for line in row.lines] == [
        ("有田焼 マグカップ 藍", 2),
        ("手ぬぐい 麻の葉", 1),
    ]
    assert row.item_total == 5390 and row.total == 5390 + 660 - 100
    assert row.payment_kind == "card" and row.purchase_count == 1 and row.status == "shipped"
    assert row.ordered_at == datetime(2025, 4, 1, 1, 15, tzinfo=UTC)
    shipment = row.shipments[0]
    assert shipment.number == "R-1001" and shipment.carrier == "ヤマト運輸"
    assert shipment.tracking_no == "1234-5678-9012"
    # No offset given: Tokyo time.
    assert shipment.confirmed_at == datetime(2025, 4, 2, 0, 0, tzinfo=UTC)


def test_sending_the_same_orders_twice_changes_nothing(api, store):
    payload = {"orders": [order("R-1"), order("R-2")]}
    first = api("POST", "/orders", json=payload).json
    db.session.expire_all()
    before = {o.id: o.updated_at for o in db.session.scalars(db.select(Order))}
    shipments_before = {s.id: s.updated_at for s in db.session.scalars(db.select(Shipment))}
    second = api("POST", "/orders", json=payload).json
    assert second["created"] == 0 and second["updated"] == 0 and second["unchanged"] == 2
    assert [o["id"] for o in second["orders"]] == [o["id"] for o in first["orders"]]
    db.session.expire_all()
    assert {o.id: o.updated_at for o in db.session.scalars(db.select(Order))} == before
    assert {s.id: s.updated_at for s in db.session.scalars(db.select(Shipment))} == shipments_before
    assert db.session.query(Order).count() == 2 and db.session.query(Shipment).count() == 2


def test_a_changed_order_is_updated_in_place(api, store):
    first = api("POST", "/orders", json={"orders": [order()]}).json
    changed = order(lines=[{"name": "南部鉄器 急須", "unit_price": 8800}])
    second = api("POST", "/orders", json={"orders": [changed]}).json
    assert second["updated"] == 1 and second["orders"][0]["id"] == first["orders"][0]["id"]
    db.session.expire_all()
    row = db.session.scalar(db.select(Order))
    assert [line.name for line in row.lines] == ["南部鉄器 急須"] and row.item_total == 8800


def test_purchase_count_counts_the_buyers_orders_at_the_store(api, store):
    api("POST", "/orders", json={"orders": [order("R-1"), order("R-2", ordered_at="2025-05-01")]})
    api("POST", "/orders", json={"orders": [order("R-3", purchase_count=7)]})
    db.session.expire_all()
    counts = dict(db.session.execute(db.select(Order.number, Order.purchase_count)).all())
    assert counts == {"R-1": 1, "R-2": 2, "R-3": 7}


def test_shipments_quotes_and_members_are_upserted(api, store):
    api("POST", "/orders", json={"orders": [order(shipment=None)]})
    shipment = {
        "store": "own",
        "number": "S-1",
        "order_number": "R-1001",
        "carrier": "佐川急便",
        "confirmed_at": "2025-04-03T12:00:00+09:00",
    }
    member = {
        "number": "M000001",
        "company": "株式会社さくら",
        "email": "buyer@example.co.jp",
        "wants_mail": False,
        "last_purchase_on": "2025-03-31",
    }
    quote = {
        "store": "own",
        "number": "Q-1",
        "member_number": "M000001",
        "issued_at": "2025-04-01",
        "lines": [{"name": "業務用 急須", "unit_price": 6000, "quantity": 10}],
    }
    for kind, item in (("shipments", shipment), ("members", member), ("quotes", quote)):
        for expected in ("created", "unchanged"):
            response = api("POST", f"/{kind}", json={kind: [item]})
            assert response.status_code == 200, response.json
            assert response.json[kind][0]["result"] == expected
    db.session.expire_all()
    assert db.session.scalar(db.select(Shipment)).order.status == "shipped"
    assert db.session.scalar(db.select(Member)).wants_mail is False
    saved = db.session.scalar(db.select(Quote))
    assert saved.total == 60000 and saved.member_id == db.session.scalar(db.select(Member.id))


def test_every_write_is_in_the_audit_trail_once_per_request(api, store):
    api("POST", "/orders", json={"orders": [order("R-1"), order("R-2")]})
    entries = db.session.scalars(db.select(AuditEntry).filter_by(action="api.orders.upserted"))
    entries = list(entries)
    assert len(entries) == 1
    assert entries[0].actor == "api:受注システム"
    assert entries[0].details == {"created": 2, "updated": 0, "unchanged": 0}


def test_validation_errors_name_the_field_and_nothing_is_written(api, store):
    bad = order("R-2", buyer={"name": "x", "email": "not-an-address"})
    response = api("POST", "/orders", json={"orders": [order("R-1"), bad]})
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    fields = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "orders[1].buyer.email" in fields and "@" in fields["orders[1].buyer.email"]
    assert db.session.query(Order).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ordered_at": "yesterday"}, "orders[0].ordered_at"),
        ({"shipping_fee": 1.5}, "orders[0].shipping_fee"),
        ({"shipping_fee": -1}, "orders[0].shipping_fee"),
        ({"lines": []}, "orders[0].lines"),
        ({"colour": "red"}, "orders[0].colour"),
        ({"lines": [{"name": "x", "quantity": "many"}]}, "orders[0].lines[0].quantity"),
        ({"payment": {"kind": "barter"}}, "orders[0].payment.kind"),
        ({"number": "A\nB"}, "orders[0].number"),
        ({"buyer": None}, "orders[0].buyer.email"),
        ({"ship_to": {"colour": "red"}}, "orders[0].ship_to.colour"),
        ({"lines": [{"name": "x"}] * 1001}, "orders[0].lines"),
        ({"shipment": {"confirmed_at": "2025-13-01"}}, "orders[0].shipment.confirmed_at"),
    ],
)
def test_each_bad_field_is_named(api, store, change, field):
    response = api("POST", "/orders", json={"orders": [order(**change)]})
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json["errors"]]


def test_validation_messages_say_what_is_wrong_in_english(api, store):
    bad = order(buyer="taro", lines=[], colour="red", shipping_fee="lots")
    del bad["ordered_at"]
    response = api("POST", "/orders", json={"orders": [bad]})
    assert response.status_code == 422
    assert response.json["message"] == "Some fields are not valid."
    assert sorted(response.json["errors"], key=lambda e: e["field"]) == [
        {"field": "orders[0].buyer", "message": "must be an object"},
        {"field": "orders[0].colour", "message": "is not a known field"},
        {"field": "orders[0].lines", "message": "must be a list of at least one line"},
        {"field": "orders[0].ordered_at", "message": "is required"},
        {"field": "orders[0].shipping_fee", "message": "must be a whole number"},
    ]


def test_a_body_of_the_wrong_shape_is_refused(api, store):
    response = api("POST", "/orders", json=order())
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "orders"


@pytest.mark.parametrize("path", ["/orders", "/broadcasts"])
def test_json_nested_too_deeply_is_400_in_the_apis_shape(api, store, path):
    deep = "[" * 100_000 + "]" * 100_000
    response = api("POST", path, data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == "bad_request" and "nested" in response.json["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0


def test_unknown_store_or_order_is_404(api, store):
    response = api("POST", "/orders", json={"orders": [order(store="nowhere")]})
    assert response.status_code == 404
    assert response.json["errors"] == [
        {"field": "orders[0].store", "message": "no store has this code"}
    ]
    assert api("GET", "/orders/nowhere/R-1/messages").status_code == 404
    assert api("GET", "/orders/own/R-404/messages").status_code == 404


def test_missing_bad_and_revoked_tokens_are_401(app, api, store, token):
    client = app.test_client()
    missing = client.post("/api/v1/orders", json={"orders": [order()]})
    assert missing.status_code == 401 and missing.json["error"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.post(
        "/api/v1/orders", json={"orders": [order()]}, headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401
    assert api("POST", "/orders", json={"orders": [order()]}).status_code == 200
    revoke_token(token[0].id, actor="test")
    db.session.commit()
    assert api("POST", "/orders", json={"orders": [order()]}).status_code == 401


def test_a_body_over_the_limit_is_413_in_json(app, api, store, monkeypatch):
    monkeypatch.setitem(app.config, "API_MAX_BODY", 10_000)
    big = order(shipping_instructions="あ" * 2000, lines=[{"name": "x"}] * 300)
    response = api("POST", "/orders", json={"orders": [big]})
    assert response.status_code == 413 and response.json["error"] == "too_large"
    assert db.session.query(Order).count() == 0


def test_requests_are_rate_limited_per_token(app, api, store, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    try:
        codes = [api("GET", "/orders/own/R-1/messages").status_code for _ in range(4)]
        _, other = create_token("another system", actor="test")
        db.session.commit()
        other_code = (
            app.test_client()
            .get("/api/v1/orders/own/R-1/messages", headers={"Authorization": f"Bearer {other}"})
            .status_code
        )
    finally:
        limiter.reset()
    assert codes == [404, 404, 404, 429]
    assert other_code == 404  # another token has its own budget


def test_an_orders_messages_are_read_back_with_their_states(api, store):
    order_id = api("POST", "/orders", json={"orders": [order()]}).json["orders"][0]["id"]
    db.session.add(
        Message(
            dedupe_key=f"order_confirmation:order:{order_id}",
            kind="order_confirmation",
            state="sent",
            store_id=store.id,
            order_id=order_id,
            to_addr="taro@example.jp",
            subject="ご注文ありがとうございます",
            sent_at=datetime(2025, 4, 1, 2, 0, tzinfo=UTC),
            last_code=250,
            last_reply="250 2.0.0 Ok: queued",
        )
    )
    db.session.commit()
    body = api("GET", "/orders/own/R-1001/messages").json
    assert body["number"] == "R-1001"
    (message,) = body["messages"]
    assert message["kind"] == "order_confirmation" and message["state"] == "sent"
    assert message["to"] == "taro@example.jp" and message["subject"] == "ご注文ありがとうございます"
    assert message["sent_at"] == "2025-04-01T02:00:00+00:00"
    assert message["last_reply"] == "250 2.0.0 Ok: queued"
