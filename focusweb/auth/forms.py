"""Sign-in and password forms."""

from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form

PASSWORD_MIN = 10


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Sign in")


class PasswordForm(Form):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(message="Type your current password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(message="Choose a new password."),
            Length(min=PASSWORD_MIN, max=200, message=f"Use {PASSWORD_MIN} to 200 characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        "New password again",
        validators=[
            DataRequired(message="Type the new password again."),
            EqualTo("new_password", message="The two new passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")
