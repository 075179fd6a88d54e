"""The account card: last time's outcome, notes, and the two questions."""

from __future__ import annotations

from wtforms import DateField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from ..forms import Form
from .service import NEXT_STEP_MAX, clean_text

NEXT_STEP_LABEL = "What is your next step with this account?"
PROJECTION_DATE_LABEL = "What is your projection date to get this accomplished?"


class ReviewForm(Form):
    """One account card. Rules beyond parsing live in service.field_problem, shared with every caller."""

    # The review version the seller typed over: a save based on an older one is refused (409).
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    outcome = RadioField(
        "Was it done?",
        choices=[SelectChoice("done", "Done"), SelectChoice("not_done", "Not done")],
        validate_choice=False,
    )
    notes = TextAreaField("Discussion notes", filters=[clean_text])
    # The limit is the service's (field_problem checks it); the page and its script read it from here.
    next_step = TextAreaField(NEXT_STEP_LABEL, filters=[clean_text], render_kw={"maxlength": NEXT_STEP_MAX})
    projection_date = DateField(
        PROJECTION_DATE_LABEL,
        validators=[Optional()],
        invalid_value_message="Enter a date, for example 2025-03-14.",
    )
