"""The broadcast pages' forms: compose, newsletter template, and the admin's settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from shopmail.broadcasts import drafts as broadcasts
from shopmail.broadcasts import templates as broadcast_templates
from shopmail.extensions import db
from shopmail.models import Store


class ComposeForm(FlaskForm):
    store_id = SelectField(_l("Sending store"), coerce=int)
    template_id = SelectField(_l("Template"), coerce=int, validate_choice=False)
    subject = StringField(_l("Subject"), validators=[Length(max=500)])
    body = TextAreaField(_l("Body"))
    send_as_html = BooleanField(_l("Send as HTML"))
    html_source = SelectField(
        _l("HTML written as"), choices=[("html", _l("HTML")), ("mjml", _l("MJML template"))]
    )
    insert_signature = BooleanField(_l("Insert the store's signature"))
    only_wanting = BooleanField(_l("Only members who want mail"))

    def fill(self) -> ComposeForm:
        stores = db.session.scalars(db.select(Store).order_by(Store.id))
        self.store_id.choices = [(s.id, s.name) for s in stores]
        templates = broadcast_templates.all_templates(active_only=True)
        self.template_id.choices = [(0, _l("(none)"))] + [(t.id, t.name) for t in templates]
        return self

    def draft(self) -> broadcasts.Draft:
        html = self.send_as_html.data
        return broadcasts.Draft(
            store_id=self.store_id.data,
            subject=(self.subject.data or "").strip(),
            body=self.body.data or "",
            format=self.html_source.data if html else "text",
            insert_signature=self.insert_signature.data,
            only_wanting=self.only_wanting.data,
            template_id=self.template_id.data or None,
        )


class TemplateForm(FlaskForm):
    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=200)])
    subject = StringField(_l("Subject"), validators=[Length(max=500)])
    body = TextAreaField(_l("Body"))
    format = SelectField(
        _l("Format"),
        choices=[("text", _l("Plain text")), ("html", _l("HTML")), ("mjml", _l("MJML template"))],
    )
    is_active = BooleanField(_l("In use"), default=True)


class SettingsForm(FlaskForm):
    monthly_quota = IntegerField(
        _l("Monthly broadcast limit"), validators=[NumberRange(min=0, max=100_000_000)]
    )
    admin_copy_addr = StringField(_l("Admin copy address"), validators=[Length(max=254)])
