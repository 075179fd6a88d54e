"""The home page (what a signed-in user sees first) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import cache
from ..extensions import db
from ..htmx import render
from ..models import utcnow
from ..nextsteps import service as nextsteps
from ..rules import local_day
from ..schedule import service as schedule

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """A seller's next meeting and prep list; a manager goes to their team."""
    if current_user.is_manager:
        return redirect(url_for("team.index"), 303)
    next_meeting = schedule.next_meeting(current_user)
    later = schedule.meetings_after(next_meeting.meeting) if next_meeting else []
    return render("home/seller.html", next_meeting=next_meeting, later=later, prep_html=_prep_list(current_user))


def _prep_list(seller):
    """The prep list as HTML, worked out once per change of the seller's plan and per day (focusweb.versions)."""
    today = local_day(utcnow(), seller.timezone)
    key = ("home-prep", seller.id, seller.plan_version, today, seller.timezone)
    # render_template's output is HTML Jinja escaped already: marking it so keeps it from being escaped twice.
    return cache.pages.get_or_make(
        key,
        lambda: Markup(render_template("home/_prep.html", prep=nextsteps.prep_status(seller))),  # noqa: S704
    )


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
