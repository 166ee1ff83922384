"""Record-mail templates (title, header, footer) and the desk settings record mails follow.

Admins own them. Tags must be usable in record mails; a template with unknown tags is refused
and nothing changes. Every change is audited and left in the session for the caller to commit.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update

from shopmail.core import audit, template_versions
from shopmail.extensions import db
from shopmail.mail import content_checks
from shopmail.mail.content_checks import ContentWarning
from shopmail.models import DeskSettings, RecordMailing, RecordMailTemplate, User
from shopmail.record_mails.drafts import check_tags


class ContentRefused(ValueError):
    """Text in a template that cannot be sent; `findings` say where."""

    def __init__(self, findings: list[ContentWarning]) -> None:
        self.findings = findings
        super().__init__("; ".join(f.message_en for f in findings))


def content_findings(title: str, header: str, footer: str) -> list[ContentWarning]:
    """The content checks (`content_checks`) of a record-mail template's three texts, each
    finding named by its field ("title", "header", "footer")."""
    found = content_checks.check(title, header, "record")
    found = [replace(f, field="title" if f.field == "subject" else "header") for f in found]
    footer_found = content_checks.check("", footer, "record")
    return found + [replace(f, field="footer") for f in footer_found]


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
    """Create (template None) or update a template; raises `UnknownTags` or, for what cannot
    be sent (a line over 1,000 bytes), `ContentRefused` before any change."""
    check_tags(title=title, header=header, footer=footer)
    unsendable = [f for f in content_findings(title, header, footer) if f.blocks]
    if unsendable:
        raise ContentRefused(unsendable)
    created = template is None
    if created:
        template = RecordMailTemplate()
        db.session.add(template)
    template.name = name.strip()
    template.title = " ".join(title.split())
    template.header = header
    template.footer = footer
    template_versions.keep(actor, template)  # flushes
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
    template_versions.forget(template)
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
