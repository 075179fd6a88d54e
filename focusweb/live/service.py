"""The manager's side of a meeting: read-along board, manager notes, parked field topics.

No request objects in here. The cards are focusweb.cards' (which also holds the one query for the
shared notes a seller and the recap may see: private notes are filtered there, in SQL). These
functions stage their changes; the request commits (focusweb.transactions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import cards
from ..cards import MeetingCards
from ..extensions import db
from ..models import AccountReview, FieldTopic, ManagerNote, Meeting, User, utcnow

NOTE_MAX = 5000
TOPIC_MAX = 500


class StaleNote(Exception):
    """The note was saved elsewhere since the form was loaded (optimistic locking)."""

    def __init__(self, note: ManagerNote):
        super().__init__("stale manager note")
        self.note = note


@dataclass(frozen=True)
class Board:
    """What the read-along shows: the meeting's cards (focusweb.cards) and the manager's own notes on them."""

    deck: MeetingCards
    notes: dict[int, ManagerNote]  # card id -> the viewing manager's own note

    @property
    def meeting(self) -> Meeting:
        return self.deck.meeting

    @property
    def reviews(self) -> list[AccountReview]:
        return self.deck.cards

    @property
    def current_index(self) -> int | None:
        """1-based place of the card the seller has open ("3 of 9 accounts")."""
        return self.deck.current_index

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


def board(meeting: Meeting, manager: User) -> Board:
    """Everything the live view renders, in a fixed number of queries."""
    return Board(deck=cards.load(meeting), notes=own_notes(meeting.id, manager.id))


def own_notes(meeting_id: int, author_id: int) -> dict[int, ManagerNote]:
    """The author's notes (shared and private) on a meeting's cards, by card id."""
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


def save_note(review: AccountReview, author: User, text: str, private: bool, version: int | None) -> ManagerNote:
    """Create or update the author's note on a card; refuse a save based on an older version.

    ``version`` is the note's version the form was loaded with (0 when there was no note yet; None
    when unknown, which is always stale).
    Raises StaleNote when the stored note has moved on. The caller has claimed the meeting (cards.claim).
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
    db.session.flush()
    return note


def park_topic(seller: User, manager: User, text: str) -> FieldTopic:
    """Park a coaching topic for the next ride-along."""
    topic = FieldTopic(seller_id=seller.id, manager_id=manager.id, text=" ".join(text.split()))
    db.session.add(topic)
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
