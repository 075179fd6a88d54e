"""The base of every FocusWeb form: text the database cannot store is refused on its field."""

from __future__ import annotations

from flask_wtf import FlaskForm

NUL = "\x00"
NUL_MESSAGE = "Remove the invisible NUL character from this field."


class Form(FlaskForm):
    """A Flask-WTF form that refuses NUL characters on their field; no other check ever sees them.

    PostgreSQL cannot store NUL in text, and no keyboard types it: without this check a pasted NUL
    would reach the database (or a lookup) and end in a 500 instead of a message on the field.
    """

    def validate(self, extra_validators=None) -> bool:
        with_nul = {name for name, field in self._fields.items() if isinstance(field.data, str) and NUL in field.data}
        if not with_nul:
            return super().validate(extra_validators)
        # The other fields are still checked, as wtforms would (so their messages show too, and a form
        # saved field by field never takes an unchecked value); a NUL never reaches a validator.
        for name, field in self._fields.items():
            if name in with_nul:
                field.errors = [NUL_MESSAGE]
                continue
            extra = list((extra_validators or {}).get(name, ()))
            if inline := getattr(type(self), f"validate_{name}", None):
                extra.append(inline)
            field.validate(self, extra)
        return False
