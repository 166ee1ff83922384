"""Forms of the record-mail screens: list filters, the compose step, templates and settings."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from shopmail.record_mails.drafts import UnknownTags
from shopmail.record_mails.lists import ListFilter

STATUS_LABELS = {
    "new": _l("New"),
    "shipped": _l("Shipped"),
    "cancelled": _l("Order cancelled"),
    "open": _l("Open"),
    "accepted": _l("Accepted"),
    "expired": _l("Expired"),
    "confirmed": _l("Confirmed"),
    "unconfirmed": _l("Not confirmed"),
}


class FilterForm(FlaskForm):
    """A GET form: filters live in the URL, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Length(max=200)])
    store = SelectField(_l("Store"), validate_choice=False, default="")
    status = SelectField(_l("Status"), validate_choice=False, default="")
    start = DateField(_l("From date"), validators=[Optional()])
    end = DateField(_l("To date"), validators=[Optional()])

    def set_choices(self, stores: list, statuses: list[str]) -> None:
        self.store.choices = [("", _l("All stores"))] + [(str(s.id), s.name) for s in stores]
        self.status.choices = [("", _l("Any status"))] + [
            (s, STATUS_LABELS.get(s, s)) for s in statuses
        ]


def list_filter(form: FilterForm) -> ListFilter:
    """The filter a (validated) form asks for; a field with an error filters nothing."""

    def good(field):
        return None if field.errors else field.data

    store = good(form.store) or ""
    return ListFilter(
        store_id=int(store) if store.isdigit() else None,
        start=good(form.start),
        end=good(form.end),
        status=(good(form.status) or "").strip(),
        text=(good(form.q) or "").strip(),
    )


class ComposeForm(FlaskForm):
    template_id = SelectField(_l("Template"), coerce=int, default=0)
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=500)]
    )
    header = TextAreaField(_l("Header (above the record)"))
    footer = TextAreaField(_l("Footer (below the record)"))
    insert_signature = BooleanField(_l("Insert the store's signature"), default=True)

    def set_templates(self, templates: list) -> None:
        self.template_id.choices = [(0, _l("(no template)"))] + [(t.id, t.name) for t in templates]

    def draft_fields(self) -> dict:
        return {
            "template_id": self.template_id.data or None,
            "title": self.title.data or "",
            "header": self.header.data or "",
            "footer": self.footer.data or "",
            "insert_signature": bool(self.insert_signature.data),
        }


class TemplateForm(FlaskForm):
    name = StringField(
        _l("Template name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=200)],
    )
    title = StringField(_l("Title"), validators=[Length(max=500)])
    header = TextAreaField(_l("Header (above the record)"))
    footer = TextAreaField(_l("Footer (below the record)"))

    def values(self) -> dict:
        return {
            "name": self.name.data or "",
            "title": self.title.data or "",
            "header": self.header.data or "",
            "footer": self.footer.data or "",
        }


class SettingsForm(FlaskForm):
    shipping_instructions = BooleanField(_l("Show shipping instructions in record mails"))
    bank_account_shown = BooleanField(
        _l("Show the bank account in mails of orders paid by bank transfer")
    )
    bank_account_text = TextAreaField(_l("Bank account"), validators=[Length(max=2000)])

    def values(self) -> dict:
        return {
            "shipping_instructions": bool(self.shipping_instructions.data),
            "bank_account_shown": bool(self.bank_account_shown.data),
            "bank_account_text": self.bank_account_text.data or "",
        }


def show_tag_errors(form: FlaskForm, error: UnknownTags) -> None:
    """Put each refused field's unknown tags under that field, in the user's language."""
    japanese = str(get_locale()) == "ja"
    for name, unknown in error.errors.items():
        getattr(form, name).errors.append(unknown.message_ja if japanese else unknown.message_en)
