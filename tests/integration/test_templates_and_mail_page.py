"""Templates and the mail page over HTTP: tag typos refused or warned with line and column,
in every editor; never-edited seeded defaults follow the new shipped text; the mail page shows
what the desk composed; a December start reaches back three calendar months."""

from __future__ import annotations

from datetime import UTC, datetime

from shopmail.automatic import creation as automatic
from shopmail.automatic import operations
from shopmail.automatic.default_templates import shipped_templates
from shopmail.extensions import db
from shopmail.models import BroadcastTemplate, Message, OrderMailTemplate, RecordMailTemplate
from tests.conftest import csrf_token
from tests.factories import ShipmentFactory
from tests.integration.test_automatic import make_order, make_store

URL = "/automatic/templates?store=default&kind=follow_up&device=pc"


def test_a_template_with_a_tag_typo_is_not_saved_and_says_where(app, admin_client, smtp_server):
    make_order(make_store(smtp_server, "own", "own"), "T-1", "t1@example.jp")
    db.session.commit()
    token = csrf_token(admin_client, URL)
    refused = admin_client.post(
        URL, data={"csrf_token": token, "subject": "[TENPO_NAME", "body": "様\n  ［ORDER_NO］"}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "保存されませんでした" in page
    assert "「[TENPO_NAME」(1行目 1文字目 → 正しくは [TENPO_NAME])" in page
    assert "「［ORDER_NO］」(2行目 3文字目 → 正しくは [ORDER_NO])" in page
    assert db.session.scalar(db.select(db.func.count(OrderMailTemplate.id))) == 0


def test_a_doubtful_tag_is_saved_with_a_warning_and_the_preview_lists_both(
    app, admin_client, smtp_server
):
    make_order(make_store(smtp_server, "own", "own"), "T-1", "t1@example.jp")
    db.session.commit()
    token = csrf_token(admin_client, URL)
    saved = admin_client.post(
        URL, data={"csrf_token": token, "subject": "ご確認", "body": "[BUYER_NAME]様\nORDER_NO"}
    )
    assert saved.status_code == 302
    page = admin_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "テンプレートを保存しました" in page
    assert "そのまま送られます" in page and "本文 2行目 1文字目" in page

    preview = admin_client.post(
        URL.replace("/templates?", "/templates/preview?"),
        data={"subject": "[tenpo_name]", "body": "[BUYER_NAME]様\n[today is"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    ).get_data(as_text=True)
    assert "件名 1行目 1文字目: 「[tenpo_name]」はタグの書き間違いです" in preview
    assert "保存不可" in preview and "要確認" in preview and "本文 2行目 1文字目" in preview
    assert "購入者 T-1様" in preview


def test_record_mail_and_broadcast_templates_refuse_the_same_typos(app, admin_client):
    token = csrf_token(admin_client, "/records/templates")
    record = admin_client.post(
        "/records/templates/new",
        data={
            "csrf_token": token,
            "name": "x",
            "title": "[tenpo_name]より",
            "header": "",
            "footer": "",
        },
    )
    assert record.status_code == 400 and "「[tenpo_name]」(1行目 1文字目" in record.get_data(
        as_text=True
    )
    broadcast = admin_client.post(
        "/broadcasts/templates/new",
        data={
            "csrf_token": token,
            "name": "x",
            "subject": "s",
            "body": "MEMBER_NAME] 様",
            "format": "text",
        },
    )
    assert "「MEMBER_NAME]」(1行目 1文字目 → 正しくは [MEMBER_NAME])" in broadcast.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(RecordMailTemplate.id))) == 0
    assert db.session.scalar(db.select(db.func.count(BroadcastTemplate.id))) == 0


