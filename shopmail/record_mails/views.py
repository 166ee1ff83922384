"""Manual mails from records: the order, shipment and quote lists, the compose wizard
(compose → confirm → done, its state in a RecordMailing draft) and, for admins, the record-mail
templates with the settings record mails follow."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.core.states import RecordMailingState
from shopmail.core.test_sends import TestSendError
from shopmail.extensions import db
from shopmail.mail import tags
from shopmail.models import DeskSettings, RecordMailing, RecordMailTemplate
from shopmail.record_mails import drafts as record_mail
from shopmail.record_mails import lists as record_lists
from shopmail.record_mails import templates as record_templates
from shopmail.record_mails import test_send as record_test
from shopmail.record_mails.forms import (
    STATUS_LABELS,
    ComposeForm,
    FilterForm,
    SettingsForm,
    TemplateForm,
    list_filter,
    show_tag_errors,
)
from shopmail.web import admin_only, content_notes
from shopmail.web.partials import wants_partial
from shopmail.web.test_send import TestSendBox, typed_addresses
from shopmail.web.test_send import answer as test_answer

bp = Blueprint("records", __name__, url_prefix="/records")

LISTS = {"order": "records.orders", "shipment": "records.shipments", "quote": "records.quotes"}


@bp.context_processor
def record_helpers():
    return {
        "status_label": lambda code: STATUS_LABELS.get(code, code),
        "record_list_endpoint": LISTS,
        "record_tags": tags.tags_for("record"),
    }


@bp.get("/orders")
def orders():
    return _list("order")


@bp.get("/shipments")
def shipments():
    return _list("shipment")


@bp.get("/quotes")
def quotes():
    return _list("quote")


def _list(record_type: str):
    form = FilterForm(formdata=request.args)
    form.set_choices(record_lists.stores(), record_lists.statuses(record_type))
    form.validate()
    page = request.args.get("page", 1, type=int)
    records = record_lists.search(record_type, list_filter(form), page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    name = "records/_table.html" if wants_partial() else "records/list.html"
    return render_template(name, form=form, records=records, record_type=record_type, args=args)


@bp.post("/<any(order, shipment, quote):record_type>/mailings")
def start(record_type: str):
    try:
        mailing = record_mail.create_draft(record_type, request.form.getlist("ids"), current_user)
    except record_mail.MailingError as error:
        flash(error.message, "error")
        return redirect(_back(record_type))
    return redirect(url_for(".compose", mailing_id=mailing.id))


def _back(record_type: str) -> str:
    back = request.form.get("back", "")
    list_url = url_for(LISTS[record_type])
    return back if back.startswith(list_url) and "//" not in back else list_url


def _mailing(mailing_id: int) -> RecordMailing:
    return db.session.get(RecordMailing, mailing_id) or abort(404)


@bp.route("/mailings/<int:mailing_id>/compose", methods=["GET", "POST"])
def compose(mailing_id: int):
    mailing = _mailing(mailing_id)
    if mailing.state != RecordMailingState.DRAFT:
        return redirect(url_for(".done", mailing_id=mailing.id))
    form = ComposeForm(obj=mailing)
    form.set_templates(record_templates.all_templates())
    if form.validate_on_submit():
        try:
            record_mail.save_draft(mailing, **form.draft_fields())
        except record_mail.UnknownTags as error:
            show_tag_errors(form, error)
        else:
            return redirect(url_for(".confirm", mailing_id=mailing.id))
    page = render_template("records/compose.html", form=form, mailing=mailing, **_wizard(mailing))
    return page, 400 if form.errors else 200


@bp.get("/mailings/<int:mailing_id>/compose/template")
def template_fields(mailing_id: int):
    mailing = _mailing(mailing_id)
    template = db.session.get(RecordMailTemplate, request.args.get("template_id", 0, type=int))
    form = ComposeForm(formdata=None, obj=template or mailing)
    return render_template("records/_compose_fields.html", form=form)


def _wizard(mailing: RecordMailing) -> dict:
    people = record_mail.recipients(mailing)
    return {"recipients": people, "sendable": [p for p in people if p.sendable]}


@bp.get("/mailings/<int:mailing_id>/confirm")
def confirm(mailing_id: int):
    mailing = _mailing(mailing_id)
    if mailing.state != RecordMailingState.DRAFT:
        return redirect(url_for(".done", mailing_id=mailing.id))
    if not mailing.title:
        flash(_l("Enter a title first."), "error")
        return redirect(url_for(".compose", mailing_id=mailing.id))
    wizard = _wizard(mailing)
    wanted = request.args.get("preview", type=int)
    chosen = next((p for p in wizard["sendable"] if p.record_id == wanted), None)
    chosen = chosen or next(iter(wizard["sendable"]), None)
    preview = record_mail.render_mail(mailing, chosen) if chosen else None
    name = "records/_preview.html" if wants_partial() else "records/confirm.html"
    box = _test_box(mailing, chosen.record_id) if chosen else None
    return render_template(
        name, mailing=mailing, chosen=chosen, preview=preview, test_box=box, **wizard
    )


def _test_box(mailing: RecordMailing, record_id: int, typed: str = "") -> TestSendBox:
    action = url_for(".test", mailing_id=mailing.id)
    return TestSendBox(action, {"preview": record_id}, typed=typed)


@bp.post("/mailings/<int:mailing_id>/test")
def test(mailing_id: int):
    mailing = _mailing(mailing_id)
    record_id = request.form.get("preview", type=int)
    typed, addresses = typed_addresses()
    box = _test_box(mailing, record_id or 0, typed)
    back = url_for(".confirm", mailing_id=mailing.id, preview=record_id)
    try:
        recipient = record_test.chosen_recipient(mailing, record_id)
        sent = record_test.send_test(mailing, recipient, addresses, current_user)
    except TestSendError as exc:
        return test_answer(box, back, error=exc.message)
    return test_answer(box, back, sent=sent.to)


@bp.post("/mailings/<int:mailing_id>/send")
def send(mailing_id: int):
    mailing = _mailing(mailing_id)
    try:
        record_mail.send(mailing, current_user)
    except record_mail.MailingError as error:
        flash(error.message, "error")
        return redirect(url_for(".confirm", mailing_id=mailing.id))
    return redirect(url_for(".done", mailing_id=mailing.id))


@bp.post("/mailings/<int:mailing_id>/discard")
def discard(mailing_id: int):
    mailing = _mailing(mailing_id)
    back = url_for(LISTS[mailing.record_type])
    if record_mail.discard_draft(mailing, current_user):
        flash(_l("The draft was discarded."), "success")
        return redirect(back)
    return redirect(url_for(".done", mailing_id=mailing_id))


@bp.get("/mailings/<int:mailing_id>/done")
def done(mailing_id: int):
    mailing = _mailing(mailing_id)
    if mailing.state == RecordMailingState.DRAFT:
        return redirect(url_for(".compose", mailing_id=mailing.id))
    progress = record_mail.progress(mailing)
    server_running = DeskSettings.current().mail_server_running
    name = "records/_progress.html" if wants_partial() else "records/done.html"
    failures = record_mail.failures(mailing)
    return render_template(
        name, mailing=mailing, progress=progress, failures=failures, server_running=server_running
    )


@bp.get("/templates")
@admin_only
def templates():
    settings = DeskSettings.current()
    form = SettingsForm(
        obj=settings,
        shipping_instructions=settings.record_mail_shipping_instructions,
        bank_account_shown=settings.bank_account_in_order_mails,
    )
    return render_template(
        "records/templates.html", templates=record_templates.all_templates(), settings_form=form
    )


@bp.post("/settings")
@admin_only
def settings():
    form = SettingsForm()
    if form.validate_on_submit():
        record_templates.save_settings(**form.values(), actor=current_user)
        flash(_l("The settings were saved."), "success")
    else:
        flash(_l("The settings could not be saved."), "error")
    return redirect(url_for(".templates"))


@bp.route("/templates/new", methods=["GET", "POST"])
@admin_only
def template_new():
    return _template_page(None)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@admin_only
def template_edit(template_id: int):
    return _template_page(db.session.get(RecordMailTemplate, template_id) or abort(404))


def _template_page(template: RecordMailTemplate | None):
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            record_templates.save_template(template, **form.values(), actor=current_user)
        except record_mail.UnknownTags as error:
            show_tag_errors(form, error)
        except record_templates.ContentRefused as error:
            for finding in error.findings:
                form[finding.field].errors.append(content_notes.message(finding))
        else:
            flash(_l("The template was saved."), "success")
            content_notes.flash_warnings(record_templates.content_findings(**_texts(form)))
            return redirect(url_for(".templates"))
    status = 400 if form.errors else 200
    return render_template("records/template_form.html", form=form, template=template), status


def _texts(form) -> dict[str, str]:
    return {name: form.values()[name] for name in ("title", "header", "footer")}


@bp.post("/templates/<int:template_id>/delete")
@admin_only
def template_delete(template_id: int):
    template = db.session.get(RecordMailTemplate, template_id) or abort(404)
    record_templates.delete_template(template, current_user)
    flash(_l("The template was deleted."), "success")
    return redirect(url_for(".templates"))
