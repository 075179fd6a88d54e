"""Account forms: add/edit and CSV upload."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import Form
from ..models import KIND_LABELS
from . import service


class AccountForm(Form):
    name = StringField("Name", validators=[DataRequired(message="Give the account a name."), Length(max=200)])
    kind = RadioField(
        "Kind",
        choices=[SelectChoice(value, label) for value, label in KIND_LABELS.items()],
        validators=[DataRequired(message="Choose Key account or Target account.")],
    )
    notes = TextAreaField("Notes (optional)", validators=[Length(max=5000)])
    submit = SubmitField("Save account")

    def __init__(self, *args, owner_id: int, account_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner_id = owner_id
        self._account_id = account_id

    def validate_name(self, field) -> None:
        problem = service.name_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
        if service.find_same_name(self._owner_id, field.data, exclude_id=self._account_id):
            raise ValidationError("You already have an account with this name.")


class ImportForm(Form):
    file = FileField("CSV file", validators=[FileRequired(message="Choose a CSV file to import.")])
    submit = SubmitField("Import accounts")
