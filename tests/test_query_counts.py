"""No N+1: the number of SQL queries per page does not grow with the accounts or meetings behind it.

Each page is loaded on a small and on a larger seed-scale company (more sellers, accounts and weeks
of history) and must run the same number of queries on both. Add a page to PAGES when it exists.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from focusweb import cache, cards
from focusweb.extensions import db
from focusweb.meetings import service as meetings_service
from focusweb.models import Account, AccountReview, Meeting, User
from focusweb.scale import SCALE_PASSWORD, ScaleSize, seed
from focusweb.transactions import unit_of_work

# The company's "today" is the real one, as the app's clock is: today's meeting is due now, the calendar
# feed's window holds the recent meetings, and no months of schedule are topped up on the first visit.
NOW = datetime.now(UTC)
# Two weeks at least, so the small company's last meeting also looks back on a previous one.
SMALL = ScaleSize(managers=1, sellers_per_manager=2, accounts=3, weeks=2)
LARGER = ScaleSize(managers=2, sellers_per_manager=6, accounts=14, weeks=9)
TWO_YEARS = ScaleSize(managers=1, sellers_per_manager=2, accounts=3, weeks=104)
HTMX = {"HX-Request": "true"}
IN_LIST = re.compile(r"\((?:\?|%\(\w+\)s)(?:, (?:\?|%\(\w+\)s))*\)")


@dataclass(frozen=True)
class Ids:
    """Rows a page's URL may need, from seller1's and manager1's side of the company."""

    seller_id: int
    manager_id: int
    account_id: int
    meeting_id: int  # today's: not started, or started when the page asks for a running meeting
    finished_meeting_id: int  # the most recent finished one
    meeting_version: int  # today's meeting's read-along version (a manager's visits leave it as it is)
    review_id: int | None  # today's second card, once the meeting has its cards
    seller_calendar_secret: str
    manager_calendar_secret: str


@dataclass(frozen=True)
class Page:
    name: str
    user: str  # "seller" or "manager"
    path: Callable[[Ids], str]
    running: bool = False  # start today's meeting first (its cards exist, "last time" is linked)
    htmx: bool = False  # sent as an htmx swap (HX-Request: true)
    status: int = 200


PAGES = [
    Page("home", "seller", lambda ids: "/"),
    Page("accounts", "seller", lambda ids: "/accounts"),
    Page("account edit", "seller", lambda ids: f"/accounts/{ids.account_id}/edit"),
    Page("new account", "seller", lambda ids: "/accounts/new"),
    Page("team", "manager", lambda ids: "/team"),
    Page("a seller's accounts (manager)", "manager", lambda ids: f"/team/{ids.seller_id}/accounts"),
    Page("account edit (manager)", "manager", lambda ids: f"/accounts/{ids.account_id}/edit"),
    Page("meeting, before the start", "seller", lambda ids: f"/meetings/{ids.meeting_id}"),
    Page("meeting card", "seller", lambda ids: f"/meetings/{ids.meeting_id}?review={ids.review_id}", running=True),
    Page("read-along", "manager", lambda ids: f"/meetings/{ids.meeting_id}/live", running=True),
    Page(
        "read-along poll, something new",
        "manager",
        lambda ids: f"/meetings/{ids.meeting_id}/live?v={ids.meeting_version - 1}",
        running=True,
        htmx=True,
    ),
    Page(
        "read-along poll, nothing new",
        "manager",
        lambda ids: f"/meetings/{ids.meeting_id}/live?v={ids.meeting_version}",
        running=True,
        htmx=True,
        status=204,
    ),
    Page("account history", "seller", lambda ids: f"/accounts/{ids.account_id}/history"),
    Page("account history (manager)", "manager", lambda ids: f"/accounts/{ids.account_id}/history"),
    Page("my next steps", "seller", lambda ids: "/next-steps"),
    Page("finished meeting's summary", "seller", lambda ids: f"/meetings/{ids.finished_meeting_id}"),
    Page("finished meeting's recap", "seller", lambda ids: f"/meetings/{ids.finished_meeting_id}/recap"),
    Page("finished meeting's recap (manager)", "manager", lambda ids: f"/meetings/{ids.finished_meeting_id}/recap"),
    Page("finished meeting, read-along (manager)", "manager", lambda ids: f"/meetings/{ids.finished_meeting_id}/live"),
    Page("a seller (manager)", "manager", lambda ids: f"/team/{ids.seller_id}"),
    Page("for the field (manager)", "manager", lambda ids: f"/team/{ids.seller_id}/field"),
    Page("calendar", "seller", lambda ids: "/calendar"),
    Page("calendar feed (seller)", "seller", lambda ids: f"/calendar/{ids.seller_calendar_secret}.ics"),
    Page("calendar feed (manager)", "manager", lambda ids: f"/calendar/{ids.manager_calendar_secret}.ics"),
]


def _ids() -> Ids:
    seller = db.session.scalar(select(User).where(User.email == "seller1@scale.test"))
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at.desc())
    ).all()
    account_id = db.session.scalar(select(Account.id).where(Account.owner_id == seller.id).order_by(Account.id))
    finished = next((meeting.id for meeting in meetings if meeting.finished_at), meetings[0].id)
    today = meetings[0]
    deck = cards.load(today).cards
    return Ids(
        seller_id=seller.id,
        manager_id=seller.manager_id,
        account_id=account_id,
        meeting_id=today.id,
        finished_meeting_id=finished,
        meeting_version=today.version,
        review_id=deck[1].id if len(deck) > 1 else None,
        seller_calendar_secret=seller.calendar_secret,
        manager_calendar_secret=seller.manager.calendar_secret,
    )


