"""The home page (what a signed-in user sees first) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..htmx import render
from ..nextsteps import service as nextsteps
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
    prep = nextsteps.prep_status(current_user)
    return render("home/seller.html", next_meeting=next_meeting, later=later, prep=prep)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
