"""The plan's words, defined once. Every page, e-mail, feed and figure uses these rules.

- A *step* (next step) is the next step of an account review in a finished meeting, where the
  account was not skipped. Its *projection date* is the day it was promised for.
- Its *outcome is recorded* when a later review looks back on it (``previous_review_id``) with
  done or not done, and that review's meeting has finished (``finish`` stamps ``outcome_at``).
  Until then done / not done on a card is a draft. The outcome's *day* is ``outcome_at`` in the
  seller's time zone.
- An account's *newest* step is the one from its latest-scheduled meeting; older ones are
  *superseded*.
- *Open*: the newest step of an active (not archived) account, with no outcome recorded.
  An account has at most one open step.
- *Overdue*: open, and the projection date is before today in the seller's time zone.
- *Done by its projection date* (done on time): done, recorded on or before the projection date.
- *Slipped*: not done, recorded after the projection date (not done before it is no slip).
- *Started on time*: started at most 5 minutes after the scheduled time; early counts as on
  time; a meeting not started is neither (None).
- *Prepared* (updated since the last meeting): an active account whose card in a meeting not
  yet finished has something written in it (notes, next step, projection date or last time's
  outcome), saved after the seller's last finished meeting ended (any time before the first).
  Prep is done on the meeting's own cards: editing the account itself is not preparation, and
  having been discussed last time is not being updated since.
- *Commitments from last time*: the steps set in the seller's last finished meeting.

Loaders take many sellers at once and run a fixed number of queries, however many sellers,
accounts or meetings there are. No request objects in here.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Account, AccountReview, Meeting, User, utcnow

ON_TIME = timedelta(minutes=5)


# -- the rules -------------------------------------------------------------------------------------------


def started_on_time(meeting: Meeting) -> bool | None:
    """Started no later than 5 minutes after the scheduled time (early is on time); None before the start."""
    if meeting.started_at is None:
        return None
    return meeting.started_at - meeting.scheduled_at <= ON_TIME


def minutes_late(meeting: Meeting) -> int:
    """Whole minutes (rounded up) the start came after the scheduled time; 0 when early or not started."""
    if meeting.started_at is None:
        return 0
    return max(0, math.ceil((meeting.started_at - meeting.scheduled_at).total_seconds() / 60))


def local_day(moment: datetime | None, zone: str) -> date | None:
    """The calendar day of a UTC moment where the seller lives."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date()


def is_overdue(projection_date: date | None, today: date) -> bool:
    """The projection date has passed (the caller knows the step is open)."""
    return projection_date is not None and projection_date < today


def is_done_on_time(outcome: str | None, projection_date: date | None, recorded_on: date | None) -> bool:
    """Done, recorded on or before the projection date."""
    if outcome != "done" or projection_date is None or recorded_on is None:
        return False
    return recorded_on <= projection_date


def is_slipped(outcome: str | None, projection_date: date | None, recorded_on: date | None) -> bool:
    """Not done, recorded after the projection date."""
    if outcome != "not_done" or projection_date is None or recorded_on is None:
        return False
    return recorded_on > projection_date


# -- the rows they read ----------------------------------------------------------------------------------


def is_step():
    """SQL: the AccountReview (joined with its Meeting) sets a step."""
    return and_(Meeting.finished_at.is_not(None), AccountReview.skipped.is_(False), AccountReview.next_step != "")


def has_content():
    """SQL: something is written on the card."""
    return or_(
        AccountReview.notes != "",
        AccountReview.next_step != "",
        AccountReview.projection_date.is_not(None),
        AccountReview.outcome.is_not(None),
    )


@dataclass
class Step:
    """One next step and what became of it, judged by the rules above."""

    review: AccountReview  # the card that set it
    account: Account
    meeting: Meeting  # the finished meeting it was set in
    today: date  # in the seller's time zone
    newest: bool
    outcome: str | None = None
    outcome_at: datetime | None = None
    recorded_on: date | None = None  # the outcome's day, in the seller's time zone
    slips: int = 0  # slips on this account ever, where a page shows them (nextsteps.open_next_steps)

    @property
    def next_step(self) -> str:
        return self.review.next_step

    @property
    def projection_date(self) -> date | None:
        return self.review.projection_date

    @property
    def is_open(self) -> bool:
        return self.outcome is None and self.newest and self.account.archived_at is None

    @property
    def superseded(self) -> bool:
        return self.outcome is None and not self.newest

    @property
    def overdue(self) -> bool:
        return self.is_open and is_overdue(self.projection_date, self.today)

    @property
    def done_on_time(self) -> bool:
        return is_done_on_time(self.outcome, self.projection_date, self.recorded_on)

    @property
    def slipped(self) -> bool:
        return is_slipped(self.outcome, self.projection_date, self.recorded_on)


