"""Template versions as an admin uses them: every save of an automatic, record-mail or
newsletter template keeps a version (who, when); the versions page shows a diff to the current
text, every line escaped; restoring brings back the exact text as a new version, audited."""

from __future__ import annotations

import re
from urllib.parse import quote

from shopmail.extensions import db
from shopmail.models import (
    AuditEntry,
    BroadcastTemplate,
    OrderMailTemplate,
    RecordMailTemplate,
    TemplateVersion,
)
from tests.conftest import csrf_token
from tests.factories import StoreFactory

SLOT = "kind=order_confirmation&device=pc&variant=1"
FIRST = "ご注文ありがとうございます。\r\n<script>alert('x')</script> & 〒600-0000\r\n[ORDER_NO]\r\n"
SECOND = "ご注文ありがとうございました!\r\n[ORDER_NO]\r\n\r\n  末尾の空白  \r\n"


def save_slot(client, store: str, subject: str, body: str) -> None:
    url = f"/automatic/templates?store={store}&{SLOT}"
    data = {"csrf_token": csrf_token(client, url), "subject": subject, "body": body}
    response = client.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def versions_page(client, template_type: str, key: str) -> str:
    response = client.get(f"/template-versions?template_type={template_type}&key={quote(key)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def restore(client, template_type: str, key: str, number: int):
    page = f"/template-versions?template_type={template_type}&key={quote(key)}"
    data = {"template_type": template_type, "key": key, "number": number}
    return client.post(
        "/template-versions/restore", data={"csrf_token": csrf_token(client, page), **data}
    )


def row_of(number: int, page: str) -> str:
    found = re.search(rf'<tr id="version-{number}">(.*?)</tr>', page, re.S)
    assert found, page
    return found.group(1)


def test_restoring_an_automatic_template_brings_back_the_exact_text_as_a_new_version(
    admin_client, admin
):
    key = "default|order_confirmation|pc|1"
    editor = admin_client.get(f"/automatic/templates?store=default&{SLOT}").get_data(as_text=True)
    assert f"/template-versions?template_type=order_mail&amp;key={quote(key, safe='')}" in editor
    save_slot(admin_client, "default", "ご注文確認 [ORDER_NO]", FIRST)
    save_slot(admin_client, "default", "ご注文確認(改) [ORDER_NO]", SECOND)

    page = versions_page(admin_client, "order_mail", key)
    # The shipped text it had, then the two saves: who and when.
    assert "版の記録を始める前の文面" in row_of(1, page)
    for number in (2, 3):
        assert "管理 太郎" in row_of(number, page) and "admin@example.com" in row_of(number, page)
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row_of(number, page))
    assert "現在の文面" in row_of(3, page) and "この版に戻す" not in row_of(3, page)
    # The diff of version 2 against the current text, escaped.
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 〒600-0000" in row_of(2, page)
    assert "<script>alert" not in page
    assert 'class="diff-line diff-add">+ ご注文ありがとうございます。' in row_of(2, page)
    assert 'class="diff-line diff-del">− ご注文ありがとうございました!' in row_of(2, page)

    response = restore(admin_client, "order_mail", key, 2)
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalar(
        db.select(OrderMailTemplate).filter_by(
            scope="default", kind="order_confirmation", device="pc", variant="1"
        )
    )
    assert row.body == FIRST and row.body.encode() == FIRST.encode()
    assert row.subject == "ご注文確認 [ORDER_NO]"
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第2版を第4版として復元しました。" in page
    assert "第2版から復元" in row_of(4, page) and "現在の文面" in row_of(4, page)
    assert "管理 太郎" in row_of(4, page)
    assert len(re.findall(r'<tr id="version-', page)) == 4
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="template_version.restored"))
    assert entry.actor == "admin@example.com"
    assert entry.details == {
        "template_type": "order_mail",
        "key": key,
        "restored": 2,
        "version": 4,
    }
    assert "テンプレートの版を復元" in admin_client.get("/audit").get_data(as_text=True)
    # The editor shows the restored text, and restoring the current text again changes nothing.
    editor = admin_client.get(f"/automatic/templates?store=default&{SLOT}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in editor
    again = admin_client.get(restore(admin_client, "order_mail", key, 4).headers["Location"])
    assert "すでにこの版の文面です" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(TemplateVersion)) == 4


