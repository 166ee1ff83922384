"""Record-mail templates (title, header, footer) and the desk settings record mails follow.

Admins own them. Tags must be usable in record mails; a template with unknown tags is refused
and nothing changes. Every change is audited and left in the session for the caller to commit.
"""

from __future__ import annotations

from sqlalchemy import select, update

from shopmail.core import audit
from shopmail.extensions import db
from shopmail.models import DeskSettings, RecordMailing, RecordMailTemplate, User
from shopmail.record_mails.drafts import check_tags


def all_templates() -> list[RecordMailTemplate]:
    return list(db.session.scalars(select(RecordMailTemplate).order_by(RecordMailTemplate.name)))


def save_template(
    template: RecordMailTemplate | None,
    *,
    name: str,
    title: str,
    header: str,
    footer: str,
    actor: User,
) -> RecordMailTemplate:
    """Create (template None) or update a template; raises `UnknownTags` before any change."""
    check_tags(title=title, header=header, footer=footer)
    created = template is None
    if created:
        template = RecordMailTemplate()
        db.session.add(template)
    template.name = name.strip()
    template.title = " ".join(title.split())
    template.header = header
    template.footer = footer
    db.session.flush()
    action = "record_template.created" if created else "record_template.updated"
    audit.record(actor, action, template, name=template.name)
    return template


def delete_template(template: RecordMailTemplate, actor: User) -> None:
    """Delete a template; drafts that used it keep their texts and forget the link."""
    db.session.execute(
        update(RecordMailing)
        .where(RecordMailing.template_id == template.id)
        .values(template_id=None),
        execution_options={"synchronize_session": False},
    )
    audit.record(actor, "record_template.deleted", template, name=template.name)
    db.session.delete(template)


def save_settings(
    *, shipping_instructions: bool, bank_account_shown: bool, bank_account_text: str, actor: User
) -> DeskSettings:
    """The record-mail switches: shipping instructions, and the bank account for transfers."""
    settings = DeskSettings.get()
    settings.record_mail_shipping_instructions = shipping_instructions
    settings.bank_account_in_order_mails = bank_account_shown
    settings.bank_account_text = bank_account_text.strip("\n")
    audit.record(
        actor,
        "desk_settings.record_mail_updated",
        settings,
        shipping_instructions=shipping_instructions,
        bank_account_in_order_mails=bank_account_shown,
    )
    return settings
