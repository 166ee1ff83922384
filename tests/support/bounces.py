"""Bounce mail as receiving servers write it, and the desk's bounce endpoint started in-process.

`dsn()` writes an RFC 3464 delivery status notification (as Postfix does: a human part, the
message/delivery-status part, the original's headers), `arf()` an RFC 5965 feedback report,
`plain_bounce()` a qmail-style text bounce without DSN. `send_report()` hands one to an SMTP
server the way a remote MTA returns a bounce: null sender, the bounce address as recipient.
"""

from __future__ import annotations

import itertools
import smtplib
from collections.abc import Iterator

import pytest

from shopmail.bounces.endpoint import BounceEndpoint

_numbers = itertools.count(1)


def _original_headers(original) -> str:
    """The headers of the mail that bounced, as it arrived (a tests.support.smtp.ReceivedMail)
    — Message-ID and X-Shopmail-Id included."""
    head = original.data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.decode("utf-8", "replace")


def dsn(
    to: str,
    recipient: str,
    status: str = "5.1.1",
    diagnostic: str | None = None,
    original=None,
    action: str | None = None,
    report_id: str | None = None,
) -> bytes:
    number = next(_numbers)
    action = action or ("failed" if status.startswith("5") else "delayed")
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown"
        if status.startswith("5")
        else f"smtp; 452 {status} <{recipient}>: Mailbox full"
    )
    quoted = _original_headers(original) if original is not None else "Subject: (unknown)"
    text = f"""From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {report_id or f"<dsn-{number}@mx.example.jp>"}
Date: Mon, 7 Dec 2026 10:00:00 +0900
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY{number}"

This is a MIME-encapsulated message.

--BOUNDARY{number}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.jp.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mx.example.jp said: {diagnostic}

--BOUNDARY{number}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.jp
X-Postfix-Queue-ID: 4F1A2{number}
Arrival-Date: Mon, 7 Dec 2026 09:59:58 +0900

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.jp
Diagnostic-Code: {diagnostic}

--BOUNDARY{number}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{quoted}
--BOUNDARY{number}--
"""
    return text.replace("\n", "\r\n").encode()


def arf(to: str, recipient: str, original=None) -> bytes:
    number = next(_numbers)
    quoted = _original_headers(original) if original is not None else "Subject: (unknown)"
    text = f"""From: feedback@fbl.example.jp
To: {to}
Subject: FW: abuse report
Message-ID: <arf-{number}@fbl.example.jp>
Date: Mon, 7 Dec 2026 11:00:00 +0900
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF{number}"

--ARF{number}
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP 192.0.2.1.

--ARF{number}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: {recipient}
Arrival-Date: Mon, 7 Dec 2026 10:59:00 +0900

--ARF{number}
Content-Type: text/rfc822-headers

{quoted}
--ARF{number}--
"""
    return text.replace("\n", "\r\n").encode()


def plain_bounce(to: str, recipient: str, original=None) -> bytes:
    """qmail's text bounce: no DSN part, the original quoted inline."""
    number = next(_numbers)
    quoted = _original_headers(original) if original is not None else ""
    text = f"""From: MAILER-DAEMON@qmail.example.jp
To: {to}
Subject: failure notice
Message-ID: <qmail-{number}@qmail.example.jp>
Date: Mon, 7 Dec 2026 10:00:00 +0900

Hi. This is the qmail-send program at qmail.example.jp.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
192.0.2.7 does not like recipient.
Remote host said: 550 5.1.1 unknown user
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

{quoted}
"""
    return text.replace("\n", "\r\n").encode()


def send_report(host: str, port: int, rcpt: str, raw: bytes) -> None:
    """Return a bounce as a remote MTA does: MAIL FROM:<>, RCPT TO the bounce address."""
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.sendmail("<>", [rcpt], raw)


@pytest.fixture
def bounce_endpoint(app) -> Iterator[BounceEndpoint]:
    """The desk's bounce endpoint on a free loopback port, in this process."""
    endpoint = BounceEndpoint(app, "127.0.0.1:0").start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
