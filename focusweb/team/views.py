"""The manager's team: each seller's meeting health, the figures behind it, and their accounts."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

from ..csvsafe import csv_response
from ..htmx import render
from ..nextsteps import service as nextsteps
from . import service

bp = Blueprint("team", __name__)


@bp.before_request
@login_required
def require_manager():
    """Team pages are the manager's; anyone else finds nothing here."""
    if not current_user.is_manager:
        abort(404)


@bp.get("/team")
def index():
    """Per seller: next meeting, preparation, meetings on time and rescheduled, next steps."""
    return render("team/index.html", team=service.team_health(current_user.id))


@bp.get("/team/<int:seller_id>")
def seller(seller_id: int):
    """The meetings, accounts and steps behind one seller's figures on the team page."""
    team = service.team_health(current_user.id, seller_id=seller_id)
    if not team:
        abort(404)
    return render("team/seller.html", health=team[0])


@bp.get("/team/next-steps.csv")
def plan_csv():
    """The open next steps of every seller on the team, as a spreadsheet."""
    steps = nextsteps.team_plan(current_user)
    rows = ([step.meeting.seller.name, *nextsteps.plan_row(step)] for step in steps)
    return csv_response(nextsteps.TEAM_PLAN_COLUMNS, rows, "team-next-steps.csv")
