"""Automatic mails: templates, the send queue and the history (operations are in
`operations_views`). Templates are for admins; queue and history for staff.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.automatic import creation as automatic
from shopmail.automatic import message_view, preview, send_queue
from shopmail.automatic import templates as order_templates
from shopmail.automatic import test_send as template_test_send
from shopmail.automatic.forms import ActionForm, TemplateForm
from shopmail.core import quiet_hours
from shopmail.core.states import AUTOMATIC_KINDS
from shopmail.core.test_sends import TestSendError
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.models import Store
from shopmail.web import admin_only, content_notes
from shopmail.web.partials import page_or_partial
from shopmail.web.test_send import TestSendBox, typed_addresses
from shopmail.web.test_send import answer as test_answer

bp = Blueprint("automatic", __name__, url_prefix="/automatic")


@bp.app_template_global("quiet_until")
def quiet_until(kind: str) -> str:
    """For the queue: when the kind's quiet hours end ("" when it may be sent now)."""
    if "quiet_kinds" not in g:
        g.quiet_kinds = quiet_hours.closed_kinds()
    return quiet_hours.shown(g.quiet_kinds.get(kind))


@bp.route("/templates", methods=["GET", "POST"], endpoint="templates")
@admin_only
def templates_page():
    sel = _selection()
    state = order_templates.editor_state(sel)
    form = TemplateForm(data={"subject": state.subject, "body": state.body})
    if form.validate_on_submit():
        try:
            order_templates.save(current_user, sel, form.subject.data, form.body.data)
        except order_templates.TemplateTagError as exc:
            _show_unknown(form, exc.fields)
        except order_templates.TemplateContentError as exc:
            form.body.errors.extend(content_notes.message(f) for f in exc.findings)
            flash(_l("The template was not saved: it has lines too long to be sent."), "error")
        else:
            flash(_l("The template was saved."), "success")
            content_notes.flash_warnings(
                order_templates.content_findings(sel, form.subject.data, form.body.data)
            )
            return redirect(request.full_path)
    return render_template("automatic/templates.html", **_editor(sel, state, form))


@bp.post("/templates/reset")
@admin_only
def template_reset():
    sel = _selection()
    if ActionForm().validate_on_submit() and order_templates.reset(current_user, sel):
        flash(_l("The template follows the common default again."), "success")
    return redirect(url_for(".templates", **request.args))


@bp.post("/templates/preview")
@admin_only
def template_preview():
    sel = _selection()
    subject, body = request.form.get("subject", ""), request.form.get("body", "")
    return render_template(
        "automatic/_preview.html",
        preview=preview.preview(sel, subject, body),
        notes=_tag_notes(sel, subject, body),
    )


@bp.post("/templates/test")
@admin_only
def template_test():
    sel = _selection()
    saved = order_templates.editor_state(sel)  # a plain form post sends no editor fields
    subject = request.form.get("subject", saved.subject)
    body = request.form.get("body", saved.body)
    typed, addresses = typed_addresses()
    box, back = _test_box(sel, typed), url_for(".templates", **request.args)
    try:
        sent = template_test_send.send_test(sel, subject, body, addresses, current_user)
    except TestSendError as exc:
        return test_answer(box, back, error=exc.message)
    return test_answer(box, back, sent=sent.to)


def _test_box(sel: order_templates.Selection, typed: str = "") -> TestSendBox:
    here = dict(store=sel.store_id or "default", kind=sel.kind, device=sel.device)
    action = url_for(".template_test", **here, variant=sel.variant)
    return TestSendBox(action, include="#template-form", typed=typed)


def _selection() -> order_templates.Selection:
    args = request.args
    sel = order_templates.selection(
        args.get("store", "default"),
        args.get("kind", AUTOMATIC_KINDS[0]),
        args.get("device", "pc"),
        args.get("variant"),
    )
    if sel is None:
        abort(404)
    return sel


def _editor(sel: order_templates.Selection, state, form: TemplateForm) -> dict:
    store = db.session.get(Store, sel.store_id) if sel.store_id else None
    return dict(
        sel=sel,
        state=state,
        form=form,
        store=store,
        stores=send_queue.stores(),
        variants=order_templates.variants(sel.kind),
        tag_list=tags.tags_for(order_templates.TAG_CONTEXT),
        action_form=ActionForm(),
        follow_up_allowed=automatic.follow_up_allowed,
        test_box=_test_box(sel),
    )


