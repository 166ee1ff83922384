"""Newsletter templates (plain text, HTML or MJML) and the broadcast settings an admin keeps:
the monthly quota and the address that gets a copy of every broadcast."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from shopmail.broadcasts import rendering as broadcast_mail
from shopmail.core import audit, dispatch, quiet_hours, template_versions
from shopmail.core.states import MessageKind
from shopmail.extensions import db
from shopmail.mail.addresses import parse_address
from shopmail.models import Broadcast, BroadcastTemplate, DeskSettings, User

FORMATS = ("text", "html", "mjml")


@dataclass(frozen=True)
class TemplateFields:
    name: str
    subject: str
    body: str
    format: str
    is_active: bool


def all_templates(active_only: bool = False) -> list[BroadcastTemplate]:
    query = select(BroadcastTemplate).order_by(BroadcastTemplate.name, BroadcastTemplate.id)
    if active_only:
        query = query.where(BroadcastTemplate.is_active.is_(True))
    return list(db.session.scalars(query))


def save_template(
    template: BroadcastTemplate | None, fields: TemplateFields, actor: User
) -> BroadcastTemplate:
    """Create or change a template; unknown tags and broken MJML raise ContentError."""
    broadcast_mail.compile_content(fields.subject, fields.body, fields.format)
    created = template is None
    template = template or BroadcastTemplate()
    for name in TemplateFields.__dataclass_fields__:
        setattr(template, name, getattr(fields, name))
    db.session.add(template)
    template_versions.keep(actor, template)  # flushes
    action = "broadcast_template.created" if created else "broadcast_template.updated"
    audit.record(actor, action, template, name=fields.name)
    return template


def delete_template(template: BroadcastTemplate, actor: User) -> None:
    """Broadcasts keep their own copy of subject and body, so they only lose the link."""
    db.session.execute(
        update(Broadcast).where(Broadcast.template_id == template.id).values(template_id=None)
    )
    audit.record(actor, "broadcast_template.deleted", template, name=template.name)
    template_versions.forget(template)
    db.session.delete(template)


def save_settings(monthly_quota: int, admin_copy_addr: str, actor: User) -> None:
    """Raises AddressError for an admin copy address that is not one."""
    addr = admin_copy_addr.strip()
    if addr:
        addr = parse_address(addr).addr
    settings = DeskSettings.get()
    audit.record(
        actor,
        "settings.broadcasts_updated",
        settings,
        monthly_quota=monthly_quota,
        admin_copy_addr=addr,
    )
    settings.monthly_quota, settings.admin_copy_addr = monthly_quota, addr


def set_quiet_hours(actor: User, window: quiet_hours.Window) -> bool:
    """The hours broadcasts are sent in; a broadcast that waited and may go now goes."""
    changed = quiet_hours.save_window(actor, MessageKind.BROADCAST, window)
    if changed:
        dispatch.send_soon()
    return changed
