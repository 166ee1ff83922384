"""Every store settings rule, as a pure function over plain values (no app, no database)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from shopmail.core import crypto
from shopmail.core.i18n import compile_catalogs
from shopmail.mail.transport import Outcome, Result
from shopmail.models import Store
from shopmail.stores.settings import (
    StoreInput,
    changed_fields,
    check_store,
    explain,
    validate_basics,
    validate_relay,
    validate_sender,
)
from tests.unit.test_translations import ROOT

DOMAIN = "mail.shopmail.example"
MASK_ADDR = "abc123@shop.rakuten.co.jp"


def sender(channel="own", **changes) -> dict[str, str]:
    values = dict(
        from_addr="shop@sakura.example.jp",
        reply_to="support@sakura.example.jp",
        bcc="",
        signature_pc="--\nさくら雑貨",
        signature_mobile="--\nさくら",
        system_domain=DOMAIN,
    )
    values.update(changes)
    return {k: str(v) for k, v in validate_sender(channel, **values).items()}


def relay(channel="own", mode="system", **changes) -> dict[str, str]:
    values = dict(
        smtp_host="", smtp_port=587, smtp_security="starttls", smtp_user="", has_password=False
    )
    values.update(changes)
    return {k: str(v) for k, v in validate_relay(channel, mode, **values).items()}


def basics(**changes) -> dict[str, str]:
    values = dict(
        code="own",
        name="さくら雑貨 本店",
        channel="own",
        mobile_charset="utf-8",
        follow_up_days=7,
        repeat_from_count=2,
    )
    values.update(changes)
    return {k: str(v) for k, v in validate_basics(**values).items()}


# --- identity and schedule -------------------------------------------------------------------


def test_good_basics_pass():
    assert basics() == {}
    assert basics(code="rakuten_01-b", mobile_charset="iso-2022-jp", follow_up_days=365) == {}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"code": " "}, "code", "Enter the store code"),
        ({"code": "本店"}, "code", "letters, digits"),
        ({"code": "x" * 41}, "code", "up to 40"),
        ({"name": ""}, "name", "Enter the store name"),
        ({"name": "さくら\n雑貨"}, "name", "one line"),
        ({"channel": "ebay"}, "channel", "channel"),
        ({"mobile_charset": "shift_jis"}, "mobile_charset", "UTF-8 or ISO-2022-JP"),
        ({"follow_up_days": None}, "follow_up_days", "1 to 365"),
        ({"follow_up_days": 0}, "follow_up_days", "1 to 365"),
        ({"repeat_from_count": 1}, "repeat_from_count", "2 to 99"),
    ],
)
def test_bad_basics_are_refused_naming_the_field(changes, field, words):
    errors = basics(**changes)
    assert list(errors) == [field]
    assert words in errors[field]


# --- sender --------------------------------------------------------------------------------


def test_good_sender_settings_pass():
    assert sender() == {}
    assert sender(bcc="a@sakura.example.jp, b@sakura.example.jp") == {}
    # A pre-2009 docomo address is still a real address.
    assert sender(bcc="taro..x.@docomo.ne.jp") == {}


def test_the_from_address_is_required_and_must_be_valid():
    assert sender(from_addr="  ") == {"from_addr": "Enter the From address."}
    assert sender(from_addr="shop.sakura.example.jp") == {
        "from_addr": "From address: The e-mail address has no @-sign."
    }
    assert "not valid" in sender(from_addr="shop@@sakura")["from_addr"]


def test_the_from_display_name_is_one_line():
    errors = sender(from_name="さくら\r\nBcc: evil@example.com")
    assert errors == {"from_name": "From display name: one line of up to 200 characters."}


def test_reply_to_is_required_and_exactly_one_address():
    assert sender(reply_to="") == {"reply_to": "Enter the Reply-To address."}
    for two in ("a@x.jp, b@x.jp", "a@x.jp; b@x.jp", "a@x.jp b@x.jp"):
        assert sender(reply_to=two) == {"reply_to": "Reply-To: enter exactly one address."}
    assert sender(reply_to="Support <s@x.jp>")["reply_to"].startswith("Reply-To: Enter the address")


def test_a_bad_bcc_item_is_named():
    errors = sender(bcc="ok@sakura.example.jp, broken")
    assert errors == {"bcc": "BCC: Address 2 ('broken'): The e-mail address has no @-sign."}


@pytest.mark.parametrize("field", ["from_addr", "reply_to", "bcc"])
def test_a_rakuten_mask_address_is_refused_in_every_address_field(field):
    errors = sender(**{field: MASK_ADDR})
    assert list(errors) == [field]
    assert f"{MASK_ADDR} is a Rakuten mask address" in errors[field]
    assert "registered with Rakuten" not in errors[field]


def test_a_rakuten_store_is_told_to_use_an_address_registered_with_rakuten():
    errors = sender("rakuten", reply_to=MASK_ADDR.upper())
    assert "Rakuten mask address" in errors["reply_to"]
    assert "registered with Rakuten" in errors["reply_to"]


@pytest.mark.parametrize("field", ["signature_pc", "signature_mobile"])
def test_a_rakuten_mask_address_inside_a_signature_is_refused(field):
    errors = sender(**{field: f"--\nお問い合わせ: {MASK_ADDR}\n"})
    assert list(errors) == [field]
    label = "PC signature" if field == "signature_pc" else "Mobile signature"
    assert errors[field].startswith(f"{label}: contains a Rakuten mask address")
    rakuten = sender("rakuten", **{field: f"({MASK_ADDR})"})
    assert "registered with Rakuten" in rakuten[field]


@pytest.mark.parametrize("channel", ["rakuten", "amazon", "aupay"])
def test_marketplace_stores_may_not_send_from_the_system_domain(channel):
    for addr in (f"shop@{DOMAIN}", f"shop@news.{DOMAIN}"):
        errors = sender(channel, from_addr=addr)
        assert list(errors) == ["from_addr"]
        assert f"system mail domain ({DOMAIN})" in errors["from_addr"]


@pytest.mark.parametrize("channel", ["yahoo", "own", "b2b", "other"])
def test_other_stores_may_send_from_the_system_domain(channel):
    assert sender(channel, from_addr=f"shop@{DOMAIN}") == {}


# --- relay ---------------------------------------------------------------------------------


def test_the_system_relay_needs_nothing():
    assert relay() == {}


def test_a_rakuten_store_must_use_rakutens_relay_with_auth_id_and_password():
    assert 'Choose "Rakuten relay"' in relay("rakuten", "system")["relay_mode"]
    assert "Rakuten relay" in relay("rakuten", "own", smtp_host="smtp.x.jp")["relay_mode"]
    errors = relay("rakuten", "rakuten")
    assert errors == {
        "smtp_user": "Enter the SMTP AUTH ID for Rakuten's relay.",
        "smtp_password": "Enter the SMTP AUTH password for Rakuten's relay.",
    }
    assert relay("rakuten", "rakuten", smtp_user="sakura", has_password=True) == {}


def test_only_rakuten_stores_use_rakutens_relay():
    errors = relay("own", "rakuten", smtp_user="sakura", has_password=True)
    assert errors == {"relay_mode": "Relay: only Rakuten stores can use Rakuten's relay."}


def test_an_own_relay_needs_host_port_and_encryption():
    assert relay(mode="own", smtp_host="smtp.sakura.example.jp") == {}
    assert "host name" in relay(mode="own")["smtp_host"]
    assert "host name only" in relay(mode="own", smtp_host="smtp://x.jp")["smtp_host"]
    for port in (None, 0, 65536):
        errors = relay(mode="own", smtp_host="x.jp", smtp_port=port)
        assert errors == {"smtp_port": "SMTP port: enter a number from 1 to 65535."}
    errors = relay(mode="own", smtp_host="x.jp", smtp_security="ssl3")
    assert list(errors) == ["smtp_security"]


def test_an_smtp_user_needs_a_password_and_no_spaces():
    errors = relay(mode="own", smtp_host="x.jp", smtp_user="mailer")
    assert list(errors) == ["smtp_password"]
    assert relay(mode="own", smtp_host="x.jp", smtp_user="mailer", has_password=True) == {}
    assert list(relay(mode="own", smtp_host="x.jp", smtp_user="a b")) == [
        "smtp_user",
        "smtp_password",
    ]


def test_an_unknown_relay_mode_is_refused():
    assert list(relay(mode="pigeon")) == ["relay_mode"]


# --- the whole form ------------------------------------------------------------------------


def good_input(**changes) -> StoreInput:
    values = dict(
        code="own",
        name="さくら雑貨 本店",
        from_addr="shop@sakura.example.jp",
        reply_to="support@sakura.example.jp",
    )
    values.update(changes)
    return StoreInput(**values)


def test_check_store_collects_every_rule():
    assert check_store(good_input(), has_password=False, system_domain=DOMAIN) == {}
    errors = check_store(
        good_input(code="", channel="rakuten", reply_to=MASK_ADDR),
        has_password=False,
        system_domain=DOMAIN,
    )
    assert set(errors) == {"code", "reply_to", "relay_mode"}


def test_typing_the_8_dots_back_keeps_the_password_and_line_ends_are_unified():
    cleaned = good_input(smtp_password=crypto.MASK, signature_pc="a\r\nb", name=" 本店 ").cleaned()
    assert cleaned.smtp_password == "" and cleaned.signature_pc == "a\nb" and cleaned.name == "本店"
    assert good_input(smtp_password=" pass word ").cleaned().smtp_password == " pass word "


def test_changed_fields_name_what_changed_and_never_a_value():
    store = Store(
        **{
            k: v
            for k, v in vars(good_input()).items()
            if k not in ("smtp_password", "clear_password")
        }
    )
    store.smtp_password_enc = "encrypted"
    assert changed_fields(store, good_input()) == []
    assert changed_fields(store, good_input(from_name="さくら", smtp_password="s3cret")) == [
        "from_name",
        "smtp_password",
    ]
    assert changed_fields(store, good_input(clear_password=True)) == ["smtp_password"]


# --- the test mail's answer in plain words -------------------------------------------------


@pytest.mark.parametrize(
    ("result", "ok", "words"),
    [
        (Result(Outcome.SENT, 250, "2.0.0 OK queued"), True, "Sent: 250 2.0.0 OK queued"),
        (Result(Outcome.PERMANENT, None, "535 5.7.8 Bad credentials"), False, "Authentication"),
        (
            Result(Outcome.PERMANENT, None, "530 5.7.0 Authentication required"),
            False,
            "Authentication",
        ),
        (
            Result(
                Outcome.TEMPORARY,
                None,
                "cannot connect to x.jp:587: [Errno 111] Connection refused",
            ),
            False,
            "Could not connect",
        ),
        (
            Result(Outcome.TEMPORARY, None, "cannot connect to x.jp:587: timed out"),
            False,
            "Could not connect",
        ),
        (Result(Outcome.PERMANENT, 550, "5.1.1 User unknown"), False, "recipient was refused"),
        (Result(Outcome.TEMPORARY, 451, "4.7.1 Greylisted"), False, "for now"),
        (Result(Outcome.PERMANENT, 554, "5.7.1 Spam"), False, "refused the mail"),
    ],
)
def test_the_relays_answer_is_explained(result, ok, words):
    answer = explain(result, "admin@example.com")
    assert answer.ok is ok and words in answer.message
    assert answer.reply.endswith(result.reply)


def test_the_rules_speak_japanese_to_a_japanese_reader():
    directory = ROOT / "shopmail" / "translations"
    compile_catalogs(directory)
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, default_locale="ja")
    errors = validate_sender("rakuten", MASK_ADDR, "a@x.jp, b@x.jp", "bad", "", "", DOMAIN)
    with app.test_request_context(), force_locale("ja"):
        shown = {k: str(v) for k, v in errors.items()}
    assert shown["from_addr"].startswith("送信元アドレス(From): abc123@shop.rakuten.co.jp は楽天")
    assert "楽天に登録されたアドレス" in shown["from_addr"]
    assert shown["reply_to"] == "返信先アドレス(Reply-To): アドレスは1つだけ入力してください。"
    assert shown["bcc"] == "BCC: 1番目のアドレス「bad」: メールアドレスに @ がありません。"
