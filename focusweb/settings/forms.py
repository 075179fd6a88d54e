"""The settings form."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from wtforms import BooleanField, RadioField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..forms import Form
from ..models import PAPER_SIZES

PAPER_LABELS = {"A4": "A4 (210 × 297 mm)", "Letter": "US Letter (8.5 × 11 in)"}


@cache
def time_zones() -> tuple[SelectChoice, ...]:
    """IANA zones by name (the region/city ones, and UTC), for the select."""
    names = sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")
    return tuple(SelectChoice(name, name) for name in names)


class SettingsForm(Form):
    timezone = SelectField(
        "Time zone", choices=[], validators=[DataRequired(message="Choose your time zone.")], validate_choice=True
    )
    paper_size = RadioField(
        "Paper size for the recap PDF",
        choices=[SelectChoice(size, PAPER_LABELS[size]) for size in PAPER_SIZES],
        validators=[DataRequired(message="Choose A4 or US Letter.")],
    )
    remind_prep = BooleanField("The day before a meeting: my prep list")
    remind_due = BooleanField("On the morning a next step reaches its projection date")
    remind_overdue = BooleanField("The morning after a next step goes overdue")
    submit = SubmitField("Save settings")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = list(time_zones())

    def apply_to(self, user) -> None:
        for name in ("timezone", "paper_size", "remind_prep", "remind_due", "remind_overdue"):
            setattr(user, name, getattr(self, name).data)
