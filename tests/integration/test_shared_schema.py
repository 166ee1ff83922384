"""One schema for both ways in: a value the JSON API refuses is refused by the CSV import with
the same message (in the reader's language), and the API's document is the schema's."""

from __future__ import annotations

import html
import io
import re

import pytest

from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import Member, Order
from tests.conftest import csrf_token, log_in

ROW = re.compile(r'<td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>')


@pytest.fixture
def api(app):
    _, secret = create_token("受注システム", actor="test")
    db.session.commit()
    client = app.test_client()

    def post(kind: str, item: dict) -> dict[str, str]:
        response = client.post(
            f"/api/v1/{kind}", json={kind: [item]}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert response.status_code == 422, response.json
        return {e["field"]: e["message"] for e in response.json["errors"]}

    return post


@pytest.fixture
def import_rows(app, tmp_path, make_user, monkeypatch):
    """Upload a CSV as a member of staff reading `language`; the row errors the page lists."""
    monkeypatch.setitem(app.config, "SHOPMAIL_IMPORT_DIR", str(tmp_path))

    def check(kind: str, text: str, language: str) -> list[tuple[str, str, str]]:
        user = make_user(f"{language}@example.com", "staff", language=language)
        client = log_in(app.test_client(), user)
        response = client.post(
            "/imports/",
            data={
                "kind": kind,
                "file": (io.BytesIO(text.encode("utf-8")), "data.csv"),
                "csrf_token": csrf_token(client, "/imports/"),
            },
            content_type="multipart/form-data",
        )
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        return [tuple(html.unescape(cell) for cell in row) for row in ROW.findall(page)]

    return check


@pytest.mark.parametrize(
    ("field", "value", "english", "japanese"),
    [
        (
            "wants_mail",
            "たぶん",
            "must be true or false",
            "1/0、はい/いいえ などで指定してください",
        ),
        (
            "last_purchase_on",
            "2025-02-30",
            "must be a real date",
            "存在する日付を指定してください",
        ),
        (
            "email",
            "not-an-address",
            "The e-mail address has no @-sign.",
            "メールアドレスに @ がありません。",
        ),
    ],
)
def test_a_bad_member_value_gets_the_same_message_from_the_api_and_the_import(
    api, import_rows, field, value, english, japanese
):
    from_api = api("members", {"number": "M1", field: value})[f"members[0].{field}"]
    assert from_api == english
    header = {"wants_mail": "メール配信", "last_purchase_on": "最終購入日", "email": "メール"}
    text = f"会員番号,{header[field]}\r\nM1,{value}\r\n"
    [(row, _, message)] = import_rows("members", text, "en")
    assert (row, message) == ("2", from_api)
    [(_, _, message)] = import_rows("members", text, "ja")
    assert message == japanese
    assert db.session.query(Member).count() == 0


def test_a_bad_unit_price_is_named_alike_by_the_api_and_the_import(api, import_rows, store):
    order = {
        "store": "own",
        "number": "A-1",
        "ordered_at": "2025-04-01 10:00",
        "buyer": {"email": "taro@example.jp"},
        "lines": [{"name": "急須", "unit_price": "abc"}],
    }
    assert api("orders", order) == {"orders[0].lines[0].unit_price": "must be a whole number"}
    text = "店舗コード,受注番号,受注日時,メールアドレス,商品名,単価\r\n"
    text += "own,A-1,2025-04-01 10:00,taro@example.jp,急須,abc\r\n"
    assert import_rows("orders", text, "en") == [("2", "Unit price", "must be a whole number")]
    assert import_rows("orders", text, "ja") == [("2", "単価", "整数で指定してください")]
    assert db.session.query(Order).count() == 0


def test_the_api_document_describes_the_schema_the_api_checks(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    order = schemas["Order"]
    assert set(order["required"]) == {"store", "number", "ordered_at", "buyer", "lines"}
    assert order["additionalProperties"] is False  # unknown fields are refused
    assert schemas["Buyer"]["required"] == ["email"]
    assert schemas["OrderLine"]["properties"]["quantity"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100_000,
    }
    statuses = order["properties"]["status"]["anyOf"][0]["enum"]
    assert statuses == ["new", "processing", "shipped", "completed", "cancelled"]
    assert "Asia/Tokyo" in order["properties"]["ordered_at"]["description"]
    request = schemas["OrdersRequest"]["properties"]["orders"]
    assert request["items"] == {"$ref": "#/components/schemas/Order"}
    assert (request["minItems"], request["maxItems"]) == (1, 500)
    assert set(schemas["Member"]["properties"]) >= {"number", "email", "wants_mail"}