def test_a_seeded_default_never_edited_follows_the_new_shipped_text(app, admin_client):
    from tests.unit.test_default_templates import Path

    old = (Path(__file__).parents[1] / "unit/shipped_defaults_v1.txt").read_text("utf-8")
    for block in old.split("\n=====\n"):
        key, subject, body = block.split("\n-----\n")
        kind, device, variant = key.split("|")
        edited = (kind, device, variant) == ("follow_up", "pc", "")
        db.session.add(
            OrderMailTemplate(
                scope="default",
                kind=kind,
                device=device,
                variant=variant,
                subject=subject,
                body=body + ("店長より一言" if edited else ""),
            )
        )
    db.session.commit()
    new = {(t["kind"], t["device"], t["variant"]): t for t in shipped_templates()}
    url = "/automatic/templates?store=default&kind=shipping_notice&device=pc&variant="
    page = admin_client.get(url).get_data(as_text=True)
    assert "[SHIP_DATE]に発送いたしました" in page and "本日" not in page
    assert "初期設定のまま" in page
    page = admin_client.get(URL).get_data(as_text=True)
    assert "店長より一言" in page and "初期設定から変更済み" in page  # edited: kept
    # Saving a default writes the new text into the never-edited rows; the edited one stays.
    token = csrf_token(admin_client, url)
    admin_client.post(
        "/automatic/templates?store=default&kind=order_confirmation&device=mobile&variant=2",
        data={"csrf_token": token, "subject": "s", "body": "[BUYER_NAME]様"},
    )
    rows = {
        (r.kind, r.device, r.variant): r for r in db.session.scalars(db.select(OrderMailTemplate))
    }
    assert rows[("shipping_notice", "pc", "")].body == new[("shipping_notice", "pc", "")]["body"]
    assert "店長より一言" in rows[("follow_up", "pc", "")].body
    assert rows[("order_confirmation", "mobile", "2")].subject == "s"


def test_the_mail_page_shows_the_composed_name_whole_and_the_utf8_fallback(
    app, admin_client, smtp_server
):
    name = "さくら雑貨 京都本店 オンラインショップ 和食器と手ぬぐいの専門店 カスタマーサポート係"
    store = make_store(smtp_server, "own", "own", from_name=name, mobile_charset="iso-2022-jp")
    first = make_order(store, "M-1", "taro@docomo.ne.jp", days_ago=0)
    order = make_order(store, "M-2", "ichiro@docomo.ne.jp", days_ago=0)
    order.buyer_name = "髙橋 一郎"
    db.session.commit()
    operations.set_kinds("test", {"order_confirmation"}, now=datetime(2000, 1, 1, tzinfo=UTC))
    automatic.create_mails("test")
    db.session.commit()
    fits, falls_back = (
        db.session.scalar(db.select(Message).filter_by(order_id=o.id)) for o in (first, order)
    )
    page = admin_client.get(f"/automatic/messages/{falls_back.id}").get_data(as_text=True)
    assert f"{name} &lt;own@sakura.example.jp&gt;" in page  # no spaces put into the name
    assert "髙橋 一郎 &lt;ichiro@docomo.ne.jp&gt;" in page
    assert "ISO-2022-JP で表せない文字(「髙」)があるため、UTF-8 で送られます" in page
    page = admin_client.get(f"/automatic/messages/{fits.id}").get_data(as_text=True)
    assert "UTF-8 で送られます" not in page
    queue = admin_client.get("/automatic/queue").get_data(as_text=True)
    assert queue.count("UTF-8で送信") == 1


def test_a_december_start_reaches_follow_ups_back_to_the_same_day_in_september(app, smtp_server):
    store = make_store(smtp_server, "own", "own")
    now = datetime(2026, 12, 31, 3, 0, tzinfo=UTC)
    # Shipped 1 October: 91 days before the start, inside three calendar months.
    inside = make_order(store, "F-1", "f1@example.jp", days_ago=0)
    outside = make_order(store, "F-2", "f2@example.jp", days_ago=0)
    db.session.flush()
    ShipmentFactory(order=inside, confirmed_at=datetime(2026, 10, 1, 3, 0, tzinfo=UTC))
    ShipmentFactory(order=outside, confirmed_at=datetime(2026, 9, 29, 3, 0, tzinfo=UTC))
    db.session.commit()
    operations.set_kinds("test", {"follow_up"}, now=now)
    automatic.create_mails("test", now=now)
    db.session.commit()
    made = db.session.scalars(db.select(Message.order_id).filter_by(kind="follow_up")).all()
    assert made == [inside.id]
