"""Broadcasts: the compose wizard (a URL per step), progress, control, the refused-address
report, and the admin's template manager with the quota and admin-copy settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.broadcasts import drafts as broadcasts
from shopmail.broadcasts import quota, test_send
from shopmail.broadcasts import rendering as broadcast_mail
from shopmail.broadcasts import results as broadcast_results
from shopmail.broadcasts import runs as broadcast_runs
from shopmail.broadcasts import schedule as broadcast_schedule
from shopmail.broadcasts import templates as broadcast_templates
from shopmail.broadcasts.forms import ComposeForm, SettingsForm, TemplateForm
from shopmail.broadcasts.rendering import ContentError
from shopmail.core import member_filter as members
from shopmail.core import quiet_hours
from shopmail.core.states import BroadcastState, MessageKind
from shopmail.extensions import db
from shopmail.mail.addresses import AddressError
from shopmail.mail.tags import tags_for
from shopmail.models import Broadcast, BroadcastTemplate, DeskSettings
from shopmail.web import admin_only, content_notes
from shopmail.web.partials import page_or_partial

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")


def _compose_data(b: Broadcast) -> dict:
    fmt = b.format or "text"
    return dict(
        store_id=b.store_id,
        template_id=b.template_id or 0,
        subject=b.subject,
        body=b.body,
        send_as_html=fmt != "text",
        html_source=fmt if fmt != "text" else "html",
        insert_signature=b.insert_signature,
        only_wanting=b.only_wanting,
    )


def _broadcast(bid: int) -> Broadcast:
    return db.get_or_404(Broadcast, bid)


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ContentError):
        return exc.messages
    if isinstance(exc, AddressError):
        return [exc.message_ja if str(get_locale()) == "ja" else exc.message_en]
    return [str(exc)]


@bp.get("/", strict_slashes=False)
def index():
    page, progress, drafts = broadcast_runs.listing(request.args.get("page", 1, type=int))
    return render_template(
        "broadcasts/index.html",
        page=page,
        progress=progress,
        drafts=drafts,
        outlook=broadcast_schedule.outlook(),
    )


@bp.post("/new")
def new():
    ids = [int(i) for i in request.form.getlist("member_ids") if i.isdigit()]
    if request.form.get("scope") == "ticked" and not ids:
        flash(_l("Tick at least one member."), "error")
        return redirect(url_for("members.index", **members.parse_filter(request.form).args))
    scope_ids = ids if request.form.get("scope") == "ticked" else None
    draft = broadcasts.create_draft(request.form, scope_ids, current_user)
    return redirect(url_for(".compose", bid=draft.id))


@bp.route("/<int:bid>/compose", methods=["GET", "POST"])
def compose(bid: int):
    b = _broadcast(bid)
    if b.state != BroadcastState.DRAFT:
        return redirect(url_for(".progress", bid=b.id))
    form = ComposeForm(data=None if request.method == "POST" else _compose_data(b)).fill()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "template":
                broadcasts.apply_template(b, form.draft(), current_user)
                return redirect(url_for(".compose", bid=b.id))
            broadcasts.save_draft(b, form.draft(), current_user)
            return redirect(url_for(".confirm", bid=b.id))
        except (ContentError, broadcasts.BroadcastError) as exc:
            errors = _errors(exc)
    return render_template(
        "broadcasts/compose.html",
        b=b,
        form=form,
        errors=errors,
        audience=broadcasts.audience(b),
        quota=quota.status(),
        tags=tags_for("member"),
    )


@bp.get("/<int:bid>/confirm")
def confirm(bid: int):
    b = _broadcast(bid)
    if b.state not in (BroadcastState.DRAFT, BroadcastState.SCHEDULED):
        return redirect(url_for(".progress", bid=b.id))
    try:
        # A scheduled one meets the quota when it starts (its outlook says so until then).
        scheduled = b.state == BroadcastState.SCHEDULED
        audience = broadcasts.check_content(b) if scheduled else broadcasts.check_ready(b)
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".compose", bid=b.id))
    member, copy = broadcasts.preview(b, test_send.picked(b, request.args.get("member", type=int)))
    return render_template(
        "broadcasts/confirm.html",
        b=b,
        audience=audience,
        member=member,
        copy=copy,
        notes=content_notes.notes(broadcast_mail.content_findings(b.subject, b.body, b.format)),
        pick=test_send.members_to_pick(b),
        test_box=test_send.box(b, member.id),
        **broadcast_schedule.confirm_context(b, audience),
    )


@bp.post("/<int:bid>/send")
def send(bid: int):
    b = _broadcast(bid)
    try:
        broadcasts.start(b, current_user)
    except broadcasts.BroadcastError as exc:
        # Back to writing, not to the confirm step: it would refuse and say so a second time.
        flash(str(exc), "error")
        return redirect(url_for(".compose", bid=b.id))
    return redirect(url_for(".progress", bid=b.id))


@bp.get("/<int:bid>/progress")
def progress(bid: int):
    b = _broadcast(bid)
    if b.state == BroadcastState.DRAFT:
        return redirect(url_for(".compose", bid=b.id))
    if b.state == BroadcastState.SCHEDULED:
        return redirect(url_for(".confirm", bid=b.id))
    outcomes = broadcast_results.outcomes(b)
    context = dict(
        b=b,
        progress=broadcast_runs.progress(b, outcomes.states),
        server_running=DeskSettings.current().mail_server_running,
        quiet_until=quiet_hours.shown(quiet_hours.closed_kinds().get(MessageKind.BROADCAST)),
        outcomes=outcomes,
        outcome_chart=broadcast_results.outcome_chart(outcomes),
        delivery=broadcast_results.delivery_chart(broadcast_results.delivery(b)),
    )
    return page_or_partial("broadcasts/progress.html", "broadcasts/_progress.html", **context)


@bp.post("/<int:bid>/<any(pause, resume, cancel):action>")
def control(bid: int, action: str):
    b = _broadcast(bid)
    try:
        getattr(broadcast_runs, action)(b, current_user)
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
    return redirect(url_for(".progress", bid=b.id))


@bp.post("/<int:bid>/discard")
def discard(bid: int):
    b = _broadcast(bid)
    try:
        broadcasts.discard_draft(b, current_user)
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".progress", bid=bid))
    flash(_l("The draft was discarded."), "success")
    return redirect(url_for(".index"))


@bp.get("/<int:bid>/refused")
def refused(bid: int):
    b = _broadcast(bid)
    return render_template(
        "broadcasts/refused.html",
        b=b,
        refused=broadcast_results.refused(b),
        undelivered=broadcast_results.undelivered(b),
        unknown=broadcast_results.unknown(b),
    )


@bp.post("/<int:bid>/send-again")
def send_again(bid: int):
    ids = [int(i) for i in request.form.getlist("message_ids") if i.isdigit()]
    unknown = [int(i) for i in request.form.getlist("unknown_ids") if i.isdigit()]
    wanted = None if request.form.get("all") == "1" else ids
    back = url_for(".progress" if request.form.get("back") == "progress" else ".refused", bid=bid)
    try:
        ticked = wanted != [] or unknown
        b = _broadcast(bid)
        n = broadcast_runs.send_again(b, wanted, current_user, unknown) if ticked else 0
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(back)
    if n:
        flash(_l("%(n)s mails were queued to be sent again.", n=n), "success")
    else:
        flash(_l("No mail was queued: tick at least one, or they are queued already."), "error")
    return redirect(back)


@bp.post("/<int:bid>/flag")
def flag(bid: int):
    ids = [int(i) for i in request.form.getlist("member_ids") if i.isdigit()]
    n = broadcast_runs.flag_invalid_members(_broadcast(bid), ids, current_user)
    if n:
        flash(_l("%(n)s members were flagged invalid.", n=n), "success")
    else:
        flash(_l("Tick at least one member."), "error")
    return redirect(url_for(".refused", bid=bid))


@bp.get("/templates")
@admin_only
def templates():
    settings = DeskSettings.current()
    return _templates_page(SettingsForm(obj=settings))


def _templates_page(settings_form: SettingsForm, status: int = 200):
    items = broadcast_templates.all_templates()
    window = quiet_hours.windows()[MessageKind.BROADCAST]
    page = render_template(
        "broadcasts/templates.html",
        items=items,
        settings_form=settings_form,
        window=window,
        hhmm=quiet_hours.hhmm,
    )
    return page, status


@bp.post("/quiet-hours")
@admin_only
def quiet_hours_save():
    try:
        window = quiet_hours.window_from_form(request.form)
    except quiet_hours.QuietHoursError as exc:
        flash(exc.message, "error")
    else:
        if broadcast_templates.set_quiet_hours(current_user, window):
            flash(_l("The sending hours of broadcasts were saved."), "success")
    return redirect(url_for(".templates", _anchor="quiet-hours"))


@bp.post("/settings")
@admin_only
def settings():
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            broadcast_templates.save_settings(
                form.monthly_quota.data, form.admin_copy_addr.data or "", current_user
            )
            flash(_l("The broadcast settings were saved."), "success")
            return redirect(url_for(".templates"))
        except AddressError as exc:
            form.admin_copy_addr.errors.append(_errors(exc)[0])
    return _templates_page(form, 422)


@bp.route("/templates/new", methods=["GET", "POST"], defaults={"tid": None})
@bp.route("/templates/<int:tid>", methods=["GET", "POST"])
@admin_only
def template(tid: int | None):
    item = db.get_or_404(BroadcastTemplate, tid) if tid else None
    form = TemplateForm(obj=item)
    errors: list[str] = []
    if form.validate_on_submit():
        fields = broadcast_templates.TemplateFields(
            form.name.data.strip(),
            form.subject.data or "",
            form.body.data or "",
            form.format.data,
            form.is_active.data,
        )
        try:
            broadcast_templates.save_template(item, fields, current_user)
            flash(_l("The template was saved."), "success")
            content_notes.flash_warnings(
                broadcast_mail.content_findings(fields.subject, fields.body, fields.format)
            )
            return redirect(url_for(".templates"))
        except ContentError as exc:
            errors = _errors(exc)
    return render_template(
        "broadcasts/template.html", item=item, form=form, errors=errors, tags=tags_for("member")
    )


@bp.post("/templates/<int:tid>/delete")
@admin_only
def delete_template(tid: int):
    broadcast_templates.delete_template(db.get_or_404(BroadcastTemplate, tid), current_user)
    flash(_l("The template was deleted."), "success")
    return redirect(url_for(".templates"))
