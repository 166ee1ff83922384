"""The member list (filters in the URL, match count, ticks for a broadcast) and a member's page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from shopmail.core import member_filter
from shopmail.extensions import db
from shopmail.mail.addresses import AddressError
from shopmail.members import service as members
from shopmail.models import Member, Message
from shopmail.web.partials import wants_partial

bp = Blueprint("members", __name__, url_prefix="/members")


class AddressForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[Length(max=254)])


@bp.get("/", strict_slashes=False)
def index():
    wanted = member_filter.parse_filter(request.args)
    page = members.page_of(
        member_filter.member_query(wanted), request.args.get("page", 1, type=int)
    )
    if wants_partial():
        return render_template("members/_table.html", wanted=wanted, page=page)
    return render_template(
        "members/index.html", wanted=wanted, page=page, choices=members.choices()
    )


@bp.get("/<int:member_id>")
def show(member_id: int):
    member = db.get_or_404(Member, member_id)
    return _page(member, AddressForm(email=member.email))


@bp.post("/<int:member_id>/address")
def change_address(member_id: int):
    member = db.get_or_404(Member, member_id)
    form = AddressForm()
    if form.validate_on_submit():
        try:
            members.change_address(member, form.email.data, current_user)
        except AddressError as exc:
            form.email.errors.append(
                exc.message_ja if str(get_locale()) == "ja" else exc.message_en
            )
            return _page(member, form)
        flash(_l("The address was saved."), "success")
        return redirect(url_for(".show", member_id=member.id))
    return _page(member, form)


@bp.post("/<int:member_id>/clear-invalid")
def clear_invalid(member_id: int):
    members.clear_invalid(db.get_or_404(Member, member_id), current_user)
    flash(_l("The invalid flag was cleared."), "success")
    return redirect(url_for(".show", member_id=member_id))


def _page(member: Member, form: AddressForm):
    recent = db.session.scalars(
        select(Message).where(Message.member_id == member.id).order_by(Message.id.desc()).limit(20)
    )
    return render_template("members/show.html", member=member, form=form, recent=list(recent))
