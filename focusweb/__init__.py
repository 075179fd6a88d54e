"""FocusWeb: the sales individual focus meeting, run from a phone."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .extensions import compress, csrf, db, htmx_extension, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class FocusWeb(Flask):
    def send_static_file(self, filename: str):
        """Static files are small: read them whole, so Flask-Compress compresses (and closes) them."""
        response = super().send_static_file(filename)
        if response.status_code == 200:
            response.direct_passthrough = False
            response.make_sequence()
        return response


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: configuration, extensions, blueprints, commands."""
    app = FocusWeb(
        __name__,
        instance_path=os.environ.get("FOCUSWEB_INSTANCE", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if test_config is None:
        app.config.from_mapping(config_module.from_environment(app.instance_path))
    else:
        app.config.from_mapping(test_config)

    # Streamed responses are left uncompressed: Flask-Compress would drop their close().
    app.config.setdefault("COMPRESS_STREAMS", False)
    from . import timing

    timing.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)

    from . import cli, security, templating

    security.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx_extension.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)

    from . import auth

    auth.init_login(app, login_manager)


def _register_blueprints(app: Flask) -> None:
    from .accounts.views import bp as accounts_bp
    from .auth.views import bp as auth_bp
    from .home.views import bp as home_bp
    from .team.views import bp as team_bp

    for blueprint in (auth_bp, home_bp, accounts_bp, team_bp):
        app.register_blueprint(blueprint)


def _register_error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        def handler(error):
            # A 400's own description says what was wrong (e.g. "The CSRF token has expired.").
            detail = getattr(error, "description", "") if code == 400 else ""
            return render_template("errors/error.html", title=title, message=message, detail=detail), code

        app.register_error_handler(code, handler)

    page(400, "Bad request", "The request could not be understood. Reload the page and try again.")
    page(403, "Not allowed", "You are signed in, but this is not yours to open.")
    page(404, "Not found", "There is nothing here, or it is not yours to see.")
    page(413, "Too large", "What you sent is larger than FocusWeb accepts (2 MB).")
    page(429, "Too many attempts", "Too many attempts in a short time. Wait a minute, then try again.")
    page(500, "Something went wrong", "Nothing you saved before this was lost. Try again in a moment.")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: WAL so readers never block the writer, foreign keys enforced, wait on locks."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
