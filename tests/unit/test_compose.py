"""The bytes of a mail, checked the way a recipient's mail client reads them back."""

import base64
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser

import pytest

from shopmail.mail.addresses import AddressError, parse_address
from shopmail.mail.compose import (
    Mail,
    compose,
    effective_charset,
    envelope_recipients,
    new_message_id,
)

SUBJECT = "【ご注文確認】ご注文ありがとうございます（注文番号 A-1001）ご確認をお願いいたします"
BODY = (
    "山田 太郎 様\n\nこの度はテスト商店をご利用いただき、誠にありがとうございます。\n"
    "合計: 12,800円\n"
)


def make(**overrides):
    fields = {
        "from_addr": "shop@example.jp",
        "from_name": "テスト商店（本店）",
        "to": "taro@example.com",
        "to_name": "山田 太郎 様",
        "subject": SUBJECT,
        "text": BODY,
        "message_id": "<order-1001.confirmation@example.jp>",
        "date": datetime(2025, 4, 1, 3, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return Mail(**fields)


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def plain_text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def assert_wire_format(data: bytes):
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert data.isascii()


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_japanese_mail_reads_back_identically(charset):
    data = compose(make(charset=charset))
    assert_wire_format(data)
    message = parse(data)
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "テスト商店（本店）"
    assert message["From"].addresses[0].addr_spec == "shop@example.jp"
    assert message["To"].addresses[0].display_name == "山田 太郎 様"
    assert message["To"].addresses[0].addr_spec == "taro@example.com"
    assert plain_text(message) == BODY
    assert message["Message-ID"] == "<order-1001.confirmation@example.jp>"
    assert message["Date"].datetime == datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
    assert message.get_content_charset() == charset
    assert not message.defects


def test_iso_2022_jp_is_7bit_with_jis_encoded_words():
    data = compose(make(charset="iso-2022-jp"))
    assert b"Content-Transfer-Encoding: 7bit" in data
    assert b"=?ISO-2022-JP?B?" in data
    assert b"\x1b$B" in data  # the body is JIS, not base64
    assert effective_charset(make(charset="iso-2022-jp")) == "iso-2022-jp"


def test_utf8_body_is_base64_in_short_lines():
    data = compose(make(text="あ" * 500))
    header, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Type: text/plain; charset=utf-8" in header
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert base64.b64decode(body).decode() == "あ" * 500


@pytest.mark.parametrize(
    "field",
    [{"subject": "①のご案内"}, {"from_name": "髙橋商店"}, {"to_name": "髙橋 様"}, {"text": "①②③"}],
)
def test_characters_outside_iso_2022_jp_fall_back_to_utf8_whole(field):
    mail = make(charset="iso-2022-jp", **field)
    assert effective_charset(mail) == "utf-8"
    data = compose(mail)
    assert b"ISO-2022-JP" not in data
    message = parse(data)
    expected = make(**field)
    assert message["Subject"] == expected.subject
    assert message["From"].addresses[0].display_name == expected.from_name
    assert message["To"].addresses[0].display_name == expected.to_name
    assert plain_text(message) == expected.text


def test_long_subject_is_folded_into_whole_character_encoded_words():
    subject = "髙橋様へ①" + "あいうえおかきくけこ" * 12
    data = compose(make(subject=subject))
    header = data.partition(b"\r\n\r\n")[0].decode()
    subject_lines = header.split("Subject: ", 1)[1].split("\r\nMessage-ID")[0].split("\r\n")
    assert len(subject_lines) > 3
    for line in subject_lines:
        assert len(line) <= 76
        word = line.strip()
        assert word.startswith("=?UTF-8?B?") and word.endswith("?=")
        base64.b64decode(word[10:-2]).decode("utf-8")  # each word decodes on its own
    assert parse(data)["Subject"] == subject


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_long_display_name_is_split_into_words_that_join_back(charset):
    name = "株式会社テスト商事　東京本社営業部（担当：山田）" * 3
    data = compose(make(from_name=name, charset=charset))
    header = data.split(b"\r\nTo: ")[0].split(b"From: ")[1].decode()
    assert all(len(line) <= 76 for line in header.split("\r\n")[:-1])
    phrase = header.replace("\r\n", "").rsplit(" <", 1)[0]
    # decode_header joins adjacent encoded words as RFC 2047 says (and mail clients do);
    # policy.default's address parser would put a space between them, a CPython quirk.
    assert str(make_header(decode_header(phrase))) == name


def test_ascii_subject_stays_readable():
    data = compose(make(subject="Your order A-1001 has shipped", charset="iso-2022-jp"))
    assert b"Subject: Your order A-1001 has shipped\r\n" in data


def test_header_injection_through_the_subject_is_neutralised():
    message = parse(compose(make(subject="hi\r\nBcc: evil@x.example")))
    assert message["Bcc"] is None
    assert message["Subject"] == "hi  Bcc: evil@x.example"
    assert sorted(message.keys()) == sorted(
        ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version"]
        + ["Content-Type", "Content-Transfer-Encoding"]
    )


@pytest.mark.parametrize("separator", ["\n", "\r", "\u2028", "\u2029", "\x85", "\x00", "\x0b"])
def test_line_breaks_in_names_and_subject_become_spaces(separator):
    mail = make(
        from_name=f"Shop{separator}Bcc: evil@x.example",
        to_name=f"山田{separator}Cc: evil@x.example",
        subject=f"件名{separator}X-Evil: 1",
        extra_headers=[("X-Shopmail-Id", f"42{separator}Bcc: evil@x.example")],
        charset="iso-2022-jp",
    )
    message = parse(compose(mail))
    assert message["Bcc"] is None and message["Cc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "件名 X-Evil: 1"
    assert message["From"].addresses[0].display_name == "Shop Bcc: evil@x.example"
    assert message["To"].addresses[0].display_name == "山田 Cc: evil@x.example"
    assert message["X-Shopmail-Id"] == "42 Bcc: evil@x.example"


def test_literal_encoded_word_in_user_text_decodes_to_itself():
    trick = "=?utf-8?B?QmNjOiBldmlsQHguZXhhbXBsZQ==?="  # "Bcc: evil@x.example"
    message = parse(compose(make(subject=trick, from_name=trick, to_name=f'"{trick}"')))
    assert message["Subject"] == trick
    assert message["From"].addresses[0].display_name == trick
    assert message["To"].addresses[0].display_name == f'"{trick}"'
    assert message["Bcc"] is None


def test_ascii_display_name_with_specials_is_quoted():
    data = compose(make(from_name="Shop, Inc. (Tokyo)"))
    assert b'From: "Shop, Inc. (Tokyo)" <shop@example.jp>' in data
    assert parse(data)["From"].addresses[0].display_name == "Shop, Inc. (Tokyo)"


def test_addresses_are_validated():
    with pytest.raises(AddressError):
        compose(make(to="evil@x.example\r\nBcc: b@x.example"))
    with pytest.raises(AddressError):
        compose(make(reply_to="a@example.com, b@example.com"))


def test_bcc_is_envelope_only():
    mail = make(bcc=["copy@example.jp", "taro@example.com"], reply_to="support@example.jp")
    data = compose(mail)
    message = parse(data)
    assert message["Bcc"] is None and b"copy@example.jp" not in data
    assert message["Reply-To"].addresses[0].addr_spec == "support@example.jp"
    assert envelope_recipients(mail) == ["taro@example.com", "copy@example.jp"]


def test_legacy_docomo_address_survives_as_quoted_local_part():
    mail = make(to=parse_address("taro..x.@docomo.ne.jp"), charset="iso-2022-jp")
    data = compose(mail)
    assert b'<"taro..x."@docomo.ne.jp>' in data
    to = parse(data)["To"].addresses[0]
    assert to.username == "taro..x." and to.domain == "docomo.ne.jp"
    assert envelope_recipients(mail) == ['"taro..x."@docomo.ne.jp']


def test_extra_headers_are_written_and_protected():
    headers = [
        ("List-Unsubscribe", "<https://shop.example.jp/unsubscribe/abc123>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    message = parse(compose(make(extra_headers=headers)))
    assert message["List-Unsubscribe"] == "<https://shop.example.jp/unsubscribe/abc123>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for name in ["Bcc", "Subject", "Content-Type", "Bad Name", "X:Y"]:
        with pytest.raises(ValueError):
            compose(make(extra_headers=[(name, "x")]))


@pytest.mark.parametrize(
    "message_id", ["", "no-brackets@example.jp", "<a b@example.jp>", "<ab>", "<a@b>\r\nBcc: x"]
)
def test_bad_message_ids_are_refused(message_id):
    with pytest.raises(ValueError):
        compose(make(message_id=message_id))


def test_new_message_ids_are_random_and_on_the_domain_given():
    first, second = new_message_id("Example.JP"), new_message_id("example.jp")
    assert first != second and first.endswith("@example.jp>") and first.startswith("<")
    compose(make(message_id=first))  # a valid Message-ID for the mail it goes into
    with pytest.raises(ValueError):
        new_message_id("exa mple.jp")


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_html_mail_is_alternative_with_text_first(charset):
    html = "<html><body><p>山田様</p><p>新商品のお知らせです。</p></body></html>"
    data = compose(make(html=html, charset=charset))
    assert_wire_format(data)
    message = parse(data)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == BODY
    assert parts[1].get_content().replace("\r\n", "\n") == html
    assert parts[0].get_content_charset() == charset
    assert not message.defects and not any(part.defects for part in parts)


def test_long_lines_never_exceed_998_octets():
    text = ("あ" * 600 + "\n") * 3  # one JIS line would be over 998 bytes
    mail = make(text=text, charset="iso-2022-jp", subject="x" * 2000)
    data = compose(mail)
    assert effective_charset(mail) == "utf-8"
    assert_wire_format(data)
    message = parse(data)
    assert plain_text(message) == text
    assert message["Subject"] == "x" * 2000


def test_naive_dates_are_utc_and_missing_dates_are_now():
    message = parse(compose(make(date=datetime(2025, 4, 1, 3, 0))))
    assert message["Date"].datetime == datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
    assert parse(compose(make(date=None)))["Date"].datetime.tzinfo is not None
