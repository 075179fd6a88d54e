"""Running a focus meeting: moving through the cards, versioned autosave, start and finish. No request objects.

The cards themselves (which, in what order, with what beside them) are focusweb.cards'. These
functions stage their changes; the request commits (focusweb.transactions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .. import cards, signals
from ..cards import MeetingCards, meeting_day
from ..extensions import db
from ..models import OUTCOMES, AccountReview, Meeting, utcnow
from ..rules import started_on_time
from ..schedule import service as schedule

NEXT_STEP_MAX = 500
NOTES_MAX = 20_000
# A plan, not a wish: and past year 9999 minus this, the calendar feed and reminders would overflow.
PROJECTION_WITHIN = timedelta(days=5 * 366)
# The card's fields, in the order the card shows them.
CARD_FIELDS = ("outcome", "notes", "next_step", "projection_date")


def clean_text(value: str | None) -> str:
    """Browsers send CRLF; count and store a line break as one character."""
    return (value or "").replace("\r\n", "\n").strip()


# -- moving through the cards ------------------------------------------------------------------------------


def set_current(meeting: Meeting, card: AccountReview) -> None:
    """Record the card the seller has open, for the manager's read-along."""
    if meeting.current_review_id != card.id:
        meeting.current_review_id = card.id


def move(deck: MeetingCards, card: AccountReview, step: int) -> bool:
    """Swap a card with its neighbour of the same kind (Key accounts stay before Target accounts)."""
    other = deck.neighbour(card, step)
    if other is None or other.kind != card.kind:
        return False
    card.position, other.position = other.position, card.position
    return True


def set_skipped(card: AccountReview, skipped: bool) -> None:
    """Skip an account in this meeting (it needs no answers), or take it back."""
    card.skipped = skipped


# -- autosave ----------------------------------------------------------------------------------------------


@dataclass
class SaveResult:
    """What a save did: ``errors`` per field (those fields were not stored), or a ``conflict``."""

    version: int
    errors: dict[str, str] = field(default_factory=dict)
    conflict: dict[str, tuple[object, object]] = field(default_factory=dict)  # field -> (yours, stored)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflict


def field_problem(meeting: Meeting, name: str, value) -> str | None:
    """Why a card field's value cannot be stored, or None. Emptiness is checked at finish, not here."""
    if name == "next_step" and len(value) > NEXT_STEP_MAX:
        return f"Keep the next step to {NEXT_STEP_MAX} characters or fewer (now {len(value)})."
    if name == "notes" and len(value) > NOTES_MAX:
        return f"Notes can be at most {NOTES_MAX} characters."
    if name == "projection_date" and value is not None and value < meeting_day(meeting):
        return f"Choose a date on or after the meeting’s date ({value_label(meeting_day(meeting))})."
    if name == "projection_date" and value is not None and value > meeting_day(meeting) + PROJECTION_WITHIN:
        return "Choose a date within five years of the meeting."
    if name == "outcome" and value not in (None, *OUTCOMES):
        return "Choose done or not done."
    return None


def value_label(value) -> str:
    return f"{value:%a %-d %b %Y}" if isinstance(value, date) else str(value or "")


def save_review(review: AccountReview, values: dict, base_version: int | None) -> SaveResult:
    """Store the card's valid fields if they were typed over the stored version.

    A save based on an older (or unknown: None) version is refused when it would change anything (two devices);
    a retried save whose values are already stored succeeds without a change (idempotent). The caller has
    claimed the meeting (cards.claim), so no other save interleaves and a finished meeting is never changed.
    """
    db.session.refresh(review)  # as stored now that the meeting is ours: another device may have saved it
    meeting = review.meeting
    errors = {name: problem for name, value in values.items() if (problem := field_problem(meeting, name, value))}
    changes = {name: value for name, value in values.items() if name not in errors and getattr(review, name) != value}
    if changes and base_version != review.version:
        return _conflict(review, values, errors)
    if changes:
        for name, value in changes.items():
            setattr(review, name, value)
        review.version += 1
        review.updated_at = utcnow()
    return SaveResult(version=review.version, errors=errors)


def _conflict(review: AccountReview, values: dict, errors: dict) -> SaveResult:
    differing = {
        name: (value, getattr(review, name))
        for name, value in values.items()
        if name not in errors and getattr(review, name) != value
    }
    return SaveResult(version=review.version, errors=errors, conflict=differing)


# -- start and finish --------------------------------------------------------------------------------------


def start(meeting: Meeting) -> None:
    """Record the actual start (once; starting early is allowed): the cards as they are now, frozen from here."""
    if meeting.started_at is not None:
        return
    cards.sync_for_start(meeting)
    db.session.flush()
    meeting.started_at = utcnow()
    first = cards.load(meeting).opened(None)
    if meeting.current_review_id is None and first is not None:
        meeting.current_review_id = first.id


def finish(meeting: Meeting) -> list[tuple[AccountReview, list[str]]]:
    """End the meeting and record last time's outcomes; returns what is missing instead when answers lack.

    Claims the meeting first, then reads its cards as stored: a save racing this finish either lands
    before it (and is in the recap) or is refused after it (cards.claim).
    """
    if not cards.claim(meeting):
        return []
    deck = cards.load(meeting, fresh=True)
    missing = deck.missing_answers()
    if missing:
        return missing
    now = utcnow()
    for card in deck:
        if card.skipped or card.previous_review_id is None:
            # A skipped account's last step was not discussed: it stays open for the next meeting.
            card.outcome = None
        if card.outcome is not None:
            card.outcome_at = now
    meeting.finished_at = now
    meeting.current_review_id = None
    schedule.top_up([meeting.seller_id], now)
    signals.meeting_finished.send(meeting)
    return []


@dataclass
class Summary:
    """What the finished meeting's page shows."""

    discussed: list[AccountReview]
    skipped: list[AccountReview]
    slips: int
    done: int
    not_done: int
    duration: timedelta | None
    on_time: bool | None


def summary(meeting: Meeting) -> Summary:
    """Counts for the summary: slips, outcomes, duration, start on time."""
    deck = cards.load(meeting)
    discussed = deck.discussed
    duration = meeting.finished_at - meeting.started_at if meeting.finished_at and meeting.started_at else None
    return Summary(
        discussed=discussed,
        skipped=deck.skipped,
        slips=sum(card.is_slipped for card in discussed),
        done=sum(card.outcome == "done" for card in discussed),
        not_done=sum(card.outcome == "not_done" for card in discussed),
        duration=duration,
        on_time=started_on_time(meeting),
    )
