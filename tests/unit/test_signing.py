"""DKIM signatures of composed mail, checked by dkimpy's own verifier against the record."""

from __future__ import annotations

import re

import dkim
import pytest

from shopmail.mail import signing
from shopmail.mail.compose import Mail, compose


@pytest.fixture(scope="module")
def pem() -> str:
    return signing.generate_private_key()


@pytest.fixture(scope="module")
def signer(pem) -> signing.Signer:
    return signing.Signer.from_pem("Sakura.Example.JP", "sm202612", pem)


@pytest.fixture(scope="module")
def dns(pem):
    record = signing.txt_record("sm202612", "sakura.example.jp", signing.public_key_of(pem))
    value = "".join(re.findall(r'"([^"]*)"', record)).encode()
    return lambda name, timeout=5: (
        value if name == b"sm202612._domainkey.sakura.example.jp." else None
    )


def mail(**changes) -> Mail:
    values = dict(
        from_addr="shop@sakura.example.jp",
        from_name="さくら雑貨 本店",
        to="taro@example.jp",
        to_name="山田 太郎",
        subject="【さくら雑貨】ご注文ありがとうございます",
        text="山田 太郎 様\n\nご注文ありがとうございます。  \n\n\n",
        message_id="<m1.order@mail.shopmail.example>",
        reply_to="support@sakura.example.jp",
    )
    values.update(changes)
    return Mail(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"charset": "iso-2022-jp"},
        {"html": "<p>山田 太郎 様</p>", "text": "山田 太郎 様"},
        {
            "extra_headers": [
                ("List-Unsubscribe", "<https://desk.example.jp/unsubscribe/x>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ]
        },
    ],
    ids=["utf-8", "iso-2022-jp", "multipart", "list-unsubscribe"],
)
def test_a_signed_mail_verifies_with_dkimpy(signer, dns, changes):
    data = signer.sign(compose(mail(**changes)))
    assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert dkim.verify(data, dnsfunc=dns)
    head = data.split(b"\r\n\r\n", 1)[0]
    field = signer.signature(compose(mail(**changes)))
    assert max(len(line) for line in field.split(b"\r\n")) <= 78  # folded like a header
    signed = re.search(rb"h=([^;]*);", re.sub(rb"\s+", b"", head))[1].split(b":")
    assert signed[0] == b"from" and signed[-1] == b"from"  # a second From breaks it
    if "extra_headers" in changes:
        assert {b"list-unsubscribe", b"list-unsubscribe-post"} <= set(signed)


def test_a_changed_body_header_or_added_from_fails(signer, dns):
    data = signer.sign(compose(mail()))
    head, body = data.split(b"\r\n\r\n", 1)
    assert not dkim.verify(head + b"\r\n\r\n" + body[:-4] + b"AAAA", dnsfunc=dns)
    assert not dkim.verify(data.replace(b"To: ", b"To: x", 1), dnsfunc=dns)
    assert not dkim.verify(b"From: boss@sakura.example.jp\r\n" + data, dnsfunc=dns)


def test_the_signer_signs_only_its_own_domain(signer):
    assert signer.domain == "sakura.example.jp"
    assert signer.signs("Shop@SAKURA.example.jp")
    assert not signer.signs("shop@mail.sakura.example.jp")
    assert not signer.signs("shop@example.jp")


def test_the_record_is_one_zone_line_of_txt_strings_dns_accepts(pem):
    record = signing.txt_record("sm202612", "ショップ.example.jp", signing.public_key_of(pem))
    assert record.startswith("sm202612._domainkey.xn--")
    strings = re.findall(r'"([^"]*)"', record)
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    assert "".join(strings).startswith("v=DKIM1; k=rsa; p=MII")


@pytest.mark.parametrize("name", ["", "localhost", "a..b.jp", "-a.jp", "a b.jp", "x" * 64 + ".jp"])
def test_what_is_not_a_domain_name_is_refused(name):
    with pytest.raises(ValueError):
        signing.dns_name(name)
