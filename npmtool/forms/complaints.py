"""Complaint forms: the public one (no account), the staff ones for other
channels and complaint-box openings, and the triage steps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from npmtool.forms import choices
from npmtool.forms.facilities import MultiCheckboxField
from npmtool.services.complaints import MAX_SHORT, MAX_TEXT

# Internal names of the statuses, for staff.
STATUS_LABELS = {
    "received": _l("Received"),
    "under_review": _l("Under review"),
    "referred": _l("Referred to an authority"),
    "visit_planned": _l("Visit planned"),
    "closed": _l("Closed"),
}
# What the complainant's tracking page says. A planned visit is not named
# as such: visits are unannounced, and a tracking code can fall into the
# hands of the facility's staff.
PUBLIC_STATUS_LABELS = {
    "received": _l("Received: it will be read by the NPM's staff"),
    "under_review": _l("Under review by the NPM"),
    "referred": _l("Referred to the competent authority"),
    "visit_planned": _l("The NPM is acting on it"),
    "closed": _l("Closed"),
}
FILER_LABELS = {
    "self": _l("I am (or was) the person held"),
    "family": _l("A relative or friend"),
    "lawyer": _l("A lawyer"),
    "cso": _l("A civil-society organisation"),
    "other": _l("Someone else"),
}
EVENT_LABELS = {
    "filed": _l("Complaint recorded"), "status": _l("Status changed"), "reply": _l("Public reply"),
    "note": _l("Internal note"), "referred": _l("Referred"), "answer": _l("Authority answered"),
    "visit": _l("Special visit planned"), "link": _l("Linked"), "reopened": _l("Reopened"),
}
UNSURE = "unsure"


class ComplaintFields(FlaskForm):
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Choose a country."))])
    region_id = SelectField(_l("Region"), coerce=int, validate_choice=False, default=0)
    q = StringField(_l("Search for the place by name"), validators=[Optional(), Length(max=200)],
                    render_kw={"type": "search", "autocomplete": "off"})
    facility = SelectField(_l("Place of detention"), validate_choice=False,
                           validators=[DataRequired(message=_l("Choose the place, or “not sure”."))])
    category = SelectField(_l("What is it about?"), validate_choice=False,
                           validators=[DataRequired(message=_l("Choose what the complaint is about."))])
    text = TextAreaField(_l("What happened?"), validators=[DataRequired(message=_l("Describe what happened.")),
                                                           Length(max=MAX_TEXT)],
                         description=_l("Where, what, who was involved. You may write in any language."))
    occurred_on = DateField(_l("When did it happen? (approximately)"), validators=[Optional()])
    filer = RadioField(_l("Who is writing?"), choices=choices(FILER_LABELS.items()), default="other")
    consent_to_be_named = BooleanField(_l("The person concerned agrees to be named"))
    identity = StringField(_l("Name of the person concerned"), validators=[Optional(), Length(max=MAX_SHORT)],
                           description=_l("Only if they agree. Leave empty to stay anonymous."))
    contact = StringField(_l("How can we reach you? (optional)"), validators=[Optional(), Length(max=MAX_SHORT)],
                          description=_l("Telephone, e-mail or address. Anonymous complaints are accepted."))
    attachments = MultipleFileField(_l("Photos or documents (optional)"),
                                    description=_l("JPEG, PNG or PDF; at most 3 files of 10 MB each."),
                                    render_kw={"accept": "image/jpeg,image/png,application/pdf"})


class PublicComplaintForm(ComplaintFields):
    # Honeypot: hidden from people by CSS, filled in by form-filling robots.
    website = StringField(_l("Leave this field empty"), validators=[Optional()],
                          render_kw={"autocomplete": "off", "tabindex": "-1"})


class StaffComplaintForm(ComplaintFields):
    channel = SelectField(_l("Received through"), validate_choice=False,
                          validators=[DataRequired(message=_l("Choose how the complaint arrived."))])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])


class LetterForm(FlaskForm):
    """One letter from an opened complaint box."""

    category = SelectField(_l("What is it about?"), validators=[DataRequired()])
    text = TextAreaField(_l("What the letter says"), validators=[DataRequired(message=_l("Describe what happened.")),
                                                               Length(max=MAX_TEXT)])
    occurred_on = DateField(_l("When did it happen? (approximately)"), validators=[Optional()])
    filer = RadioField(_l("Who wrote it?"), choices=choices(FILER_LABELS.items()), default="self")
    consent_to_be_named = BooleanField(_l("The person concerned agrees to be named"))
    identity = StringField(_l("Name of the person concerned"), validators=[Optional(), Length(max=MAX_SHORT)])
    contact = StringField(_l("Contact details"), validators=[Optional(), Length(max=MAX_SHORT)])


class BoxOpeningForm(FlaskForm):
    facility_id = SelectField(_l("Facility"), coerce=int, validators=[DataRequired(message=_l("Choose the facility."))])
    box_label = StringField(_l("Box"), validators=[DataRequired(), Length(max=200)],
                            description=_l("e.g. “Residential sector 3”"))
    opened_on = DateField(_l("Opened on"), validators=[DataRequired()])
    opened_by_id = SelectField(_l("Opened by"), coerce=int, validators=[DataRequired()])
    witnesses = TextAreaField(_l("Present at the opening"), validators=[Optional(), Length(max=2000)])
    letters_count = IntegerField(_l("Number of letters found"),
                                 validators=[InputRequired(), NumberRange(min=0, max=1000)],
                                 render_kw={"inputmode": "numeric"})
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class TrackForm(FlaskForm):
    code = StringField(_l("Tracking code"), validators=[DataRequired(message=_l("Enter your tracking code.")),
                                                        Length(max=64)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class VersionedForm(FlaskForm):
    version = HiddenField()


class ReviewForm(VersionedForm):
    note = TextAreaField(_l("Internal note (optional)"), validators=[Optional(), Length(max=MAX_TEXT)])


class ReferForm(VersionedForm):
    authority_id = SelectField(_l("Authority"), coerce=int, validators=[DataRequired(message=_l("Choose an authority."))])
    referred_on = DateField(_l("Referred on"), validators=[DataRequired()])
    note = TextAreaField(_l("Internal note (optional)"), validators=[Optional(), Length(max=MAX_TEXT)])


class AnswerForm(VersionedForm):
    answer = TextAreaField(_l("The authority's answer"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    answered_on = DateField(_l("Answered on"), validators=[DataRequired()])


class VisitForm(VersionedForm):
    visit_type = SelectField(_l("Type of visit"), validators=[DataRequired()])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    lead_id = SelectField(_l("Team lead"), coerce=int, validators=[DataRequired(message=_l("Choose a team lead."))])
    member_ids = MultiCheckboxField(_l("Other team members"), coerce=int, validators=[Optional()])


class CloseForm(VersionedForm):
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(message=_l("Record the outcome.")),
                                                       Length(max=MAX_TEXT)])
    public_reply = TextAreaField(_l("Reply shown on the tracking page (optional)"),
                                 validators=[Optional(), Length(max=MAX_TEXT)])


class ReopenForm(VersionedForm):
    reason = TextAreaField(_l("Why reopen it?"), validators=[DataRequired(), Length(max=MAX_TEXT)])


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    public = BooleanField(_l("Show on the tracking page (a public reply)"),
                          description=_l("Otherwise it is an internal note. Never write names in a public reply."))


class LinkForm(FlaskForm):
    reference = StringField(_l("Recommendation reference"), validators=[DataRequired(), Length(max=40)],
                            description=_l("e.g. KG-2026-00042"))