def load_steps(
    sellers: list[User],
    *,
    account_id: int | None = None,
    open_only: bool = False,
    due_since: date | None = None,
    now: datetime | None = None,
) -> list[Step]:
    """The sellers' steps, newest first, in one query.

    All of them, or of one account; ``open_only`` keeps the open ones; ``due_since`` keeps the
    open ones and those whose projection date is on or after that day.
    """
    if not sellers:
        return []
    now = now or utcnow()
    by_id = {seller.id: seller for seller in sellers}
    newest_first = func.row_number().over(
        partition_by=AccountReview.account_id, order_by=(Meeting.scheduled_at.desc(), AccountReview.id.desc())
    )
    ranked = select(AccountReview.id.label("review_id"), newest_first.label("rank")).join(
        Meeting, Meeting.id == AccountReview.meeting_id
    )
    ranked = ranked.where(is_step(), Meeting.seller_id.in_(list(by_id)))
    if account_id is not None:
        ranked = ranked.where(AccountReview.account_id == account_id)
    ranked = ranked.subquery()
    # The later card that recorded this step's outcome, in a finished meeting. Joined row by row through
    # the previous_review_id index: a derived table of every outcome would be scanned once per step.
    later, later_meeting = aliased(AccountReview), aliased(Meeting)
    recorded_in_finished_meeting = (
        select(later_meeting.id).where(later_meeting.id == later.meeting_id, later_meeting.finished_at.is_not(None))
    ).exists()
    query = (
        select(AccountReview, later.outcome, later.outcome_at, ranked.c.rank)
        .join(ranked, ranked.c.review_id == AccountReview.id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .join(Account, Account.id == AccountReview.account_id)
        .outerjoin(
            later,
            and_(
                later.previous_review_id == AccountReview.id,
                later.outcome.is_not(None),
                recorded_in_finished_meeting,
            ),
        )
        .order_by(Meeting.scheduled_at.desc(), AccountReview.id.desc(), later.id)
    )
    is_open = and_(ranked.c.rank == 1, later.id.is_(None), Account.archived_at.is_(None))
    if open_only:
        query = query.where(is_open)
    elif due_since is not None:
        query = query.where(or_(is_open, AccountReview.projection_date >= due_since))
    rows = db.session.execute(query).all()
    # Accounts and meetings repeat over many steps: loaded once each, not once per row.
    accounts = _by_id(Account, {row[0].account_id for row in rows})
    meetings = _by_id(Meeting, {row[0].meeting_id for row in rows})
    steps, seen = [], set()
    for review, outcome, outcome_at, rank in rows:
        if review.id in seen:  # two later cards looking back on one step: the first outcome counts
            continue
        seen.add(review.id)
        account, meeting = accounts[review.account_id], meetings[review.meeting_id]
        zone = by_id[meeting.seller_id].timezone
        steps.append(
            Step(
                review=review,
                account=account,
                meeting=meeting,
                today=local_day(now, zone),
                newest=rank == 1,
                outcome=outcome,
                outcome_at=outcome_at,
                recorded_on=local_day(outcome_at, zone),
            )
        )
    return steps


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def by_urgency(steps: list[Step]) -> list[Step]:
    """Overdue first, then by projection date, then by account name."""
    return sorted(steps, key=lambda s: (not s.overdue, s.projection_date or date.max, s.account.name_key))


def slips_by_account(seller: User) -> Counter[int]:
    """How many slips each of the seller's accounts has had."""
    step = aliased(AccountReview)
    rows = db.session.execute(
        select(AccountReview.account_id, AccountReview.outcome_at, step.projection_date)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .join(step, step.id == AccountReview.previous_review_id)
        .where(Meeting.seller_id == seller.id, Meeting.finished_at.is_not(None), AccountReview.outcome == "not_done")
    )
    return Counter(
        account_id
        for account_id, outcome_at, projection_date in rows
        if is_slipped("not_done", projection_date, local_day(outcome_at, seller.timezone))
    )


def last_finished(seller_ids: list[int]) -> dict[int, Meeting]:
    """Each seller's last finished meeting (sellers without one are left out)."""
    newest_first = func.row_number().over(partition_by=Meeting.seller_id, order_by=Meeting.finished_at.desc())
    ranked = (
        select(Meeting.id, newest_first.label("rank"))
        .where(Meeting.seller_id.in_(seller_ids), Meeting.finished_at.is_not(None))
        .subquery()
    )
    meetings = db.session.scalars(select(Meeting).join(ranked, ranked.c.id == Meeting.id).where(ranked.c.rank == 1))
    return {meeting.seller_id: meeting for meeting in meetings}


def prepared_account_ids(seller_ids: list[int]) -> set[int]:
    """The sellers' accounts with a card written on since their last finished meeting ended."""
    last = (
        select(Meeting.seller_id, func.max(Meeting.finished_at).label("at"))
        .where(Meeting.seller_id.in_(seller_ids))
        .group_by(Meeting.seller_id)
        .subquery()
    )
    return set(
        db.session.scalars(
            select(AccountReview.account_id)
            .distinct()
            .join(Meeting, Meeting.id == AccountReview.meeting_id)
            .outerjoin(last, last.c.seller_id == Meeting.seller_id)
            .where(
                Meeting.seller_id.in_(seller_ids),
                Meeting.finished_at.is_(None),
                has_content(),
                or_(last.c.at.is_(None), AccountReview.updated_at > last.c.at),
            )
        )
    )
