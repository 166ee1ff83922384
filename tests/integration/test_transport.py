"""SMTP sessions against a real in-process SMTP server: what arrives, and what each reply means."""

import time
from datetime import UTC, datetime

import pytest

from shopmail.mail.addresses import parse_address
from shopmail.mail.compose import Mail, compose, envelope_recipients
from shopmail.mail.transport import AuthError, Outcome, RelayError, SmtpSession
from tests.support.smtp import running_sink

SUBJECT = "【発送のお知らせ】ご注文の商品を発送いたしました"
BODY = (
    "山田 太郎 様\n\nご注文の商品を本日発送いたしました。\n.\n..ドットで始まる行\n"
    "お問い合わせ伝票番号: 1234-5678-9012\n"
)


def message(to="taro@example.com", charset="utf-8", number=1, **overrides) -> Mail:
    fields = {
        "from_addr": "shop@example.jp",
        "from_name": "テスト商店",
        "to": to,
        "to_name": "山田 太郎 様",
        "subject": SUBJECT,
        "text": BODY,
        "message_id": f"<ship-{number}@example.jp>",
        "date": datetime(2025, 4, 1, 3, 0, tzinfo=UTC),
        "charset": charset,
    }
    fields.update(overrides)
    return Mail(**fields)


def send(session, mail: Mail):
    return session.send("bounce@example.jp", envelope_recipients(mail), compose(mail))


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_japanese_mail_arrives_as_written(smtp_server, charset):
    mail = message(charset=charset, bcc=["copy@example.jp"])
    with SmtpSession(smtp_server.relay()) as session:
        results = send(session, mail)
    assert {rcpt: r.outcome for rcpt, r in results.items()} == {
        "taro@example.com": Outcome.SENT,
        "copy@example.jp": Outcome.SENT,
    }
    assert results["taro@example.com"].code == 250
    (received,) = smtp_server.wait_for(1)
    assert received.mail_from == "bounce@example.jp"
    assert received.rcpt_tos == ["taro@example.com", "copy@example.jp"]
    got = received.message
    assert got["Subject"] == SUBJECT
    assert got["From"].addresses[0].display_name == "テスト商店"
    assert got["To"].addresses[0].display_name == "山田 太郎 様"
    assert got["Bcc"] is None
    assert got.get_content_charset() == charset
    # Dot-stuffing round-trips: lines starting with "." arrive unchanged.
    assert got.get_content().replace("\r\n", "\n") == BODY


def test_legacy_carrier_address_is_delivered(smtp_server):
    mail = message(to=parse_address("taro..x.@docomo.ne.jp"))
    with SmtpSession(smtp_server.relay()) as session:
        results = send(session, mail)
    assert results['"taro..x."@docomo.ne.jp'].outcome is Outcome.SENT
    (received,) = smtp_server.wait_for(1)
    assert received.message["To"].addresses[0].username == "taro..x."


def test_auth_is_used_when_the_relay_requires_it(smtp_server):
    smtp_server.handler.auth_required = True
    smtp_server.handler.credentials = ("rakuten-id", "s3cret")
    relay = smtp_server.relay(username="rakuten-id", password="s3cret")
    with SmtpSession(relay) as session:
        assert send(session, message())["taro@example.com"].outcome is Outcome.SENT
    assert smtp_server.handler.logins == ["rakuten-id"]
    assert len(smtp_server.wait_for(1)) == 1


def test_missing_credentials_raise_auth_error_not_invalid_addresses(smtp_server):
    smtp_server.handler.auth_required = True
    smtp_server.handler.credentials = ("rakuten-id", "s3cret")
    with SmtpSession(smtp_server.relay()) as session, pytest.raises(AuthError) as caught:
        send(session, message())
    assert "530" in str(caught.value)
    assert smtp_server.messages == []


def test_wrong_password_raises_auth_error(smtp_server):
    smtp_server.handler.auth_required = True
    smtp_server.handler.credentials = ("rakuten-id", "s3cret")
    relay = smtp_server.relay(username="rakuten-id", password="wrong")
    with SmtpSession(relay) as session, pytest.raises(AuthError) as caught:
        send(session, message())
    assert "535" in str(caught.value)
    assert "wrong" not in repr(relay)
    assert smtp_server.messages == []


