"""Sign-in, sign-out and the session rules."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager
from sqlalchemy import select

from ..extensions import db
from ..htmx import login_required_response
from ..models import User


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        # The cookie holds the user's session token, not their id: rotating it ends the session.
        return db.session.scalar(select(User).where(User.session_token == session_token))

    @login_manager.unauthorized_handler
    def unauthorized():
        return login_required_response()
