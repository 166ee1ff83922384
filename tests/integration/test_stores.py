"""Store settings as an admin meets them: the list, create and edit under the rules, the
password kept encrypted, the mail server switch, and a real test mail through the store's relay."""

from __future__ import annotations

import socket

import pytest

from shopmail.core import crypto
from shopmail.extensions import db
from shopmail.models import AuditEntry, DeskSettings, Store
from shopmail.stores.settings import NEW_STORE, settings_of
from tests.conftest import csrf_token

PASSWORD = "R4kuten-Relay-Secret-0042"


@pytest.fixture
def store(app):
    store = Store(
        code="own",
        name="さくら雑貨 本店",
        channel="own",
        from_addr="shop@sakura.example.jp",
        from_name="さくら雑貨 本店",
        reply_to="support@sakura.example.jp",
        bcc="archive@sakura.example.jp",
        signature_pc="--\nさくら雑貨 本店",
        signature_mobile="--\nさくら雑貨",
        relay_mode="system",
    )
    db.session.add(store)
    DeskSettings.get().mail_server_running = False
    db.session.commit()
    return store


@pytest.fixture
def rakuten_store(app):
    store = Store(
        code="rakuten",
        name="さくら雑貨 楽天市場店",
        channel="rakuten",
        from_addr="rakuten@sakura.example.jp",
        from_name="さくら雑貨 楽天市場店",
        reply_to="rakuten@sakura.example.jp",
        relay_mode="rakuten",
        smtp_user="sakura-zakka",
        smtp_password_enc=crypto.encrypt(PASSWORD),
    )
    db.session.add(store)
    db.session.commit()
    return store


def form_of(store: Store, **changes) -> dict:
    data = {k: ("" if v is None else v) for k, v in settings_of(store).items()}
    data.update(changes)
    return data


def post(client, path: str, data: dict, **kwargs):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/stores")}, **kwargs)


def snapshot(store_id: int) -> dict:
    db.session.expire_all()
    store = db.session.get(Store, store_id)
    return {**settings_of(store), "password": store.smtp_password_enc}


def audit_actions() -> list[str]:
    db.session.expire_all()
    return [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


def test_the_list_shows_sender_relay_password_and_pause(admin_client, store, rakuten_store):
    rakuten_store.sending_paused_reason = "535 5.7.8 Authentication failed"
    db.session.commit()
    page = admin_client.get("/stores").get_data(as_text=True)
    assert "さくら雑貨 本店" in page and "shop@sakura.example.jp" in page
    assert "楽天市場" in page and "楽天の送信サーバ" in page and "sakura-zakka" in page
    assert crypto.MASK in page and PASSWORD not in page
    assert "送信停止中" in page and "535 5.7.8 Authentication failed" in page
    assert "メールサーバは停止中です" in page


def test_admin_creates_a_store(admin_client):
    data = dict(
        NEW_STORE,
        code="b2b",
        name="さくら卸 B2B",
        channel="b2b",
        from_addr="b2b@mail.shopmail.example",  # the system domain: fine for B2B
        from_name="さくら卸",
        reply_to="b2b@sakura.example.jp",
        bcc="a@sakura.example.jp,  b@sakura.example.jp",
    )
    response = post(admin_client, "/stores/new", data)
    assert response.status_code == 302
    page = admin_client.get("/stores").get_data(as_text=True)
    assert "さくら卸 B2B" in page and "保存しました" in page
    store = db.session.scalar(db.select(Store).filter_by(code="b2b"))
    assert store.bcc == "a@sakura.example.jp, b@sakura.example.jp"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="store.created"))
    assert entry.actor == "admin@example.com" and "from_addr" in entry.details["fields"]


