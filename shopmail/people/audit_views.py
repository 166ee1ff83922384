"""The audit page (admins only): who changed what and when, filtered by user, action and date."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional

from shopmail.core import audit
from shopmail.models import AuditEntry
from shopmail.web import admin_blueprint
from shopmail.web.partials import wants_partial

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
    "store.created": _l("Store created"),
    "store.updated": _l("Store settings changed"),
    "store.mail_rules": _l("Store's automatic mail rules changed"),
    "store.test_mail_sent": _l("Test mail sent"),
    "store.sending_paused": _l("Store's sending paused (credentials refused)"),
    "dkim.key_created": _l("DKIM key created"),
    "dkim.key_removed": _l("DKIM key removed"),
    "desk.mail_server_started": _l("Mail server started"),
    "desk.mail_server_stopped": _l("Mail server stopped"),
    "desk.auto_create_on": _l("Automatic creation switched on"),
    "desk.auto_create_off": _l("Automatic creation switched off"),
    "desk.auto_send_on": _l("Automatic sending switched on"),
    "desk.auto_send_off": _l("Automatic sending switched off"),
    "kind.enabled": _l("Mail kind put in use"),
    "kind.disabled": _l("Mail kind taken out of use"),
    "template.saved": _l("Automatic mail template saved"),
    "template.reset": _l("Template reset to the common default"),
    "template.test_sent": _l("Automatic mail template sent as a test"),
    "mails.created": _l("Automatic mails created"),
    "queue.deleted": _l("Queued mails deleted"),
    "queue.released": _l("Held mails released"),
    "queue.restored": _l("Deleted mails restored"),
    "queue.requeued": _l("Mails sent again"),
    "record_template.created": _l("Record mail template created"),
    "record_template.updated": _l("Record mail template changed"),
    "record_template.deleted": _l("Record mail template deleted"),
    "desk_settings.record_mail_updated": _l("Record mail settings changed"),
    "record_mailing.created": _l("Record mail drafted"),
    "record_mailing.sent": _l("Record mail sent"),
    "record_mailing.test_sent": _l("Record mail sent as a test"),
    "record_mailing.discarded": _l("Record mail draft discarded"),
    "broadcast.drafted": _l("Broadcast drafted"),
    "broadcast.composed": _l("Broadcast written"),
    "broadcast.template_applied": _l("Broadcast template applied"),
    "broadcast.started": _l("Broadcast started"),
    "broadcast.scheduled": _l("Broadcast scheduled"),
    "broadcast.rescheduled": _l("Broadcast's send time changed"),
    "broadcast.schedule_cancelled": _l("Broadcast's schedule cancelled"),
    "broadcast.started_by_schedule": _l("Broadcast started by its schedule"),
    "broadcast.schedule_refused": _l("Scheduled broadcast not started"),
    "broadcast.test_sent": _l("Broadcast sent as a test"),
    "broadcast.paused": _l("Broadcast paused"),
    "broadcast.resumed": _l("Broadcast resumed"),
    "broadcast.cancelled": _l("Broadcast cancelled"),
    "broadcast.discarded": _l("Broadcast draft discarded"),
    "broadcast.sent_again": _l("Undelivered broadcast mails sent again"),
    "broadcast_template.created": _l("Broadcast template created"),
    "broadcast_template.updated": _l("Broadcast template changed"),
    "broadcast_template.deleted": _l("Broadcast template deleted"),
    "template_version.restored": _l("Template version restored"),
    "settings.broadcasts_updated": _l("Broadcast settings changed"),
    "quiet_hours.updated": _l("Sending hours changed"),
    "desk.line_width_updated": _l("Line width for mobile templates changed"),
    "member.updated": _l("Member's address changed"),
    "member.invalid_cleared": _l("Invalid flag cleared"),
    "member.flagged_invalid": _l("Members flagged invalid"),
    "member.unsubscribed": _l("Member unsubscribed"),
    "member.complained": _l("Member reported a mail as spam (wants no mail)"),
    "desk_settings.bounce_flag_updated": _l("Bounce flagging setting changed"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "import.orders": _l("Orders imported"),
    "import.members": _l("Members imported"),
    "api.orders.upserted": _l("Orders received through the API"),
    "api.shipments.upserted": _l("Shipments received through the API"),
    "api.quotes.upserted": _l("Quotes received through the API"),
    "api.members.upserted": _l("Members received through the API"),
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
    partial = wants_partial()
    template = "audit/_entries.html" if partial else "audit/index.html"
    return render_template(template, form=form, found=found, label=action_label, link=object_link)


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


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def object_link(entry: AuditEntry) -> str | None:
    page = OBJECT_PAGES.get(entry.object_type)
    return page(entry.object_id) if page and entry.object_id else None
