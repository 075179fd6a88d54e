"""The seller's meeting page: prepare, start, one account card at a time, finish, summary."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, make_response, redirect, url_for
from flask_login import current_user, login_required
from htmx_flask import request

from .. import cards
from ..access import meeting_or_404, review_or_404
from ..cards import MeetingCards
from ..htmx import render, wants_fragment
from ..models import AccountReview, Meeting, utcnow
from ..recap import service as recap_service
from . import service
from .forms import ReviewForm

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

OUTCOME_LABELS = {"done": "Done", "not_done": "Not done"}
FINISHED_MESSAGE = "This meeting is finished: its answers can no longer change."


@bp.before_request
@login_required
def require_login():
    """Every meeting page needs a signed-in user."""


def _seller_meeting(meeting_id: int) -> Meeting:
    """The meeting, for its seller. Its manager may read along but not change it (403); others get 404."""
    meeting = meeting_or_404(meeting_id)
    if meeting.seller_id != current_user.id:
        abort(403, "Only the seller changes the meeting; you can read along and keep your own notes.")
    return meeting


def _open_meeting(meeting_id: int) -> Meeting:
    """The seller's meeting, refused with 409 once it is finished (read-only)."""
    meeting = _seller_meeting(meeting_id)
    if meeting.is_finished:
        abort(409, FINISHED_MESSAGE)
    return meeting


def _card_url(meeting: Meeting, review: AccountReview | None = None, anchor: str | None = None) -> str:
    return url_for("meetings.show", meeting_id=meeting.id, review=review.id if review else None, _anchor=anchor)


@bp.errorhandler(409)
def refused_now(error):
    """A change the meeting's state does not allow (finished, not started): say so; htmx swaps reload instead."""
    if wants_fragment():
        return "", 409, {"HX-Refresh": "true"}
    return render("errors/error.html", title="Not possible now", message=error.description, status=409)


@bp.get("/<int:meeting_id>")
def show(meeting_id: int):
    """The seller drives: prepare, then one account card at a time; the summary once finished. Reads only."""
    meeting = meeting_or_404(meeting_id)
    if meeting.seller_id != current_user.id:
        return redirect(url_for("live.show", meeting_id=meeting.id), 303)
    if meeting.is_finished:
        return render(
            "meetings/summary.html",
            meeting=meeting,
            summary=service.summary(meeting),
            mail_status=recap_service.mail_summary(meeting),
        )
    deck = cards.load(meeting, shared_notes=True)
    review = _opened(deck, request.args.get("review", type=int))
    form = ReviewForm(obj=review, formdata=None) if review else None
    return _page(deck, review, form)


def _opened(deck: MeetingCards, review_id: int | None) -> AccountReview | None:
    """The card asked for (404 when it is not this meeting's), else the seller's current card, else the first."""
    if review_id is not None and deck.get(review_id) is None:
        abort(404)
    return deck.opened(review_id)


def _page(deck: MeetingCards, review, form, status=200, conflict=None, errors=None, partly_saved=False):
    meeting = deck.meeting
    return render(
        "meetings/show.html",
        status=status,
        deck=deck,
        reviews=deck.cards,
        index=deck.position_of(review) if review else 0,
        now=utcnow(),
        meeting_date=deck.day,
        **_card_context(meeting, review, form, conflict, errors, partly_saved),
    )


def _card_context(meeting, review, form, conflict=None, errors=None, partly_saved=False) -> dict:
    """What the card's autosave block needs, on the page and alone.

    ``partly_saved``: some fields were refused (``errors``) but the card's other fields are stored, so the
    status must not say "Not saved".
    """
    return {
        "meeting": meeting,
        "review": review,
        "form": form,
        "save_url": url_for("meetings.save", meeting_id=meeting.id, review_id=review.id) if review else "",
        "has_previous": review is not None and review.previous_review_id is not None,
        "conflict": _conflict_rows(form, conflict or {}),
        "errors": errors or {},
        "partly_saved": partly_saved,
    }


def _conflict_rows(form: ReviewForm, conflict: dict) -> list[dict]:
    """Both texts of each field two devices disagree on, as the page shows and re-sends them."""
    return [
        {
            "name": name,
            "label": form[name].label.text,
            "yours": _shown(yours),
            "stored": _shown(stored),
            "yours_input": yours.isoformat() if isinstance(yours, date) else yours or "",
        }
        for name, (yours, stored) in conflict.items()
    ]


def _shown(value) -> str:
    if isinstance(value, date):
        return service.value_label(value)
    return OUTCOME_LABELS.get(value, value or "")


