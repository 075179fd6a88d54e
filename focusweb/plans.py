"""The rows the plan's rules judge (focusweb.rules): steps, newest steps, slips, preparation.

Loaders take many sellers at once and run a fixed number of queries, however many sellers,
accounts or meetings there are. No request objects in here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, inspect, or_, select, union, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from .extensions import db
from .models import Account, AccountReview, Meeting, User, utcnow
from .rules import is_done_on_time, is_overdue, is_slipped, local_day

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
    open ones and those whose projection date is on or after that day. Those two are read through
    each account's newest step (``Account.last_step_id``) and the (account, projection date) index:
    their cost does not grow with the length of the history.
    """
    if not sellers:
        return []
    now = now or utcnow()
    by_id = {seller.id: seller for seller in sellers}
    seller_ids = list(by_id)
    # The later card that recorded this step's outcome, in a finished meeting. Joined row by row through
    # the previous_review_id index: a derived table of every outcome would be scanned once per step.
    later, later_meeting = aliased(AccountReview), aliased(Meeting)
    recorded_in_finished_meeting = (
        select(later_meeting.id).where(later_meeting.id == later.meeting_id, later_meeting.finished_at.is_not(None))
    ).exists()
    query = (
        select(AccountReview, later.outcome, later.outcome_at, Account.last_step_id)
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
        .where(is_step())
        .order_by(Meeting.scheduled_at.desc(), AccountReview.id.desc(), later.id)
    )
    # Open and recent steps are picked by id from the sellers' accounts (their cards are their owner's):
    # with the sellers' meetings as well to filter on, PostgreSQL would scan every card to join them.
    owned = select(Account.id).where(Account.owner_id.in_(seller_ids))
    newest = select(Account.last_step_id).where(Account.owner_id.in_(seller_ids), Account.last_step_id.is_not(None))
    is_open = and_(AccountReview.id == Account.last_step_id, later.id.is_(None), Account.archived_at.is_(None))
    if open_only:
        query = query.where(AccountReview.id.in_(newest), is_open)
    elif due_since is not None:
        recent = select(AccountReview.id).where(
            AccountReview.account_id.in_(owned), AccountReview.projection_date >= due_since
        )
        query = query.where(
            AccountReview.id.in_(union(newest, recent)), or_(is_open, AccountReview.projection_date >= due_since)
        )
    else:
        query = query.where(Meeting.seller_id.in_(seller_ids))
    if account_id is not None:
        query = query.where(AccountReview.account_id == account_id)
    rows = db.session.execute(query).all()
    # Accounts and meetings repeat over many steps: loaded once each, not once per row.
    accounts = _by_id(Account, {row[0].account_id for row in rows})
    meetings = _by_id(Meeting, {row[0].meeting_id for row in rows})
    steps, seen = [], set()
    for review, outcome, outcome_at, last_step_id in rows:
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
                newest=review.id == last_step_id,
                outcome=outcome,
                outcome_at=outcome_at,
                recorded_on=local_day(outcome_at, zone),
            )
        )
    return steps


# -- each account's newest step, kept on the account ----------------------------------------------------------


def newest_step_id(account_id):
    """SQL: the id of the account's newest step, or NULL before its first (by the rules above)."""
    return (
        select(AccountReview.id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(AccountReview.account_id == account_id, is_step())
        .order_by(Meeting.scheduled_at.desc(), AccountReview.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def keep_newest_steps(connection, account_ids: set[int] | None = None) -> None:
    """Store each account's newest step on it (all accounts when ``account_ids`` is None)."""
    accounts = Account.__table__
    statement = update(accounts).values(
        last_step_id=newest_step_id(accounts.c.id).correlate(accounts),
        updated_at=accounts.c.updated_at,  # a derived value: the account itself was not edited
    )
    if account_ids is not None:
        if not account_ids:
            return
        statement = statement.where(accounts.c.id.in_(sorted(account_ids)))
    connection.execute(statement)


def note_changed_steps(session: Session, _context) -> None:
    """After a flush: collect the accounts whose newest step it may change (a meeting finished, a finished card edited).

    Finished meetings are read-only in the app; this also keeps the demo data, the scale generator's
    ORM writes and tests that build finished meetings directly right.
    """
    changed = session.info.setdefault("step_accounts", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, Meeting) and _changed(item, "finished_at", "scheduled_at"):
            if item.finished_at is not None or inspect(item).attrs.finished_at.history.deleted:
                changed.update(review.account_id for review in item.reviews)
        elif isinstance(item, AccountReview):
            new_or_gone = item in session.new or item in session.deleted
            if new_or_gone or _changed(item, "next_step", "skipped", "account_id", "meeting_id"):
                meeting = session.get(Meeting, item.meeting_id)
                if meeting is None or meeting.finished_at is not None:
                    changed.add(item.account_id)


def store_newest_steps(session: Session, _context) -> None:
    """After a flush's statements: recompute the newest step of the accounts noted above (focusweb.transactions)."""
    changed = session.info.pop("step_accounts", None)
    if not changed:
        return
    keep_newest_steps(session.connection(), changed)
    for account_id in changed:
        account = session.identity_map.get(identity_key(Account, account_id))
        if account is not None:
            session.expire(account, ["last_step_id"])


def _changed(item, *names: str) -> bool:
    state = inspect(item)
    return any(state.attrs[name].history.has_changes() for name in names)


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
    # Cards read through their meetings not yet finished: a handful per seller, however long the history.
    not_finished = select(Meeting.id).where(Meeting.seller_id.in_(seller_ids), Meeting.finished_at.is_(None))
    return set(
        db.session.scalars(
            select(AccountReview.account_id)
            .distinct()
            .join(Meeting, Meeting.id == AccountReview.meeting_id)
            .outerjoin(last, last.c.seller_id == Meeting.seller_id)
            .where(
                AccountReview.meeting_id.in_(not_finished),
                has_content(),
                or_(last.c.at.is_(None), AccountReview.updated_at > last.c.at),
            )
        )
    )
