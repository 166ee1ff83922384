"""The template editor's test send: the subject and body as they stand in the editor (saved or
not), merged with the real order the preview uses, to the addresses staff type
(`core.test_sends`), through that order's store."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shopmail.automatic import preview as template_preview
from shopmail.automatic import templates as order_templates
from shopmail.core import audit, test_sends
from shopmail.core.sending import Content
from shopmail.core.test_sends import TestSendError
from shopmail.models import User


def send_test(
    sel: order_templates.Selection, subject: str, body: str, typed: list[str], actor: User
) -> test_sends.TestSent:
    """Queue the preview's mail to each typed address; returns what was queued. Nothing is
    sent while the text has unknown tags or no order can be merged."""
    to = test_sends.check_addresses(typed)
    if not subject.strip() or not body.strip():
        raise TestSendError(_l("Write a subject and a body."), "template")
    if order_templates.unknown_tags(subject, body):
        raise TestSendError(
            _l("The template uses unknown or mistyped tags: correct them first."), "template"
        )
    shown = template_preview.preview(sel, subject, body)
    if shown is None:
        raise TestSendError(_l("There are no orders to preview with yet."), "order")
    order = shown.order
    source = f"template:{sel.kind}:{sel.device}:order:{order.id}"
    content = Content(shown.subject, shown.body, None)
    sent = test_sends.queue_test(order.store, content, sel.device, to, actor, source)
    audit.record(
        actor,
        "template.test_sent",
        None,
        to=to,
        order=order.number,
        store_id=sel.store_id,
        kind=sel.kind,
        device=sel.device,
        variant=sel.variant,
        messages=sent.ids,
    )
    return sent