def test_edit_saves_audits_and_clears_a_pause(admin_client, store):
    store.sending_paused_reason = "535 5.7.8 Authentication failed"
    db.session.commit()
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "送信を一時停止しています" in page and "535 5.7.8" in page
    response = post(admin_client, f"/stores/{store.id}", form_of(store, from_name="さくら雑貨"))
    assert response.status_code == 302
    db.session.expire_all()
    assert store.from_name == "さくら雑貨" and store.sending_paused_reason == ""
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="store.updated"))
    assert entry.details == {"fields": ["from_name"]}


def test_the_page_recommends_the_system_domain_or_forbids_it(admin_client, store, rakuten_store):
    own = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "mail.shopmail.example" in own and "届きやすく" in own
    rakuten = admin_client.get(f"/stores/{rakuten_store.id}").get_data(as_text=True)
    assert "使えません" in rakuten and "楽天に登録" in rakuten


OWN_RELAY = {"relay_mode": "own", "smtp_host": "smtp.sakura.example.jp", "smtp_port": "587"}

OWN_REFUSALS = [
    ({"from_addr": ""}, "送信元アドレス(From)を入力してください"),
    ({"from_addr": "shop@@sakura"}, "送信元アドレス(From): メールアドレスの形式が正しくありません"),
    ({"reply_to": ""}, "返信先アドレス(Reply-To)を入力してください"),
    ({"reply_to": "a@sakura.example.jp, b@sakura.example.jp"}, "アドレスは1つだけ"),
    ({"bcc": "ok@sakura.example.jp, broken"}, "BCC: 2番目のアドレス「broken」"),
    ({"from_addr": "x@shop.rakuten.co.jp"}, "楽天のマスクアドレス"),
    ({"signature_mobile": "問合せ abc@shop.rakuten.co.jp"}, "携帯用署名: 楽天のマスクアドレス"),
    ({"from_name": "さくら\r\nBcc: evil@example.com"}, "送信者名: 改行"),
    ({"relay_mode": "own", "smtp_host": ""}, "SMTP サーバのホスト名を入力してください"),
    ({"relay_mode": "own", "smtp_host": "smtp.example.jp", "smtp_port": "99999"}, "1〜65535"),
    ({"relay_mode": "rakuten"}, "楽天の送信サーバは楽天の店舗だけ"),
    ({**OWN_RELAY, "smtp_sessions": "0"}, "同時接続数: 1〜50 の数字を入力してください"),
    ({**OWN_RELAY, "smtp_per_minute": "-5"}, "1分あたりの送信上限: 0〜100,000"),
    ({**OWN_RELAY, "smtp_per_hour": "abc"}, "1時間あたりの送信上限: 0〜1,000,000"),
    ({**OWN_RELAY, "smtp_per_session": "100001"}, "1接続あたりの送信数: 0〜100,000"),
    (
        {**OWN_RELAY, "smtp_per_minute": "600", "smtp_per_hour": "500"},
        "1時間あたりの送信上限は、1分あたりの送信上限(600 通)以上にしてください",
    ),
    ({"code": ""}, "店舗コードを入力してください"),
    ({"follow_up_days": "abc"}, "フォロー連絡"),
]


