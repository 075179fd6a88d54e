"""Extension singletons, bound to the app in create_app with init_app."""

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class ErrorPagesCompress(Compress):
    """Flask-Compress leaves every non-2xx response alone; a 422 form with its errors or a 404 page is worth it too."""

    def after_request(self, response):
        status = response.status_code
        if status < 400:
            return super().after_request(response)
        response.status_code = 200
        try:
            return super().after_request(response)
        finally:
            response.status_code = status


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx_extension = Htmx()
compress = ErrorPagesCompress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