def _start_todays_meeting() -> None:
    """Seller1 starts today's meeting, as the Start meeting button does: cards made, "last time" linked."""
    seller = db.session.scalar(select(User).where(User.email == "seller1@scale.test"))
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at.desc()).limit(1)
    )
    with unit_of_work():
        meetings_service.start(meeting)


class QueryCounter:
    """Counts the SQL statements the engine runs while it is entered."""

    def __init__(self):
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._count)

    def __len__(self) -> int:
        return len(self.statements)


def _queries_for(client, auth, size: ScaleSize, page: Page) -> list[str]:
    """Seed a company of this size, sign in as seller1 or manager1, and count the page's queries."""
    seed(size, seed=5, now=NOW)
    if page.running:
        _start_todays_meeting()
    ids = _ids()
    auth.login(f"{page.user}1@scale.test", SCALE_PASSWORD)
    headers = HTMX if page.htmx else {}
    # The first visit may top up meeting schedules from cadences (writes, once a week per seller) or give
    # a meeting its cards; what must not grow is the page itself, so count the second, steady-state visit.
    client.get(page.path(ids), headers=headers)
    cache.clear_all()  # what a page keeps (the prep list, the team's health) is counted as worked out
    with QueryCounter() as queries:
        response = client.get(page.path(ids), headers=headers)
    assert response.status_code == page.status, f"{page.name}: {response.status_code}"
    return queries.statements


def _shape(statement: str) -> str:
    """A statement without its IN-list length, so one query over more rows reads as the same query."""
    return IN_LIST.sub("(...)", " ".join(statement.split()))


def _extra(small: list[str], larger: list[str]) -> str:
    """The statements the larger company ran more often than the small one: where the N+1 is."""
    extra = Counter(map(_shape, larger)) - Counter(map(_shape, small))
    return "; ".join(f"{times}x {statement[:240]}" for statement, times in extra.most_common(3))


# Every page on a larger company; the team view also on two years of weekly meetings.
GROWTH = [(page, LARGER, page.name) for page in PAGES] + [
    (page, TWO_YEARS, f"{page.name}, two years") for page in PAGES if page.name == "team"
]


@pytest.mark.parametrize(("page", "larger_size"), [case[:2] for case in GROWTH], ids=[case[2] for case in GROWTH])
def test_queries_per_page_do_not_grow_with_the_data(app, client, auth, page, larger_size):
    from tests.conftest import _empty_all_tables

    small = _queries_for(client, auth, SMALL, page)
    auth.logout()
    _empty_all_tables()
    larger = _queries_for(client, auth, larger_size, page)
    assert len(larger) == len(small), (
        f"{page.name}: {len(small)} queries on the small company, {len(larger)} on the larger one; "
        f"the larger ran these more often: {_extra(small, larger)}"
    )


def _in_running_meeting(client, auth, size: ScaleSize) -> tuple[Ids, str]:
    """A company of this size with seller1's meeting of today started and seller1 signed in; with a CSRF token."""
    seed(size, seed=5, now=NOW)
    _start_todays_meeting()
    ids = _ids()  # before the home page tops up the schedule with later meetings
    auth.login("seller1@scale.test", SCALE_PASSWORD)
    return ids, client.csrf_token()


def _autosave_queries(client, auth, size: ScaleSize) -> list[str]:
    """Count a second autosave of a card (the first one may be the first write of the day)."""
    ids, token = _in_running_meeting(client, auth, size)
    url = f"/meetings/{ids.meeting_id}/reviews/{ids.review_id}"
    version = db.session.get(AccountReview, ids.review_id).version
    first = client.post(url, data={"csrf_token": token, "version": version, "next_step": "Call them"}, headers=HTMX)
    assert first.status_code == 200
    data = {"csrf_token": token, "version": version + 1, "next_step": "Call them and book the visit"}
    with QueryCounter() as queries:
        response = client.post(url, data=data, headers=HTMX)
    assert response.status_code == 200
    assert db.session.get(AccountReview, ids.review_id).next_step == "Call them and book the visit"
    return queries.statements


def _next_card_queries(client, auth, size: ScaleSize) -> list[str]:
    """Count the card page reached from the account list, then its beacon that records the open card."""
    ids, token = _in_running_meeting(client, auth, size)
    client.get(f"/meetings/{ids.meeting_id}")
    with QueryCounter() as queries:
        response = client.get(f"/meetings/{ids.meeting_id}?review={ids.review_id}")
        assert response.status_code == 200
        beacon = client.post(
            f"/meetings/{ids.meeting_id}/current", data={"csrf_token": token, "review": ids.review_id}, headers=HTMX
        )
    assert beacon.status_code == 204
    assert db.session.get(Meeting, ids.meeting_id).current_review_id == ids.review_id
    return queries.statements


@pytest.mark.parametrize("count", [_autosave_queries, _next_card_queries], ids=["autosave", "next card"])
def test_queries_per_card_write_do_not_grow_with_the_data(app, client, auth, count):
    from tests.conftest import _empty_all_tables

    small = count(client, auth, SMALL)
    auth.logout()
    _empty_all_tables()
    larger = count(client, auth, LARGER)
    assert len(larger) == len(small), (
        f"{len(small)} queries on the small company, {len(larger)} on the larger one; "
        f"the larger ran these more often: {_extra(small, larger)}"
    )