@bp.post("/<int:meeting_id>/start")
def start(meeting_id: int):
    """Start the meeting now (early is allowed; a second press changes nothing)."""
    meeting = _seller_meeting(meeting_id)
    if not meeting.is_finished:
        service.start(meeting)
    return redirect(_card_url(meeting), 303)


@bp.post("/<int:meeting_id>/current")
def current(meeting_id: int):
    """The seller's page shows another card than the one recorded: record it for the read-along (204)."""
    meeting = _open_meeting(meeting_id)
    review = review_or_404(meeting, request.form.get("review", type=int) or 0)
    service.set_current(meeting, review)
    return make_response("", 204)


NAVIGATION = {"previous": -1, "next": 1, "skip": 1}


@bp.post("/<int:meeting_id>/reviews/<int:review_id>")
def save(meeting_id: int, review_id: int):
    """Autosave of a card (htmx), or the card's own submit: save, then Previous/Next/Skip without JavaScript."""
    meeting = _seller_meeting(meeting_id)
    review = review_or_404(meeting, review_id)
    form = ReviewForm()
    if not cards.claim(meeting):
        if wants_fragment():
            context = _card_context(meeting, review, form)
            return render("meetings/show.html", "autosave", status=409, finished=True, fragment=True, **context)
        abort(409, FINISHED_MESSAGE)
    form.validate()
    # A card sent without a readable version was typed over we cannot tell what: judged as stale (409,
    # both texts shown, nothing applied), never stored blindly.
    base_version = None if form.version.errors else form.version.data
    values = {name: form[name].data for name in service.CARD_FIELDS if name in request.form and not form[name].errors}
    result = service.save_review(review, values, base_version)
    errors = {name: form[name].errors[0] for name in service.CARD_FIELDS if form[name].errors} | result.errors
    status = 409 if result.conflict else 422 if errors else 200
    # The fields without a message are stored (now, or already as sent): the status says so.
    partly_saved = any(name not in errors for name in values)
    if not result.conflict:
        form.version.data = result.version
    if wants_fragment():
        context = _card_context(meeting, review, form, result.conflict, errors, partly_saved)
        return render("meetings/show.html", "autosave", status=status, fragment=True, **context)
    deck = cards.load(meeting, shared_notes=True)
    if status == 200:
        return _after_card(deck, review, request.form.get("go", ""))
    for name, message in errors.items():
        form[name].errors = [message]
    return _page(deck, review, form, status, result.conflict, errors, partly_saved)


def _after_card(deck: MeetingCards, review: AccountReview, go: str):
    """Where the card's buttons lead once it is saved; the card they lead to becomes the current one."""
    meeting = deck.meeting
    if go in ("skip", "unskip"):
        service.set_skipped(review, go == "skip")
    step = NAVIGATION.get(go)
    if step is None:
        return redirect(_card_url(meeting, review), 303)
    target = deck.neighbour(review, step)
    if target is None:
        return redirect(_card_url(meeting, review, anchor="finish" if step > 0 else None), 303)
    service.set_current(meeting, target)
    return redirect(_card_url(meeting, target), 303)


@bp.post("/<int:meeting_id>/reviews/<int:review_id>/move")
def move(meeting_id: int, review_id: int):
    """Move an account up or down the meeting's order (within Key or within Target)."""
    meeting = _open_meeting(meeting_id)
    review = review_or_404(meeting, review_id)
    deck = cards.load(meeting)
    service.move(deck, review, -1 if request.form.get("direction") == "up" else 1)
    if wants_fragment():
        deck = cards.load(meeting)  # in the order just staged
        current = deck.opened(None)
        return render(
            "meetings/show.html",
            "account_list",
            meeting=meeting,
            deck=deck,
            reviews=deck.cards,
            review=current,
            index=deck.position_of(current),
            fragment=True,
        )
    return redirect(_card_url(meeting, anchor="accounts"), 303)


@bp.post("/<int:meeting_id>/finish")
def finish(meeting_id: int):
    """Finish: every account not skipped needs both answers; then the meeting is read-only."""
    meeting = _seller_meeting(meeting_id)
    if meeting.started_at is None:
        abort(409, "Start the meeting before you finish it.")
    missing = service.finish(meeting)
    if missing:
        response = render("meetings/missing.html", meeting=meeting, missing=missing, status=422)
        response.headers["HX-Push-Url"] = "false"  # a reload shows the meeting again, not a POST-only URL
        return response
    return redirect(url_for("meetings.show", meeting_id=meeting.id), 303)
