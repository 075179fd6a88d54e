"""The manager's read-along, notes, door sign and field topics.

Why polling, not server-sent events: the read-along must work behind two or more gunicorn
processes with nothing kept in one process's memory. A poll is one short request answered
from a single row (``meetings.version``): 204 when nothing changed, the board when it did.
Sync workers stay free between polls, a worker restart loses nothing, and any process can
answer. An SSE stream would pin one sync worker for its whole life (two managers reading
along would take both workers of ``gunicorn -w 2``) or need gthread/async workers plus a
cross-process wake-up (PostgreSQL LISTEN or Redis), and on SQLite it would still have to poll
the database inside the stream. FIELD-NOTES.md measured htmx polling every 2 s from 50 clients
at 7-8 % of one core with sync workers, p95 8 ms; at 1 s that doubles to a still small cost,
and the expected delay is about half the interval plus one request (scripts/bench_readalong.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from .. import cards, pdf
from ..access import is_meetings_manager, managed_seller_or_404, meeting_or_404, review_or_404
from ..extensions import db
from ..htmx import render, wants_fragment
from ..models import FieldTopic, ManagerNote, Meeting
from . import service
from .forms import NoteForm, TopicForm

bp = Blueprint("live", __name__)

POLL_SECONDS = 1
# htmx swaps a 286 answer like a 200, then stops polling: the board of a finished meeting is the last one.
STOP_POLLING = 286


@bp.before_request
@login_required
def require_login():
    """Every page here needs a signed-in user (the calendar feed lives elsewhere)."""


@dataclass
class NoteState:
    """What one card's manager-note form shows: the text, its version, and how the last save went."""

    text: str = ""
    private: bool = False
    version: int = 0
    saved_at: datetime | None = None
    outcome: str = "idle"  # idle | saved | conflict | invalid | closed
    server_text: str = ""
    server_private: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, note: ManagerNote | None, outcome: str = "idle") -> NoteState:
        if note is None:
            return cls(outcome=outcome)
        return cls(note.text, note.private, note.version, note.updated_at, outcome)


def _managed_meeting_or_404(meeting_id: int) -> Meeting:
    """A meeting the signed-in manager manages (not another team's, not their own as a seller)."""
    meeting = meeting_or_404(meeting_id)
    if not is_meetings_manager(meeting):
        abort(404)
    return meeting


def _no_store(response):
    # The page holds private notes: never keep it in a shared or browser cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_live(meeting: Meeting, note_states: dict[int, NoteState] | None = None, status: int = 200):
    board = service.board(meeting, current_user)
    states = {review.id: NoteState.of(board.notes.get(review.id)) for review in board.reviews}
    states.update(note_states or {})
    return _no_store(
        render(
            "live/show.html",
            block="board",
            status=status,
            board=board,
            meeting=meeting,
            note_states=states,
            topic_form=TopicForm(),
            poll_seconds=POLL_SECONDS,
        )
    )


@bp.get("/meetings/<int:meeting_id>/live")
def show(meeting_id: int):
    """The read-along page; polled by htmx with ?v=<version>, answered 204 while nothing changed."""
    meeting = meeting_or_404(meeting_id)
    if meeting.seller_id == current_user.id:
        return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)
    seen = request.args.get("v", type=int)
    if seen is not None and wants_fragment():
        if meeting.is_finished:
            return _render_live(meeting, status=STOP_POLLING)
        if seen == meeting.version:
            response = make_response("", 204)
            response.vary.add("HX-Request")
            return _no_store(response)
    return _render_live(meeting)


