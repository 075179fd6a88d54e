"""The team's meeting health, derived from rows (no counters), in a fixed number of queries.

The words (held on time, open, overdue, done by the projection date, slipped, prepared) are
defined once, in focusweb.rules. Here: a meeting is *held* once started; *rescheduled* when it
has Reschedule rows; the done share counts the steps whose projection date fell in the last
90 days (before today).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from .. import cache, plans
from ..extensions import db
from ..models import Account, Meeting, Reschedule, User, utcnow
from ..plans import Step
from ..rules import local_day, started_on_time

RECENT_MEETINGS = 12
SHARE_DAYS = 90


@dataclass
class SellerHealth:
    """Everything the team view shows about one seller.

    Its lists are worked out once, on first use, after health_of has filled it in: a page asks for
    them many times (a count, a link, a share), and a quarter of steps is a few hundred rows each.
    """

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

    def freeze(self) -> None:
        """Work out every list now, while the rows are attached: a kept entry is only read afterwards."""
        for name, member in vars(SellerHealth).items():
            if isinstance(member, cached_property):
                getattr(self, name)

    @cached_property
    def prepared(self) -> list[Account]:
        return [account for account in self.accounts if account.id in self.prepared_ids]

    @cached_property
    def unprepared(self) -> list[Account]:
        return [account for account in self.accounts if account.id not in self.prepared_ids]

    @cached_property
    def on_time(self) -> list[Meeting]:
        return [meeting for meeting in self.recent if started_on_time(meeting)]

    @cached_property
    def rescheduled(self) -> list[Meeting]:
        return [meeting for meeting in self.recent if self.reschedules.get(meeting.id)]

    @cached_property
    def open_steps(self) -> list[Step]:
        return sorted((s for s in self.steps if s.is_open), key=_by_date)

    @cached_property
    def overdue_steps(self) -> list[Step]:
        return [s for s in self.open_steps if s.overdue]

    @cached_property
    def due_steps(self) -> list[Step]:
        """Steps whose projection date fell in the last 90 days: the share's denominator."""
        start = self.today - timedelta(days=SHARE_DAYS)
        return sorted(
            (s for s in self.steps if s.projection_date and start <= s.projection_date < self.today), key=_by_date
        )

    @cached_property
    def done_on_time(self) -> list[Step]:
        return [s for s in self.due_steps if s.done_on_time]

    @cached_property
    def slipped(self) -> list[Step]:
        return [s for s in self.due_steps if s.slipped]

    @cached_property
    def done_share(self) -> int | None:
        """Percent of due steps done by their projection date (None when nothing fell due)."""
        due = len(self.due_steps)
        return round(100 * len(self.done_on_time) / due) if due else None


def _by_date(step: Step):
    return (step.projection_date or date.max, step.account.name_key)


def team_seller_ids(manager_id: int) -> list[int]:
    """The ids of the manager's sellers."""
    return list(db.session.scalars(select(User.id).where(User.manager_id == manager_id, User.role == "seller")))


def team_health(manager_id: int, seller_id: int | None = None) -> list[SellerHealth]:
    """Meeting health of the manager's sellers (or one of them); a fixed number of queries whatever the team size."""
    query = select(User).where(User.manager_id == manager_id, User.role == "seller").order_by(User.name)
    if seller_id is not None:
        query = query.where(User.id == seller_id)
    return health_of(db.session.scalars(query).all())


def health_of(sellers: list[User]) -> list[SellerHealth]:
    """Meeting health of the given sellers, in their order.

    Each seller's is kept in the process (focusweb.cache) under their plan version and day: it is
    worked out from their rows again only once one of them changed (focusweb.versions) or the day
    turned. The kept entry's rows are read-only copies from the request that worked them out; the
    seller is always this request's own row (their name may have changed since).
    """
    if not sellers:
        return []
    now = utcnow()
    keys = {s.id: ("seller-health", s.id, s.plan_version, s.timezone, local_day(now, s.timezone)) for s in sellers}
    kept = cache.pages.get_many(list(keys.values()))
    missing = [s for s in sellers if keys[s.id] not in kept]
    worked_out = _work_out(missing, now)
    for seller_id, entry in worked_out.items():
        cache.pages.keep(keys[seller_id], entry)
    return [_for_seller(kept.get(keys[s.id]) or worked_out[s.id], s) for s in sellers]


def _for_seller(entry: SellerHealth, seller: User) -> SellerHealth:
    """A kept entry with this request's row of its seller (a shallow copy: the lists stay shared, read-only)."""
    entry = copy.copy(entry)
    entry.seller = seller
    return entry


def _work_out(sellers: list[User], now: datetime) -> dict[int, SellerHealth]:
    """Meeting health of the sellers from their rows, in a fixed number of queries."""
    if not sellers:
        return {}
    health = {s.id: SellerHealth(seller=s, today=local_day(now, s.timezone)) for s in sellers}
    ids = list(health)
    _add_upcoming(health, ids, now)
    _add_recent(health, ids)
    _add_preparation(health, ids)
    _add_steps(health, now)
    for entry in health.values():
        entry.freeze()
    return health


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
    """The last 12 held meetings per seller and their reschedules."""
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


def _add_preparation(health: dict[int, SellerHealth], ids: list[int]) -> None:
    """Active Key/Target accounts, which of them are prepared, and when the last meeting finished."""
    for seller_id, meeting in plans.last_finished(ids).items():
        health[seller_id].last_finished_at = meeting.finished_at
    prepared = plans.prepared_account_ids(ids)
    accounts = db.session.scalars(
        select(Account)
        .where(Account.owner_id.in_(ids), Account.archived_at.is_(None))
        .order_by(Account.kind, Account.name_key)
    )
    for account in accounts:
        entry = health[account.owner_id]
        entry.accounts.append(account)
        if account.id in prepared:
            entry.prepared_ids.add(account.id)


def _add_steps(health: dict[int, SellerHealth], now: datetime) -> None:
    """Steps that are open, or whose projection date is recent enough for the 90-day share."""
    oldest_today = min(entry.today for entry in health.values())
    cutoff = oldest_today - timedelta(days=SHARE_DAYS + 1)
    sellers = [entry.seller for entry in health.values()]
    for step in plans.load_steps(sellers, due_since=cutoff, now=now):
        health[step.meeting.seller_id].steps.append(step)
