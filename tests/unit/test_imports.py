"""Reading CSV files as Japanese spreadsheets save them: encodings, headers, values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopmail import create_app
from shopmail.data_in import fields as f
from shopmail.data_in.import_columns import guess_mapping
from shopmail.data_in.imports import ImportProblem, decode


@pytest.fixture(autouse=True)
def app_context():
    # Messages are lazy translations: they need an app (nothing touches a database).
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
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
    assert f.when(text) == expected


@pytest.mark.parametrize("text", ["2025-02-30 10:00", "yesterday", "0001-01-01T00:00:00+09:00"])
def test_impossible_times_are_refused(text):
    with pytest.raises(f.Bad):
        f.when(text)


def test_yen_amounts_as_spreadsheets_write_them():
    read = f.integer()
    assert read("1,980") == 1980 and read("¥2,200") == 2200 and read("３３００円") == 3300
    assert read("") is f.ABSENT
    for bad in ("1.5", "abc", True, -1, 2**40):
        with pytest.raises(f.Bad):
            read(bad)


def test_flags_in_japanese():
    assert f.flag("はい") is True and f.flag("希望しない") is False and f.flag("") is f.ABSENT
