"""The test-send box the confirm steps and the template editor share: its form, and the answer
to a test send — the box again with what happened when htmx sent it, else a flash and back to
the page (POST → redirect → GET)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, render_template, request
from flask_babel import lazy_gettext as _l

from shopmail.core import test_sends
from shopmail.web.partials import wants_partial

PARTIAL = "test_sends/_form.html"


@dataclass
class TestSendBox:
    """What the box shows: where it posts, the hidden choice it carries (the member, record or
    template slot), another form whose fields it sends along, and the last answer."""

    __test__ = False  # not a pytest test class, despite its name

    action: str
    hidden: dict[str, object] = field(default_factory=dict)
    include: str = ""  # a CSS selector for hx-include (the template editor's own form)
    typed: str = ""
    sent: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""
    quota_free: bool = False  # say that it does not count against the broadcast quota
    max_addresses: int = test_sends.MAX_ADDRESSES


def typed_addresses() -> tuple[str, list[str]]:
    """The address field as typed, and the addresses in it."""
    typed = request.form.get("test_to", "")
    return typed, test_sends.split_addresses(typed)


def answer(box: TestSendBox, back: str, sent: list[str] | None = None, error: str = ""):
    """The answer to a test send: `sent` the addresses it went to, or `error` why not."""
    note = "" if error else str(test_sends.server_note() or "")
    if wants_partial():
        box.sent, box.error, box.note = sent or [], error, note
        box.typed = box.typed if error else ""
        return render_template(PARTIAL, box=box)
    if error:
        flash(error, "error")
    else:
        flash(sent_message(sent or []), "success")
        if note:
            flash(note, "warning")
    return redirect(back)


def sent_message(sent: list[str]):
    return _l("The test mail was queued for %(addrs)s.", addrs=", ".join(sent))
