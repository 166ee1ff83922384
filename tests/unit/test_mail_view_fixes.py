"""From folding, the UTF-8 fallback of ISO-2022-JP mail, MJML's preview text and signature,
MJML errors in Japanese, and the follow-up reach-back of 3 calendar months."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header

import dkim
import pytest

from shopmail.automatic.creation import reach_back_since
from shopmail.mail import signing
from shopmail.mail.compose import Mail, compose, utf8_fallback
from shopmail.mail.html import MjmlError, html_to_text, mjml_to_html, mjml_with_signature

LONG_JA = "さくら雑貨 京都本店 オンラインショップ 和食器と手ぬぐいの専門店 カスタマーサポート係"
LONG_ASCII = "Sakura Zakka Kyoto Main Store Online Shop Customer Support Team"
LONG_ADDR = "customer-support.kyoto-main-store@mail.sakura-zakka.example.jp"


def mail(**changes) -> Mail:
    values = dict(
        from_addr=LONG_ADDR,
        from_name=LONG_JA,
        to="taro@example.jp",
        to_name="山田 太郎",
        subject="ご注文ありがとうございます",
        text="山田 太郎 様\n",
        message_id="<m1@sakura-zakka.example.jp>",
    )
    values.update(changes)
    return Mail(**values)


def from_lines(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    found = re.search(r"^From: .*?(?=\r\n\S)", head, re.MULTILINE | re.DOTALL)
    return found[0].split("\r\n")


def decoded_name(lines: list[str]) -> str:
    value = "".join(lines)[len("From: ") :]  # unfolded: CRLF removed, FWS kept
    phrase = value.rsplit(" <", 1)[0].strip()
    if "=?" not in phrase:
        return phrase.strip('"')
    return "".join(part.decode(charset) for part, charset in decode_header(phrase))


@pytest.mark.parametrize("name", [LONG_JA, LONG_ASCII, "さくら雑貨", "Sakura"])
@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_a_long_from_line_is_folded_within_76_and_reads_back_whole(name, charset):
    lines = from_lines(compose(mail(from_name=name, charset=charset)))
    assert all(len(line) <= 76 for line in lines), lines
    for word in re.findall(r"=\?[^?]+\?B\?[^?]*\?=", "".join(lines)):
        assert len(word) <= 75
    assert lines[-1].endswith(f"<{LONG_ADDR}>")
    assert decoded_name(lines) == name


def test_a_folded_from_still_verifies_under_dkim():
    pem = signing.generate_private_key()
    signer = signing.Signer.from_pem("mail.sakura-zakka.example.jp", "s1", pem)
    record = signing.txt_record("s1", "mail.sakura-zakka.example.jp", signing.public_key_of(pem))
    value = "".join(re.findall(r'"([^"]*)"', record)).encode()

    def dns(name, timeout=5):
        return value if name == b"s1._domainkey.mail.sakura-zakka.example.jp." else None

    data = signer.sign(compose(mail()))
    assert len(from_lines(data)) > 1 and dkim.verify(data, dnsfunc=dns)


def test_an_iso_2022_jp_mail_that_falls_back_to_utf8_says_which_characters():
    assert utf8_fallback(mail(charset="iso-2022-jp", to_name="髙橋 一郎")) == "髙"
    assert utf8_fallback(mail(charset="iso-2022-jp", text="① 髙島屋 ① 🎁\n")) == "①髙🎁"
    assert utf8_fallback(mail(charset="iso-2022-jp")) is None  # fits: goes as asked
    assert utf8_fallback(mail(to_name="髙橋 一郎")) is None  # UTF-8 was asked for


MJML = """<mjml><mj-head><mj-preview>今月のおすすめ3点</mj-preview>
<mj-attributes><mj-all font-family="Hiragino Sans, sans-serif" /></mj-attributes></mj-head>
<mj-body background-color="#eeeeee"><mj-section background-color="#ffffff"><mj-column>
<mj-text>新商品のお知らせ</mj-text></mj-column></mj-section></mj-body></mjml>"""


def test_mjml_preview_text_is_not_the_first_line_of_the_text_part():
    text = html_to_text(mjml_to_html(MJML))
    assert text.startswith("新商品のお知らせ") and "今月のおすすめ" not in text


def test_the_signature_lands_in_the_last_column_in_the_layouts_font():
    html = mjml_to_html(mjml_with_signature(MJML, "[SIGN]"))
    column = html[html.rindex("background-color:#ffffff") :]
    assert "[SIGN]" in column  # inside the white body column, not after the layout
    sign_div = html[: html.index("[SIGN]")].rsplit("<div", 2)[-2]
    assert "font-family:Hiragino Sans, sans-serif" in sign_div


@pytest.mark.parametrize(
    "source, words",
    [
        ("<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-column>", "閉じタグ"),
        ("<mj-body>x", "文字目付近"),
        ("こんにちは", "<mjml><mj-body>"),
        ("", "空です"),
    ],
)
def test_mjml_errors_are_said_in_japanese(source, words):
    with pytest.raises(MjmlError) as caught:
        mjml_to_html(source)
    assert words in caught.value.message_ja and caught.value.message_en


@pytest.mark.parametrize(
    "started, since",
    [
        (datetime(2026, 12, 15, 3, 0, tzinfo=UTC), datetime(2026, 9, 15, 3, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 3, 0, tzinfo=UTC), datetime(2026, 9, 30, 3, 0, tzinfo=UTC)),
        (datetime(2026, 5, 31, 3, 0, tzinfo=UTC), datetime(2026, 2, 28, 3, 0, tzinfo=UTC)),
        (datetime(2027, 2, 10, 3, 0, tzinfo=UTC), datetime(2026, 11, 10, 3, 0, tzinfo=UTC)),
        # 00:30 on 1 December in Tokyo is still 30 November in UTC: Tokyo's calendar counts.
        (datetime(2026, 11, 30, 15, 30, tzinfo=UTC), datetime(2026, 8, 31, 15, 30, tzinfo=UTC)),
    ],
)
def test_the_follow_up_reaches_back_three_calendar_months(started, since):
    assert reach_back_since("follow_up", started) == since
    assert reach_back_since("order_confirmation", started) == started - timedelta(weeks=1)


def test_a_broadcasts_signature_is_rendered_inside_its_mjml_layout():
    from types import SimpleNamespace

    from shopmail.broadcasts.rendering import prepare
    from shopmail.mail.html import sanitize_html

    broadcast = SimpleNamespace(
        format="mjml",
        body=MJML,
        html=sanitize_html(mjml_to_html(MJML)),
        insert_signature=True,
        subject="お知らせ",
    )
    text, html = prepare(broadcast).bodies["pc"]
    filled = html.fill({"SIGN": "さくら雑貨"})
    assert filled.index("さくら雑貨") < filled.index("</table>", filled.index("新商品"))
    assert text.fill({"SIGN": "さくら雑貨"}).startswith("新商品のお知らせ\n\nさくら雑貨")
