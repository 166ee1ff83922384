"""Store settings (admins only): the list, create and edit, the test mail, the server switch."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shopmail.core import crypto, relays
from shopmail.core.states import RelayMode
from shopmail.extensions import db, htmx
from shopmail.models import DeskSettings, Store
from shopmail.models.stores import CHANNELS_OFF_SYSTEM_DOMAIN
from shopmail.stores import dns, rules, settings
from shopmail.stores.forms import RELAY_LABELS, StoreForm, SwitchForm
from shopmail.web import admin_blueprint, safe_next

bp = admin_blueprint(Blueprint("stores", __name__, url_prefix="/stores"))

TEST_RESULT = "stores.test_mail"  # session key: the last test mail's answer, shown once
# Where the system and Rakuten relays take their limits from (shopmail/config.py).
LIMITS_FROM_ENVIRONMENT = {
    RelayMode.SYSTEM: "SHOPMAIL_SMTP",
    RelayMode.RAKUTEN: "SHOPMAIL_RAKUTEN_SMTP",
}


@bp.get("")
def index():
    stores = settings.list_stores()
    return render_template(
        "stores/index.html",
        stores=stores,
        statuses=settings.relay_statuses(stores),
        desk=DeskSettings.current(),
        mask=crypto.MASK,
        relay_labels=RELAY_LABELS,
        here=request.path,
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = StoreForm()
    if form.validate_on_submit():
        return _saved(settings.save_store(None, form.values(), current_user))
    if form.is_submitted():
        return _refused(form, None)
    return _page(form, None)


@bp.route("/<int:store_id>", methods=["GET", "POST"])
def edit(store_id: int):
    store = db.get_or_404(Store, store_id)
    form = StoreForm(store)
    if form.validate_on_submit():
        return _saved(settings.save_store(store, form.values(), current_user))
    if form.is_submitted():
        return _refused(form, store)
    return _page(form, store, session.pop(TEST_RESULT, None))


@bp.post("/<int:store_id>/test-mail")
def test_mail(store_id: int):
    store = db.get_or_404(Store, store_id)
    answer = settings.send_test(store, current_user)
    if htmx:
        return render_template("stores/_test_result.html", answer=asdict(answer))
    session[TEST_RESULT] = {"store_id": store.id, **asdict(answer)}
    return redirect(url_for(".edit", store_id=store.id))


@bp.get("/relay-parts")
def relay_parts():
    """The sender hints and the relay choice for the channel and relay being chosen (htmx, on
    change): a Rakuten store gets Rakuten's relay at once, not after a refused save."""
    store = db.session.get(Store, request.args.get("store_id", 0, type=int))
    form = StoreForm(store, formdata=request.args)
    locked = store is not None and DeskSettings.current().mail_server_running
    if not locked:
        form.relay_mode.data = rules.relay_for_channel(form.channel.data, form.relay_mode.data)
    return render_template("stores/_relay_parts.html", **_relay_parts(form, locked))


def _relay_parts(form: StoreForm, locked: bool) -> dict:
    """What the sender hints and the relay choice are rendered from."""
    mode = form.relay_mode.data
    env_prefix = LIMITS_FROM_ENVIRONMENT.get(mode)
    return dict(
        form=form,
        locked=locked,
        domain=form.system_domain,
        off_domain=CHANNELS_OFF_SYSTEM_DOMAIN,
        relay_labels=RELAY_LABELS,
        # The limits the chosen system or Rakuten relay has (a store not saved: only its mode).
        env_limits=relays.limits_for(Store(relay_mode=mode)) if env_prefix else None,
        env_prefix=env_prefix,
    )


@bp.post("/mail-server")
def mail_server():
    """The mail server switch (also used by the operations page): running=1 starts, 0 stops."""
    form = SwitchForm()
    running = form.running.data == "1"
    if form.running.data not in ("0", "1"):
        flash(_l("Choose whether to start or stop the mail server."), "error")
    elif settings.set_mail_server(running, current_user) and running:
        flash(_started_message(), "success")
    elif running:
        flash(_l("The mail server is already running."), "success")
    else:
        flash(_l("The mail server is stopped: no mail is going out."), "success")
    return redirect(safe_next(form.next.data or url_for(".index")))


def _started_message():
    """What starting the server really does: automatic mails go out only while sending is on."""
    if DeskSettings.current().auto_send:
        return _l("The mail server was started: mail is going out.")
    return _l(
        "The mail server was started: record mails and broadcasts are going out. "
        "Automatic mails wait until sending is switched on."
    )


def _saved(store: Store):
    flash(_l("The settings of %(store)s were saved.", store=store.name), "success")
    return redirect(url_for(".index"))


def _refused(form: StoreForm, store: Store | None):
    """Each message beside its field; above them, the lock or a summary. Nothing was saved."""
    summary = _l("Nothing was saved: please correct the fields marked below.")
    flash(form.form_errors[0] if form.form_errors else summary, "error")
    return _page(form, store), 400


def _page(form: StoreForm, store: Store | None, test_result: dict | None = None):
    desk = DeskSettings.current()
    if test_result and store is not None and test_result.get("store_id") != store.id:
        test_result = None
    return render_template(
        "stores/edit.html",
        store=store,
        desk=desk,
        has_password=bool(store and store.smtp_password_enc),
        mask=crypto.MASK,
        test_result=test_result,
        status=relays.status_of(store) if store is not None else None,
        dns=dns.guide_for(store) if store is not None else None,
        **_relay_parts(form, locked=store is not None and desk.mail_server_running),
        here=request.path,
    )
