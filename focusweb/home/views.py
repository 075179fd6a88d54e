"""The home page (what a signed-in user sees first) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from ..accounts import service as accounts
from ..extensions import db
from ..htmx import render
from ..models import Meeting, utcnow

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """A seller's next meeting and book of accounts; a manager goes to their team."""
    if current_user.is_manager:
        return redirect(url_for("team.index"), 303)
    next_meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.seller_id == current_user.id, Meeting.finished_at.is_(None))
        .where(Meeting.scheduled_at >= utcnow().replace(hour=0, minute=0, second=0, microsecond=0))
        .order_by(Meeting.scheduled_at)
        .limit(1)
    )
    groups = accounts.owner_accounts(current_user.id)
    return render("home/seller.html", next_meeting=next_meeting, groups=groups)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
