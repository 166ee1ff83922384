"""Automatic mails' operations page (admins): the switches, the kinds in use, each store's
rules, the sending hours, the line width and the first-start guide (the manual's create →
review → send)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from shopmail.automatic import creation as automatic
from shopmail.automatic import operations, send_queue
from shopmail.automatic.forms import ActionForm, StoreRulesForm
from shopmail.core import quiet_hours
from shopmail.core.states import AUTOMATIC_KINDS
from shopmail.extensions import db
from shopmail.models import DeskSettings, Store
from shopmail.web import admin_only
from shopmail.web.labels import KINDS as KIND_LABELS

bp = Blueprint("operations", __name__, url_prefix="/automatic")


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
        windows=quiet_hours.windows(),
        hhmm=quiet_hours.hhmm,
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


@bp.post("/operations/quiet-hours/<kind>")
@admin_only
def quiet_hours_save(kind: str):
    if kind not in AUTOMATIC_KINDS:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            window = quiet_hours.window_from_form(request.form)
        except quiet_hours.QuietHoursError as exc:
            flash(exc.message, "error")
        else:
            if operations.set_quiet_hours(current_user, kind, window):
                flash(_l("The sending hours of %(kind)s were saved.", kind=_kind(kind)), "success")
    return redirect(url_for(".operations", _anchor="quiet-hours"))


@bp.post("/operations/line-width")
@admin_only
def line_width():
    if ActionForm().validate_on_submit():
        try:
            if operations.set_line_width(current_user, request.form.get("width", type=int) or 0):
                flash(_l("The line width for mobile templates was saved."), "success")
        except operations.RuleError:
            flash(_l("Nothing was saved: enter a width from 10 to 499 characters."), "error")
    return redirect(url_for(".operations", _anchor="line-width"))


@bp.post("/operations/create-now")
@admin_only
def create_now():
    if not operations.kinds_in_use():
        flash(_l("Choose the kinds in use first."), "error")
    elif ActionForm().validate_on_submit():
        operations.start_creation(current_user.email)
        flash(_l("Creation started: the mails appear in the send queue shortly."), "success")
    return redirect(url_for(".operations"))


def _kind(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _errors(form: FlaskForm) -> str:
    return "; ".join(f"{form[name].label.text}: {' '.join(e)}" for name, e in form.errors.items())
