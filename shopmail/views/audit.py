"""The audit page (admins only): who changed what and when, filtered by user, action and date."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from shopmail.extensions import htmx
from shopmail.models import AuditEntry
from shopmail.services import audit
from shopmail.views import admin_blueprint

bp = admin_blueprint(Blueprint("audit", __name__, url_prefix="/audit"))

# What each action is called on screen; an action without a label shows its name.
ACTION_LABELS = {
    "user.created": _l("User created"),
    "user.role_changed": _l("Role changed"),
    "user.deactivated": _l("User deactivated"),
    "user.reactivated": _l("User reactivated"),
    "user.password_reset": _l("Password reset"),
    "account.password_changed": _l("Own password changed"),
    "account.language_changed": _l("Own language changed"),
}
# Objects that have a page of their own: the entry links there.
OBJECT_PAGES = {"users": lambda object_id: url_for("users.index", _anchor=f"user-{object_id}")}


class TrailForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: it changes nothing

    user = SelectField(_l("User"), coerce=int, default=0, validators=[Optional()])
    action = SelectField(_l("Action"), default="", validators=[Optional()])
    start = DateField(_l("Date from"), validators=[Optional()])
    end = DateField(_l("Date to"), validators=[Optional()])


@bp.get("")
def index():
    form = _trail_form()
    found = audit.search(_wanted(form), page=request.args.get("page", 1, type=int))
    partial = htmx and not htmx.history_restore_request
    template = "audit/_entries.html" if partial else "audit/index.html"
    return render_template(
        template, form=form, found=found, label=action_label, link=object_link, page_url=page_url
    )


def _trail_form() -> TrailForm:
    form = TrailForm(request.args)
    form.user.choices = [SelectChoice(0, _l("Everyone"))] + [
        SelectChoice(u.id, u.name or u.email) for u in audit.people()
    ]
    actions = sorted(set(ACTION_LABELS) | set(audit.actions_in_use()))
    form.action.choices = [SelectChoice("", _l("Every action"))] + [
        SelectChoice(a, action_label(a)) for a in actions
    ]
    form.validate()
    return form


def _wanted(form: TrailForm) -> audit.TrailFilter:
    """The filter as asked; a field that did not make sense is left out (the page says so)."""

    def value(field):
        return None if field.errors else field.data

    return audit.TrailFilter(
        user_id=value(form.user),
        action=value(form.action),
        start=value(form.start),
        end=value(form.end),
    )


def page_url(page: int) -> str:
    """This page of the trail with the same filters."""
    return url_for("audit.index", **{**request.args.to_dict(), "page": page})


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def object_link(entry: AuditEntry) -> str | None:
    page = OBJECT_PAGES.get(entry.object_type)
    return page(entry.object_id) if page and entry.object_id else None
