"""Running a focus meeting: the account cards, versioned autosave, start and finish. No request objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import signals
from ..extensions import db
from ..models import OUTCOMES, Account, AccountReview, Meeting, utcnow
from ..plans import is_step, started_on_time

NEXT_STEP_MAX = 500
NOTES_MAX = 20_000
# A plan, not a wish: and past year 9999 minus this, the calendar feed and reminders would overflow.
PROJECTION_WITHIN = timedelta(days=5 * 366)
# The card's fields, in the order the card shows them.
CARD_FIELDS = ("outcome", "notes", "next_step", "projection_date")


def meeting_date(meeting: Meeting) -> date:
    """The meeting's day where the seller lives: projection dates may not be earlier."""
    return meeting.scheduled_at.astimezone(ZoneInfo(meeting.seller.timezone)).date()


def clean_text(value: str | None) -> str:
    """Browsers send CRLF; count and store a line break as one character."""
    return (value or "").replace("\r\n", "\n").strip()


# -- the cards ---------------------------------------------------------------------------------------------


def sync_reviews(meeting: Meeting, cards: list[AccountReview] | None = None) -> bool:
    """Give every active account of the seller a card (Key first, then Target) and point open cards at last time.

    ``cards``: the meeting's cards when the caller has read them already. True when anything changed
    (a commit: cards read before it are expired). A running meeting with a card for every active
    account, the card page's usual case, costs one query for the accounts' ids.
    """
    if cards is not None and meeting.started_at is not None:
        active = db.session.scalars(
            select(Account.id).where(Account.owner_id == meeting.seller_id, Account.archived_at.is_(None))
        )
        if set(active) <= {card.account_id for card in cards}:
            return False
    have = {review.account_id for review in meeting.reviews}
    accounts = db.session.scalars(
        select(Account)
        .where(Account.owner_id == meeting.seller_id, Account.archived_at.is_(None))
        .order_by(Account.name_key)
    ).all()
    new = [account for account in accounts if account.id not in have]
    if not new and meeting.started_at is not None:
        return False  # once the meeting runs, "last time" stays what the seller saw at the start
    try:
        for account in new:
            meeting.reviews.append(AccountReview(account=account, position=0))
        changed = _renumber(meeting) | _link_previous(meeting) | bool(new)
        if changed:
            meeting.touch()
            db.session.commit()
        return changed
    except IntegrityError:
        # The same meeting opened on two devices at once: the other one added the cards.
        db.session.rollback()
        return True


def _renumber(meeting: Meeting) -> bool:
    """Key accounts first, then Target accounts, keeping the seller's order within each; new cards last."""
    ordered = sorted(meeting.reviews, key=lambda r: (r.account.kind != "key", r.id is None, r.position))
    changed = False
    for position, review in enumerate(ordered):
        if review.position != position:
            review.position = position
            changed = True
    return changed


