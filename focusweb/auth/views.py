"""Sign in, sign out, and change the password."""

from __future__ import annotations

import secrets
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, limiter
from ..htmx import render
from ..models import User
from ..schedule import service as schedule
from ..team.service import team_seller_ids
from .forms import LoginForm, PasswordForm

bp = Blueprint("auth", __name__)


@cache
def _decoy_hash(method: str) -> str:
    """A hash to check when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16), method=method)


def _authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        check_password_hash(_decoy_hash(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")), password)
        return None
    return user if user.check_password(password) else None


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home.index")
    return target


def _login_email_key() -> str:
    return (request.form.get("email") or "").strip().casefold()[:254]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)
def login():
    """Show the sign-in form; sign the user in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"), 303)
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate(form.email.data.strip().casefold(), form.password.data)
        if user is not None:
            next_url = safe_next(request.args.get("next"))
            session.clear()  # a fresh session: nothing from before sign-in carries over
            login_user(user)
            # Signing in changes state anyway: a good moment to keep the schedule ahead of the team.
            schedule.top_up([user.id] if user.is_seller else team_seller_ids(user.id))
            return redirect(next_url, 303)
        form.password.errors.append("Wrong e-mail or password.")
    status = 422 if request.method == "POST" else 200
    return render("auth/login.html", form=form, status=status)


@bp.post("/logout")
@login_required
def logout():
    """Sign out, and end every other session of this user too."""
    current_user.end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"), 303)


def _password_key() -> str:
    return f"password:{getattr(current_user, 'id', None)}"


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], key_func=_password_key)
def password():
    """Change the signed-in user's password: every other session of theirs ends, this one stays."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if user.check_password(form.current_password.data):
            user.set_password(form.new_password.data)
            user.end_sessions()
            session.clear()  # a new session for the new token; copies of the old cookie no longer work
            login_user(user)
            flash("Your password is changed. Every other device signed in as you is now signed out.")
            return redirect(url_for("home.index"), 303)
        form.current_password.errors.append("That is not your current password.")
    status = 422 if form.is_submitted() else 200
    return render("auth/password.html", form=form, status=status)
