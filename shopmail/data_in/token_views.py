"""API tokens (admins only): list with their scopes, create with the scopes ticked (the secret
is shown once) and revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from shopmail.core.states import ApiScope
from shopmail.data_in import tokens
from shopmail.web import admin_blueprint
from shopmail.web.labels import SCOPES

bp = admin_blueprint(Blueprint("tokens", __name__, url_prefix="/api-tokens"))


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name (which system uses it)"), validators=[DataRequired(), Length(max=100)]
    )
    # Every scope ticked to begin with; ticking none is refused (tokens.create_token).
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope.value, SCOPES[scope]) for scope in ApiScope],
        default=[scope.value for scope in ApiScope],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    form, secret = TokenForm(), None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                form.name.data, actor=current_user, scopes=form.scopes.data or []
            )
        except tokens.TokenError as exc:
            flash(str(exc), "error")
        else:
            form = TokenForm(formdata=None)
            flash(_l("The token %(name)s was created.", name=token.name), "success")
    # The secret is rendered into this one answer and never stored: a reload cannot show it.
    return render_template(
        "tokens/index.html",
        form=form,
        secret=secret,
        tokens=tokens.list_tokens(),
        revoke=FlaskForm(),
    )


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    if FlaskForm().validate_on_submit():
        try:
            token = tokens.revoke_token(token_id, actor=current_user)
        except tokens.TokenError as exc:
            flash(str(exc), "error")
        else:
            flash(_l("The token %(name)s was revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
