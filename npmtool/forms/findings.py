from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from npmtool.forms import choices
from npmtool.forms.facilities import MultiCheckboxField
from npmtool.labels import ASSESSMENT_LABELS, TOPIC_LABELS
from npmtool.services.recommendations import VERDICTS

FINDING_STATUS_LABELS = {"draft": _l("Drafts"), "confirmed": _l("Confirmed"), "dismissed": _l("Dismissed")}
FINDING_SOURCE_LABELS = {"answer": _l("from the checklist"), "free": _l("written freely")}


class FindingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give the finding a title.")),
                                                 Length(max=300)],
                        description=_l("What was found wanting, in one line."))
    text = TextAreaField(_l("What the team found"), validators=[Optional(), Length(max=20000)],
                         render_kw={"rows": 8},
                         description=_l("Facts and sources. Never write the name of a person held."))
    topic = SelectField(_l("Topic"), choices=choices(TOPIC_LABELS.items()), validators=[DataRequired()])
    legal_basis = TextAreaField(_l("Legal basis"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 3},
                                description=_l("One reference a line: the source code, then the article, "
                                               "e.g. INT-MANDELA Rule 24."))
    # Choices are set per visit; the template draws photos as thumbnails.
    evidence_ids = MultiCheckboxField(_l("Photos of this visit"), coerce=int, validate_choice=False)
    interview_codes = MultiCheckboxField(_l("Interviews (codes only)"), validate_choice=False)
    version = HiddenField()


class FindingStatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    version = HiddenField()


class DraftFindingsForm(FlaskForm):
    """A button only: CSRF is all it carries."""


class VerdictForm(FlaskForm):
    """One per recommendation on the follow-up page (prefixed by its id)."""

    verdict = RadioField(_l("What the team found"),
                         choices=choices((v, ASSESSMENT_LABELS[v]) for v in VERDICTS),
                         validators=[DataRequired(message=_l("Choose what the team found."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3},
                         description=_l("What was seen, and where. No names."))
    evidence_ids = MultiCheckboxField(_l("Photos of this visit as evidence"), coerce=int, validate_choice=False)
    version = HiddenField()
