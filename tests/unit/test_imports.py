"""Reading CSV files as Japanese spreadsheets save them: encodings, headers, values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from shopmail import create_app
from shopmail.data_in import schema
from shopmail.data_in.import_columns import guess_mapping
from shopmail.data_in.imports import ImportProblem, decode
from shopmail.data_in.values import Amount, MaybeWhen

WHEN = TypeAdapter(MaybeWhen)
YEN = TypeAdapter(Amount())


@pytest.fixture(autouse=True)
def app_context():
    # Messages are lazy translations: they need an app (nothing touches a database).
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        yield


def test_utf8_with_and_without_bom_and_cp932_are_told_apart():
    assert decode("会員番号\r\n".encode()) == ("会員番号\r\n", "utf-8")
    assert decode(b"\xef\xbb\xbf" + "会員番号".encode()) == ("会員番号", "utf-8-sig")
    # 髙 and ① exist in CP932 (Windows) but not in Shift_JIS proper.
    assert decode("髙橋①".encode("cp932")) == ("髙橋①", "cp932")


def test_utf16_is_refused():
    with pytest.raises(ImportProblem):
        decode("会員番号".encode("utf-16"))


def test_headers_are_guessed_in_japanese_and_english():
    header = ["会員番号", "E-Mail", "ﾒｰﾙ配信", "会社名", "Unknown", "メールアドレス"]
    assert guess_mapping("members", header) == [
        "number",
        "email",
        "wants_mail",
        "company",
        "",
        "",  # e-mail is taken by the first column that names it
    ]
    assert guess_mapping("orders", ["受注番号", "商品名", "数量", "お問い合わせ番号"]) == [
        "number",
        "lines.name",
        "lines.quantity",
        "shipment.tracking_number",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-01T10:00:00+09:00", datetime(2025, 4, 1, 1, 0, tzinfo=UTC)),
        ("2025/4/1 10:00", datetime(2025, 4, 1, 1, 0, tzinfo=UTC)),  # Tokyo time
        ("2025-04-01T01:00:00Z", datetime(2025, 4, 1, 1, 0, tzinfo=UTC)),
        ("2025-04-01", datetime(2025, 3, 31, 15, 0, tzinfo=UTC)),
    ],
)
def test_dates_and_times_without_offset_are_tokyo_time(text, expected):
    assert WHEN.validate_python(text) == expected


@pytest.mark.parametrize("text", ["2025-02-30 10:00", "yesterday", "0001-01-01T00:00:00+09:00"])
def test_impossible_times_are_refused(text):
    with pytest.raises(ValidationError):
        WHEN.validate_python(text)


def test_yen_amounts_as_spreadsheets_write_them():
    assert YEN.validate_python("1,980") == 1980 and YEN.validate_python("¥2,200") == 2200
    assert YEN.validate_python("３３００円") == 3300
    for bad in ("1.5", "abc", True, -1, 2**40):
        with pytest.raises(ValidationError):
            YEN.validate_python(bad)


def test_an_empty_amount_keeps_the_stored_one():
    record, problems = schema.read(
        "orders",
        {
            "store": "own",
            "number": "A-1",
            "ordered_at": "2025-04-01",
            "buyer": {"email": "a@example.jp"},
            "shipping_fee": "",
            "lines": [{"name": "急須", "unit_price": ""}],
        },
    )
    assert problems == []
    assert "shipping_fee" not in schema.columns(record)
    assert schema.line_values(record.lines[0])["unit_price"] == 0  # a line is always whole


def test_flags_in_japanese():
    def wants_mail(cell: str) -> dict:
        record, problems = schema.read("members", {"number": "M1", "wants_mail": cell})
        assert problems == []
        return schema.columns(record)

    assert wants_mail("はい") == {"wants_mail": True}
    assert wants_mail("希望しない") == {"wants_mail": False}
    assert wants_mail("○") == {"wants_mail": True}
    assert wants_mail("") == {}  # left as it is


def test_old_docomo_addresses_are_accepted_and_a_bad_one_names_its_field():
    record, problems = schema.read("members", {"number": "M1", "email": "taro..x.@docomo.ne.jp"})
    assert problems == [] and record.email == "taro..x.@docomo.ne.jp"
    _, problems = schema.read("members", {"number": "M1", "email": "taro..x.@example.jp"})
    assert [name for name, _ in problems] == ["email"]
