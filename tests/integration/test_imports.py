"""CSV import as staff use it: upload, check the columns and the rows, import, download what
was rejected. Files in UTF-8 (with BOM) and Shift_JIS/CP932, as Japanese spreadsheets save them."""

from __future__ import annotations

import csv
import io
import re

import pytest

from shopmail.extensions import db
from shopmail.models import AuditEntry, Member, Order
from tests.conftest import csrf_token

MEMBERS = "会員番号,会社名,担当者名,メールアドレス,メール配信,最終購入日\r\n"
ORDERS = (
    "店舗コード,受注番号,受注日時,注文者名,メールアドレス,"
    "商品名,単価,数量,支払方法,出荷確定日時\r\n"
)
TARO = "own,A-1,2025-04-01 10:00,山田 太郎,taro@example.jp"


@pytest.fixture(autouse=True)
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPMAIL_IMPORT_DIR", str(tmp_path))
    return tmp_path


def upload(client, kind: str, data: bytes, name: str = "data.csv"):
    import io

    response = client.post(
        "/imports/",
        data={
            "kind": kind,
            "file": (io.BytesIO(data), name),
            "csrf_token": csrf_token(client, "/imports/"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def apply(client, url: str, mode: str = "valid"):
    token = csrf_token(client, url)
    return client.post(f"{url}/apply", data={"mode": mode, "csrf_token": token})


def test_a_cp932_member_file_with_characters_shift_jis_cannot_hold_is_imported(staff_client):
    text = MEMBERS + "M0001,髙橋商店,髙橋 一郎,ichiro@example.jp,はい,2025/3/1\r\n"
    text += "M0002,①番食堂,佐藤 花子,hanako@example.co.jp,いいえ,\r\n"
    url = upload(staff_client, "members", text.encode("cp932"), "会員.csv")
    page = staff_client.get(url).get_data(as_text=True)
    assert "Shift_JIS (CP932)" in page
    assert "2 件: 取り込める 2 件" in page
    apply(staff_client, url)
    db.session.expire_all()
    members = {m.number: m for m in db.session.scalars(db.select(Member))}
    assert members["M0001"].company == "髙橋商店" and members["M0001"].wants_mail is True
    assert members["M0002"].company == "①番食堂" and members["M0002"].wants_mail is False
    assert str(members["M0001"].last_purchase_on) == "2025-03-01"
    assert "新規 2 件" in staff_client.get(url).get_data(as_text=True)


def test_a_utf8_bom_order_file_becomes_orders_with_lines_and_shipments(staff_client, store):
    text = ORDERS
    text += f"{TARO},マグカップ,2200,2,銀行振込,2025-04-02 09:00\r\n"
    text += f"{TARO},手ぬぐい,990,1,銀行振込,2025-04-02 09:00\r\n"
    text += "own,A-2,2025-04-03 11:00,鈴木 次郎,jiro@example.jp,急須,8800,1,代金引換,\r\n"
    url = upload(staff_client, "orders", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert "UTF-8 (BOM)" in staff_client.get(url).get_data(as_text=True)
    apply(staff_client, url)
    db.session.expire_all()
    orders = {o.number: o for o in db.session.scalars(db.select(Order))}
    assert [line.name for line in orders["A-1"].lines] == ["マグカップ", "手ぬぐい"]
    assert orders["A-1"].item_total == 5390 and orders["A-1"].payment_kind == "bank_transfer"
    assert orders["A-1"].shipments[0].confirmed_at is not None
    assert orders["A-2"].shipments == [] and orders["A-2"].payment_kind == "cod"
    audit = db.session.scalar(db.select(AuditEntry).filter_by(action="import.orders"))
    assert audit.actor == "staff@example.com" and audit.details["created"] == 2


def test_row_errors_are_listed_with_row_numbers_and_valid_rows_are_imported(staff_client):
    text = MEMBERS + "M1,会社A,,a@example.jp,はい,\r\n" + "M2,会社B,,not-an-address,はい,\r\n"
    text += "M3,会社C,,c@example.jp,たぶん,2025-02-30\r\n"
    url = upload(staff_client, "members", text.encode("utf-8"))
    page = staff_client.get(url).get_data(as_text=True)
    rows = re.findall(r'<td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert ("3", "メールアドレス", "メールアドレスに @ がありません。") in rows
    assert ("4", "メール案内", "1/0、はい/いいえ などで指定してください") in rows
    assert ("4", "最終購入日", "存在する日付を指定してください") in rows
    apply(staff_client, url)
    assert [m.number for m in db.session.scalars(db.select(Member))] == ["M1"]


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(staff_client):
    text = MEMBERS + "M1,会社A,,a@example.jp,はい,\r\n" + "M2,会社B,,bad,はい,\r\n"
    url = upload(staff_client, "members", text.encode("utf-8"))
    response = apply(staff_client, url, mode="all")
    assert response.status_code == 302
    page = staff_client.get(url).get_data(as_text=True)
    assert "何も変更していません" in page
    assert db.session.query(Member).count() == 0


def test_rejected_rows_download_in_the_uploads_encoding_with_the_reason(staff_client, store):
    text = ORDERS
    text += "own,A-1,2025-04-01 10:00,髙橋,t@example.jp,マグ,2200,1,カード,\r\n"
    text += "own,A-1,2025-04-01 10:00,髙橋,t@example.jp,箸置き,abc,1,カード,\r\n"
    text += "own,A-2,2025-04-01 10:00,佐藤,s@example.jp,急須,8800,1,カード,\r\n"
    url = upload(staff_client, "orders", text.encode("cp932"))
    apply(staff_client, url)
    download = staff_client.get(f"{url}/rejected.csv")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    lines = download.data.decode("cp932").splitlines()
    assert lines[0].endswith(",理由")
    assert len(lines) == 3  # both rows of order A-1, not A-2
    assert "単価: 整数で指定してください" in lines[2]
    assert "同じ受注の別の行にエラーがあります(3行目)" in lines[1]
    assert [o.number for o in db.session.scalars(db.select(Order))] == ["A-2"]


def test_the_rejected_rows_download_runs_no_formula_and_names_one_charset(staff_client, store):
    formulas = ["=HYPERLINK(A1)", "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3"]
    text = MEMBERS + "".join(f"M{i},{f},,not-an-address,はい,\r\n" for i, f in enumerate(formulas))
    url = upload(staff_client, "members", text.encode("utf-8"))
    download = staff_client.get(f"{url}/rejected.csv")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8"))))[1:]
    assert [row[1] for row in rows] == ["'" + f for f in formulas]  # shown as text, never run


def test_the_column_mapping_can_be_changed_and_survives_a_reload(staff_client):
    text = "No.,Company,Mail\r\nM9,会社Z,z@example.jp\r\n"
    url = upload(staff_client, "members", text.encode("utf-8"))
    page = staff_client.get(url).get_data(as_text=True)
    assert '<option value="company" selected>' in page  # guessed from "Company"
    token = csrf_token(staff_client, url)
    staff_client.post(
        f"{url}/mapping",
        data={"column": ["number", "company", "email"], "csrf_token": token},
    )
    page = staff_client.get(url).get_data(as_text=True)
    assert '<option value="number" selected>' in page and '<option value="email" selected>' in page
    apply(staff_client, url)
    assert db.session.scalar(db.select(Member.email)) == "z@example.jp"


def test_a_file_in_another_encoding_is_refused_with_a_message(staff_client):
    import io

    response = staff_client.post(
        "/imports/",
        data={
            "kind": "members",
            "file": (io.BytesIO("会員番号\r\nM1\r\n".encode("utf-16")), "x.csv"),
            "csrf_token": csrf_token(staff_client, "/imports/"),
        },
        content_type="multipart/form-data",
    )
    assert "UTF-8 でも Shift_JIS (CP932) でもありません" in response.get_data(as_text=True)


def test_an_unknown_upload_is_404(staff_client):
    assert staff_client.get("/imports/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert staff_client.get("/imports/..%2F..%2Fetc").status_code == 404


def test_an_upload_over_the_size_limit_gets_the_desks_page_in_japanese(
    app, staff_client, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    big = MEMBERS + "M1,会社A,,a@example.jp,はい,\r\n" * 40_000
    response = staff_client.post(
        "/imports/",
        data={
            "kind": "members",
            "file": (io.BytesIO(big.encode("utf-8")), "big.csv"),
            "csrf_token": csrf_token(staff_client, "/imports/"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "ファイルが上限の 1 MB を超えています" in page and "shopmail" in page  # the desk's page
    assert db.session.query(Member).count() == 0


def test_a_row_with_more_cells_than_columns_is_refused_naming_its_row(staff_client):
    text = MEMBERS + "M1,会社A,,a@example.jp,はい,\r\n" + "M2,会社B,,b@example.jp,はい,,東京都\r\n"
    url = upload(staff_client, "members", text.encode("utf-8"))
    page = staff_client.get(url).get_data(as_text=True)
    assert "7 個のセル" in page and "3" in page
    apply(staff_client, url)
    assert [m.number for m in db.session.scalars(db.select(Member))] == ["M1"]
    download = staff_client.get(f"{url}/rejected.csv").data.decode("utf-8")
    header, row = list(csv.reader(io.StringIO(download)))
    assert header[-1] == "理由" and row[len(header) - 1].startswith("この行には 7 個のセル")
    assert row[len(header) :] == ["東京都"]  # nothing of the row is lost
