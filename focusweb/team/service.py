"""The team's meeting health, derived from rows (no counters), in a fixed number of queries.

Definitions (SPEC.md "Between meetings", docs/data-model.md):
- a meeting is *held* once started; *on time* when it started at most 5 minutes after its
  scheduled time; *rescheduled* when it has Reschedule rows;
- a *step* is a review's next step in a finished meeting; it is *open* until a later review
  records its outcome, or a newer finished meeting gives the account a newer step;
- *preparation*: accounts with a card filled in since the last finished meeting;
- *overdue*: open and its projection date has passed (in the seller's time zone);
- *done by its projection date*: the outcome "done" was recorded on or before that date;
  the share counts the steps whose projection date fell in the last 90 days (before today);
- *slipped*: the outcome "not done" was recorded after the projection date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Account, AccountReview, Meeting, Reschedule, User, utcnow

RECENT_MEETINGS = 12
ON_TIME = timedelta(minutes=5)
SHARE_DAYS = 90


def started_on_time(meeting: Meeting) -> bool:
    """Started no more than 5 minutes after the scheduled time."""
    return meeting.started_at is not None and meeting.started_at - meeting.scheduled_at <= ON_TIME


@dataclass(frozen=True)
class Step:
    """One next step and what became of it."""

    review_id: int
    account_id: int
    account_name: str
    account_archived: bool
    next_step: str
    projection_date: date | None
    meeting_id: int
    outcome: str | None
    outcome_on: date | None  # the day the outcome was recorded, in the seller's zone
    superseded: bool

    @property
    def is_open(self) -> bool:
        return self.outcome is None and not self.superseded and not self.account_archived

    @property
    def done_on_time(self) -> bool:
        return (
            self.outcome == "done"
            and self.projection_date is not None
            and self.outcome_on is not None
            and self.outcome_on <= self.projection_date
        )

    @property
    def is_slipped(self) -> bool:
        return (
            self.outcome == "not_done"
            and self.projection_date is not None
            and self.outcome_on is not None
            and self.outcome_on > self.projection_date
        )


@dataclass
class SellerHealth:
    """Everything the team view shows about one seller."""

    seller: User
    today: date
    next_meeting: Meeting | None = None
    running: Meeting | None = None
    last_finished_at: datetime | None = None
    accounts: list[Account] = field(default_factory=list)
    prepared_ids: set[int] = field(default_factory=set)
    recent: list[Meeting] = field(default_factory=list)  # held meetings, newest first
    reschedules: dict[int, list[Reschedule]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    @property
    def prepared(self) -> list[Account]:
        return [account for account in self.accounts if account.id in self.prepared_ids]

    @property
    def unprepared(self) -> list[Account]:
        return [account for account in self.accounts if account.id not in self.prepared_ids]

    @property
    def on_time(self) -> list[Meeting]:
        return [meeting for meeting in self.recent if started_on_time(meeting)]

    @property
    def rescheduled(self) -> list[Meeting]:
        return [meeting for meeting in self.recent if self.reschedules.get(meeting.id)]

    @property
    def open_steps(self) -> list[Step]:
        return sorted((s for s in self.steps if s.is_open), key=_by_date)

    @property
    def overdue_steps(self) -> list[Step]:
        return [s for s in self.open_steps if s.projection_date and s.projection_date < self.today]

    @property
    def due_steps(self) -> list[Step]:
        """Steps whose projection date fell in the last 90 days: the share's denominator."""
        start = self.today - timedelta(days=SHARE_DAYS)
        return sorted(
            (s for s in self.steps if s.projection_date and start <= s.projection_date < self.today), key=_by_date
        )

    @property
    def done_on_time(self) -> list[Step]:
        return [s for s in self.due_steps if s.done_on_time]

    @property
    def slipped(self) -> list[Step]:
        return [s for s in self.due_steps if s.is_slipped]

    @property
    def done_share(self) -> int | None:
        """Percent of due steps done by their projection date (None when nothing fell due)."""
        due = len(self.due_steps)
        return round(100 * len(self.done_on_time) / due) if due else None


def _by_date(step: Step):
    return (step.projection_date or date.max, step.account_name.casefold())


def team_seller_ids(manager_id: int) -> list[int]:
    """The ids of the manager's sellers."""
    return list(db.session.scalars(select(User.id).where(User.manager_id == manager_id, User.role == "seller")))


def team_health(manager_id: int, seller_id: int | None = None) -> list[SellerHealth]:
    """Meeting health of the manager's sellers (or one of them); eight queries whatever the team size."""
    query = select(User).where(User.manager_id == manager_id, User.role == "seller").order_by(User.name)
    if seller_id is not None:
        query = query.where(User.id == seller_id)
    return health_of(db.session.scalars(query).all())


def health_of(sellers: list[User]) -> list[SellerHealth]:
    """Meeting health of the given sellers, in their order."""
    if not sellers:
        return []
    now = utcnow()
    health = {s.id: SellerHealth(seller=s, today=now.astimezone(ZoneInfo(s.timezone)).date()) for s in sellers}
    ids = list(health)
    _add_upcoming(health, ids, now)
    _add_recent(health, ids)
    _add_preparation(health, ids)
    _add_steps(health, ids)
    return list(health.values())


def _add_upcoming(health: dict[int, SellerHealth], ids: list[int], now: datetime) -> None:
    """The running meeting, and the next one not finished (from today on, in the seller's zone)."""
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.seller_id.in_(ids), Meeting.finished_at.is_(None))
        .where(or_(Meeting.started_at.is_not(None), Meeting.scheduled_at >= now - timedelta(days=2)))
        .order_by(Meeting.scheduled_at)
    ).all()
    for meeting in meetings:
        entry = health[meeting.seller_id]
        if meeting.is_running and entry.running is None:
            entry.running = meeting
        local_day = meeting.scheduled_at.astimezone(ZoneInfo(entry.seller.timezone)).date()
        if entry.next_meeting is None and (meeting.is_running or local_day >= entry.today):
            entry.next_meeting = meeting