@bp.post("/meetings/<int:meeting_id>/reviews/<int:review_id>/note")
def save_note(meeting_id: int, review_id: int):
    """Autosave the manager's note on one card: 409 when a newer save came first, 422 on bad input."""
    meeting = _managed_meeting_or_404(meeting_id)
    review = review_or_404(meeting, review_id)
    form = NoteForm()
    form.validate_on_submit()
    typed = NoteState(text=form.text.data or "", private=bool(form.private.data), version=form.version.data or 0)
    # A note sent without a readable version was typed over we cannot tell what: judged as stale (409).
    base_version = None if form.version.errors else form.version.data
    errors = [message for name, messages in form.errors.items() if name != "version" for message in messages]
    status = 200
    if not cards.claim(meeting):
        state, status = replace(typed, outcome="closed", errors=["The meeting is finished: its notes are final."]), 409
    elif errors:
        state, status = replace(typed, outcome="invalid", errors=errors), 422
    else:
        try:
            note = service.save_note(review, current_user, typed.text, typed.private, base_version)
            state = NoteState.of(note, outcome="saved")
        except service.StaleNote as stale:
            server = stale.note
            state = replace(
                typed,
                outcome="conflict",
                version=server.version if server else 0,
                server_text=server.text if server else "",
                server_private=server.private if server else False,
            )
            status = 409
    if wants_fragment():
        response = render(
            "live/show.html", block="note_status", status=status, review=review, note_states={review.id: state}
        )
        return _no_store(response)
    if status == 200:
        return redirect(url_for("live.show", meeting_id=meeting.id, _anchor=f"card-{review.id}"), 303)
    return _render_live(meeting, {review.id: state}, status)


@bp.post("/meetings/<int:meeting_id>/live/park")
def park(meeting_id: int):
    """Park a coaching topic that came up in the meeting on the seller's For the field list."""
    meeting = _managed_meeting_or_404(meeting_id)
    form = TopicForm()
    if not form.validate_on_submit():
        if wants_fragment():
            return render("live/show.html", block="park", status=422, meeting=meeting, topic_form=form)
        board = service.board(meeting, current_user)
        states = {review.id: NoteState.of(board.notes.get(review.id)) for review in board.reviews}
        return _no_store(
            render(
                "live/show.html",
                status=422,
                board=board,
                meeting=meeting,
                note_states=states,
                topic_form=form,
                poll_seconds=POLL_SECONDS,
                park_open=True,
            )
        )
    topic = service.park_topic(meeting.seller, current_user, form.text.data)
    if wants_fragment():
        return render(
            "live/show.html", block="park", meeting=meeting, topic_form=TopicForm(formdata=None), parked=topic
        )
    flash("Parked for the field.")
    return redirect(url_for("live.show", meeting_id=meeting.id), 303)


@bp.route("/team/<int:seller_id>/field", methods=["GET", "POST"])
def field_list(seller_id: int):
    """The seller's For the field list: coaching topics parked for a ride-along."""
    seller = managed_seller_or_404(seller_id)
    form = TopicForm()
    if form.validate_on_submit():
        service.park_topic(seller, current_user, form.text.data)
        flash("Parked for the field.")
        return redirect(url_for("live.field_list", seller_id=seller.id), 303)
    open_topics, done_topics = service.field_topics(seller)
    status = 422 if form.is_submitted() else 200
    return render(
        "live/field.html", seller=seller, form=form, open_topics=open_topics, done_topics=done_topics, status=status
    )


@bp.post("/team/<int:seller_id>/field/<int:topic_id>/done")
def field_done(seller_id: int, topic_id: int):
    """Tick a topic off after the ride-along (done=0 reopens it)."""
    seller = managed_seller_or_404(seller_id)
    topic = db.session.get(FieldTopic, topic_id)
    if topic is None or topic.seller_id != seller.id:
        abort(404)
    service.set_topic_done(topic, request.form.get("done", "1") != "0")
    return redirect(url_for("live.field_list", seller_id=seller.id), 303)


@bp.get("/meetings/<int:meeting_id>/door-sign")
def door_sign(meeting_id: int):
    """A print-styled "Please do not interrupt" sign with the seller's name and the planned end."""
    meeting = meeting_or_404(meeting_id)
    return render("live/door_sign.html", meeting=meeting, planned_end=service.planned_end(meeting))


@bp.get("/meetings/<int:meeting_id>/door-sign.pdf")
def door_sign_pdf(meeting_id: int):
    """The door sign as a one-page PDF on the viewer's paper size."""
    meeting = meeting_or_404(meeting_id)
    body = pdf.render_pdf(
        "pdf/door_sign.html",
        current_user.paper_size,
        landscape=True,
        meeting=meeting,
        planned_end=service.planned_end(meeting),
    )
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="door-sign-{meeting.id}.pdf"'
    return response
