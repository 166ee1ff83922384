"""Reading bounce mail (shopmail.mail.bounces) and the signed bounce addresses (core.verp)."""

from __future__ import annotations

import pytest
from flask import Flask

from shopmail.core import verp
from shopmail.mail.bounces import read_report
from tests.support.bounces import arf, dsn, plain_bounce


class Original:
    """The headers of a mail of ours as a bounce quotes them."""

    data = (
        b"From: shop@sakura.example.jp\r\nTo: taro@example.jp\r\n"
        b"Message-ID: <m42.order_confirmation.abcdefghijkl@mail.shopmail.example>\r\n"
        b"X-Shopmail-Id: 42\r\nSubject: =?UTF-8?B?5rOo5paH?=\r\n\r\nbody\r\n"
    )


def test_a_dsn_gives_the_failed_recipient_its_status_and_the_servers_words():
    report = read_report(dsn("m1-x@bounce.example", "taro@example.jp", "5.1.1", original=Original))
    [failure] = report.failures
    assert (failure.addr, failure.permanent, failure.status) == ("taro@example.jp", True, "5.1.1")
    assert failure.code == 550 and "User unknown" in failure.diagnostic
    assert report.original_shopmail_id == 42
    assert report.original_message_id.startswith("<m42.order_confirmation.")
    assert report.key.startswith("mid:<dsn-") and not report.complaint


def test_a_delayed_dsn_is_temporary_and_a_delivered_one_is_no_failure():
    [delayed] = read_report(dsn("b@x", "taro@example.jp", "4.2.2")).failures
    assert (delayed.permanent, delayed.status) == (False, "4.2.2")
    delivered = dsn("b@x", "taro@example.jp", "2.0.0", action="delivered")
    assert read_report(delivered).failures == []


def test_a_dsn_without_a_status_takes_it_from_the_diagnostic():
    raw = dsn("b@x", "taro@example.jp", "5.7.1", diagnostic="smtp; 554 5.7.1 Spam rejected")
    raw = raw.replace(b"Status: 5.7.1\r\n", b"")
    [failure] = read_report(raw).failures
    assert failure.status == "5.7.1" and failure.code == 554


def test_a_non_standard_bounce_is_recognised_with_its_code_and_words():
    [failure] = read_report(plain_bounce("b@x", "taro@example.jp", original=Original)).failures
    assert failure.addr == "taro@example.jp" and failure.permanent
    assert failure.status == "5.1.1" and "unknown user" in failure.diagnostic
    assert read_report(plain_bounce("b@x", "taro@example.jp", original=Original)).key.startswith(
        "mid:<qmail-"
    )
    assert read_report(plain_bounce("b@x", "t@example.jp", Original)).original_shopmail_id == 42


def test_an_arf_report_is_a_complaint_about_the_original():
    report = read_report(arf("b@x", "taro@example.jp", original=Original))
    assert report.complaint and report.feedback_type == "abuse"
    assert report.complained_rcpt == "taro@example.jp" and report.failures == []
    assert report.original_shopmail_id == 42


def test_a_mail_that_is_no_report_reports_nothing_and_is_keyed_by_its_bytes():
    report = read_report(b"Subject: hello\r\n\r\nhi\r\n")
    assert report.failures == [] and not report.complaint
    assert report.key.startswith("sha256:")


@pytest.fixture
def app_context():
    app = Flask("verp")
    app.config.update(SECRET_KEY="s1", SHOPMAIL_MAIL_DOMAIN="mail.shop.example")
    with app.app_context():
        yield app


def test_a_bounce_address_names_its_row_signed_and_survives_lower_casing(app_context):
    address = verp.address(17)
    local, domain = address.split("@")
    assert domain == "bounce.mail.shop.example" and local == local.lower()
    assert verp.read_token(address) == 17
    assert verp.read_token(address.upper()) == 17
    assert verp.read_token(f"<{address}>") == 17


def test_a_made_up_or_moved_signature_names_no_row(app_context):
    signature = verp.signature(17)
    assert verp.read_token(f"m18-{signature}@bounce.mail.shop.example") is None
    assert verp.read_token("m17-aaaaaaaaaaaa@bounce.mail.shop.example") is None
    assert verp.read_token(f"m17-{signature}@elsewhere.example") is None
    app_context.config["SECRET_KEY"] = "another desk"
    assert verp.read_token(f"m17-{signature}@bounce.mail.shop.example") is None


def test_the_bounce_domain_can_be_set(app_context):
    app_context.config["SHOPMAIL_BOUNCE_DOMAIN"] = "Bounces.Shop.Example"
    assert verp.address(5).endswith("@bounces.shop.example")
    assert verp.is_bounce_address("x@BOUNCES.shop.example")
    assert not verp.is_bounce_address("x@shop.example")
