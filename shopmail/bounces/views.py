"""The bounces page (staff): automatic and record mails that bounced after the relay took
them, by store and kind, each linking to its mail and its order; admins set whether addresses
are flagged invalid by themselves after N hard bounces."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from shopmail.bounces import listing
from shopmail.models import DeskSettings
from shopmail.web import admin_only

bp = Blueprint("bounces", __name__, url_prefix="/bounces")


class FlagAfterForm(FlaskForm):
    flag_after = IntegerField(
        _l("Flag an address invalid after this many hard bounces (0: never)"),
        validators=[InputRequired(), NumberRange(min=0, max=listing.MAX_FLAG_AFTER)],
    )


@bp.get("/", strict_slashes=False)
def index():
    return _page(FlagAfterForm(flag_after=DeskSettings.current().bounce_flag_after))


def _page(form: FlagAfterForm, status: int = 200):
    wanted = listing.mail_filter(request.args.get("store"), request.args.get("kind"))
    page = render_template(
        "bounces/index.html",
        wanted=wanted,
        rows=listing.bounced(wanted),
        stores=listing.stores(),
        kinds=listing.KINDS,
        limit=listing.LIMIT,
        form=form,
    )
    return page, status


@bp.post("/settings")
@admin_only
def settings():
    form = FlagAfterForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    listing.set_flag_after(form.flag_after.data, current_user)
    flash(_l("The bounce setting was saved."), "success")
    return redirect(url_for(".index"))
