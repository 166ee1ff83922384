"""The account page: everyone changes their own password and language here."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo

from shopmail.extensions import db
from shopmail.people import users as people
from shopmail.web.labels import LANGUAGE_CHOICES

bp = Blueprint("account", __name__, url_prefix="/account")


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password."))])
    confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", _l("The two new passwords are not the same."))],
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


@bp.get("")
def index():
    return _page(PasswordForm(), LanguageForm(language=current_user.language))


@bp.post("/password")
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            people.change_own_password(current_user, form.current.data, form.new.data)
        except people.UserError as error:
            db.session.rollback()
            target = form.current if isinstance(error, people.WrongPasswordError) else form.new
            target.errors = [*target.errors, error.translated()]
        else:
            # The session version moved on: every other session has ended; keep this one.
            login_user(current_user._get_current_object())
            flash(_l("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("account.index"))
    return _page(form, LanguageForm(language=current_user.language)), 400


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        people.change_language(current_user, form.language.data)
        session["lang"] = form.language.data
        flash(_l("Your language was saved."), "success")
        return redirect(url_for("account.index"))
    return _page(PasswordForm(), form), 400


def _page(password_form: PasswordForm, language_form: LanguageForm):
    return render_template(
        "account/index.html",
        password_form=password_form,
        language_form=language_form,
        min_password_length=people.MIN_PASSWORD_LENGTH,
    )
