"""The recap of a finished meeting: as a PDF, as a phone page, and *Send again* for its e-mails."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, make_response, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from .. import cache, mail
from ..access import meeting_or_404
from ..htmx import render
from ..models import Meeting
from . import service

bp = Blueprint("recap", __name__)


@bp.before_request
@login_required
def require_login():
    """Every recap page needs a signed-in user."""


def _finished_meeting_or_404(meeting_id: int) -> Meeting:
    """The meeting's seller or manager only (anyone else: 404); a meeting not finished has no recap yet."""
    meeting = meeting_or_404(meeting_id)
    if not meeting.is_finished:
        page = render_template(
            "errors/error.html",
            title="No recap yet",
            message="The recap is made when the seller presses Finish meeting. This meeting has not finished.",
        )
        abort(make_response(page, 404))
    return meeting


@bp.get("/meetings/<int:meeting_id>/recap.pdf")
def pdf(meeting_id: int):
    """The recap as a PDF on the reader's paper size, downloaded as focus-recap-<seller>-<date>.pdf."""
    meeting = _finished_meeting_or_404(meeting_id)
    recap = service.build(meeting, current_user)
    # What the PDF shows: the meeting, its cards and notes (its version), the two names, the reader's
    # zone and paper. Account names and kinds are frozen on the cards from the start (focusweb.cards).
    key = (
        "recap-pdf",
        meeting.id,
        meeting.version,
        recap.seller.name,
        recap.manager.name,
        current_user.timezone,
        current_user.paper_size,
    )
    body = cache.pdfs.get_or_make(key, lambda: service.render_pdf(recap, current_user.paper_size))
    response = send_file(
        BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=service.file_name(recap)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/meetings/<int:meeting_id>/recap")
def show(meeting_id: int):
    """The recap as a phone page, with the state of its e-mails."""
    meeting = _finished_meeting_or_404(meeting_id)
    sends = service.sends(meeting)
    unsent = [message for message in sends if message.sent_at is None and not mail.is_in_progress(message)]
    return render(
        "recap/show.html",
        recap=service.build(meeting, current_user),
        sends=sends,
        can_send_again=not sends or bool(unsent),
        mail_configured=mail.mail_configured(),
        is_in_progress=mail.is_in_progress,
        not_configured=mail.NOT_CONFIGURED,
    )


@bp.post("/meetings/<int:meeting_id>/recap/send")
def send(meeting_id: int):
    """Try the recap e-mails that have not gone out, now, and say what happened."""
    meeting = _finished_meeting_or_404(meeting_id)
    report = service.send_again(meeting)
    if report.not_configured:
        flash(f"The recap was not sent: {mail.NOT_CONFIGURED}")
    elif report.failed:
        flash(f"The recap could not be sent: {report.failed[0][1]}")
    elif report.sent:
        flash(f"Recap sent to {', '.join(report.sent)}.")
    else:
        flash("Nothing to send: the recap has gone out already, or is being sent.")
    return redirect(url_for("recap.show", meeting_id=meeting.id), 303)
