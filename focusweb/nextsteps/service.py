"""The seller's next steps between meetings: My next steps, an account's history, the prep list.

The words (open, overdue, slipped, done on time, prepared) are defined once, in focusweb.plans.
Every function here runs a fixed number of queries, however many accounts or meetings there are.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from .. import cards, plans
from ..extensions import db
from ..models import Account, Meeting, User
from ..plans import Step
from ..rules import local_day


def open_next_steps(seller_id: int, now: datetime | None = None, slips: Counter[int] | None = None) -> list[Step]:
    """The seller's open next step per active account: overdue first, then by projection date.

    ``slips`` is ``plans.slips_by_account(seller)`` when the caller has it already.
    """
    seller = db.session.get(User, seller_id)
    steps = plans.by_urgency(plans.load_steps([seller], open_only=True, now=now))
    slips = plans.slips_by_account(seller) if slips is None else slips
    for step in steps:
        step.slips = slips[step.account.id]
    return steps


def slips_by_account(seller_id: int) -> Counter[int]:
    """How many slips each of the seller's accounts has had."""
    return plans.slips_by_account(db.session.get(User, seller_id))


def account_history(account: Account) -> list[Step]:
    """Every next step of the account, newest first, with its outcome and timeliness."""
    return plans.load_steps([account.owner], account_id=account.id)


@dataclass
class HistoryPage:
    """The steps of one page of an account's history: two years of weekly meetings are a hundred steps."""

    SIZE = 20

    number: int
    count: int  # pages
    steps: list[Step]
    first: int  # 1-based position of its first step in the whole history

    @classmethod
    def of(cls, history: list[Step], number: int) -> HistoryPage | None:
        """Page ``number`` (from 1, newest first); None when there is no such page."""
        count = max(1, math.ceil(len(history) / cls.SIZE))
        if not 1 <= number <= count:
            return None
        start = (number - 1) * cls.SIZE
        return cls(number=number, count=count, steps=history[start : start + cls.SIZE], first=start + 1)

    @property
    def last(self) -> int:
        return self.first + len(self.steps) - 1


@dataclass
class PrepStatus:
    """How prepared a seller is for the next meeting (the home screen and the prep reminder)."""

    last_meeting: Meeting | None
    accounts_total: int
    stale_accounts: list[Account] = field(default_factory=list)
    overdue: list[Step] = field(default_factory=list)
    commitments: list[Step] = field(default_factory=list)  # the steps set in the last meeting

    @property
    def accounts_updated(self) -> int:
        return self.accounts_total - len(self.stale_accounts)

    @property
    def summary(self) -> str:
        """E.g. "6 of 10 accounts updated since last meeting"."""
        since = "since last meeting" if self.last_meeting else "for the first meeting"
        return f"{self.accounts_updated} of {self.accounts_total} accounts updated {since}"


def prep_status(seller: User, now: datetime | None = None) -> PrepStatus:
    """The prep list: accounts not prepared, overdue steps (as of ``now``), and last time's commitments."""
    last = plans.last_finished([seller.id]).get(seller.id)
    accounts = db.session.scalars(
        select(Account)
        .where(Account.owner_id == seller.id, Account.archived_at.is_(None))
        .order_by(Account.kind, Account.name_key)
    ).all()
    prepared = plans.prepared_account_ids([seller.id])
    # The last meeting is the newest finished one, so none of its steps can have an outcome yet.
    steps = plans.load_steps([seller], open_only=True, now=now)
    commitments = [step for step in steps if last and step.meeting.id == last.id]
    return PrepStatus(
        last_meeting=last,
        accounts_total=len(accounts),
        stale_accounts=[account for account in accounts if account.id not in prepared],
        overdue=plans.by_urgency([step for step in steps if step.overdue]),
        commitments=sorted(commitments, key=lambda step: cards.meeting_order(step.review)),
    )


# -- the plan as CSV (My next steps, an account's history, the team's plan) -------------------------------------

PLAN_COLUMNS = ["Account", "Kind", "Next step", "Projection date", "Status", "Meeting"]
TEAM_PLAN_COLUMNS = ["Seller", *PLAN_COLUMNS]


def step_status(step: Step) -> str:
    """The step's status in the words of the history page."""
    if step.is_open:
        return "Open, overdue" if step.overdue else "Open"
    if step.outcome == "done":
        return "Done on time" if step.done_on_time else "Done after the projection date"
    if step.outcome == "not_done":
        return "Not done, slipped" if step.slipped else "Not done"
    return "No outcome recorded"


def plan_row(step: Step) -> list:
    """One step as a row of PLAN_COLUMNS; dates in ISO form, the meeting's in the seller's time zone."""
    return [
        step.account.name,
        step.account.kind_label,
        step.next_step,
        step.projection_date.isoformat() if step.projection_date else "",
        step_status(step),
        local_day(step.meeting.scheduled_at, step.meeting.seller.timezone).isoformat(),
    ]


def team_plan(manager: User) -> list[Step]:
    """The open next steps of the manager's sellers, by seller then by urgency (one query for the steps)."""
    sellers = db.session.scalars(
        select(User).where(User.manager_id == manager.id, User.role == "seller").order_by(User.name)
    ).all()
    order = {seller.id: n for n, seller in enumerate(sellers)}
    steps = plans.by_urgency(plans.load_steps(sellers, open_only=True))
    return sorted(steps, key=lambda step: order[step.meeting.seller_id])