def test_a_refused_recipient_fails_alone(smtp_server):
    smtp_server.handler.refuse["gone@example.com"] = (550, "5.1.1 User unknown")
    mail = message(bcc=["gone@example.com"])
    with SmtpSession(smtp_server.relay()) as session:
        results = send(session, mail)
    assert results["gone@example.com"].outcome is Outcome.PERMANENT
    assert results["gone@example.com"].code == 550
    assert results["gone@example.com"].address_refused
    assert "User unknown" in results["gone@example.com"].reply
    assert results["taro@example.com"].outcome is Outcome.SENT
    (received,) = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["taro@example.com"]


def test_all_recipients_refused_leaves_the_session_usable(smtp_server):
    smtp_server.handler.refuse["gone@example.com"] = (550, "5.1.1 User unknown")
    with SmtpSession(smtp_server.relay()) as session:
        assert send(session, message(to="gone@example.com"))["gone@example.com"].code == 550
        assert send(session, message(number=2))["taro@example.com"].outcome is Outcome.SENT
    assert smtp_server.handler.connections == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_greylisting_is_temporary_then_sent(smtp_server):
    smtp_server.handler.defer_rcpt["taro@example.com"] = 1
    with SmtpSession(smtp_server.relay()) as session:
        first = send(session, message())["taro@example.com"]
        second = send(session, message())["taro@example.com"]
    assert (first.outcome, first.code) == (Outcome.TEMPORARY, 451)
    assert second.outcome is Outcome.SENT
    assert len(smtp_server.wait_for(1)) == 1


def test_a_rejected_message_is_permanent_for_its_recipients(smtp_server):
    smtp_server.handler.data_reply = "554 5.7.1 Message rejected as spam"
    with SmtpSession(smtp_server.relay()) as session:
        result = send(session, message())["taro@example.com"]
    assert (result.outcome, result.code) == (Outcome.PERMANENT, 554)
    assert "spam" in result.reply
    assert not result.address_refused  # the content was refused, not the address


def test_421_mid_session_is_temporary_and_the_next_message_reconnects(smtp_server):
    smtp_server.handler.refuse["taro@example.com"] = (421, "4.3.2 Shutting down")
    with SmtpSession(smtp_server.relay()) as session:
        results = send(session, message(bcc=["copy@example.jp"]))
        assert {r.outcome for r in results.values()} == {Outcome.TEMPORARY}
        assert results["taro@example.com"].code == 421
        del smtp_server.handler.refuse["taro@example.com"]
        assert send(session, message(number=2))["taro@example.com"].outcome is Outcome.SENT
    assert [m.connection for m in smtp_server.wait_for(1)] == [2]


def test_421_greeting_raises_relay_error(smtp_server):
    smtp_server.handler.greeting_code = 421
    with SmtpSession(smtp_server.relay()) as session, pytest.raises(RelayError) as caught:
        send(session, message())
    assert "421" in str(caught.value)


def test_unreachable_relay_raises_relay_error(smtp_server):
    relay = smtp_server.relay(port=1, timeout=2)
    with SmtpSession(relay) as session, pytest.raises(RelayError):
        send(session, message())


def test_connection_dropped_after_the_data_is_unknown(smtp_server):
    smtp_server.handler.drop_after_data = 1
    with SmtpSession(smtp_server.relay()) as session:
        result = send(session, message())["taro@example.com"]
        assert result.outcome is Outcome.UNKNOWN and result.code is None
        # The session recovers with a new connection for the next message.
        assert send(session, message(number=2))["taro@example.com"].outcome is Outcome.SENT
    # It did arrive: exactly why the outbox must not resend it blindly.
    assert [m.message["Message-ID"] for m in smtp_server.wait_for(2)] == [
        "<ship-1@example.jp>",
        "<ship-2@example.jp>",
    ]
    assert smtp_server.handler.connections == 2


def test_no_reply_before_the_timeout_is_unknown(smtp_server):
    smtp_server.handler.delay_after_data = 3
    started = time.monotonic()
    with SmtpSession(smtp_server.relay(timeout=0.5)) as session:
        result = send(session, message())["taro@example.com"]
    assert result.outcome is Outcome.UNKNOWN
    assert result.reply == "no reply after the message was handed over: connection lost: timed out"
    assert time.monotonic() - started < 2.5  # the relay's timeout, not the relay's delay


