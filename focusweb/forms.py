"""The base of every FocusWeb form: text the database cannot store is refused on its field."""

from __future__ import annotations

from flask_wtf import FlaskForm

NUL_MESSAGE = "Remove the invisible NUL character from this field."


class Form(FlaskForm):
    """A Flask-WTF form that refuses NUL characters before any other check runs.

    PostgreSQL cannot store NUL in text, and no keyboard types it: without this check a pasted NUL
    would reach the database (or a lookup) and end in a 500 instead of a message on the field.
    """

    def validate(self, extra_validators=None) -> bool:
        with_nul = [field for field in self if isinstance(field.data, str) and "\x00" in field.data]
        for field in with_nul:
            field.errors = [NUL_MESSAGE]
        if with_nul:
            return False
        return super().validate(extra_validators)
