"""FocusWeb: the sales individual focus meeting, run from a phone."""

from __future__ import annotations

import importlib
import math
import os
import time
from pathlib import Path

from flask import Flask, current_app, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .converters import IdConverter
from .extensions import compress, csrf, db, htmx_extension, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# One package per area, each with a blueprint `bp` in its views module.
AREAS = (
    "auth",
    "home",
    "accounts",
    "team",
    "schedule",
    "nextsteps",
    "meetings",
    "live",
    "recap",
    "calendar",
    "settings",
)


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
    if app.config.get("PROXY_COUNT"):
        # Trust X-Forwarded-For/-Proto/-Host only from the proxies we were told about.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    # Before any blueprint adds its rules: every <int:...> id in a URL is bounded (see converters.py).
    app.url_map.converters["int"] = IdConverter
    from . import timing

    timing.init_app(app)
    _init_extensions(app)
    from . import transactions

    transactions.init_app(app)
    _register_blueprints(app)
    _register_error_pages(app)

    from . import cli, mail, recap, security, templating

    mail.init_app(app)
    recap.init_app(app)
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
    for area in AREAS:
        app.register_blueprint(importlib.import_module(f"{__name__}.{area}.views").bp)


def _register_error_pages(app: Flask) -> None:
    from .htmx import wants_fragment

    def page(code: int, title: str, message: str):
        def handler(error):
            if code == 500:
                db.session.rollback()  # whatever the failed request wrote is not kept, and the page can still load
            # A 400's own description says what was wrong (e.g. "The CSRF token has expired.").
            detail = getattr(error, "description", "") if code == 400 else ""
            text = {429: _too_many_message, 413: _too_large_message}.get(code, lambda: message)()
            response = app.make_response(
                (render_template("errors/error.html", title=title, message=text, detail=detail), code)
            )
            if wants_fragment():
                # An htmx swap into part of a page keeps what is there (e.g. text being typed);
                # the page's own script sees the status. Boosted forms and links get the whole page.
                response.headers["HX-Reswap"] = "none"
            return response

        app.register_error_handler(code, handler)

    page(400, "Bad request", "The request could not be understood. Reload the page and try again.")
    page(403, "Not allowed", "You are signed in, but this is not yours to open.")
    page(404, "Not found", "There is nothing here, or it is not yours to see.")
    page(413, "Too large", "")
    page(429, "Too many attempts", "")
    page(500, "Something went wrong", "Nothing you saved before this was lost. Try again in a moment.")


def _too_large_message() -> str:
    """The limits that apply, from the configuration."""
    files = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    text = (current_app.config.get("MAX_FORM_MEMORY_SIZE") or 0) // 1000
    return (
        f"What you sent is larger than FocusWeb accepts (a file up to {files} MB, typed text up to {text} KB). "
        "Nothing was saved: go back, shorten it, and try again."
    )


def _too_many_message() -> str:
    """What happened and when to try again, from the limit that was hit."""
    limit = limiter.current_limit
    seconds = max(1, int(limit.reset_at - time.time())) if limit else 60  # as Retry-After counts
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    if request.endpoint == "auth.login":
        return f"Too many sign-in attempts in a short time: signing in is paused. Try again in {wait}."
    return f"Too many requests in a short time. Try again in {wait}."


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
