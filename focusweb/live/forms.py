"""Forms of the manager's side: a note per card, a topic parked for the field."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import Form
from .service import NOTE_MAX, TOPIC_MAX


class NoteForm(Form):
    text = TextAreaField(
        "Manager note", validators=[Length(max=NOTE_MAX, message=f"A note can be at most {NOTE_MAX} characters.")]
    )
    private = BooleanField("Private")
    # The note's version this form was loaded with; 0 before the first save.
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired(), NumberRange(min=0)], default=0)


class TopicForm(Form):
    text = TextAreaField(
        "Coaching topic for the field",
        validators=[
            DataRequired(message="Write down the topic to park."),
            Length(max=TOPIC_MAX, message=f"A topic can be at most {TOPIC_MAX} characters."),
        ],
    )