def test_one_connection_carries_many_messages(smtp_server):
    with SmtpSession(smtp_server.relay()) as session:
        for number in range(50):
            mail = message(to=f"member{number}@example.com", number=number)
            assert send(session, mail)[f"member{number}@example.com"].outcome is Outcome.SENT
    received = smtp_server.wait_for(50)
    assert smtp_server.handler.connections == 1
    assert {m.connection for m in received} == {1}
    assert [m.rcpt_tos[0] for m in received] == [f"member{n}@example.com" for n in range(50)]


def envelope(mail: Mail) -> tuple[str, list[str]]:
    return "bounce@example.jp", envelope_recipients(mail)


def send_announcing(session, mail: Mail, following: Mail | None):
    then = envelope(following) if following is not None else None
    return session.send(*envelope(mail), compose(mail), primary=True, then=then)


def test_each_mail_announces_the_next_behind_its_final_dot(smtp_server):
    """RFC 2920: the next mail's MAIL/RCPT/DATA leave with this mail's final dot, so a mail is
    one write instead of two; every mail still arrives once, in order, with its own body."""
    mails = [message(to=f"member{n}@example.com", number=n) for n in range(5)]
    with SmtpSession(smtp_server.relay()) as session:
        for mail, following in zip(mails, [*mails[1:], None], strict=True):
            assert send_announcing(session, mail, following)[mail.to].outcome is Outcome.SENT
        assert session.writes == 1 + len(mails)  # the first mail's commands, then one each
    received = smtp_server.wait_for(5)
    assert [m.rcpt_tos for m in received] == [[f"member{n}@example.com"] for n in range(5)]
    assert [m.message["Message-ID"] for m in received] == [
        f"<ship-{n}@example.jp>" for n in range(5)
    ]
    assert smtp_server.handler.connections == 1


def test_a_session_ending_with_a_mail_announced_sends_nothing_of_it(smtp_server):
    first, announced = message(number=1), message(to="next@example.com", number=2)
    with SmtpSession(smtp_server.relay(timeout=5)) as session:
        assert send_announcing(session, first, announced)[first.to].outcome is Outcome.SENT
    # The relay had said 354 to the announced mail; the session ends without its final dot,
    # so the relay drops the transaction.
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["taro@example.com"]]
    with pytest.raises(AssertionError, match="got 1"):
        smtp_server.wait_for(2, timeout=0.5)  # nothing, not even an empty message, follows


def test_an_unsafe_next_envelope_is_never_announced(smtp_server):
    """An address that would add a command (a line break) is not written ahead; its own send
    refuses it as every unsafe envelope address is refused."""
    first = message(number=1)
    unsafe = ("bounce@example.jp", ["next@example.com>\r\nRCPT TO:<extra@example.com"])
    with SmtpSession(smtp_server.relay()) as session:
        result = session.send(*envelope(first), compose(first), primary=True, then=unsafe)
        assert result[first.to].outcome is Outcome.SENT
        with pytest.raises(ValueError, match="unsafe envelope address"):
            session.send(*unsafe, compose(first), primary=True)
    smtp_server.wait_for(1)
    assert smtp_server.handler.raw_rcpt == ["TO:<taro@example.com>"]


def test_a_mail_other_than_the_announced_one_goes_over_a_fresh_connection(smtp_server):
    first, announced = message(number=1), message(to="next@example.com", number=2)
    other = message(to="other@example.com", number=3)
    with SmtpSession(smtp_server.relay()) as session:
        send_announcing(session, first, announced)
        assert send_announcing(session, other, None)[other.to].outcome is Outcome.SENT
    received = smtp_server.wait_for(2)
    assert [m.rcpt_tos for m in received] == [["taro@example.com"], ["other@example.com"]]
    assert [m.connection for m in received] == [1, 2]


