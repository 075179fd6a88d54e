"""Next steps between meetings: open steps, slips, an account's history, and the seller's prep.

Words as in SPEC.md. A *next step* is an ``AccountReview`` with a non-empty ``next_step`` in a
finished meeting. A seller's *open* next step for an account is the newest such review until a
later finished meeting records its outcome (a review whose ``previous_review_id`` points at it
with ``outcome`` set). It is *overdue* when its projection date is before today in the seller's
time zone. A *slip* is an outcome of *not done* recorded after the projection date
(``AccountReview.is_slipped``). Every function here runs a fixed number of queries, however many
accounts or meetings there are. No request objects in here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from ..extensions import db
from ..models import Account, AccountReview, Meeting, User, utcnow
from ..schedule.service import local_today

CREATED_NOT_EDITED = timedelta(seconds=1)


@dataclass
class OpenNextStep:
    """A seller's current commitment for one account."""

    review: AccountReview
    account: Account
    meeting: Meeting
    overdue: bool
    slips: int  # slips recorded on this account, ever

    @property
    def projection_date(self) -> date:
        return self.review.projection_date


def _steps_in_finished_meetings():
    return (
        select(AccountReview)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(Meeting.finished_at.is_not(None), AccountReview.next_step != "")
    )


def _outcome_recorded(step_id_column):
    """True where a later finished meeting recorded the outcome of the step with this id."""
    later, later_meeting = aliased(AccountReview), aliased(Meeting)
    return (
        select(later.id)
        .join(later_meeting, later_meeting.id == later.meeting_id)
        .where(
            later.previous_review_id == step_id_column,
            later.outcome.is_not(None),
            later_meeting.finished_at.is_not(None),
        )
        .exists()
    )


