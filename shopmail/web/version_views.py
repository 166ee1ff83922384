"""The versions page of a template — automatic, record-mail or newsletter — for admins: who
saved what when, a diff to the current text, and restoring a version (core/template_versions).
One page for the three kinds; each editor links here and the page links back to it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from shopmail.core import template_versions as versions
from shopmail.core.states import MessageKind
from shopmail.extensions import db
from shopmail.models import Store
from shopmail.web import admin_only
from shopmail.web.labels import KINDS

bp = Blueprint("versions", __name__, url_prefix="/template-versions")

FIELDS = {
    "name": _l("Name"),
    "subject": _l("Subject"),
    "body": _l("Body"),
    "title": _l("Title"),
    "header": _l("Header"),
    "footer": _l("Footer"),
    "format": _l("Format"),
}
STAGES = {"1": _l("Stage 1: first purchase"), "2": _l("Stage 2: repeat customer")}


@bp.get("", endpoint="page")
@admin_only
def versions_page():
    template_type, key = _named()
    return render_template(
        "versions/versions.html",
        template_type=template_type,
        key=key,
        title=_title(template_type, key),
        editor=editor_url(template_type, key),
        listed=versions.versions(template_type, key),
        fields=FIELDS,
        form=FlaskForm(),
    )


@bp.post("/restore")
@admin_only
def restore():
    template_type, key = _named()
    number = request.form.get("number", type=int) or abort(400)
    if FlaskForm().validate_on_submit():
        try:
            kept = versions.restore(current_user, template_type, key, number)
        except versions.VersionError:
            flash(_l("This version cannot be restored: the template was deleted."), "error")
        else:
            if kept is None:
                flash(_l("The template already holds this version's text."), "info")
            else:
                message = _l(
                    "Version %(old)s was restored as version %(new)s.", old=number, new=kept.number
                )
                flash(message, "success")
    return redirect(url_for(".page", template_type=template_type, key=key))


def _named() -> tuple[str, str]:
    """The template the page is about: ?template_type=…&key=… (a form's fields on a POST)."""
    template_type, key = request.values.get("template_type", ""), request.values.get("key", "")
    if template_type not in versions.TYPES:
        abort(404)
    slot = template_type == "order_mail" and key.count("|") >= 3
    if not (slot or (template_type != "order_mail" and key.isdigit())):
        abort(404)
    return template_type, key


def editor_url(template_type: str, key: str) -> str:
    """The template's editor (an endpoint name only: the web layer imports no feature)."""
    if template_type == "order_mail":
        scope, kind, device, variant = key.split("|", 3)
        store = scope.split(":", 1)[1] if scope.startswith("store:") else "default"
        return url_for(
            "automatic.templates", store=store, kind=kind, device=device, variant=variant
        )
    if template_type == "record_mail":
        return url_for("records.template_edit", template_id=int(key))
    return url_for("broadcasts.template", tid=int(key))


def _title(template_type: str, key: str) -> str:
    """The template as its editor names it."""
    if template_type != "order_mail":
        row = versions.template_of(template_type, key) or abort(404)
        return row.name
    scope, kind, device, variant = key.split("|", 3)
    store = db.session.get(Store, int(scope[6:])) if scope.startswith("store:") else None
    parts = [store.name if store else str(_l("Common default")), str(KINDS.get(kind, kind))]
    parts.append(str(_l("Mobile") if device == "mobile" else _l("PC")))
    if variant or kind == MessageKind.SHIPPING_NOTICE:
        parts.append(str(STAGES.get(variant, variant or _l("Any delivery method (generic)"))))
    return " / ".join(parts)
