"""GET/POST /settings: the signed-in user's own settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from ..htmx import render
from .forms import SettingsForm

bp = Blueprint("settings", __name__)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def index():
    """Time zone, paper size and reminder switches of the signed-in user."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        form.apply_to(current_user)
        flash("Settings saved.")
        return redirect(url_for("settings.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render("settings/index.html", form=form, status=status)
