"""A record mail's test send: one ticked record's mail, exactly as the confirm step previews it,
to the addresses staff type (`core.test_sends`), through that record's store."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shopmail.core import audit, test_sends
from shopmail.core.sending import Content
from shopmail.core.test_sends import TestSendError
from shopmail.models import RecordMailing, User
from shopmail.record_mails import drafts as record_mail


def chosen_recipient(mailing: RecordMailing, record_id: int | None) -> record_mail.Recipient:
    """The ticked record to test with (the first sendable one when none or another is asked)."""
    sendable = [r for r in record_mail.recipients(mailing) if r.sendable]
    if not sendable:
        raise TestSendError(_l("None of the ticked records has a usable e-mail address."))
    return next((r for r in sendable if r.record_id == record_id), sendable[0])


def send_test(
    mailing: RecordMailing, recipient: record_mail.Recipient, typed: list[str], actor: User
) -> test_sends.TestSent:
    """Queue the recipient's mail to each typed address; returns what was queued."""
    to = test_sends.check_addresses(typed)
    if not mailing.title.strip():
        raise TestSendError(_l("Enter a title first."), "title")
    subject, body = record_mail.render_mail(mailing, recipient)
    source = f"record:{mailing.id}:{recipient.record_type}:{recipient.record_id}"
    content = Content(subject, body, None)
    sent = test_sends.queue_test(recipient.store, content, recipient.device, to, actor, source)
    audit.record(
        actor,
        "record_mailing.test_sent",
        mailing,
        to=to,
        record_type=recipient.record_type,
        record=recipient.number,
        messages=sent.ids,
    )
    return sent
