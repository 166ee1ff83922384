"""The send queue and the history of the automatic-mail area (staff and admins).

Routes of the "automatic" blueprint; kept apart from operations and templates for size.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail import queue
from shopmail.extensions import htmx
from shopmail.services import send_queue
from shopmail.views import automatic as area


def _filter() -> send_queue.Filter:
    source = request.form if request.method == "POST" else request.args
    return send_queue.Filter.parse(source.get("store"), source.get("kind"))


def _picked() -> list[int] | None:
    """The ticked rows, or None for "every row the filter shows"."""
    if request.form.get("all_matching") == "1":
        return None
    return [int(i) for i in request.form.getlist("ids") if i.isdigit()]


def _back():
    wanted = _filter()
    return redirect(url_for(".queue", store=wanted.store_id, kind=wanted.kind))


def _render(page: str, partial: str, **context):
    return render_template(partial if htmx else page, **context)


@area.bp.get("/queue", endpoint="queue")
def queue_page():
    wanted = _filter()
    return _render(
        "automatic/queue.html",
        "automatic/_queue.html",
        wanted=wanted,
        rows=send_queue.queue_page(wanted, request.args.get("page", 1, type=int)),
        counts=send_queue.queue_counts(wanted),
        stores=send_queue.stores(),
        kinds=send_queue.KINDS,
        form=area.ActionForm(),
    )


@area.bp.post("/queue/delete")
def queue_delete():
    picked = _picked()
    if not area.ActionForm().validate_on_submit() or picked == []:
        flash(_l("Tick the mails to delete first."), "error")
        return _back()
    count = send_queue.delete(current_user, _filter(), picked)
    flash(_l("%(n)s mails were deleted.", n=count), "success")
    return _back()


@area.bp.post("/queue/release")
def queue_release():
    picked = None if request.form.get("held") == "all" else _picked()
    if not area.ActionForm().validate_on_submit() or picked == []:
        flash(_l("Tick the held mails to release first."), "error")
        return _back()
    count = send_queue.release(current_user, _filter(), picked)
    queue.dispatch_sending()
    flash(_l("%(n)s mails were released for sending.", n=count), "success")
    return _back()


@area.bp.get("/messages/<int:message_id>")
def message(message_id: int):
    row = send_queue.get(message_id) or abort(404)
    return render_template(
        "automatic/message.html",
        row=row,
        mail=send_queue.mail_view(row),
        form=area.ActionForm(),
        back=request.args.get("back", "queue"),
    )


@area.bp.post("/messages/<int:message_id>/send-again")
def send_again(message_id: int):
    if area.ActionForm().validate_on_submit() and send_queue.send_again(current_user, [message_id]):
        queue.dispatch_sending()
        flash(_l("The mail was queued to be sent again."), "success")
    else:
        flash(_l("Only failed or unknown mails can be sent again."), "error")
    return redirect(url_for(".message", message_id=message_id))


@area.bp.get("/history", endpoint="history")
def history_page():
    wanted = _filter()
    return _render(
        "automatic/history.html",
        "automatic/_history.html",
        wanted=wanted,
        rows=send_queue.history(wanted),
        stores=send_queue.stores(),
        kinds=send_queue.KINDS,
        limit=send_queue.HISTORY_LIMIT,
    )
