from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from npmtool.forms import choices
from npmtool.forms.facilities import MultiCheckboxField
from npmtool.labels import ROLE_LABELS

ROLE_CHOICES = choices(ROLE_LABELS.items())


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80),
                                                        Regexp(r"^[A-Za-z0-9._-]+$",
                                                               message=_l("Letters, digits, '.', '-' and '_' only."))],
                           render_kw={"autocapitalize": "none"})
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    country_code = SelectField(_l("Country"), validators=[Optional()])
    region_ids = MultiCheckboxField(_l("Regions (none means the whole country)"), coerce=int)
    language = SelectField(_l("Interface language"), validators=[Optional()])
    is_active_account = BooleanField(_l("Account active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=10)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 10 characters. Leave empty to keep the current one."))
    version = HiddenField()
