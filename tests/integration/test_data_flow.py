"""Data in → mail out: orders pushed through the API or imported from CSV become order
confirmations with no other step, and the API reads their state back."""

from __future__ import annotations

import io
from datetime import timedelta

from shopmail import jobs
from shopmail.automatic import creation as automatic
from shopmail.automatic import operations
from shopmail.core.i18n import TOKYO
from shopmail.data_in.tokens import create_token
from shopmail.extensions import db
from shopmail.models import DeskSettings
from shopmail.models.types import utcnow
from tests.conftest import csrf_token, run_worker


def desk_in_use(mail_store, admin):
    """Order confirmations in use and past their first (reviewed) run; creation and sending on."""
    operations.set_kinds(admin, {"order_confirmation"}, now=utcnow() - timedelta(hours=1))
    automatic.create_mails(admin)  # the first run, an hour ago: nothing to reach back for
    db.session.commit()  # as the job (or command) commits
    settings = DeskSettings.get()
    settings.auto_create = True
    db.session.commit()


def test_an_order_pushed_through_the_api_becomes_an_order_confirmation(
    app, mail_store, admin, smtp_server
):
    desk_in_use(mail_store, admin)
    _, secret = create_token("受注システム", actor="test")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    ordered = (utcnow() - timedelta(minutes=1)).isoformat()
    order = {
        "store": mail_store.code,
        "number": "API-0001",
        "ordered_at": ordered,
        "buyer": {"name": "山田 太郎", "email": "taro@example.jp"},
        "payment": {"method": "クレジットカード"},
        "lines": [{"name": "有田焼 マグカップ 藍", "unit_price": 2200, "quantity": 2}],
    }
    assert (
        client.post("/api/v1/orders", json={"orders": [order]}, headers=headers).status_code == 200
    )

    jobs.create_mails()  # what the hourly cron runs
    db.session.commit()  # as the job (or command) commits
    run_worker(app)

    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos[0] == "taro@example.jp"
    assert "API-0001" in received.message.get_content()
    assert "有田焼 マグカップ 藍" in received.message.get_content()
    messages = client.get(f"/api/v1/orders/{mail_store.code}/API-0001/messages", headers=headers)
    [mail] = messages.json["messages"]
    assert (mail["kind"], mail["state"]) == ("order_confirmation", "sent")


def test_an_order_imported_from_csv_becomes_an_order_confirmation(
    app, mail_store, admin, admin_client, smtp_server, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_IMPORT_DIR", str(tmp_path))
    desk_in_use(mail_store, admin)
    when = (utcnow() - timedelta(minutes=1)).astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
    text = (
        "店舗コード,受注番号,受注日時,注文者名,メールアドレス,商品名,単価,数量,支払方法\r\n"
        f"{mail_store.code},CSV-0001,{when},髙橋 一郎,ichiro@example.jp,急須,8800,1,銀行振込\r\n"
    )
    response = admin_client.post(
        "/imports/",
        data={
            "kind": "orders",
            "file": (io.BytesIO(text.encode("cp932")), "受注.csv"),
            "csrf_token": csrf_token(admin_client, "/imports/"),
        },
        content_type="multipart/form-data",
    )
    url = response.headers["Location"]
    admin_client.post(
        f"{url}/apply", data={"mode": "valid", "csrf_token": csrf_token(admin_client, url)}
    )
    app.config.pop("SHOPMAIL_IMPORT_DIR")

    jobs.create_mails()
    db.session.commit()  # as the job (or command) commits
    run_worker(app)

    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos[0] == "ichiro@example.jp"
    body = received.message.get_content()
    assert "CSV-0001" in body and "髙橋 一郎" in body
