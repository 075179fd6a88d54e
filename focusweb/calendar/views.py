"""The calendar page (the feed's secret URL, a way to rotate it) and the feed itself."""

from __future__ import annotations

from urllib.parse import urljoin

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from ..htmx import render
from . import service

bp = Blueprint("calendar", __name__)


@bp.get("/calendar")
@login_required
def index():
    """Where the signed-in user finds their feed URL."""
    feed_url = urljoin(request.url_root, url_for("calendar.feed", secret=current_user.calendar_secret))
    webcal_url = "webcal://" + feed_url.split("://", 1)[1]
    return render("calendar/index.html", feed_url=feed_url, webcal_url=webcal_url)


@bp.post("/calendar/rotate")
@login_required
def rotate():
    """Make a new secret feed URL; the old one stops working."""
    service.rotate_secret(current_user)
    flash("New calendar link made. The old link no longer works: subscribe again with this one.")
    return redirect(url_for("calendar.index"), 303)


@bp.get("/calendar/<secret>.ics")
def feed(secret: str):
    """The private iCalendar feed; the secret in the URL is the only key (no sign-in)."""
    user = service.user_by_secret(secret)
    if user is None:
        abort(404)
    response = make_response(service.feed(user, request.url_root))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="focusweb.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