def _show_unknown(form: TemplateForm, fields: dict) -> None:
    for name, unknown in fields.items():
        getattr(form, name).errors.append(_unknown_message(unknown))
    flash(_l("The template was not saved: it uses unknown or mistyped tags."), "error")


def _unknown_message(unknown: list) -> str:
    error = tags.UnknownTagError(unknown)
    return error.message_ja if str(get_locale()) == "ja" else error.message_en


def _tag_notes(sel, subject: str, body: str) -> list[tuple[str, str]]:
    """Each tag and content problem as (severity, "<field> <line, column>: …")."""
    return content_notes.notes(order_templates.content_findings(sel, subject, body))


def _filter():
    return send_queue.mail_filter(request.args.get("store"), request.args.get("kind"))


def _queue_filter():
    source = request.form if request.method == "POST" else request.args
    return send_queue.queue_filter(*(source.get(n) for n in ("store", "kind", "start", "end")))


def _picked() -> list[int] | None:
    """The ticked rows, or None for "every row the filter shows"."""
    if request.form.get("all_matching") == "1":
        return None
    return [int(i) for i in request.form.getlist("ids") if i.isdigit()]


def _back(view: str = ""):
    """To the queue (or its deleted view) with the filter the action came with."""
    args = _queue_filter().args() | ({"view": view} if view else {})
    return redirect(url_for(".queue", **args))


@bp.get("/queue", endpoint="queue")
def queue_page():
    wanted = _queue_filter()
    deleted = request.args.get("view") == "deleted"  # the rows deleted, to restore
    listing = send_queue.deleted_page if deleted else send_queue.queue_page
    return page_or_partial(
        "automatic/queue.html",
        "automatic/_queue.html",
        wanted=wanted,
        deleted=deleted,
        rows=listing(wanted, request.args.get("page", 1, type=int)),
        counts=send_queue.queue_counts(wanted),
        stores=send_queue.stores(),
        kinds=send_queue.KINDS,
        form=ActionForm(),
        restore_days=send_queue.RESTORE_DAYS,
    )


@bp.post("/queue/delete")
def queue_delete():
    picked = _picked()
    if not ActionForm().validate_on_submit() or picked == []:
        flash(_l("Tick the mails to delete first."), "error")
        return _back()
    count = send_queue.delete(current_user, _queue_filter(), picked)
    flash(_l("%(n)s mails were deleted.", n=count), "success")
    return _back()


@bp.post("/queue/restore")
def queue_restore():
    picked = _picked()
    if not ActionForm().validate_on_submit() or picked == []:
        flash(_l("Tick the deleted mails to restore first."), "error")
        return _back("deleted")
    count = send_queue.restore(current_user, _queue_filter(), picked)
    flash(_l("%(n)s mails were restored to the state they had.", n=count), "success")
    return _back("deleted")


@bp.post("/queue/release")
def queue_release():
    picked = None if request.form.get("held") == "all" else _picked()
    if not ActionForm().validate_on_submit() or picked == []:
        flash(_l("Tick the held mails to release first."), "error")
        return _back()
    count = send_queue.release(current_user, _queue_filter(), picked)
    flash(_l("%(n)s mails were released for sending.", n=count), "success")
    return _back()


@bp.app_template_global("utf8_fallback")
def utf8_fallback(row) -> str | None:
    """For the queue: the characters that make a mobile ISO-2022-JP mail go as UTF-8."""
    return message_view.fallback_of(row)


@bp.app_template_global("template_why")
def template_why(row) -> str:
    """For the queue, the history and the mail page: which template won and why."""
    return message_view.template_why(row)


@bp.get("/messages/<int:message_id>")
def message(message_id: int):
    row = send_queue.get(message_id) or abort(404)
    return render_template(
        "automatic/message.html",
        row=row,
        mail=message_view.mail_view(row),
        form=ActionForm(),
        back=request.args.get("back", "queue"),
    )


@bp.post("/messages/<int:message_id>/send-again")
def send_again(message_id: int):
    if ActionForm().validate_on_submit() and send_queue.send_again(current_user, [message_id]):
        flash(_l("The mail was queued to be sent again."), "success")
    else:
        flash(_l("Only failed or unknown mails can be sent again."), "error")
    return redirect(url_for(".message", message_id=message_id))


@bp.get("/history", endpoint="history")
def history_page():
    wanted = _filter()
    return page_or_partial(
        "automatic/history.html",
        "automatic/_history.html",
        wanted=wanted,
        rows=send_queue.history(wanted),
        stores=send_queue.stores(),
        kinds=send_queue.KINDS,
        limit=send_queue.HISTORY_LIMIT,
    )
