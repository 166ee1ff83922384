"""Store settings (admins only): the list, create and edit, the test mail, the server switch."""

from __future__ import annotations

from dataclasses import asdict

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from shopmail.core import crypto
from shopmail.extensions import db, htmx
from shopmail.models import DeskSettings, Store
from shopmail.models.stores import CHANNELS_OFF_SYSTEM_DOMAIN
from shopmail.stores import settings
from shopmail.web import admin_blueprint, safe_next
from shopmail.web.labels import CHANNELS

bp = admin_blueprint(Blueprint("stores", __name__, url_prefix="/stores"))

TEST_RESULT = "stores.test_mail"  # session key: the last test mail's answer, shown once
RELAY_LABELS = {
    "system": _l("System relay"),
    "own": _l("Own SMTP relay"),
    "rakuten": _l("Rakuten relay (SMTP AUTH)"),
}
SECURITY_LABELS = {"none": _l("None"), "starttls": _l("STARTTLS"), "tls": _l("SSL/TLS")}
CHARSET_LABELS = {"utf-8": "UTF-8", "iso-2022-jp": "ISO-2022-JP"}


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class StoreForm(FlaskForm):
    code = StringField(_l("Store code"))
    name = StringField(_l("Store name"))
    channel = SelectField(_l("Channel"), choices=choices(CHANNELS))
    from_addr = StringField(_l("From address"))
    from_name = StringField(_l("From display name"))
    reply_to = StringField(_l("Reply-To address"))
    bcc = StringField(_l("BCC (comma-separated)"))
    signature_pc = TextAreaField(_l("PC signature"))
    signature_mobile = TextAreaField(_l("Mobile signature"))
    mobile_charset = SelectField(
        _l("Charset for mobile recipients"), choices=choices(CHARSET_LABELS)
    )
    relay_mode = RadioField(_l("Relay"), choices=choices(RELAY_LABELS))
    smtp_host = StringField(_l("SMTP host"))
    smtp_port = StringField(_l("SMTP port"))
    smtp_security = SelectField(_l("Encryption"), choices=choices(SECURITY_LABELS))
    smtp_user = StringField(_l("SMTP user / SMTP AUTH ID"))
    smtp_password = PasswordField(_l("SMTP password"))
    clear_password = BooleanField(_l("Clear the stored password"))
    follow_up_days = StringField(_l("Follow-up after (days)"))
    repeat_from_count = StringField(_l("Repeat customer from (purchases)"))

    def values(self) -> settings.StoreInput:
        data = {name: self[name].data for name in asdict(settings.StoreInput())}
        for name in ("smtp_port", "follow_up_days", "repeat_from_count"):
            text = str(data[name] or "").strip()
            data[name] = int(text) if text.isdigit() and len(text) < 7 else None
        for name, value in data.items():
            if value is None and name not in ("smtp_port", "follow_up_days", "repeat_from_count"):
                data[name] = ""
        return settings.StoreInput(**data)

    def show(self, errors: dict[str, object]) -> None:
        for name, message in errors.items():
            if name in self._fields:
                self[name].errors = [*self[name].errors, message]


class SwitchForm(FlaskForm):
    running = HiddenField()
    next = HiddenField()


@bp.get("")
def index():
    return render_template(
        "stores/index.html",
        stores=settings.list_stores(),
        desk=DeskSettings.get(),
        mask=crypto.MASK,
        relay_labels=RELAY_LABELS,
        here=request.path,
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = StoreForm(data=asdict(settings.StoreInput()))
    if form.is_submitted():
        if _save(None, form):
            return redirect(url_for(".index"))
        return _page(form, None), 400
    return _page(form, None)


@bp.route("/<int:store_id>", methods=["GET", "POST"])
def edit(store_id: int):
    store = db.get_or_404(Store, store_id)
    form = StoreForm(data=asdict(settings.StoreInput.of(store)))
    if form.is_submitted():
        if _save(store, form):
            return redirect(url_for(".index"))
        return _page(form, store), 400
    return _page(form, store, session.pop(TEST_RESULT, None))


@bp.post("/<int:store_id>/test-mail")
def test_mail(store_id: int):
    store = db.get_or_404(Store, store_id)
    answer = settings.send_test(store, current_user)
    if htmx:
        return render_template("stores/_test_result.html", answer=asdict(answer))
    session[TEST_RESULT] = {"store_id": store.id, **asdict(answer)}
    return redirect(url_for(".edit", store_id=store.id))


@bp.post("/mail-server")
def mail_server():
    """The mail server switch (also used by the operations page): running=1 starts, 0 stops."""
    form = SwitchForm()
    running = form.running.data == "1"
    if form.running.data not in ("0", "1"):
        flash(_l("Choose whether to start or stop the mail server."), "error")
    elif settings.set_mail_server(running, current_user) and running:
        flash(_l("The mail server was started: mail is going out."), "success")
    elif running:
        flash(_l("The mail server is already running."), "success")
    else:
        flash(_l("The mail server is stopped: no mail is going out."), "success")
    return redirect(safe_next(form.next.data or url_for(".index")))


def _save(store: Store | None, form: StoreForm) -> Store | None:
    try:
        saved = settings.save_store(
            store,
            form.values(),
            current_user,
            system_domain=current_app.config["SHOPMAIL_MAIL_DOMAIN"],
            running=DeskSettings.get().mail_server_running,
        )
    except settings.StoreRefused as refused:
        db.session.rollback()
        form.show(refused.errors)
        summary = _l("Nothing was saved: please correct the fields marked below.")
        flash(refused.errors.get(settings.FORM) or summary, "error")
        return None
    flash(_l("The settings of %(store)s were saved.", store=saved.name), "success")
    return saved


def _page(form: StoreForm, store: Store | None, test_result: dict | None = None):
    desk = DeskSettings.get()
    if test_result and store is not None and test_result.get("store_id") != store.id:
        test_result = None
    return render_template(
        "stores/edit.html",
        form=form,
        store=store,
        desk=desk,
        locked=store is not None and desk.mail_server_running,
        has_password=bool(store and store.smtp_password_enc),
        mask=crypto.MASK,
        domain=current_app.config["SHOPMAIL_MAIL_DOMAIN"],
        off_domain=CHANNELS_OFF_SYSTEM_DOMAIN,
        test_result=test_result,
        here=request.path,
    )
