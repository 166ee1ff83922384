"""Automatic mails: operations (switches and the first-start guide), templates, the send
queue and the history. Operations and templates are for admins; queue and history for staff.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from shopmail.automatic import creation as automatic
from shopmail.automatic import message_view, operations, preview, send_queue
from shopmail.automatic import templates as order_templates
from shopmail.automatic.forms import ActionForm, StoreRulesForm, TemplateForm
from shopmail.core.states import AUTOMATIC_KINDS
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.models import DeskSettings, Store
from shopmail.web import admin_only
from shopmail.web.labels import KINDS as KIND_LABELS
from shopmail.web.partials import page_or_partial

bp = Blueprint("automatic", __name__, url_prefix="/automatic")


@bp.get("/operations", endpoint="operations")
@admin_only
def operations_page():
    return render_template(
        "automatic/operations.html",
        desk=DeskSettings.current(),
        kinds=operations.kind_settings(),
        stores=send_queue.stores(),
        steps=operations.guide(),
        last=operations.last_creation(),
        gaps=operations.shipping_gaps(),
        server_switch="stores.mail_server" in current_app.view_functions,
        form=ActionForm(),
        follow_up_allowed=automatic.follow_up_allowed,
    )


@bp.post("/operations/switch/<name>")
@admin_only
def switch(name: str):
    value = request.form.get("on")
    if name not in ("auto_create", "auto_send") or value not in ("0", "1"):
        abort(400)
    if ActionForm().validate_on_submit():
        operations.set_switch(current_user, name, value == "1")
        flash(_switch_message(name, value == "1"), "success")
    return redirect(url_for(".operations"))


def _switch_message(name: str, on: bool):
    """The switch's new state in words, and what it means while the mail server is stopped."""
    if name == "auto_create":
        if on:
            return _l("Creation was switched on: mails are created every hour.")
        return _l("Creation was switched off: no mails are created automatically.")
    if not on:
        return _l("Sending was switched off: automatic mails wait in the send queue.")
    if not DeskSettings.current().mail_server_running:
        return _l(
            "Sending was switched on, but the mail server is stopped: "
            "no mail goes out until it is started."
        )
    return _l("Sending was switched on: automatic mails are going out.")


@bp.post("/operations/kinds")
@admin_only
def kinds():
    if ActionForm().validate_on_submit():
        wanted = set(request.form.getlist("kinds")) & set(AUTOMATIC_KINDS)
        for kind in operations.set_kinds(current_user, wanted):
            flash(_l("%(kind)s is now in use.", kind=_kind(kind)), "success")
    return redirect(url_for(".operations"))


@bp.post("/operations/stores/<int:store_id>")
@admin_only
def store_rules(store_id: int):
    store = db.get_or_404(Store, store_id)
    form = StoreRulesForm()
    if not form.validate_on_submit():
        flash(_l("Nothing was saved: %(errors)s", errors=_errors(form)), "error")
    elif operations.set_store_rules(
        current_user, store, form.follow_up_days.data, form.repeat_from_count.data
    ):
        flash(_l("The rules of %(store)s were saved.", store=store.name), "success")
    return redirect(url_for(".operations"))


@bp.post("/operations/create-now")
@admin_only
def create_now():
    if not operations.kinds_in_use():
        flash(_l("Choose the kinds in use first."), "error")
    elif ActionForm().validate_on_submit():
        operations.start_creation(current_user.email)
        flash(_l("Creation started: the mails appear in the send queue shortly."), "success")
    return redirect(url_for(".operations"))


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
        else:
            flash(_l("The template was saved."), "success")
            _warn_tags(form.subject.data, form.body.data)
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
        notes=_tag_notes(subject, body),
    )


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
    )


def _show_unknown(form: TemplateForm, fields: dict) -> None:
    for name, unknown in fields.items():
        getattr(form, name).errors.append(_unknown_message(unknown))
    flash(_l("The template was not saved: it uses unknown or mistyped tags."), "error")


def _unknown_message(unknown: list) -> str:
    error = tags.UnknownTagError(unknown)
    return error.message_ja if str(get_locale()) == "ja" else error.message_en


_FIELDS = {"subject": _l("Subject"), "body": _l("Body")}


def _tag_notes(subject: str, body: str) -> list[tuple[str, str]]:
    """Each tag problem as (severity "error" / "warning", "<field> <line, column>: …")."""
    japanese = str(get_locale()) == "ja"
    found = [
        *(
            ("error", f, u)
            for f, us in order_templates.unknown_tags(subject, body).items()
            for u in us
        ),
        *(
            ("warning", f, w)
            for f, ws in order_templates.tag_warnings(subject, body).items()
            for w in ws
        ),
    ]
    return [
        (level, f"{_FIELDS[name]} {note.message_ja if japanese else note.message_en}")
        for level, name, note in found
    ]


def _warn_tags(subject: str, body: str) -> None:
    notes = [text for _, text in _tag_notes(subject, body)]
    if notes:
        flash(
            _l("Check these: they are sent as written. %(notes)s", notes=" / ".join(notes)),
            "warning",
        )


def _kind(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _errors(form: FlaskForm) -> str:
    return "; ".join(f"{form[name].label.text}: {' '.join(e)}" for name, e in form.errors.items())


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
