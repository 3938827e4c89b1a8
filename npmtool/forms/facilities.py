from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from npmtool.forms import choices
from npmtool.labels import FIGURE_LABELS, POPULATION_LABELS

POPULATION_CHOICES = choices(POPULATION_LABELS.items())


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FacilityForm(FlaskForm):
    name = StringField(_l("Name (Russian or as officially written)"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=300)])
    name_local = StringField(_l("Name in the state language"), validators=[Optional(), Length(max=300)])
    code = StringField(_l("Registry code"), validators=[Optional(), Length(max=60)],
                       description=_l("A stable identifier, e.g. KG-SIZO-1. Leave empty if there is none."))
    facility_type_id = SelectField(_l("Type of facility"), coerce=int, validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)],
                     render_kw={"inputmode": "decimal", "step": "any"})
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)],
                     render_kw={"inputmode": "decimal", "step": "any"})
    capacity = IntegerField(_l("Official capacity (places)"), validators=[Optional(), NumberRange(min=0)],
                            render_kw={"inputmode": "numeric"})
    populations = MultiCheckboxField(_l("People held"), choices=POPULATION_CHOICES)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    is_active = BooleanField(_l("In use"), default=True)
    version = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Optional() stops field validators on an empty field, so the pair is checked here.
        if not self.lat.errors and not self.lon.errors and (self.lat.data is None) != (self.lon.data is None):
            self.lon.errors = [*self.lon.errors, _l("Give both latitude and longitude, or neither.")]
            return False
        return valid


class FigureForm(FlaskForm):
    kind = SelectField(_l("Figure"), choices=choices(FIGURE_LABELS.items()))
    value = IntegerField(_l("Value"), validators=[DataRequired(message=_l("Enter a whole number.")),
                                                  NumberRange(min=0)],
                         render_kw={"inputmode": "numeric"})
    as_of = DateField(_l("As of"), validators=[DataRequired(message=_l("Enter the date of the figure."))])
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=300)],
                         description=_l("Who gave the figure: the administration, a register, a report…"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])