@pytest.mark.parametrize(("changes", "message"), OWN_REFUSALS)
def test_each_rule_refuses_with_its_message_and_saves_nothing(
    admin_client, store, changes, message
):
    before = snapshot(store.id)
    response = post(admin_client, f"/stores/{store.id}", form_of(store, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "保存していません" in page
    assert snapshot(store.id) == before
    assert "store.updated" not in audit_actions()


RAKUTEN_REFUSALS = [
    ({"reply_to": "abc123@shop.rakuten.co.jp"}, "楽天に登録されたアドレス"),
    ({"bcc": "copy@shop.rakuten.co.jp"}, "BCC: copy@shop.rakuten.co.jp は楽天のマスクアドレス"),
    (
        {"from_addr": "shop@mail.shopmail.example"},
        "システムのメールドメイン(mail.shopmail.example)",
    ),
    ({"relay_mode": "system"}, "楽天の店舗は楽天の送信サーバ"),
    ({"smtp_user": ""}, "SMTP AUTH ID を入力してください"),
    ({"clear_password": "y"}, "SMTP AUTH パスワードを入力してください"),
]


@pytest.mark.parametrize(("changes", "message"), RAKUTEN_REFUSALS)
def test_rakuten_rules_refuse_with_their_message(admin_client, rakuten_store, changes, message):
    before = snapshot(rakuten_store.id)
    response = post(admin_client, f"/stores/{rakuten_store.id}", form_of(rakuten_store, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(rakuten_store.id) == before


def test_a_code_used_by_another_store_is_refused(admin_client, store, rakuten_store):
    response = post(admin_client, f"/stores/{store.id}", form_of(store, code="rakuten"))
    assert response.status_code == 400
    assert "他の店舗が使っています" in response.get_data(as_text=True)


def test_sender_settings_cannot_change_while_the_server_runs(admin_client, store):
    DeskSettings.get().mail_server_running = True
    db.session.commit()
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "停止中にしか変更できません" in page and "メールサーバを停止" in page
    before = snapshot(store.id)
    response = post(admin_client, f"/stores/{store.id}", form_of(store, from_name="別の名前"))
    assert response.status_code == 400
    assert "メールサーバが稼働中です" in response.get_data(as_text=True)
    assert snapshot(store.id) == before
    # The store's name and schedule are not sender settings: they may change meanwhile.
    response = post(admin_client, f"/stores/{store.id}", form_of(store, name="さくら雑貨 新本店"))
    assert response.status_code == 302
    assert snapshot(store.id)["name"] == "さくら雑貨 新本店"


def test_the_switch_stops_and_starts_the_server_and_comes_back(admin_client, store):
    DeskSettings.get().mail_server_running = True
    db.session.commit()
    here = f"/stores/{store.id}"
    response = post(admin_client, "/stores/mail-server", {"running": "0", "next": here})
    assert response.status_code == 302 and response.headers["Location"] == here
    page = admin_client.get(here).get_data(as_text=True)
    assert "メールは送信されません" in page
    db.session.expire_all()
    assert DeskSettings.get().mail_server_running is False
    response = post(admin_client, "/stores/mail-server", {"running": "1", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
    db.session.expire_all()
    assert DeskSettings.get().mail_server_running is True
    switched = [a for a in audit_actions() if a.startswith("desk.")]
    assert switched == ["desk.mail_server_stopped", "desk.mail_server_started"]


def test_a_password_is_shown_as_8_dots_and_stored_encrypted(admin_client, store):
    changes = {"relay_mode": "own", "smtp_host": "smtp.sakura.example.jp", "smtp_port": "587"}
    changes.update(smtp_user="mailer", smtp_password=PASSWORD)
    assert post(admin_client, f"/stores/{store.id}", form_of(store, **changes)).status_code == 302
    db.session.expire_all()
    assert PASSWORD not in store.smtp_password_enc
    assert crypto.decrypt(store.smtp_password_enc) == PASSWORD
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert crypto.MASK in page and PASSWORD not in page
    assert f'placeholder="{crypto.MASK}"' in page
    entries = db.session.scalars(db.select(AuditEntry)).all()
    assert all(PASSWORD not in str(e.details) for e in entries)

    # An empty field keeps it; the 8 dots typed back keep it too.
    encrypted = store.smtp_password_enc
    for typed in ("", crypto.MASK):
        data = form_of(store, smtp_password=typed, from_name="さくら")
        assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
        db.session.expire_all()
        assert store.smtp_password_enc == encrypted

    # A new one replaces it; "clear" removes it (and a user without a password is refused).
    data = form_of(store, smtp_password="another-one", smtp_user="")
    assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
    db.session.expire_all()
    assert crypto.decrypt(store.smtp_password_enc) == "another-one"
    assert (
        post(admin_client, f"/stores/{store.id}", form_of(store, clear_password="y")).status_code
        == 302
    )
    db.session.expire_all()
    assert store.smtp_password_enc == ""
    assert "パスワードは設定されていません" in admin_client.get(f"/stores/{store.id}").get_data(
        as_text=True
    )


def relay_to(store: Store, smtp_server, **fields) -> None:
    store.relay_mode, store.smtp_security = "own", "none"
    store.smtp_host, store.smtp_port = smtp_server.host, smtp_server.port
    for name, value in fields.items():
        setattr(store, name, value)
    db.session.commit()


def test_a_test_mail_arrives_with_the_store_sender_while_the_server_is_stopped(
    admin_client, store, smtp_server
):
    relay_to(store, smtp_server)
    response = post(admin_client, f"/stores/{store.id}/test-mail", {})
    assert response.status_code == 302
    mail = smtp_server.wait_for(1)[0]
    assert mail.rcpt_tos == ["admin@example.com"]  # no BCC copies of a test mail
    sender = mail.message["From"].addresses[0]
    assert sender.display_name == "さくら雑貨 本店" and sender.addr_spec == "shop@sakura.example.jp"
    assert "さくら雑貨 本店" in mail.message["Subject"]
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "送信しました: 250 2.0.0 OK queued" in page
    assert "store.test_mail_sent" in audit_actions()


def test_relay_auth_works_with_the_right_password_and_explains_a_wrong_one(
    admin_client, store, smtp_server
):
    smtp_server.handler.auth_required = True
    smtp_server.handler.credentials = ("mailer", PASSWORD)
    relay_to(store, smtp_server, smtp_user="mailer")
    data = form_of(store, smtp_password=PASSWORD)
    assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
    page = post(admin_client, f"/stores/{store.id}/test-mail", {}, follow_redirects=True)
    assert "送信しました: 250" in page.get_data(as_text=True)
    assert smtp_server.handler.logins == ["mailer"]

    data = form_of(store, smtp_password="wrong-password")
    assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
    page = post(admin_client, f"/stores/{store.id}/test-mail", {}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "認証に失敗しました" in text and "535" in text
    assert "wrong-password" not in text


def test_a_relay_that_does_not_answer_is_explained(admin_client, store):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store.relay_mode, store.smtp_host, store.smtp_port, store.smtp_security = (
        "own",
        "127.0.0.1",
        port,
        "none",
    )
    db.session.commit()
    page = post(admin_client, f"/stores/{store.id}/test-mail", {}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "メールサーバに接続できませんでした" in text and "Connection refused" in text


def test_a_refused_recipient_is_explained_in_the_htmx_partial(admin_client, store, smtp_server):
    relay_to(store, smtp_server)
    smtp_server.handler.refuse["admin@example.com"] = (550, "5.1.1 User unknown")
    response = post(
        admin_client, f"/stores/{store.id}/test-mail", {}, headers={"HX-Request": "true"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text
    assert "宛先が拒否されました" in text and "550 5.1.1 User unknown" in text


def test_staff_cannot_reach_store_settings(staff_client, store):
    assert staff_client.get("/stores").status_code == 403
    assert staff_client.get(f"/stores/{store.id}").status_code == 403
    token = csrf_token(staff_client, "/")
    for path in ("/stores/new", f"/stores/{store.id}/test-mail", "/stores/mail-server"):
        assert (
            staff_client.post(path, data={"csrf_token": token, "running": "1"}).status_code == 403
        )
    db.session.expire_all()
    assert DeskSettings.get().mail_server_running is False


def test_a_refused_new_store_keeps_what_was_typed_and_marks_the_field(admin_client):
    data = dict(NEW_STORE, code="b2b", name="さくら卸", from_addr="b2b@sakura.example.jp")
    data.update(reply_to="b2b@sakura.example.jp", follow_up_days="abc", smtp_password="s3cret")
    response = post(admin_client, "/stores/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="さくら卸"' in page and 'value="abc"' in page
    assert 'aria-invalid="true"' in page and "1〜365" in page
    assert "s3cret" not in page  # a typed password is never echoed back
    assert db.session.scalar(db.select(Store).filter_by(code="b2b")) is None


# --- relay limits and what the relay is doing ----------------------------------------------


def test_an_own_relays_limits_are_saved_and_audited(admin_client, store):
    data = form_of(store, **OWN_RELAY, smtp_sessions="8", smtp_per_minute="120")
    data.update(smtp_per_hour="3,000", smtp_per_session="0")
    assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
    saved = snapshot(store.id)
    assert (saved["smtp_sessions"], saved["smtp_per_minute"]) == (8, 120)
    assert (saved["smtp_per_hour"], saved["smtp_per_session"]) == (3000, 0)
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="store.updated"))
    assert {"smtp_sessions", "smtp_per_minute", "smtp_per_hour", "smtp_per_session"} <= set(
        entry.details["fields"]
    )
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert 'name="smtp_per_hour" type="text" value="3000"' in page
    assert "独自の SMTP サーバの送信上限" in page and "0 は上限なし" in page
    assert "環境変数" not in page  # an own relay's limits are the store's own


def test_limits_unreadable_for_a_relay_that_does_not_use_them_keep_what_was_saved(
    admin_client, store
):
    # Only an own relay checks them: for the system relay a garbled box changes nothing.
    data = form_of(store, smtp_port="abc", smtp_sessions="", smtp_per_hour="x", name="新本店")
    assert post(admin_client, f"/stores/{store.id}", data).status_code == 302
    saved = snapshot(store.id)
    assert (saved["smtp_port"], saved["smtp_sessions"], saved["smtp_per_hour"]) == (587, 4, 0)
    assert saved["name"] == "新本店"


def test_relay_limits_cannot_change_while_the_server_runs(admin_client, store):
    store.relay_mode, store.smtp_host = "own", "smtp.sakura.example.jp"
    DeskSettings.get().mail_server_running = True
    db.session.commit()
    before = snapshot(store.id)
    for name, value in (("smtp_per_minute", "60"), ("smtp_sessions", "2")):
        response = post(admin_client, f"/stores/{store.id}", form_of(store, **{name: value}))
        assert response.status_code == 400
        assert "メールサーバが稼働中です" in response.get_data(as_text=True)
        assert snapshot(store.id) == before
    assert "store.updated" not in audit_actions()


def test_system_and_rakuten_relays_show_their_limits_from_the_environment(
    app, admin_client, store, rakuten_store, monkeypatch
):
    monkeypatch.setitem(app.config, "SHOPMAIL_SMTP_SESSIONS", 8)
    monkeypatch.setitem(app.config, "SHOPMAIL_SMTP_PER_MINUTE", 1200)
    monkeypatch.setitem(app.config, "SHOPMAIL_RAKUTEN_SMTP_PER_HOUR", 500)
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "システムの送信サーバの送信上限" in page and "この画面では変更できません" in page
    for name in ("SESSIONS", "PER_MINUTE", "PER_HOUR", "PER_SESSION"):
        assert f"<code>SHOPMAIL_SMTP_{name}</code>" in page
    assert ">8</td>" in page and "1,200 通" in page and "上限なし" in page
    page = admin_client.get(f"/stores/{rakuten_store.id}").get_data(as_text=True)
    assert "楽天の送信サーバ(SMTP AUTH)の送信上限" in page
    assert "<code>SHOPMAIL_RAKUTEN_SMTP_PER_HOUR</code>" in page and "500 通" in page
    assert "SHOPMAIL_SMTP_SESSIONS" not in page


def in_tokyo(moment) -> str:
    from shopmail.core.i18n import tokyo

    return tokyo(moment, "%H:%M:%S")


@pytest.fixture
def throttled_relay(store):
    """The store's own relay throttling now: paused, then slowed; two of four sessions open."""
    from datetime import timedelta

    from shopmail.models import RelaySend, RelaySession, RelayState
    from shopmail.models.types import utcnow

    store.relay_mode, store.smtp_host, store.smtp_per_minute = "own", "smtp.sakura.example.jp", 60
    db.session.flush()
    key, now = f"store:{store.id}", utcnow().replace(microsecond=0)
    state = RelayState(
        key=key,
        paused_until=now + timedelta(minutes=2),
        slowed_until=now + timedelta(minutes=10),
        slow_per_minute=30,
        throttles=1,
        throttled_at=now,
        throttle_reply="421 4.7.0 Too many connections, slow down",
    )
    sessions = [
        RelaySession(relay_key=key, slot=0, holder="w1", expires_at=now + timedelta(seconds=50)),
        RelaySession(relay_key=key, slot=1, holder="w2", expires_at=now + timedelta(seconds=20)),
        RelaySession(relay_key=key, slot=2, holder="dead", expires_at=now - timedelta(minutes=1)),
        RelaySession(relay_key=key, slot=3),
    ]
    sends = [
        RelaySend(relay_key=key, at=now - timedelta(seconds=10), count=12),
        RelaySend(relay_key=key, at=now - timedelta(seconds=40), count=5),
        RelaySend(relay_key=key, at=now - timedelta(minutes=5), count=300),
    ]
    db.session.add_all([state, *sessions, *sends])
    db.session.commit()
    return state


def test_the_store_page_says_the_mail_server_is_limiting_sending(
    admin_client, store, throttled_relay
):
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "送信サーバの状態" in page and "送信に使うサーバ: 独自の SMTP サーバ" in page
    assert "メールサーバが送信を制限しています。" in page
    assert f"{in_tokyo(throttled_relay.paused_until)} まで送信を一時停止しています。" in page
    assert (
        f"{in_tokyo(throttled_relay.slowed_until)} までは、1分あたり 30 通までに抑えて送信します。"
        in page
    )
    assert "メールサーバの応答:" in page and "421 4.7.0 Too many connections, slow down" in page
    assert "使用中の接続" in page and "2 / 4" in page  # the expired lease is free again
    assert "直近1分の送信数" in page and "17 通" in page


def test_the_stores_list_shows_a_throttling_relay_as_a_badge(admin_client, store, throttled_relay):
    from shopmail.core.i18n import tokyo

    page = admin_client.get("/stores").get_data(as_text=True)
    assert '<span class="badge warn">送信制限中</span>' in page
    assert f"{tokyo(throttled_relay.slowed_until, '%H:%M')} まで" in page
    assert "接続 2/4・直近1分 17 通" in page


def test_a_relay_that_throttled_earlier_shows_only_when(admin_client, store, throttled_relay):
    from datetime import timedelta

    earlier = throttled_relay.throttled_at - timedelta(hours=1)
    throttled_relay.paused_until = throttled_relay.slowed_until = earlier
    throttled_relay.throttled_at = earlier
    db.session.commit()
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    assert "メールサーバが送信を制限しています" not in page
    assert "前回メールサーバに送信を制限されたのは" in page
    listed = admin_client.get("/stores").get_data(as_text=True)
    assert "送信制限中" not in listed and "送信可" in listed


def test_a_relay_that_never_throttled_shows_its_sessions_and_nothing_more(admin_client, store):
    page = admin_client.get(f"/stores/{store.id}").get_data(as_text=True)
    status = page.split('id="relay-status"')[1].split("</section>")[0]
    assert "送信に使うサーバ: システムの送信サーバ" in status
    assert ">0 / 4</td>" in status and ">0 通</td>" in status
    assert "制限" not in status


def test_reading_the_relay_state_writes_nothing(app, admin_client, store, throttled_relay):
    from sqlalchemy import event

    from tests.integration.test_get_never_writes import WRITE

    writes: list[str] = []

    def note(conn, cursor, statement, *args):
        if WRITE.match(statement):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for path in ("/stores", f"/stores/{store.id}", "/stores/new"):
            assert admin_client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert writes == []
