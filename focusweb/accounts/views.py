"""Accounts pages: a seller's Key and Target accounts, also reached by their manager."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import account_or_404, seller_or_404
from ..htmx import render
from ..models import User
from . import service
from .forms import AccountForm, ImportForm

bp = Blueprint("accounts", __name__)


@bp.before_request
@login_required
def require_login():
    """Every accounts page needs a signed-in user."""


def _index_url(seller: User) -> str:
    if seller.id == current_user.id:
        return url_for("accounts.index")
    return url_for("accounts.index", seller_id=seller.id)


@bp.get("/accounts", defaults={"seller_id": None})
@bp.get("/team/<int:seller_id>/accounts")
def index(seller_id: int | None):
    """A seller's accounts, grouped Key, Target, and archived."""
    if seller_id is None and current_user.is_manager:
        return redirect(url_for("team.index"), 303)
    seller = seller_or_404(seller_id)
    return render("accounts/index.html", seller=seller, groups=service.owner_accounts(seller.id))


@bp.route("/accounts/new", methods=["GET", "POST"], defaults={"seller_id": None})
@bp.route("/team/<int:seller_id>/accounts/new", methods=["GET", "POST"])
def new(seller_id: int | None):
    """Add a Key or Target account."""
    seller = seller_or_404(seller_id)
    form = AccountForm(owner_id=seller.id, kind=request.args.get("kind", "key"))
    if form.validate_on_submit():
        account = service.create(seller.id, form.name.data, form.kind.data, form.notes.data or "")
        flash(f"Added {account.name} to {account.kind_label}s.")
        return redirect(_index_url(seller), 303)
    status = 422 if form.is_submitted() else 200
    return render("accounts/form.html", form=form, seller=seller, account=None, status=status)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
def edit(account_id: int):
    """Change an account's name, kind or notes."""
    account = account_or_404(account_id)
    form = AccountForm(obj=account, owner_id=account.owner_id, account_id=account.id)
    if form.validate_on_submit():
        service.update(account, form.name.data, form.kind.data, form.notes.data or "")
        flash(f"Saved {account.name}.")
        return redirect(_index_url(account.owner), 303)
    status = 422 if form.is_submitted() else 200
    return render("accounts/form.html", form=form, seller=account.owner, account=account, status=status)


@bp.post("/accounts/<int:account_id>/archive")
def archive(account_id: int):
    """Archive an account: it stays in history but leaves the meetings."""
    account = account_or_404(account_id)
    service.set_archived(account, True)
    flash(f"Archived {account.name}. You can restore it from Archived accounts.")
    return redirect(_index_url(account.owner), 303)


@bp.post("/accounts/<int:account_id>/restore")
def restore(account_id: int):
    """Bring an archived account back."""
    account = account_or_404(account_id)
    service.set_archived(account, False)
    flash(f"Restored {account.name}.")
    return redirect(_index_url(account.owner), 303)


@bp.route("/accounts/import", methods=["GET", "POST"], defaults={"seller_id": None})
@bp.route("/team/<int:seller_id>/accounts/import", methods=["GET", "POST"])
def import_csv(seller_id: int | None):
    """Import accounts from a CRM's CSV export: every row or none."""
    seller = seller_or_404(seller_id)
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        result = service.import_csv(seller.id, form.file.data.read())
        if result.ok:
            flash(_import_summary(result))
            for line, message in result.duplicates:
                flash(f"Line {line}: {message}")
            return redirect(_index_url(seller), 303)
    status = 422 if form.is_submitted() else 200
    return render("accounts/import.html", form=form, seller=seller, result=result, status=status)


def _import_summary(result: service.ImportResult) -> str:
    summary = f"Imported {len(result.created)} account{'s' if len(result.created) != 1 else ''}."
    if result.duplicates:
        summary += f" {len(result.duplicates)} already existed and were left as they are."
    return summary
