from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from npmtool.forms import choices
from npmtool.forms.facilities import MultiCheckboxField
from npmtool.labels import ALLEGATION_LABELS, INTERVIEW_CATEGORY_LABELS, VULNERABLE_GROUP_LABELS


class PlanForm(FlaskForm):
    visit_type = SelectField(_l("Type of visit"), validators=[DataRequired()])
    starts_on = DateField(_l("First day"), validators=[DataRequired(message=_l("Enter the first day."))])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(message=_l("Enter the last day."))])
    announced = BooleanField(_l("Announced to the administration in advance"))
    purpose = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=5000)],
                            description=_l("Why this visit: the plan, information received, a follow-up…"))
    version = HiddenField()


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    version = HiddenField()


class FollowUpForm(FlaskForm):
    outcome = TextAreaField(_l("What the team found"), validators=[DataRequired(), Length(max=5000)],
                            description=_l("Was the person found? Any sign of reprisals? Do not write names."))


class InterviewForm(FlaskForm):
    category = RadioField(_l("Who was interviewed"), choices=choices(INTERVIEW_CATEGORY_LABELS.items()),
                          validators=[DataRequired(message=_l("Choose who was interviewed."))])
    vulnerable_groups = MultiCheckboxField(_l("Groups in a situation of vulnerability"),
                                           choices=choices(VULNERABLE_GROUP_LABELS.items()))
    consent = BooleanField(_l("The person agreed to the interview and to its use"))
    private_setting = BooleanField(_l("Held in private"))
    out_of_staff_hearing = BooleanField(_l("Out of the hearing of staff"))
    allegations = MultiCheckboxField(_l("Allegations"), choices=choices(ALLEGATION_LABELS.items()))
    reprisal_risk = BooleanField(_l("Risk of reprisal: check on this person at the next visit"))
    consent_to_be_named = BooleanField(_l("The person asked to be named"))
    identity = StringField(_l("Name (only with the person's consent; stored encrypted)"),
                           validators=[Optional(), Length(max=300)], render_kw={"autocomplete": "off"})
    notes = TextAreaField(_l("Notes (stored encrypted)"), validators=[Optional(), Length(max=50000)],
                          render_kw={"rows": 12})
    client_uuid = HiddenField()
    version = HiddenField()
