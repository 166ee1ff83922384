"""Log-in, log-out and the language switch."""

from __future__ import annotations

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
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from shopmail.extensions import db, limiter
from shopmail.models import User
from shopmail.models.types import utcnow
from shopmail.models.users import LANGUAGES
from shopmail.people.users import change_language, end_sessions
from shopmail.web import public, safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user and user.active and user.check_password(form.password.data):
            _fresh_session()
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            return redirect(safe_next(request.args.get("next")))
        flash(_l("The e-mail or password is not right."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    end_sessions(current_user)  # a copied session or remember-me cookie stops working too
    logout_user()
    _fresh_session()
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    """A new session at log-in and log-out: nothing of the old one carries over (a planted
    session, the CSRF token), except the language chosen."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.post("/language/<lang>")
@public
def language(lang: str):
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            change_language(current_user, lang)  # recorded in the audit trail
    return redirect(safe_next(request.form.get("next")))
