"""The manager's side of a meeting: read-along board, manager notes, parked field topics.

No request objects in here. Private notes are filtered in the queries, never in templates:
everything a seller (or the recap) may see goes through ``shared_notes``/``shared_notes_by_review``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import AccountReview, FieldTopic, ManagerNote, Meeting, User, utcnow

NOTE_MAX = 5000
TOPIC_MAX = 500
KIND_ORDER = {"key": 0, "target": 1}


class StaleNote(Exception):
    """The note was saved elsewhere since the form was loaded (optimistic locking)."""

    def __init__(self, note: ManagerNote):
        super().__init__("stale manager note")
        self.note = note


@dataclass(frozen=True)
class Board:
    """What the read-along shows: the cards in meeting order and where the seller is."""

    meeting: Meeting
    reviews: list[AccountReview]
    notes: dict[int, ManagerNote]  # review id -> the viewing manager's own note

    @property
    def current_index(self) -> int | None:
        """1-based place of the card the seller has open ("3 of 9 accounts")."""
        for index, review in enumerate(self.reviews, start=1):
            if review.id == self.meeting.current_review_id:
                return index
        return None

    @property
    def planned_end(self) -> datetime:
        return planned_end(self.meeting)

    @property
    def elapsed_minutes(self) -> int:
        """Whole minutes since the seller started (the page's script ticks it by the second)."""
        if self.meeting.started_at is None:
            return 0
        end = self.meeting.finished_at or utcnow()
        return int((end - self.meeting.started_at).total_seconds() // 60)


def planned_end(meeting: Meeting) -> datetime:
    """When the meeting should be over: actual (or scheduled) start plus the planned minutes."""
    return (meeting.started_at or meeting.scheduled_at) + timedelta(minutes=meeting.planned_minutes)


def ordered_reviews(meeting_id: int) -> list[AccountReview]:
    """The meeting's cards, Key accounts first, then Target, each in the seller's order."""
    reviews = db.session.scalars(
        select(AccountReview)
        .where(AccountReview.meeting_id == meeting_id)
        .options(joinedload(AccountReview.account), joinedload(AccountReview.previous_review))
    ).all()
    return sorted(reviews, key=lambda review: (KIND_ORDER[review.account.kind], review.position, review.id))


def board(meeting: Meeting, manager: User) -> Board:
    """Everything the live view renders, in a fixed number of queries."""
    reviews = ordered_reviews(meeting.id)
    return Board(meeting=meeting, reviews=reviews, notes=own_notes(meeting.id, manager.id))


def own_notes(meeting_id: int, author_id: int) -> dict[int, ManagerNote]:
    """The author's notes (shared and private) on a meeting's cards, by review id."""
    notes = db.session.scalars(
        select(ManagerNote)
        .join(AccountReview, AccountReview.id == ManagerNote.review_id)
        .where(AccountReview.meeting_id == meeting_id, ManagerNote.author_id == author_id)
        .order_by(ManagerNote.id)
    ).all()
    # One note per author per card; should two ever exist, the oldest is the one saves update.
    mine: dict[int, ManagerNote] = {}
    for note in notes:
        mine.setdefault(note.review_id, note)
    return mine


def shared_notes(review: AccountReview) -> list[ManagerNote]:
    """The manager notes of one card that the seller and the recap may show (never private ones)."""
    return shared_notes_by_review([review.id]).get(review.id, [])


def shared_notes_by_review(review_ids: list[int]) -> dict[int, list[ManagerNote]]:
    """Shared, non-empty manager notes for many cards in one query, by review id."""
    if not review_ids:
        return {}
    notes = db.session.scalars(
        select(ManagerNote)
        .where(ManagerNote.review_id.in_(review_ids), ManagerNote.private.is_(False), ManagerNote.text != "")
        .options(selectinload(ManagerNote.author))
        .order_by(ManagerNote.id)
    ).all()
    grouped: dict[int, list[ManagerNote]] = {}
    for note in notes:
        grouped.setdefault(note.review_id, []).append(note)
    return grouped


def save_note(review: AccountReview, author: User, text: str, private: bool, version: int | None) -> ManagerNote:
    """Create or update the author's note on a card; refuse a save based on an older version.

    ``version`` is the note's version the form was loaded with (0 when there was no note yet; None
    when unknown, which is always stale).
    Raises StaleNote when the stored note has moved on. Bumps the meeting's read-along version.
    """
    note = db.session.scalar(
        select(ManagerNote)
        .where(ManagerNote.review_id == review.id, ManagerNote.author_id == author.id)
        .order_by(ManagerNote.id)
        .limit(1)
        .with_for_update()
    )
    current = note.version if note is not None else 0
    if version != current:
        raise StaleNote(note)
    if note is None:
        note = ManagerNote(review=review, author=author, version=0)
        db.session.add(note)
    note.text = text
    note.private = private
    note.version = current + 1
    review.meeting.touch()
    db.session.commit()
    return note


def park_topic(seller: User, manager: User, text: str) -> FieldTopic:
    """Park a coaching topic for the next ride-along."""
    topic = FieldTopic(seller_id=seller.id, manager_id=manager.id, text=" ".join(text.split()))
    db.session.add(topic)
    db.session.commit()
    return topic


def field_topics(seller: User) -> tuple[list[FieldTopic], list[FieldTopic]]:
    """A seller's parked topics: open ones oldest first, done ones newest first."""
    topics = db.session.scalars(select(FieldTopic).where(FieldTopic.seller_id == seller.id)).all()
    open_topics = sorted((t for t in topics if t.done_at is None), key=lambda t: (t.created_at, t.id))
    done_topics = sorted((t for t in topics if t.done_at is not None), key=lambda t: (t.done_at, t.id), reverse=True)
    return open_topics, done_topics


def set_topic_done(topic: FieldTopic, done: bool) -> None:
    """Tick a topic off after the ride-along, or reopen it."""
    topic.done_at = utcnow() if done else None
    db.session.commit()