@pytest.mark.parametrize("ending", ["dropped", "421"])
def test_the_announced_mail_survives_the_previous_one_losing_its_connection(smtp_server, ending):
    """The connection ends right after the first mail's data (its fate unknown) or with a 421
    to it: the announced mail's commands went nowhere, so it goes on a fresh connection."""
    if ending == "dropped":
        smtp_server.handler.drop_after_data = 1
    else:
        smtp_server.handler.data_reply = "421 4.3.2 Shutting down"
    first, announced = message(number=1), message(to="next@example.com", number=2)
    with SmtpSession(smtp_server.relay()) as session:
        result = send_announcing(session, first, announced)[first.to]
        smtp_server.handler.data_reply = None
        assert result.outcome is (Outcome.UNKNOWN if ending == "dropped" else Outcome.TEMPORARY)
        assert send_announcing(session, announced, None)[announced.to].outcome is Outcome.SENT
    received = smtp_server.wait_for(2)
    assert [m.rcpt_tos for m in received] == [["taro@example.com"], ["next@example.com"]]
    assert [m.connection for m in received] == [1, 2]


def test_reconnects_after_the_server_closed_an_idle_connection(smtp_server):
    with SmtpSession(smtp_server.relay()) as session:
        assert send(session, message())["taro@example.com"].outcome is Outcome.SENT
        smtp_server.wait_for(1)
        smtp_server.disconnect_clients()
        assert send(session, message(number=2))["taro@example.com"].outcome is Outcome.SENT
    received = smtp_server.wait_for(2)
    assert [m.connection for m in received] == [1, 2]
    assert smtp_server.handler.connections == 2


def test_no_copy_goes_out_when_the_addressee_is_refused(smtp_server):
    smtp_server.handler.defer_rcpt["to@example.jp"] = 1
    data = b"Subject: x\r\n\r\nbody\r\n"
    with SmtpSession(smtp_server.relay()) as session:
        first = session.send(
            "shop@example.jp", ["to@example.jp", "bcc@example.jp"], data, primary=True
        )
        second = session.send(
            "shop@example.jp", ["to@example.jp", "bcc@example.jp"], data, primary=True
        )
    assert first["to@example.jp"].outcome is Outcome.TEMPORARY
    assert first["bcc@example.jp"].outcome is Outcome.TEMPORARY
    assert second["to@example.jp"].outcome is Outcome.SENT
    [received] = smtp_server.wait_for(1)
    assert sorted(received.rcpt_tos) == ["bcc@example.jp", "to@example.jp"]


def test_a_relay_without_pipelining_gets_one_command_at_a_time(smtp_server):
    smtp_server.handler.pipelining = False
    smtp_server.handler.refuse["gone@example.com"] = (550, "5.1.1 User unknown")
    with SmtpSession(smtp_server.relay()) as session:
        assert send(session, message(to="gone@example.com"))["gone@example.com"].code == 550
        for number in range(3):
            assert send(session, message(number=number))["taro@example.com"].code == 250
    assert len(smtp_server.wait_for(3)) == 3 and smtp_server.handler.connections == 1


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request):
    with running_sink(request.param) as server:
        yield server


def test_a_relay_over_tls_gets_every_mail_over_one_verified_connection(tls_server):
    """STARTTLS (port 587's way) and TLS from the first byte (465's): the certificate is
    checked, each mail announces the next behind its final dot, and all arrive as written."""
    mails = [message(to=f"member{n}@example.com", number=n) for n in range(3)]
    session = SmtpSession(tls_server.relay(), ssl_context=tls_server.client_tls())
    with session:
        for mail, following in zip(mails, [*mails[1:], None], strict=True):
            assert send_announcing(session, mail, following)[mail.to].outcome is Outcome.SENT
    received = tls_server.wait_for(3)
    assert [m.rcpt_tos for m in received] == [[f"member{n}@example.com"] for n in range(3)]
    assert received[0].message["Subject"] == SUBJECT
    # (aiosmtpd counts a STARTTLS upgrade as a second connection of the same socket.)
    assert session.connections == 1 and session.writes == 1 + len(mails)


def test_a_relay_with_an_untrusted_certificate_is_not_sent_to(tls_server):
    with SmtpSession(tls_server.relay()) as session, pytest.raises(RelayError):
        send(session, message())  # the default context does not trust a self-signed one
    assert tls_server.messages == []


def test_no_reply_over_tls_before_the_timeout_is_unknown_and_says_so(tls_server):
    tls_server.handler.delay_after_data = 3
    relay = tls_server.relay(timeout=0.5)
    with SmtpSession(relay, ssl_context=tls_server.client_tls()) as session:
        result = send(session, message())["taro@example.com"]
    assert result.outcome is Outcome.UNKNOWN
    assert result.reply == "no reply after the message was handed over: connection lost: timed out"
