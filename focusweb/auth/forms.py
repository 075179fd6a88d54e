"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Sign in")
