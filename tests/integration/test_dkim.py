"""DKIM on real parts: keys made by the CLI, every kind of mail sent by the desk over SMTP and
verified by dkimpy against the record the desk told us to publish (a resolver that knows only
those records: no network), rotation, the Rakuten exception and the store page's records."""

from __future__ import annotations

import base64
import re
from html import unescape

import dkim
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.serialization import load_der_public_key

from shopmail.automatic import creation as automatic
from shopmail.core import crypto, dispatch
from shopmail.extensions import db
from shopmail.models import DeskSettings, DkimKey, Message
from tests.conftest import csrf_token, run_worker
from tests.factories import MessageFactory, OrderFactory, StoreFactory
from tests.integration.test_automatic import switch_on
from tests.integration.test_broadcasts import add_members, broadcast_to, settings
from tests.integration.test_record_mail import send_mailing

DOMAIN = "sakura.example.jp"
RECORD = re.compile(r'(\S+)\. IN TXT ((?:"[^"]{1,255}" ?)+)')


def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    db.session.expire_all()  # the command ran in its own session
    return result


def new_key(app, *options: str) -> str:
    """`flask dkim-key sakura.example.jp …`: the record it prints, the one line on stdout."""
    return cli(app, "dkim-key", DOMAIN, *options).stdout.strip()


def resolver(*records: str):
    """dkimpy's DNS lookup, knowing only the published zone-file lines (TXT strings joined as
    DNS joins them)."""
    zone = {}
    for line in records:
        name, strings = RECORD.fullmatch(line).groups()
        zone[name.encode() + b"."] = "".join(re.findall(r'"([^"]*)"', strings)).encode()
    return lambda name, timeout=5: zone.get(name)


def signature_tags(data: bytes) -> dict[str, str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    field = re.search(r"^DKIM-Signature:(.*?)\r\n(?! )", head, re.S | re.M)
    assert field, "the mail is not signed"
    value = re.sub(r"\s+", "", field.group(1))
    return dict(tag.split("=", 1) for tag in value.split(";") if tag)


def kind_of(mail) -> str:
    return db.session.get(Message, int(mail.message["X-Shopmail-Id"])).kind


def send_test_mail(client, store):
    token = csrf_token(client, f"/stores/{store.id}")
    response = client.post(f"/stores/{store.id}/test-mail", data={"csrf_token": token})
    assert response.status_code == 302


def test_every_kind_of_mail_arrives_signed_and_verifies_against_the_published_record(
    app, admin_client, staff_client, mail_store, smtp_server
):
    published = resolver(new_key(app))
    # An automatic order confirmation, created as the hourly job creates it.
    OrderFactory(store=mail_store, number="A-1", buyer_email="auto@example.jp")
    switch_on("order_confirmation", days_ago=1)
    automatic.create_mails("test")
    dispatch.send_soon()
    db.session.commit()
    # A record mail from the order list, a broadcast to two members with its admin copy.
    order = OrderFactory(store=mail_store, number="R-1", buyer_email="record@example.jp")
    send_mailing(staff_client, "order", [order.id])
    settings(admin_copy="boss@sakura.example.jp")
    add_members(2)
    broadcast_to(staff_client, mail_store)
    run_worker(app)
    send_test_mail(admin_client, mail_store)

    received = smtp_server.wait_for(6)
    kinds = sorted(kind_of(mail) for mail in received)
    assert kinds == ["admin_copy", "broadcast", "broadcast", "order_confirmation", "record", "test"]
    for mail in received:
        tags = signature_tags(mail.data)
        assert (tags["d"], tags["a"], tags["c"]) == (DOMAIN, "rsa-sha256", "relaxed/relaxed")
        signed = tags["h"].split(":")
        for name in ("from", "to", "subject", "date", "message-id", "mime-version"):
            assert name in signed, (kind_of(mail), name)
        assert "content-type" in signed
        if kind_of(mail) == "broadcast":
            assert {"list-unsubscribe", "list-unsubscribe-post"} <= set(signed)
        assert dkim.verify(mail.data, dnsfunc=published), kind_of(mail)


def test_a_changed_body_or_subject_fails_verification(app, admin_client, mail_store, smtp_server):
    published = resolver(new_key(app))
    send_test_mail(admin_client, mail_store)
    data = smtp_server.wait_for(1)[0].data
    assert dkim.verify(data, dnsfunc=published)

    head, body = data.split(b"\r\n\r\n", 1)
    changed = head + b"\r\n\r\n" + body.replace(b"A", b"B", 1)
    assert changed != data and not dkim.verify(changed, dnsfunc=published)
    subject = re.sub(rb"\r\nSubject: [^\r]*", b"\r\nSubject: =?UTF-8?B?5YWN56iO?=", data, count=1)
    assert subject != data and not dkim.verify(subject, dnsfunc=published)


def test_mail_of_a_domain_without_a_key_goes_out_unsigned(app, admin_client, smtp_server):
    cli(app, "dkim-key", "other.example.jp")
    store = StoreFactory(
        from_addr="shop@sakura.example.jp",
        relay_mode="own",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
    )
    send_test_mail(admin_client, store)
    assert "DKIM-Signature" not in smtp_server.wait_for(1)[0].message


def test_a_rakuten_stores_mail_is_not_signed_and_its_page_says_why(
    app, admin_client, smtp_server, monkeypatch
):
    monkeypatch.setitem(
        app.config, "SHOPMAIL_RAKUTEN_SMTP_URL", f"smtp://{smtp_server.host}:{smtp_server.port}"
    )
    new_key(app)  # the desk holds a key for the domain, and still does not sign
    store = StoreFactory(
        code="rakuten",
        channel="rakuten",
        from_addr="rakuten@sakura.example.jp",
        relay_mode="rakuten",
        smtp_user="",
    )
    MessageFactory(store=store, kind="record", to_addr="buyer@example.jp")
    desk = DeskSettings.get()
    desk.mail_server_running = True
    db.session.commit()
    dispatch.send_soon([store.id])
    db.session.commit()
    run_worker(app)
    send_test_mail(admin_client, store)

    received = smtp_server.wait_for(2)
    assert sorted(kind_of(m) for m in received) == ["record", "test"]
    assert all("DKIM-Signature" not in m.message for m in received)
    page = unescape(admin_client.get(f"/stores/{store.id}").get_data(as_text=True))
    assert "楽天の中継サーバー" in page and "署名しません" in page
    assert "._domainkey." not in page and "_dmarc." not in page


def test_the_cli_prints_the_record_as_one_line_and_keeps_the_key_encrypted(app):
    result = cli(app, "dkim-key", "Sakura.Example.JP", "--selector", "shop2026")
    line = result.stdout.strip()
    assert "\n" not in line and line == result.stdout.rstrip("\n")
    name, strings = RECORD.fullmatch(line).groups()
    assert name == "shop2026._domainkey.sakura.example.jp"
    value = "".join(re.findall(r'"([^"]*)"', strings))
    assert value.startswith("v=DKIM1; k=rsa; p=")
    public_key = load_der_public_key(base64.b64decode(value.removeprefix("v=DKIM1; k=rsa; p=")))
    assert public_key.key_size == 2048
    key = db.session.scalar(db.select(DkimKey))
    assert (key.domain, key.selector, key.retired_at) == (DOMAIN, "shop2026", None)
    assert "PRIVATE KEY" not in key.private_key_enc
    assert crypto.decrypt(key.private_key_enc).startswith("-----BEGIN RSA PRIVATE KEY-----")

    default = new_key(app)  # the default selector: sm + the month in Tokyo
    assert re.match(r"sm\d{6}\._domainkey\.sakura\.example\.jp\. IN TXT ", default)
    refused = app.test_cli_runner().invoke(args=["dkim-key", DOMAIN, "--selector", "shop2026"])
    assert refused.exit_code != 0 and "already has a key" in refused.output
    refused = app.test_cli_runner().invoke(args=["dkim-key", "not a domain"])
    assert refused.exit_code != 0 and "not a domain name" in refused.output


def test_a_new_selector_signs_while_the_old_record_stays_listed_until_removed(
    app, admin_client, mail_store, smtp_server
):
    old = new_key(app, "--selector", "old")
    send_test_mail(admin_client, mail_store)
    first = smtp_server.wait_for(1)[0].data
    assert signature_tags(first)["s"] == "old"

    new = new_key(app, "--selector", "new")
    send_test_mail(admin_client, mail_store)
    second = smtp_server.wait_for(2)[1].data
    assert signature_tags(second)["s"] == "new"
    assert dkim.verify(second, dnsfunc=resolver(new))
    assert dkim.verify(first, dnsfunc=resolver(old, new))  # still verifies while published
    page = unescape(admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True))
    assert "セレクター new で署名しています" in page
    assert new in page and old in page
    assert f"flask --app app dkim-key {DOMAIN} --remove old" in page

    removed = cli(app, "dkim-key", DOMAIN, "--remove", "old")
    assert "removed the key old" in removed.stderr
    page = unescape(admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True))
    assert new in page and old not in page
    assert cli(app, "dkim-key", DOMAIN, "--list").stdout.strip() == f"new (signs): {new}"