def open_next_steps(seller_id: int, today: date | None = None, slips: Counter[int] | None = None) -> list[OpenNextStep]:
    """The seller's open next step per active account: overdue first, then by projection date.

    ``slips`` is ``slips_by_account(seller_id)`` when the caller has it already.
    """
    seller = db.session.get(User, seller_id)
    today = today or local_today(seller.timezone)
    newest_first = func.row_number().over(
        partition_by=AccountReview.account_id, order_by=(Meeting.finished_at.desc(), AccountReview.id.desc())
    )
    ranked = (
        _steps_in_finished_meetings()
        .with_only_columns(AccountReview.id.label("review_id"), newest_first.label("rank"))
        .join(Account, Account.id == AccountReview.account_id)
        .where(Account.owner_id == seller_id, Account.archived_at.is_(None))
        .subquery()
    )
    rows = db.session.execute(
        select(AccountReview, Account, Meeting)
        .join(ranked, and_(ranked.c.review_id == AccountReview.id, ranked.c.rank == 1))
        .join(Account, Account.id == AccountReview.account_id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(~_outcome_recorded(AccountReview.id))
    ).all()
    slips = slips_by_account(seller_id) if slips is None else slips
    steps = [
        OpenNextStep(
            review=review,
            account=account,
            meeting=meeting,
            overdue=review.projection_date is not None and review.projection_date < today,
            slips=slips[account.id],
        )
        for review, account, meeting in rows
    ]
    steps.sort(key=lambda step: (not step.overdue, step.projection_date or date.max, step.account.name_key))
    return steps


def slips_by_account(seller_id: int) -> Counter[int]:
    """How many slips each of the seller's accounts has had (outcomes recorded in finished meetings)."""
    outcomes = db.session.scalars(
        select(AccountReview)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(
            Meeting.seller_id == seller_id,
            Meeting.finished_at.is_not(None),
            AccountReview.outcome == "not_done",
        )
        .options(joinedload(AccountReview.previous_review))
    ).all()
    return Counter(review.account_id for review in outcomes if review.is_slipped)


@dataclass
class HistoryStep:
    """One next step in an account's history and what became of it."""

    review: AccountReview
    meeting: Meeting
    outcome_review: AccountReview | None  # the later review that recorded the outcome
    is_open: bool
    overdue: bool

    @property
    def outcome(self) -> str | None:
        return self.outcome_review.outcome if self.outcome_review else None

    @property
    def slipped(self) -> bool:
        return bool(self.outcome_review and self.outcome_review.is_slipped)

    @property
    def done_on_time(self) -> bool:
        """Recorded done by its projection date (UTC date of the record, as ``is_slipped`` reads it)."""
        review = self.outcome_review
        return bool(
            review
            and review.outcome == "done"
            and self.review.projection_date is not None
            and review.outcome_at is not None
            and review.outcome_at.date() <= self.review.projection_date
        )


def account_history(account: Account, today: date | None = None) -> list[HistoryStep]:
    """Every next step of the account, newest first, with its outcome, slip and timeliness."""
    today = today or local_today(account.owner.timezone)
    rows = db.session.execute(
        _steps_in_finished_meetings()
        .add_columns(Meeting)
        .where(AccountReview.account_id == account.id)
        .order_by(Meeting.finished_at.desc(), AccountReview.id.desc())
    ).all()
    step_ids = [review.id for review, _ in rows]
    outcomes = {}
    if step_ids:
        # The steps just loaded sit in the session, so each ``is_slipped`` finds its previous review there.
        outcomes = {
            review.previous_review_id: review
            for review in db.session.scalars(
                select(AccountReview)
                .join(Meeting, Meeting.id == AccountReview.meeting_id)
                .where(
                    AccountReview.previous_review_id.in_(step_ids),
                    AccountReview.outcome.is_not(None),
                    Meeting.finished_at.is_not(None),
                )
            )
        }
    history = []
    for position, (review, meeting) in enumerate(rows):
        is_open = position == 0 and review.id not in outcomes
        history.append(
            HistoryStep(
                review=review,
                meeting=meeting,
                outcome_review=outcomes.get(review.id),
                is_open=is_open,
                overdue=is_open and review.projection_date is not None and review.projection_date < today,
            )
        )
    return history


@dataclass
class PrepStatus:
    """How prepared a seller is for the next meeting (the seller's home and the manager's team view)."""

    last_meeting: Meeting | None
    accounts_total: int
    stale_accounts: list[Account] = field(default_factory=list)
    overdue: list[OpenNextStep] = field(default_factory=list)
    commitments: list[AccountReview] = field(default_factory=list)

    @property
    def accounts_updated(self) -> int:
        return self.accounts_total - len(self.stale_accounts)

    @property
    def summary(self) -> str:
        """E.g. "6 of 10 accounts updated since last meeting"."""
        since = "since last meeting" if self.last_meeting else "for the first meeting"
        return f"{self.accounts_updated} of {self.accounts_total} accounts updated {since}"


def _has_content():
    return or_(
        AccountReview.notes != "",
        AccountReview.next_step != "",
        AccountReview.projection_date.is_not(None),
        AccountReview.outcome.is_not(None),
    )


def _edited_after(account: Account, moment: datetime) -> bool:
    # created_at and updated_at get separate utcnow() calls on insert: a new row differs by microseconds.
    return account.updated_at > max(moment, account.created_at + CREATED_NOT_EDITED)


def prep_status(seller: User, now: datetime | None = None) -> PrepStatus:
    """The seller's prep list: stale accounts, overdue next steps, and last meeting's commitments.

    An active Key or Target account counts as *updated since the last meeting* when any of:
    - the last finished meeting has a review of it that was not skipped and has notes or a next step;
    - an unfinished meeting has a review of it with something written in it (prep is done on the
      meeting's own screens);
    - the account itself (name, kind, notes) was edited after the last finished meeting ended;
      adding an account is not editing it, so an account added since then needs one of these too.
    Otherwise it is *stale*. Before a seller's first finished meeting only prep answers count.
    """
    now = now or utcnow()
    last = db.session.scalar(
        select(Meeting)
        .where(Meeting.seller_id == seller.id, Meeting.finished_at.is_not(None))
        .order_by(Meeting.finished_at.desc())
        .limit(1)
    )
    accounts = db.session.scalars(
        select(Account)
        .where(Account.owner_id == seller.id, Account.archived_at.is_(None))
        .order_by(Account.kind, Account.name_key)
    ).all()
    in_unfinished_prep = and_(Meeting.finished_at.is_(None), _has_content())
    discussed_last = (
        and_(
            Meeting.id == last.id,
            AccountReview.skipped.is_(False),
            or_(AccountReview.notes != "", AccountReview.next_step != ""),
        )
        if last
        else None
    )
    updated_ids = set(
        db.session.scalars(
            select(AccountReview.account_id)
            .join(Meeting, Meeting.id == AccountReview.meeting_id)
            .where(Meeting.seller_id == seller.id)
            .where(or_(in_unfinished_prep, discussed_last) if last else in_unfinished_prep)
        )
    )
    stale = [
        account
        for account in accounts
        if account.id not in updated_ids and not (last and _edited_after(account, last.finished_at))
    ]
    commitments = []
    if last:
        commitments = db.session.scalars(
            select(AccountReview)
            .join(Account, Account.id == AccountReview.account_id)
            .where(AccountReview.meeting_id == last.id, AccountReview.next_step != "", Account.archived_at.is_(None))
            .order_by(AccountReview.position)
            .options(contains_eager(AccountReview.account))
        ).all()
    today = local_today(seller.timezone, now)
    overdue = [step for step in open_next_steps(seller.id, today) if step.overdue]
    return PrepStatus(
        last_meeting=last,
        accounts_total=len(accounts),
        stale_accounts=stale,
        overdue=overdue,
        commitments=list(commitments),
    )
