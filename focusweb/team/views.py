"""The manager's team: each seller and their accounts."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..htmx import render
from ..models import Account, User
from ..schedule import service as schedule

bp = Blueprint("team", __name__)


@bp.get("/team")
@login_required
def index():
    """The signed-in manager's sellers, with how many Key and Target accounts each has."""
    if not current_user.is_manager:
        abort(404)
    counts = dict(
        ((owner_id, kind), count)
        for owner_id, kind, count in db.session.execute(
            select(Account.owner_id, Account.kind, func.count())
            .join(User, User.id == Account.owner_id)
            .where(User.manager_id == current_user.id, Account.archived_at.is_(None))
            .group_by(Account.owner_id, Account.kind)
        )
    )
    sellers = db.session.scalars(
        select(User).where(User.manager_id == current_user.id, User.role == "seller").order_by(User.name)
    ).all()
    schedule.top_up([seller.id for seller in sellers])
    return render("team/index.html", sellers=sellers, counts=counts)
