"""Template globals and filters: time zones, labels, asset URLs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from .assets import asset_url
from .models import KIND_LABELS
from .rules import minutes_late, started_on_time


def user_zone() -> ZoneInfo:
    """The signed-in user's time zone (UTC for anonymous visitors)."""
    name = getattr(current_user, "timezone", None) or "UTC"
    return ZoneInfo(name)


def local(value: datetime | None) -> datetime | None:
    """A UTC datetime shown in the signed-in user's time zone."""
    return None if value is None else value.astimezone(user_zone())


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    moment = local(value)
    return f"{moment:%a %-d %b %Y, %H:%M}"


def format_time(value: datetime | None) -> str:
    return "" if value is None else f"{local(value):%H:%M}"


def format_date(value: date | None) -> str:
    return "" if value is None else f"{value:%a %-d %b %Y}"


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 meeting", "3 meetings": a count with its noun in agreement (never "1 meetings")."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(asset_url=asset_url, KIND_LABELS=KIND_LABELS)
    app.jinja_env.filters.update(
        local=local,
        datetime=format_datetime,
        time=format_time,
        date=format_date,
        counted=counted,
        started_on_time=started_on_time,
        minutes_late=minutes_late,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def compile_templates(app: Flask) -> None:
    """Compile every template now, once: gunicorn ``--preload`` workers fork with them ready.

    Without it each worker compiles a template on its first use, and again after each recycling
    (``--max-requests``): about 0.17 s of CPU for all of them, on requests' time.
    """
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
