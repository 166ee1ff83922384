"""The forms of the automatic-mail area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange


class ActionForm(FlaskForm):
    """A button that changes state: CSRF only, its values come from the request."""


class StoreRulesForm(FlaskForm):
    follow_up_days = IntegerField(
        _l("Follow-up after (days)"), validators=[InputRequired(), NumberRange(1, 365)]
    )
    repeat_from_count = IntegerField(
        _l("Repeat customer from purchase"), validators=[InputRequired(), NumberRange(2, 1000)]
    )


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired()])
    body = TextAreaField(_l("Body"), validators=[DataRequired()])
