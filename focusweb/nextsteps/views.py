"""My next steps (the seller) and an account's history (the seller or their manager)."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from ..access import account_or_404
from ..csvsafe import csv_response
from ..htmx import render
from . import service

bp = Blueprint("nextsteps", __name__)


@bp.before_request
@login_required
def require_login():
    """Every next-steps page needs a signed-in user."""


@bp.get("/next-steps")
def index():
    """The signed-in seller's open next steps: overdue first, then by projection date."""
    if not current_user.is_seller:
        abort(404)
    slips = service.slips_by_account(current_user.id)
    steps = service.open_next_steps(current_user.id, slips=slips)
    return render("nextsteps/index.html", steps=steps, slips_total=sum(slips.values()))


@bp.get("/accounts/<int:account_id>/history")
def history(account_id: int):
    """Every next step of one account, a page at a time: its date, whether it was done, on time, or slipped."""
    account = account_or_404(account_id)
    history = service.account_history(account)
    page = service.HistoryPage.of(history, request.args.get("page", 1, type=int))
    if page is None:
        abort(404)
    return render("nextsteps/history.html", account=account, history=history, page=page)


@bp.get("/next-steps.csv")
def index_csv():
    """The signed-in seller's plan (their open next steps, as on My next steps) as a spreadsheet."""
    if not current_user.is_seller:
        abort(404)
    steps = service.open_next_steps(current_user.id)
    return csv_response(service.PLAN_COLUMNS, map(service.plan_row, steps), "next-steps.csv")


@bp.get("/accounts/<int:account_id>/history.csv")
def history_csv(account_id: int):
    """Every next step of one account, newest first, as a spreadsheet."""
    account = account_or_404(account_id)
    rows = map(service.plan_row, service.account_history(account))
    return csv_response(service.PLAN_COLUMNS, rows, f"history-{account.id}.csv")
