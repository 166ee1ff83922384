"""Every store settings rule, as the settings form's validators see what is typed.

Each test posts a form (in a request of the app, nothing saved) and reads the messages shown
beside the fields; one field shows one message.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from shopmail.core import crypto
from shopmail.mail.transport import Outcome, Result
from shopmail.models import Store
from shopmail.stores import rules
from shopmail.stores.forms import StoreForm
from shopmail.stores.settings import NEW_STORE, changed_fields, explain

DOMAIN = "mail.shopmail.example"
MASK_ADDR = "abc123@shop.rakuten.co.jp"
GOOD = {
    **NEW_STORE,
    "code": "own",
    "name": "さくら雑貨 本店",
    "from_addr": "shop@sakura.example.jp",
    "reply_to": "support@sakura.example.jp",
    "signature_pc": "--\nさくら雑貨",
    "signature_mobile": "--\nさくら",
}


def post_form(app, fields: dict, store: Store | None = None, running: bool = False):
    """The form as a POST of ``fields`` would fill it (None: an empty box; False: not sent)."""
    data = {k: "" if v is None else str(v) for k, v in fields.items() if v is not False}
    context = app.test_request_context(method="POST", data=data)
    context.push()
    form = StoreForm(store, running=running, system_domain=DOMAIN, meta={"csrf": False})
    return form, context


def errors_of(app, fields: dict, locale: str = "en", **kwargs) -> dict[str, str]:
    """What the page shows beside each field, in ``locale``."""
    form, context = post_form(app, fields, **kwargs)
    try:
        with force_locale(locale):
            valid = form.validate()
            shown = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    finally:
        context.pop()
    assert valid is not bool(shown)
    assert all(len(messages) == 1 for messages in shown.values()), shown
    return {name: messages[0] for name, messages in shown.items()}


@pytest.fixture
def sender(app):
    def check(channel="own", **changes) -> dict[str, str]:
        fields = {**GOOD, "channel": channel}
        if channel == "rakuten":  # a Rakuten store on its relay, so only sender rules speak
            fields.update(relay_mode="rakuten", smtp_user="sakura", smtp_password="s3cret")
        return errors_of(app, {**fields, **changes})

    return check


@pytest.fixture
def relay(app):
    def check(channel="own", mode="system", has_password=False, **changes) -> dict[str, str]:
        fields = {**GOOD, "channel": channel, "relay_mode": mode, **changes}
        fields["smtp_password"] = "s3cret" if has_password else ""
        return errors_of(app, fields)

    return check


@pytest.fixture
def basics(app):
    def check(**changes) -> dict[str, str]:
        return errors_of(app, {**GOOD, **changes})

    return check


# --- identity and schedule -------------------------------------------------------------------


def test_good_basics_pass(basics):
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
def test_bad_basics_are_refused_naming_the_field(basics, changes, field, words):
    errors = basics(**changes)
    assert list(errors) == [field]
    assert words in errors[field]


# --- sender --------------------------------------------------------------------------------


def test_good_sender_settings_pass(sender):
    assert sender() == {}
    assert sender(bcc="a@sakura.example.jp, b@sakura.example.jp") == {}
    # A pre-2009 docomo address is still a real address.
    assert sender(bcc="taro..x.@docomo.ne.jp") == {}


def test_the_from_address_is_required_and_must_be_valid(sender):
    assert sender(from_addr="  ") == {"from_addr": "Enter the From address."}
    assert sender(from_addr="shop.sakura.example.jp") == {
        "from_addr": "From address: The e-mail address has no @-sign."
    }
    assert "not valid" in sender(from_addr="shop@@sakura")["from_addr"]


def test_the_from_display_name_is_one_line(sender):
    errors = sender(from_name="さくら\r\nBcc: evil@example.com")
    assert errors == {"from_name": "From display name: one line of up to 200 characters."}


def test_reply_to_is_required_and_exactly_one_address(sender):
    assert sender(reply_to="") == {"reply_to": "Enter the Reply-To address."}
    for two in ("a@x.jp, b@x.jp", "a@x.jp; b@x.jp", "a@x.jp b@x.jp"):
        assert sender(reply_to=two) == {"reply_to": "Reply-To: enter exactly one address."}
    assert sender(reply_to="Support <s@x.jp>")["reply_to"].startswith("Reply-To: Enter the address")


def test_a_bad_bcc_item_is_named(sender):
    errors = sender(bcc="ok@sakura.example.jp, broken")
    assert errors == {"bcc": "BCC: Address 2 ('broken'): The e-mail address has no @-sign."}


@pytest.mark.parametrize("field", ["from_addr", "reply_to", "bcc"])
def test_a_rakuten_mask_address_is_refused_in_every_address_field(sender, field):
    errors = sender(**{field: MASK_ADDR})
    assert list(errors) == [field]
    assert f"{MASK_ADDR} is a Rakuten mask address" in errors[field]
    assert "registered with Rakuten" not in errors[field]


def test_a_rakuten_store_is_told_to_use_an_address_registered_with_rakuten(sender):
    errors = sender("rakuten", reply_to=MASK_ADDR.upper())
    assert "Rakuten mask address" in errors["reply_to"]
    assert "registered with Rakuten" in errors["reply_to"]


@pytest.mark.parametrize("field", ["signature_pc", "signature_mobile"])
def test_a_rakuten_mask_address_inside_a_signature_is_refused(sender, field):
    errors = sender(**{field: f"--\nお問い合わせ: {MASK_ADDR}\n"})
    assert list(errors) == [field]
    label = "PC signature" if field == "signature_pc" else "Mobile signature"
    assert errors[field].startswith(f"{label}: contains a Rakuten mask address")
    rakuten = sender("rakuten", **{field: f"({MASK_ADDR})"})
    assert "registered with Rakuten" in rakuten[field]


@pytest.mark.parametrize("channel", ["rakuten", "amazon", "aupay"])
def test_marketplace_stores_may_not_send_from_the_system_domain(sender, channel):
    for addr in (f"shop@{DOMAIN}", f"shop@news.{DOMAIN}"):
        errors = sender(channel, from_addr=addr)
        assert list(errors) == ["from_addr"]
        assert f"system mail domain ({DOMAIN})" in errors["from_addr"]


@pytest.mark.parametrize("channel", ["yahoo", "own", "b2b", "other"])
def test_other_stores_may_send_from_the_system_domain(sender, channel):
    assert sender(channel, from_addr=f"shop@{DOMAIN}") == {}


# --- relay ---------------------------------------------------------------------------------


def test_the_system_relay_needs_nothing(relay):
    assert relay() == {}


def test_a_rakuten_store_must_use_rakutens_relay_with_auth_id_and_password(relay):
    assert 'Choose "Rakuten relay"' in relay("rakuten", "system")["relay_mode"]
    assert "Rakuten relay" in relay("rakuten", "own", smtp_host="smtp.x.jp")["relay_mode"]
    errors = relay("rakuten", "rakuten")
    assert errors == {
        "smtp_user": "Enter the SMTP AUTH ID for Rakuten's relay.",
        "smtp_password": "Enter the SMTP AUTH password for Rakuten's relay.",
    }
    assert relay("rakuten", "rakuten", smtp_user="sakura", has_password=True) == {}


def test_only_rakuten_stores_use_rakutens_relay(relay):
    errors = relay("own", "rakuten", smtp_user="sakura", has_password=True)
    assert errors == {"relay_mode": "Relay: only Rakuten stores can use Rakuten's relay."}


def test_an_own_relay_needs_host_port_and_encryption(relay):
    assert relay(mode="own", smtp_host="smtp.sakura.example.jp") == {}
    assert "host name" in relay(mode="own")["smtp_host"]
    assert "host name only" in relay(mode="own", smtp_host="smtp://x.jp")["smtp_host"]
    for port in (None, 0, 65536):
        errors = relay(mode="own", smtp_host="x.jp", smtp_port=port)
        assert errors == {"smtp_port": "SMTP port: enter a number from 1 to 65535."}
    errors = relay(mode="own", smtp_host="x.jp", smtp_security="ssl3")
    assert list(errors) == ["smtp_security"]


def test_an_smtp_user_needs_a_password_and_no_spaces(relay):
    errors = relay(mode="own", smtp_host="x.jp", smtp_user="mailer")
    assert list(errors) == ["smtp_password"]
    assert relay(mode="own", smtp_host="x.jp", smtp_user="mailer", has_password=True) == {}
    assert list(relay(mode="own", smtp_host="x.jp", smtp_user="a b")) == [
        "smtp_user",
        "smtp_password",
    ]


def test_an_unknown_relay_mode_is_refused(relay):
    assert list(relay(mode="pigeon")) == ["relay_mode"]


# --- an own relay's limits -------------------------------------------------------------------


def in_english(message: object | None) -> str | None:
    if message is None:
        return None
    with force_locale("en"):
        return str(message)


@pytest.mark.parametrize(
    ("rule", "good", "bad", "words"),
    [
        (rules.smtp_sessions_problem, (1, 4, 50), (None, 0, 51), "1 to 50"),
        (rules.smtp_per_minute_problem, (0, 1, 100_000), (None, -1, 100_001), "0 to 100,000"),
        (rules.smtp_per_session_problem, (0, 1000, 100_000), (None, -1, 100_001), "0 to 100,000"),
    ],
)
def test_each_limit_is_a_whole_number_in_its_range(app, rule, good, bad, words):
    with app.test_request_context():
        assert [rule(value) for value in good] == [None] * len(good)
        for value in bad:
            assert words in in_english(rule(value))


def test_an_hour_allows_at_least_what_a_minute_does_and_0_is_no_limit(app):
    with app.test_request_context():
        problem = rules.smtp_per_hour_problem
        assert [problem(0, 0), problem(60, 0), problem(0, 5), problem(60, 60)] == [None] * 4
        assert problem(60, 1_000_000) is None and problem(None, 100) is None
        for per_hour in (None, -1, 1_000_001):
            assert "0 to 1,000,000" in in_english(problem(60, per_hour))
        assert in_english(problem(1200, 600)) == (
            "Messages per hour: set it to at least the messages per minute (1,200), "
            "or to 0 for no limit."
        )


OWN = {"mode": "own", "smtp_host": "smtp.sakura.example.jp"}


def test_an_own_relays_limits_are_checked_by_the_form(relay):
    assert relay(**OWN, smtp_sessions=50, smtp_per_minute=0, smtp_per_hour=0) == {}
    assert relay(**OWN, smtp_per_minute="1,000", smtp_per_hour="60,000") == {}
    assert relay(**OWN, smtp_sessions=0) == {
        "smtp_sessions": "Sessions at once: enter a number from 1 to 50."
    }
    errors = relay(**OWN, smtp_per_minute=100, smtp_per_hour=99, smtp_per_session="x")
    assert list(errors) == ["smtp_per_hour", "smtp_per_session"]
    assert "at least the messages per minute (100)" in errors["smtp_per_hour"]
    assert "0 to 100,000" in errors["smtp_per_session"]
    # A per-minute number that is no number is refused on its own, not compared.
    errors = relay(**OWN, smtp_per_minute="多い", smtp_per_hour=10)
    assert list(errors) == ["smtp_per_minute"]


def test_limits_matter_only_for_an_own_relay(relay):
    assert relay(smtp_sessions=0, smtp_per_minute="x", smtp_per_hour=-1) == {}


@pytest.mark.parametrize(
    ("typed", "number"),
    [("10,000", 10000), (" 600 ", 600), ("１２０", 120), ("999999999", 999999999)],
)
def test_a_number_may_be_typed_with_thousands_separators_or_full_width(app, typed, number):
    form, context = post_form(app, {**GOOD, "relay_mode": "own", "smtp_per_hour": typed})
    assert form.smtp_per_hour.data == number
    context.pop()


@pytest.mark.parametrize("typed", ["1,2", "1.5", "²", "1000000000", "-3", "1e3"])
def test_anything_else_is_no_number(app, typed):
    form, context = post_form(app, {**GOOD, "relay_mode": "own", "smtp_per_hour": typed})
    assert form.smtp_per_hour.data is None
    context.pop()


def test_an_unreadable_limit_of_a_relay_that_does_not_use_it_keeps_the_saved_one(app):
    store = stored_store(smtp_sessions=6, smtp_per_hour=900, smtp_port=2525)
    fields = {**GOOD, "smtp_sessions": "", "smtp_per_hour": "x", "smtp_port": "?"}
    form, context = post_form(app, fields, store=store)
    values = form.values()
    context.pop()
    assert (values["smtp_sessions"], values["smtp_per_hour"], values["smtp_port"]) == (6, 900, 2525)
    form, context = post_form(app, {**fields, "relay_mode": "own"}, store=store)
    assert form.values()["smtp_sessions"] is None  # an own relay: refused by its rule instead
    context.pop()


def test_the_limit_rules_speak_japanese(app):
    errors = errors_of(
        app,
        {
            **GOOD,
            "relay_mode": "own",
            "smtp_host": "x.jp",
            "smtp_sessions": 99,
            "smtp_per_minute": 600,
            "smtp_per_hour": 500,
        },
        locale="ja",
    )
    assert errors == {
        "smtp_sessions": "同時接続数: 1〜50 の数字を入力してください。",
        "smtp_per_hour": "1時間あたりの送信上限は、1分あたりの送信上限(600 通)以上にしてください。"
        "上限を設けない場合は 0 にします。",
    }


# --- the whole form ------------------------------------------------------------------------


def stored_store(**changes) -> Store:
    settings = {k: v for k, v in GOOD.items()}
    settings.update(changes)
    return Store(**settings)


def test_the_form_collects_every_rule(app):
    assert errors_of(app, GOOD) == {}
    errors = errors_of(app, {**GOOD, "code": "", "channel": "rakuten", "reply_to": MASK_ADDR})
    assert set(errors) == {"code", "reply_to", "relay_mode"}


def test_what_is_not_posted_is_the_store_as_it_was(app):
    # A disabled fieldset (the server runs) posts nothing: the store's values stand.
    store = stored_store(from_name="さくら雑貨")
    fields = {**GOOD, "from_addr": False, "from_name": False}
    assert errors_of(app, fields, store=store, running=True) == {}
    assert errors_of(app, {**GOOD, "code": False})["code"] == "Enter the store code."
    assert errors_of(app, {**GOOD, "channel": False}) == {}  # a new store starts as own site


def test_typing_the_8_dots_back_keeps_the_password_and_line_ends_are_unified(app):
    fields = {**GOOD, "smtp_password": crypto.MASK, "signature_pc": "a\r\nb", "name": " 本店 "}
    form, context = post_form(app, fields)
    values = form.values()
    context.pop()
    assert values["smtp_password"] == "" and values["signature_pc"] == "a\nb"
    assert values["name"] == "本店" and values["smtp_port"] == 587
    form, context = post_form(app, {**GOOD, "smtp_password": " pass word "})
    assert form.values()["smtp_password"] == " pass word "
    context.pop()


def test_an_empty_password_field_keeps_the_stored_one_and_clear_removes_it(app):
    store = stored_store(
        channel="rakuten", relay_mode="rakuten", smtp_user="sakura", smtp_password_enc="enc"
    )
    fields = {**GOOD, "channel": "rakuten", "relay_mode": "rakuten", "smtp_user": "sakura"}
    assert errors_of(app, fields, store=store) == {}
    cleared = errors_of(app, {**fields, "clear_password": "y"}, store=store)
    assert cleared == {"smtp_password": "Enter the SMTP AUTH password for Rakuten's relay."}


def test_sender_and_relay_settings_are_locked_while_the_server_runs(app):
    store = stored_store()
    lock = "The mail server is running. Stop it before changing sender or relay settings"
    for changes in (
        {"from_name": "さくら"},
        {"relay_mode": "own", "smtp_host": "x.jp"},
        {"smtp_per_minute": 30},
        {"smtp_sessions": 2},
    ):
        form, context = post_form(app, {**GOOD, **changes}, store=store, running=True)
        with force_locale("en"):
            assert form.validate() is False
            assert [str(e) for e in form.form_errors] == [
                f"{lock}, so that no mail goes out half-configured. Nothing was saved."
            ]
        context.pop()
    # The store's name and schedule are not sender settings; a stopped server allows all.
    assert errors_of(app, {**GOOD, "name": "新本店"}, store=store, running=True) == {}
    assert errors_of(app, {**GOOD, "from_name": "さくら"}, store=store, running=False) == {}


def values_of(**changes) -> dict:
    return {**GOOD, "smtp_password": "", "clear_password": False, **changes}


def test_changed_fields_name_what_changed_and_never_a_value():
    store = stored_store(smtp_password_enc="encrypted")
    assert changed_fields(store, values_of()) == []
    assert changed_fields(store, values_of(from_name="さくら", smtp_password="s3cret")) == [
        "from_name",
        "smtp_password",
    ]
    assert changed_fields(store, values_of(clear_password=True)) == ["smtp_password"]
    assert changed_fields(store, values_of(smtp_per_hour=600)) == ["smtp_per_hour"]
    assert "code" in changed_fields(None, values_of())


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


def test_the_rules_speak_japanese_to_a_japanese_reader(app):
    fields = {**GOOD, "channel": "rakuten", "relay_mode": "rakuten", "smtp_user": "sakura"}
    fields.update(smtp_password="pw", from_addr=MASK_ADDR, reply_to="a@x.jp, b@x.jp", bcc="bad")
    shown = errors_of(app, fields, locale="ja")
    assert shown["from_addr"].startswith("送信元アドレス(From): abc123@shop.rakuten.co.jp は楽天")
    assert "楽天に登録されたアドレス" in shown["from_addr"]
    assert shown["reply_to"] == "返信先アドレス(Reply-To): アドレスは1つだけ入力してください。"
    assert shown["bcc"] == "BCC: 1番目のアドレス「bad」: メールアドレスに @ がありません。"
    assert errors_of(app, {**GOOD, "code": ""}, locale="ja") == {
        "code": "店舗コードを入力してください。"
    }
