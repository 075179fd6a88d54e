"""Cadence and reschedule forms."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from wtforms import DateField, RadioField, SelectField, SubmitField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..forms import Form
from ..models import Meeting, utcnow
from .service import REASON_MAX, WEEKDAYS, at_local, seller_has_meeting_at

CADENCE_FIELDS = ("every_weeks", "weekday", "local_time", "minutes", "timezone", "starts_on")
# Dates further away are typing slips, and near year 1 or 9999 a time zone shift overflows Python's dates.
WITHIN = timedelta(days=366)


@cache
def timezone_choices() -> list[SelectChoice]:
    names = sorted(name for name in available_timezones() if "/" in name or name == "UTC")
    return [SelectChoice(name, name) for name in names]


class CadenceForm(Form):
    every_weeks = RadioField(
        "How often",
        choices=[SelectChoice(1, "Every week"), SelectChoice(2, "Every two weeks")],
        validators=[InputRequired(message="Choose every week or every two weeks.")],
        coerce=int,
    )
    weekday = SelectField(
        "Weekday",
        choices=[SelectChoice(number, name) for number, name in enumerate(WEEKDAYS)],
        validators=[InputRequired(message="Choose a weekday.")],
        coerce=int,
    )
    local_time = TimeField("Time", validators=[InputRequired(message="Give a time, e.g. 09:00.")])
    minutes = RadioField(
        "Length",
        choices=[SelectChoice(30, "30 minutes"), SelectChoice(45, "45 minutes")],
        validators=[InputRequired(message="Choose 30 or 45 minutes.")],
        coerce=int,
    )
    timezone = SelectField("Time zone", validators=[DataRequired(message="Choose a time zone.")])
    starts_on = DateField("First meeting on or after", validators=[InputRequired(message="Give a date.")])
    submit = SubmitField("Save cadence")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()

    def validate_starts_on(self, field) -> None:
        if field.data is not None and abs(field.data - utcnow().date()) > WITHIN:
            raise ValidationError("Choose a date within a year of today.")

    def values(self) -> dict:
        """The cadence's columns, as the service takes them."""
        return {name: getattr(self, name).data for name in CADENCE_FIELDS}


class RescheduleForm(Form):
    new_date = DateField("New date", validators=[InputRequired(message="Give the new date.")])
    new_time = TimeField("New time", validators=[InputRequired(message="Give the new time, e.g. 09:00.")])
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Say why the meeting moves: the reason is kept with the meeting."),
            Length(max=REASON_MAX, message=f"Keep the reason to {REASON_MAX} characters."),
        ],
    )
    submit = SubmitField("Reschedule meeting")

    def __init__(self, *args, meeting: Meeting, zone: str, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._meeting = meeting
        self._zone = zone
        self._now = now or utcnow()

    @property
    def to_at(self) -> datetime:
        """The new moment in UTC, read in the signed-in user's time zone."""
        return at_local(self.new_date.data, self.new_time.data, self._zone)

    def validate_new_date(self, field) -> None:
        if field.data is None:
            return
        if field.data < self._now.date() - WITHIN:
            raise ValidationError("This time has passed: choose a time still to come.")
        if field.data > self._now.date() + WITHIN:
            raise ValidationError("Choose a date within a year from today.")

    def validate_new_time(self, field) -> None:
        if self.new_date.data is None or self.new_date.errors or field.data is None:
            return
        if self.to_at == self._meeting.scheduled_at:
            raise ValidationError("The meeting is already at this time: choose another.")
        if self.to_at <= self._now:
            raise ValidationError("This time has passed: choose a time still to come.")
        if seller_has_meeting_at(self._meeting.seller_id, self.to_at, exclude_id=self._meeting.id):
            raise ValidationError("There is already a meeting at this time.")
