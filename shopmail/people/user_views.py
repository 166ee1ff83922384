"""The users page (admins only): create users, change roles, deactivate, reset passwords."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from shopmail.core.states import Role
from shopmail.extensions import db
from shopmail.models import User
from shopmail.people import users as people
from shopmail.web import admin_blueprint
from shopmail.web.labels import LANGUAGE_CHOICES

bp = admin_blueprint(Blueprint("users", __name__, url_prefix="/users"))

ROLE_CHOICES = [SelectChoice(Role.STAFF, _l("Staff")), SelectChoice(Role.ADMIN, _l("Admin"))]


class CreateUserForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Email(_l("This is not a valid e-mail address.")),
            Length(max=254),
        ],
    )
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.STAFF)
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="ja")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


@bp.get("")
def index():
    return _page(CreateUserForm())


@bp.post("")
def create():
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _page(form), 400
    password = people.generate_password()
    try:
        user = people.create_user(
            form.email.data,
            password,
            role=form.role.data,
            name=form.name.data or "",
            language=form.language.data,
            actor=current_user,
        )
    except people.UserError as error:
        form.email.errors.append(error.translated())
        return _page(form), 400
    return _password_once(user, password, _l("The user was created."))


@bp.post("/<int:user_id>/role")
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_l("Choose a role."), "error")
    elif _apply(people.change_role, _user(user_id), form.role.data, current_user):
        flash(_l("The role was changed."), "success")
    return _back()


@bp.post("/<int:user_id>/deactivate")
def deactivate(user_id: int):
    if _apply(people.deactivate, _user(user_id), current_user):
        flash(_l("The user was deactivated and logged out."), "success")
    return _back()


@bp.post("/<int:user_id>/reactivate")
def reactivate(user_id: int):
    if _apply(people.reactivate, _user(user_id), current_user):
        flash(_l("The user can log in again."), "success")
    return _back()


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int):
    user = _user(user_id)
    password = people.reset_password(user, current_user)
    if user.id == current_user.id:  # an admin resetting their own: keep this session
        login_user(user)
    return _password_once(user, password, _l("The password was reset."))


def _page(form: CreateUserForm):
    return render_template("users/index.html", form=form, users=people.list_users())


def _user(user_id: int) -> User:
    return people.get_user(user_id) or abort(404)


def _apply(change, *args) -> bool:
    """Run a service change (the request commits it); a refused change flashes why and changes
    nothing."""
    try:
        changed = change(*args)
    except people.UserError as error:
        db.session.rollback()
        flash(error.translated(), "error")
        return False
    return changed


def _back():
    # An admin who just gave up their own admin role may no longer see this page.
    if not current_user.is_authenticated or not current_user.is_admin:
        return redirect(url_for("home.dashboard"))
    return redirect(url_for("users.index"))


def _password_once(user: User, password: str, headline):
    """Show a generated password exactly once: straight in the POST's answer, never stored.

    Not a redirect on purpose: the password must not ride in a cookie or a URL, and the
    page must not be cached; reloading asks to post again, which makes a new password.
    """
    page = render_template("users/password.html", user=user, password=password, headline=headline)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