def test_a_store_slot_reset_to_the_default_keeps_its_versions_and_can_be_restored(
    admin_client,
):
    store = StoreFactory(name="さくら雑貨 本店")
    key = f"store:{store.id}|order_confirmation|pc|1"
    save_slot(admin_client, str(store.id), "本店 [ORDER_NO]", FIRST)
    url = f"/automatic/templates/reset?store={store.id}&{SLOT}"
    token = csrf_token(admin_client, f"/automatic/templates?store={store.id}&{SLOT}")
    assert admin_client.post(url, data={"csrf_token": token}).status_code == 302
    assert (
        db.session.scalar(db.select(OrderMailTemplate).filter_by(scope=f"store:{store.id}")) is None
    )

    page = versions_page(admin_client, "order_mail", key)
    assert "さくら雑貨 本店 / " in page and "第1版" in page
    assert restore(admin_client, "order_mail", key, 1).status_code == 302
    db.session.expire_all()
    row = db.session.scalar(db.select(OrderMailTemplate).filter_by(scope=f"store:{store.id}"))
    assert row is not None and row.body == FIRST and row.store_id == store.id
    editor = admin_client.get(f"/automatic/templates?store={store.id}&{SLOT}")
    assert "共通設定(既定値)から変更されています" in editor.get_data(as_text=True)


def test_record_mail_and_newsletter_templates_keep_versions_too(admin_client):
    form = "/records/templates/new"
    data = {
        "name": "見積送付",
        "title": "お見積り [QUOTE_NO]",
        "header": "いつもお世話に\r\n",
        "footer": "以上",
    }
    response = admin_client.post(form, data={"csrf_token": csrf_token(admin_client, form), **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalar(db.select(RecordMailTemplate))
    edit = f"/records/templates/{record.id}"
    assert "このテンプレートの版の履歴" in admin_client.get(edit).get_data(as_text=True)
    changed = dict(data, header="平素より格別の\r\n")
    admin_client.post(edit, data={"csrf_token": csrf_token(admin_client, edit), **changed})
    page = versions_page(admin_client, "record_mail", str(record.id))
    assert "見積送付 の版の履歴" in page and "第2版" in page and "ヘッダー" in row_of(1, page)
    assert restore(admin_client, "record_mail", str(record.id), 1).status_code == 302
    db.session.expire_all()
    assert db.session.get(RecordMailTemplate, record.id).header == "いつもお世話に\r\n"

    form = "/broadcasts/templates/new"
    data = {"name": "新商品", "subject": "新商品のお知らせ", "body": "本文一\r\n", "format": "text"}
    data["is_active"] = "y"
    admin_client.post(form, data={"csrf_token": csrf_token(admin_client, form), **data})
    item = db.session.scalar(db.select(BroadcastTemplate))
    edit = f"/broadcasts/templates/{item.id}"
    assert "このテンプレートの版の履歴" in admin_client.get(edit).get_data(as_text=True)
    admin_client.post(
        edit, data={"csrf_token": csrf_token(admin_client, edit), **dict(data, body="本文二\r\n")}
    )
    assert restore(admin_client, "newsletter", str(item.id), 1).status_code == 302
    db.session.expire_all()
    assert db.session.get(BroadcastTemplate, item.id).body == "本文一\r\n"
    assert "第1版から復元" in versions_page(admin_client, "newsletter", str(item.id))


def test_versions_are_for_admins(staff_client, admin_client):
    page = "/template-versions?template_type=order_mail&key=default|follow_up|pc|"
    assert staff_client.get(page).status_code == 403
    assert admin_client.get(page).status_code == 200
    assert admin_client.get("/template-versions?template_type=nothing&key=1").status_code == 404
    assert admin_client.get("/template-versions?template_type=record_mail&key=9").status_code == 404
    assert admin_client.get("/template-versions?template_type=order_mail").status_code == 404
