"""Broadcasts: the compose wizard (a URL per step), progress, control, the refused-address
report, and the admin's template manager with the quota and admin-copy settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from shopmail.broadcasts import drafts as broadcasts
from shopmail.broadcasts import quota
from shopmail.broadcasts import runs as broadcast_runs
from shopmail.broadcasts import templates as broadcast_templates
from shopmail.broadcasts.rendering import ContentError
from shopmail.core import member_filter as members
from shopmail.core.states import BroadcastState
from shopmail.extensions import db
from shopmail.mail.addresses import AddressError
from shopmail.mail.tags import tags_for
from shopmail.models import Broadcast, BroadcastTemplate, DeskSettings, Store
from shopmail.web import admin_only
from shopmail.web.partials import page_or_partial

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")


class ComposeForm(FlaskForm):
    store_id = SelectField(_l("Sending store"), coerce=int)
    template_id = SelectField(_l("Template"), coerce=int, validate_choice=False)
    subject = StringField(_l("Subject"), validators=[Length(max=500)])
    body = TextAreaField(_l("Body"))
    send_as_html = BooleanField(_l("Send as HTML"))
    html_source = SelectField(
        _l("HTML written as"), choices=[("html", _l("HTML")), ("mjml", _l("MJML template"))]
    )
    insert_signature = BooleanField(_l("Insert the store's signature"))
    only_wanting = BooleanField(_l("Only members who want mail"))

    def fill(self) -> ComposeForm:
        stores = db.session.scalars(db.select(Store).order_by(Store.id))
        self.store_id.choices = [(s.id, s.name) for s in stores]
        templates = broadcast_templates.all_templates(active_only=True)
        self.template_id.choices = [(0, _l("(none)"))] + [(t.id, t.name) for t in templates]
        return self

    def draft(self) -> broadcasts.Draft:
        html = self.send_as_html.data
        return broadcasts.Draft(
            store_id=self.store_id.data,
            subject=(self.subject.data or "").strip(),
            body=self.body.data or "",
            format=self.html_source.data if html else "text",
            insert_signature=self.insert_signature.data,
            only_wanting=self.only_wanting.data,
            template_id=self.template_id.data or None,
        )


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


class TemplateForm(FlaskForm):
    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=200)])
    subject = StringField(_l("Subject"), validators=[Length(max=500)])
    body = TextAreaField(_l("Body"))
    format = SelectField(
        _l("Format"),
        choices=[("text", _l("Plain text")), ("html", _l("HTML")), ("mjml", _l("MJML template"))],
    )
    is_active = BooleanField(_l("In use"), default=True)


class SettingsForm(FlaskForm):
    monthly_quota = IntegerField(
        _l("Monthly broadcast limit"), validators=[NumberRange(min=0, max=100_000_000)]
    )
    admin_copy_addr = StringField(_l("Admin copy address"), validators=[Length(max=254)])


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
    return render_template("broadcasts/index.html", page=page, progress=progress, drafts=drafts)


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
    if b.state != BroadcastState.DRAFT:
        return redirect(url_for(".progress", bid=b.id))
    try:
        audience = broadcasts.check_ready(b)
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".compose", bid=b.id))
    member, copy = broadcasts.preview(b)
    return render_template(
        "broadcasts/confirm.html", b=b, audience=audience, member=member, copy=copy
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
    context = dict(
        b=b,
        progress=broadcast_runs.progress(b),
        server_running=DeskSettings.current().mail_server_running,
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
        refused=broadcast_runs.refused(b),
        undelivered=broadcast_runs.undelivered(b),
    )


@bp.post("/<int:bid>/send-again")
def send_again(bid: int):
    ids = [int(i) for i in request.form.getlist("message_ids") if i.isdigit()]
    wanted = None if request.form.get("all") == "1" else ids
    try:
        n = broadcast_runs.send_again(_broadcast(bid), wanted, current_user) if wanted != [] else 0
    except broadcasts.BroadcastError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".refused", bid=bid))
    if n:
        flash(_l("%(n)s mails were queued to be sent again.", n=n), "success")
    else:
        flash(_l("Tick at least one mail."), "error")
    return redirect(url_for(".refused", bid=bid))


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
    page = render_template("broadcasts/templates.html", items=items, settings_form=settings_form)
    return page, status


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