def test_the_store_page_shows_the_records_a_merchant_publishes(app, admin_client, mail_store):
    page = unescape(admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True))
    assert "署名なし" in page and f"flask --app app dkim-key {DOMAIN}" in page
    bounce = "bounce.mail.shopmail.example"
    assert f'{bounce}. IN TXT "v=spf1 include:<SPF domain of your relay> ~all"' in page
    assert f"{mail_store.smtp_host}" in page  # the relay the SPF include must cover
    dmarc = f'_dmarc.{DOMAIN}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{DOMAIN}"'
    assert dmarc in page

    record = new_key(app)
    page = unescape(admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True))
    assert "署名あり" in page and record in page and dmarc in page


def test_a_key_that_no_longer_decrypts_is_shown_and_mail_still_goes(
    app, admin_client, mail_store, smtp_server
):
    new_key(app)
    key = db.session.scalar(db.select(DkimKey))
    # Encrypted with keys the desk no longer has (its SHOPMAIL_SECRET_KEYS changed).
    key.private_key_enc = Fernet(Fernet.generate_key()).encrypt(b"not the key").decode()
    db.session.commit()
    page = admin_client.get(f"/stores/{mail_store.id}").get_data(as_text=True)
    assert "復号できません" in page
    send_test_mail(admin_client, mail_store)
    assert "DKIM-Signature" not in smtp_server.wait_for(1)[0].message


@pytest.fixture
def first_start(app, tmp_path, monkeypatch):
    from shopmail import desk

    monkeypatch.setattr(desk, "FIRST_ADMIN", tmp_path / "first-admin.txt")
    return desk._first_start


def test_the_first_start_creates_a_key_for_the_mail_domain_once(app, first_start, capsys):
    first_start()
    printed = capsys.readouterr().out
    first_start()
    assert "DKIM key created" not in capsys.readouterr().out
    keys = db.session.scalars(db.select(DkimKey)).all()
    assert [k.domain for k in keys] == [app.config["SHOPMAIL_MAIL_DOMAIN"]]
    assert f"._domainkey.{keys[0].domain}. IN TXT" in printed
