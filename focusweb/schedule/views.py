"""Cadence (the manager sets it) and rescheduling one meeting (the seller or their manager)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from ..access import managed_seller_or_404, meeting_or_404
from ..htmx import render
from ..models import utcnow
from . import service
from .forms import CadenceForm, RescheduleForm

bp = Blueprint("schedule", __name__)


@bp.before_request
@login_required
def require_login():
    """Every scheduling page needs a signed-in user."""


@bp.route("/team/<int:seller_id>/cadence", methods=["GET", "POST"])
def cadence(seller_id: int):
    """Set how often a seller meets their manager; upcoming meetings follow from it."""
    seller = managed_seller_or_404(seller_id)
    current = service.cadence_for(seller.id)
    form = CadenceForm(obj=current)
    if not form.is_submitted() and current is None:
        form.every_weeks.data, form.weekday.data, form.minutes.data = 1, 0, 30
        form.timezone.data = current_user.timezone
        form.starts_on.data = service.local_today(current_user.timezone)
    if form.validate_on_submit():
        saved = service.save_cadence(seller, current_user, form.values())
        flash(f"Saved {seller.name}’s cadence: {service.describe(saved)}.")
        return redirect(url_for("schedule.cadence", seller_id=seller.id), 303)
    status = 422 if form.is_submitted() else 200
    meetings = service.upcoming(seller.id, utcnow() - timedelta(hours=12))
    return render(
        "schedule/cadence.html",
        form=form,
        seller=seller,
        current=current,
        describe=service.describe,
        meetings=meetings,
        horizon_weeks=service.HORIZON_WEEKS,
        status=status,
    )


@bp.route("/meetings/<int:meeting_id>/reschedule", methods=["GET", "POST"])
def reschedule(meeting_id: int):
    """Move a meeting that has not started; the reason is required and kept."""
    meeting = meeting_or_404(meeting_id)
    if meeting.started_at is not None:
        return render("schedule/reschedule.html", meeting=meeting, form=None, status=409)
    form = RescheduleForm(meeting=meeting, zone=current_user.timezone)
    if not form.is_submitted():
        moment = meeting.scheduled_at.astimezone(ZoneInfo(current_user.timezone))
        form.new_date.data, form.new_time.data = moment.date(), moment.time().replace(second=0, microsecond=0)
    if form.validate_on_submit():
        service.reschedule(meeting, form.to_at, form.reason.data, current_user)
        flash("Meeting rescheduled. The reason is kept with the meeting.")
        if current_user.is_seller:
            return redirect(url_for("home.index"), 303)
        return redirect(url_for("schedule.cadence", seller_id=meeting.seller_id), 303)
    status = 422 if form.is_submitted() else 200
    return render("schedule/reschedule.html", meeting=meeting, form=form, status=status)
