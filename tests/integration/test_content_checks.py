"""Japanese content checks over HTTP: each warning with its line and column in the template
editor's preview, after a save, on the broadcast confirm step and in the newsletter and
record-mail template editors; only a line that cannot be sent keeps a template from saving."""

from __future__ import annotations

from shopmail.extensions import db
from shopmail.models import AuditEntry, BroadcastTemplate, OrderMailTemplate, RecordMailTemplate
from tests.conftest import csrf_token
from tests.integration.test_automatic import make_order, make_store
from tests.integration.test_broadcasts import add_members, compose, draft

MOBILE = "/automatic/templates?store=default&kind=follow_up&device=mobile"
SUBJECT = (
    "【さくら雑貨】ご購入ありがとうございました。"
    "商品の使い心地はいかがでしょうか。ご感想をぜひお聞かせくださいませ(アンケート)"
)
BODY = (
    "[BUYER_NAME]様\n"
    "㈱さくら雑貨です。①ご感想 ｱﾝｹｰﾄ\n"
    "詳しくは http://sakura.example.jp/review へ\n" + "あ" * 80 + "\n"
)


def test_the_preview_lists_every_content_warning_with_its_position(app, admin_client, smtp_server):
    make_order(make_store(smtp_server, "own", "own"), "T-1", "t1@example.jp")
    db.session.commit()
    token = csrf_token(admin_client, MOBILE)
    preview = admin_client.post(
        MOBILE.replace("/templates?", "/templates/preview?"),
        data={"subject": SUBJECT, "body": BODY + "[MEMBER_NAME]"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "件名 1行目 61文字目: 件名が" in preview
    assert (
        "本文 2行目 1文字目: 「㈱」は機種依存文字です" in preview
        and "「(株)」に置き換えて" in preview
    )
    assert (
        "本文 2行目 10文字目: 「①」は機種依存文字です" in preview
        and "「(1)」に置き換えて" in preview
    )
    assert "本文 2行目 15文字目: 「ｱﾝｹｰﾄ」は半角カナです" in preview and "「アンケート」" in preview
    assert "本文 3行目 6文字目: 「http://sakura.example.jp/review」は https ではない" in preview
    assert "「https://sakura.example.jp/review」" in preview
    assert "本文 4行目 77文字目: 行が全角76文字を超えています" in preview
    assert "本文 5行目 1文字目: [MEMBER_NAME] はこのメールでは使用できないタグです" in preview
    # The same list as the tag problems: 保存不可 for the tag, 要確認 for the rest.
    assert preview.count("保存不可") == 1 and preview.count("要確認") == 6


def test_warnings_do_not_keep_a_template_from_being_saved(app, admin_client, smtp_server):
    token = csrf_token(admin_client, MOBILE)
    saved = admin_client.post(MOBILE, data={"csrf_token": token, "subject": SUBJECT, "body": BODY})
    assert saved.status_code == 302
    page = admin_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "テンプレートを保存しました" in page
    assert "本文 2行目 10文字目: 「①」は機種依存文字です" in page
    assert "件名 1行目 61文字目" in page
    slot = {"kind": "follow_up", "device": "mobile", "variant": ""}
    assert db.session.scalar(db.select(OrderMailTemplate.body).filter_by(**slot)) == BODY


def test_a_line_over_1000_bytes_keeps_the_template_from_being_saved(app, admin_client):
    token = csrf_token(admin_client, MOBILE)
    body = "[BUYER_NAME]様\n" + "い" * 340
    refused = admin_client.post(MOBILE, data={"csrf_token": token, "subject": "件名", "body": body})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "保存されませんでした" in page
    assert "2行目 333文字目: この行は 1,020 バイトあり" in page
    assert db.session.scalar(db.select(db.func.count(OrderMailTemplate.id))) == 0


def test_the_desk_line_width_setting_moves_the_warning(app, admin_client, smtp_server):
    ops = "/automatic/operations"
    token = csrf_token(admin_client, ops)
    refused = admin_client.post(f"{ops}/line-width", data={"csrf_token": token, "width": "5"})
    assert "10〜499文字の範囲で" in admin_client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    saved = admin_client.post(f"{ops}/line-width", data={"csrf_token": token, "width": "30"})
    assert "1行の文字数を保存しました" in admin_client.get(saved.headers["Location"]).get_data(
        as_text=True
    )
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="desk.line_width_updated"))
    assert (entry.details["old"], entry.details["new"]) == (76, 30)
    preview = admin_client.post(
        MOBILE.replace("/templates?", "/templates/preview?"),
        data={"subject": "件名", "body": "あ" * 29 + "aaa"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "本文 1行目 32文字目: 行が全角30文字を超えています" in preview


def test_the_broadcast_confirm_step_lists_the_content_warnings(app, staff_client, mail_store):
    add_members(3)
    bid = draft(staff_client)
    body = "[MEMBER_NAME] 様\n髙島屋のセール ｾｰﾙ\nhttp://sakura.example.jp/\n"
    body += "配信停止: [UNSUBSCRIBE_URL]\n"
    assert compose(staff_client, bid, mail_store, body=body).status_code == 302
    confirm = staff_client.get(f"/broadcasts/{bid}/confirm").get_data(as_text=True)
    assert (
        "本文 2行目 1文字目: 「髙」は機種依存文字です" in confirm and "「高」にできます" in confirm
    )
    assert "本文 2行目 9文字目: 「ｾｰﾙ」は半角カナです" in confirm
    assert "本文 3行目 1文字目: 「http://sakura.example.jp/」は https ではない" in confirm
    assert "要確認" in confirm


def test_a_broadcast_with_an_unsendable_line_is_not_saved(app, staff_client, mail_store):
    add_members(1)
    bid = draft(staff_client)
    refused = compose(staff_client, bid, mail_store, body="[MEMBER_NAME] 様\n" + "x" * 1200)
    page = refused.get_data(as_text=True)
    assert refused.status_code != 302 and "2行目 999文字目: この行は 1,200 バイトあり" in page


def test_newsletter_and_record_mail_templates_warn_and_refuse_the_same(app, admin_client):
    token = csrf_token(admin_client, "/broadcasts/templates")
    saved = admin_client.post(
        "/broadcasts/templates/new",
        data={
            "csrf_token": token,
            "name": "秋",
            "subject": "秋のご案内",
            "body": "①新作\n",
            "format": "text",
            "is_active": "y",
        },
    )
    assert saved.status_code == 302
    page = admin_client.get("/broadcasts/templates").get_data(as_text=True)
    assert "本文 1行目 1文字目: 「①」は機種依存文字です" in page
    refused = admin_client.post(
        "/broadcasts/templates/new",
        data={
            "csrf_token": token,
            "name": "長",
            "subject": "x",
            "body": "x" * 1001,
            "format": "text",
        },
    )
    assert refused.status_code != 302 and "1行目 999文字目" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(BroadcastTemplate.id))) == 1

    token = csrf_token(admin_client, "/records/templates")
    saved = admin_client.post(
        "/records/templates/new",
        data={
            "csrf_token": token,
            "name": "見積",
            "title": "お見積り",
            "header": "㈱さくら\n",
            "footer": "http://sakura.example.jp",
        },
    )
    assert saved.status_code == 302
    page = admin_client.get("/records/templates").get_data(as_text=True)
    assert "1行目 1文字目: 「㈱」は機種依存文字です" in page
    assert "1行目 1文字目: 「http://sakura.example.jp」は https ではない" in page
    refused = admin_client.post(
        "/records/templates/new",
        data={"csrf_token": token, "name": "長", "title": "x", "header": "", "footer": "x" * 999},
    )
    assert refused.status_code == 400 and "1行目 999文字目" in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(RecordMailTemplate.id))) == 1
