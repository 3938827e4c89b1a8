"""Forms of the recommendation pages. Several share a page, so each is built
with its own ``prefix`` (field names such as ``response-text``)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from npmtool.forms import choices
from npmtool.forms.facilities import MultiCheckboxField
from npmtool.labels import ASSESSMENT_LABELS, PRIORITY_FLAG_LABELS, RESPONSE_KIND_LABELS, TOPIC_LABELS
from npmtool.models.recommendations import CLOSING_VERDICTS
from npmtool.services.recommendations import VERDICTS


def _int_or_none(value):
    return int(value) if str(value or "").isdigit() else None


class RecommendationForm(FlaskForm):
    text = TextAreaField(_l("Recommendation"), validators=[DataRequired(message=_l("Write the recommendation.")),
                                                           Length(max=20000)], render_kw={"rows": 8},
                         description=_l("What the authority should do, addressed to it. Do not write names of "
                                        "people in detention."))
    authority = SelectField(_l("Addressed to"), coerce=_int_or_none,
                            validators=[DataRequired(message=_l("Choose the authority."))])
    topic = SelectField(_l("Topic"), choices=choices(TOPIC_LABELS.items()), validators=[DataRequired()])
    legal_basis = MultiCheckboxField(_l("Legal basis"), choices=[])
    extra_source = SelectField(_l("Add a legal source"), choices=[], validators=[Optional()])
    extra_article = StringField(_l("Article"), validators=[Optional(), Length(max=40)])
    priority_flags = MultiCheckboxField(_l("Priority"), choices=choices(PRIORITY_FLAG_LABELS.items()))
    systemic = BooleanField(_l("Systemic: addressed to the whole authority, not to named facilities"))
    facilities = MultiCheckboxField(_l("Facilities"), coerce=int, choices=[])
    findings = MultiCheckboxField(_l("Findings it follows"), coerce=int, choices=[])
    issued_on = DateField(_l("Issued on"), validators=[DataRequired(message=_l("Enter the date of issue."))])
    initial_deadline = DateField(_l("Deadline"), validators=[DataRequired(message=_l("Enter the deadline."))])


class ResponseForm(FlaskForm):
    kind = RadioField(_l("The authority's answer"), choices=choices(RESPONSE_KIND_LABELS.items()),
                      validators=[DataRequired(message=_l("Choose what the authority answered."))])
    text = TextAreaField(_l("What it says"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 4})
    received_on = DateField(_l("Received on"), validators=[DataRequired(message=_l("Enter the date received."))])
    document = FileField(_l("The letter (PDF or image, optional)"))
    version = HiddenField()


class DeadlineForm(FlaskForm):
    deadline = DateField(_l("New deadline"), validators=[DataRequired(message=_l("Enter the new deadline."))])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(message=_l("Say why the deadline changes.")),
                                                  Length(max=5000)], render_kw={"rows": 3})
    version = HiddenField()


class AssessmentForm(FlaskForm):
    assessment = SelectField(_l("NPM assessment"), validators=[DataRequired()], choices=choices(
        (code, label) for code, label in ASSESSMENT_LABELS.items() if code not in CLOSING_VERDICTS),
        description=_l("“Implemented” and “no longer applicable” need a verification."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    version = HiddenField()


class VerificationForm(FlaskForm):
    verdict = SelectField(_l("Verdict"), validators=[DataRequired()],
                          choices=choices((code, ASSESSMENT_LABELS[code]) for code in VERDICTS))
    verified_on = DateField(_l("Verified on"), validators=[DataRequired(message=_l("Enter the date."))])
    existing_document = SelectField(_l("A document already filed"), coerce=_int_or_none, choices=[],
                                    validators=[Optional()])
    document = FileField(_l("Or upload the document (PDF or image)"))
    note = TextAreaField(_l("What the document shows"), validators=[Optional(), Length(max=5000)],
                         render_kw={"rows": 3})
    version = HiddenField()


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Comment"), validators=[DataRequired(message=_l("Write a comment.")), Length(max=5000)],
                         render_kw={"rows": 3})


class CouncilDecisionForm(FlaskForm):
    text = TextAreaField(_l("Decision"), validators=[DataRequired(message=_l("Write the decision.")),
                                                     Length(max=5000)], render_kw={"rows": 3})
    decided_on = DateField(_l("Decided on"), validators=[DataRequired(message=_l("Enter the date."))])


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Why reopen it"), validators=[DataRequired(message=_l("Say why it is reopened.")),
                                                            Length(max=5000)], render_kw={"rows": 3})
    version = HiddenField()


class EscalateForm(FlaskForm):
    flag = SelectField(_l("Reason"), choices=choices(PRIORITY_FLAG_LABELS.items()), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})
    version = HiddenField()