def _link_previous(meeting: Meeting) -> bool:
    """Each card not yet answered for last time looks back on the account's newest commitment.

    The account's newest step (focusweb.plans) from an earlier meeting, so it carries over a
    skipped account or a meeting that never took place. Read from the account (``last_step_id``)
    when that step is from an earlier meeting, as it is for the next meeting; an account whose
    newest step is from a later one (a past meeting opened late) looks through its own history.
    """
    rows = db.session.execute(
        select(Account.id, Account.last_step_id, Meeting.scheduled_at)
        .join(AccountReview, AccountReview.id == Account.last_step_id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(Account.owner_id == meeting.seller_id)
    ).all()
    newest = {account_id: step_id for account_id, step_id, at in rows if at < meeting.scheduled_at}
    later = [account_id for account_id, _, at in rows if at >= meeting.scheduled_at]
    if later:
        earlier_steps = db.session.execute(
            select(AccountReview.account_id, AccountReview.id)
            .join(Meeting, Meeting.id == AccountReview.meeting_id)
            .where(
                AccountReview.account_id.in_(later),
                Meeting.seller_id == meeting.seller_id,
                Meeting.id != meeting.id,
                Meeting.scheduled_at < meeting.scheduled_at,
                is_step(),
            )
            .order_by(Meeting.scheduled_at, AccountReview.id)
        )
        newest.update(earlier_steps.all())  # later rows win: the newest commitment per account
    changed = False
    for review in meeting.reviews:
        previous_id = newest.get(review.account_id)
        if review.outcome is None and review.previous_review_id != previous_id:
            review.previous_review_id = previous_id
            changed = True
    return changed


def ordered_reviews(meeting: Meeting) -> list[AccountReview]:
    """The cards in meeting order (Key first, then Target, as the seller arranged them).

    Each with its account and last time's review joined in, as every card and the account list show them:
    one query however many accounts the seller has (two more with selectinload: 1.7 ms of a 6.8 ms page).
    """
    return list(
        db.session.scalars(
            select(AccountReview)
            .where(AccountReview.meeting_id == meeting.id)
            .options(joinedload(AccountReview.account), joinedload(AccountReview.previous_review))
            .order_by(AccountReview.position, AccountReview.id)
        )
    )


def neighbour(meeting: Meeting, review: AccountReview, step: int) -> AccountReview | None:
    """The card ``step`` places after (or before, when negative) ``review``."""
    reviews = ordered_reviews(meeting)
    index = reviews.index(review) + step
    return reviews[index] if 0 <= index < len(reviews) else None


def set_current(meeting: Meeting, review: AccountReview) -> bool:
    """Record the card the seller has open, for the manager's read-along; True when that was a change."""
    if meeting.current_review_id == review.id:
        return False
    meeting.current_review_id = review.id
    meeting.touch()
    db.session.commit()
    return True


def move(meeting: Meeting, review: AccountReview, step: int) -> bool:
    """Swap a card with its neighbour of the same kind (Key accounts stay before Target accounts)."""
    other = neighbour(meeting, review, step)
    if other is None or other.account.kind != review.account.kind:
        return False
    review.position, other.position = other.position, review.position
    meeting.touch()
    db.session.commit()
    return True


def set_skipped(meeting: Meeting, review: AccountReview, skipped: bool) -> None:
    """Skip an account in this meeting (it needs no answers), or take it back."""
    if review.skipped != skipped:
        review.skipped = skipped
        meeting.touch()
        db.session.commit()


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
    if name == "projection_date" and value is not None and value < meeting_date(meeting):
        return f"Choose a date on or after the meeting’s date ({value_label(meeting_date(meeting))})."
    if name == "projection_date" and value is not None and value > meeting_date(meeting) + PROJECTION_WITHIN:
        return "Choose a date within five years of the meeting."
    if name == "outcome" and value not in (None, *OUTCOMES):
        return "Choose done or not done."
    return None


def value_label(value) -> str:
    return f"{value:%a %-d %b %Y}" if isinstance(value, date) else str(value or "")


def save_review(review: AccountReview, values: dict, base_version: int | None) -> SaveResult:
    """Store the card's valid fields if they were typed over the stored version.

    A save based on an older (or unknown: None) version is refused when it would change anything (two devices);
    a retried save whose values are already stored succeeds without a change (idempotent).
    """
    meeting = review.meeting
    errors = {name: problem for name, value in values.items() if (problem := field_problem(meeting, name, value))}
    changes = {name: value for name, value in values.items() if name not in errors and getattr(review, name) != value}
    if changes and base_version != review.version:
        return _conflict(review, values, errors)
    if changes:
        stored = db.session.execute(
            update(AccountReview)
            .where(AccountReview.id == review.id, AccountReview.version == review.version)
            .values(**changes, version=AccountReview.version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if stored.rowcount != 1:
            # Another save slipped in between our read and our write: judge against what it stored.
            db.session.rollback()
            return _conflict(review, values, errors)
        version = review.version + 1
        meeting.touch()
        db.session.commit()
        return SaveResult(version=version, errors=errors)
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
    """Record the actual start (once; starting early is allowed)."""
    if meeting.started_at is not None:
        return
    meeting.started_at = utcnow()
    if meeting.current_review_id is None and meeting.reviews:
        meeting.current_review_id = ordered_reviews(meeting)[0].id
    meeting.touch()
    db.session.commit()


def missing_answers(meeting: Meeting) -> list[tuple[AccountReview, list[str]]]:
    """Cards not skipped that lack the next step or the projection date."""
    missing = []
    for review in ordered_reviews(meeting):
        if review.skipped:
            continue
        lacks = []
        if not review.next_step:
            lacks.append("next step")
        if review.projection_date is None:
            lacks.append("projection date")
        if lacks:
            missing.append((review, lacks))
    return missing


def finish(meeting: Meeting) -> list[tuple[AccountReview, list[str]]]:
    """End the meeting and record last time's outcomes; returns what is missing instead when answers lack."""
    if meeting.is_finished:
        return []
    missing = missing_answers(meeting)
    if missing:
        return missing
    now = utcnow()
    for review in meeting.reviews:
        if review.skipped or review.previous_review_id is None:
            # A skipped account's last step was not discussed: it stays open for the next meeting.
            review.outcome = None
        if review.outcome is not None:
            review.outcome_at = now
    meeting.finished_at = now
    meeting.current_review_id = None
    meeting.touch()
    signals.meeting_finished.send(meeting)
    db.session.commit()
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
    reviews = ordered_reviews(meeting)
    discussed = [review for review in reviews if not review.skipped]
    duration = meeting.finished_at - meeting.started_at if meeting.finished_at and meeting.started_at else None
    return Summary(
        discussed=discussed,
        skipped=[review for review in reviews if review.skipped],
        slips=sum(review.is_slipped for review in discussed),
        done=sum(review.outcome == "done" for review in discussed),
        not_done=sum(review.outcome == "not_done" for review in discussed),
        duration=duration,
        on_time=started_on_time(meeting),
    )