def _add_recent(health: dict[int, SellerHealth], ids: list[int]) -> None:
    """The last 12 held meetings per seller, their reschedules, and the last finish time."""
    ranked = (
        select(
            Meeting.id,
            func.row_number().over(partition_by=Meeting.seller_id, order_by=Meeting.scheduled_at.desc()).label("n"),
        )
        .where(Meeting.seller_id.in_(ids), Meeting.started_at.is_not(None))
        .subquery()
    )
    recent = db.session.scalars(
        select(Meeting)
        .join(ranked, ranked.c.id == Meeting.id)
        .where(ranked.c.n <= RECENT_MEETINGS)
        .order_by(Meeting.scheduled_at.desc())
    ).all()
    for meeting in recent:
        health[meeting.seller_id].recent.append(meeting)
    seller_of = {meeting.id: meeting.seller_id for meeting in recent}
    if seller_of:
        for reschedule in db.session.scalars(
            select(Reschedule).where(Reschedule.meeting_id.in_(list(seller_of))).order_by(Reschedule.created_at)
        ):
            health[seller_of[reschedule.meeting_id]].reschedules.setdefault(reschedule.meeting_id, []).append(
                reschedule
            )
    for seller_id, finished_at in db.session.execute(
        select(Meeting.seller_id, func.max(Meeting.finished_at))
        .where(Meeting.seller_id.in_(ids))
        .group_by(Meeting.seller_id)
    ):
        health[seller_id].last_finished_at = finished_at and _aware(finished_at)


def _aware(value: datetime) -> datetime:
    # Aggregates skip the UTCDateTime type decorator on SQLite: put the zone back.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _add_preparation(health: dict[int, SellerHealth], ids: list[int]) -> None:
    """Active Key/Target accounts, and which have a card filled in since the last finished meeting.

    Prep happens on the meeting's own cards (SPEC.md "Before"), so a card with notes, a next
    step or last time's outcome saved after the last meeting ended is what "updated" means;
    an account merely created or renamed is not preparation.
    """
    filled = or_(AccountReview.notes != "", AccountReview.next_step != "", AccountReview.outcome.is_not(None))
    last_card = (
        select(AccountReview.account_id, func.max(AccountReview.updated_at).label("at"))
        .join(Account, Account.id == AccountReview.account_id)
        .where(Account.owner_id.in_(ids), filled)
        .group_by(AccountReview.account_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Account, last_card.c.at)
        .outerjoin(last_card, last_card.c.account_id == Account.id)
        .where(Account.owner_id.in_(ids), Account.archived_at.is_(None))
        .order_by(Account.kind, Account.name_key)
    ).all()
    for account, card_at in rows:
        entry = health[account.owner_id]
        entry.accounts.append(account)
        since = entry.last_finished_at
        if since is not None and card_at is not None and _aware(card_at) > since:
            entry.prepared_ids.add(account.id)


def _add_steps(health: dict[int, SellerHealth], ids: list[int]) -> None:
    """Steps that are open, or whose projection date is recent enough for the 90-day share."""
    step, follow_up, newer = aliased(AccountReview), aliased(AccountReview), aliased(AccountReview)
    meeting, newer_meeting = aliased(Meeting), aliased(Meeting)
    superseded = (
        exists()
        .where(
            newer.account_id == step.account_id,
            newer.id != step.id,
            newer.next_step != "",
            newer.skipped.is_(False),
            newer.meeting_id == newer_meeting.id,
            newer_meeting.finished_at.is_not(None),
            newer_meeting.scheduled_at > meeting.scheduled_at,
        )
        .correlate(step, meeting)
    )
    oldest_today = min(entry.today for entry in health.values())
    cutoff = oldest_today - timedelta(days=SHARE_DAYS + 1)
    rows = db.session.execute(
        select(
            step.id,
            meeting.seller_id,
            step.account_id,
            Account.name,
            Account.archived_at,
            step.next_step,
            step.projection_date,
            meeting.id,
            follow_up.outcome,
            follow_up.outcome_at,
            superseded.label("superseded"),
        )
        .join(meeting, meeting.id == step.meeting_id)
        .join(Account, Account.id == step.account_id)
        .outerjoin(follow_up, and_(follow_up.previous_review_id == step.id, follow_up.outcome.is_not(None)))
        .where(
            meeting.seller_id.in_(ids),
            meeting.finished_at.is_not(None),
            step.next_step != "",
            step.skipped.is_(False),
        )
        .where(or_(and_(follow_up.id.is_(None), ~superseded), step.projection_date >= cutoff))
        .order_by(step.id, follow_up.id)
    ).all()
    seen: set[int] = set()
    for row in rows:
        if row[0] in seen:  # two later cards looking back on one step: the first outcome counts
            continue
        seen.add(row[0])
        entry = health[row.seller_id]
        outcome_at = row.outcome_at
        outcome_on = _aware(outcome_at).astimezone(ZoneInfo(entry.seller.timezone)).date() if outcome_at else None
        entry.steps.append(
            Step(
                review_id=row[0],
                account_id=row.account_id,
                account_name=row.name,
                account_archived=row.archived_at is not None,
                next_step=row.next_step,
                projection_date=row.projection_date,
                meeting_id=row[7],
                outcome=row.outcome,
                outcome_on=outcome_on,
                superseded=bool(row.superseded),
            )
        )
