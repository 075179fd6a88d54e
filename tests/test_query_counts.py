"""No N+1: the number of SQL queries per page does not grow with the accounts or meetings behind it.

Each page is loaded on a small and on a larger seed-scale company (more sellers, accounts and weeks
of history) and must run the same number of queries on both. Add a page to PAGES when it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from focusweb.extensions import db
from focusweb.models import Account, Meeting, User
from focusweb.scale import SCALE_PASSWORD, ScaleSize, seed

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
SMALL = ScaleSize(managers=1, sellers_per_manager=2, accounts=3, weeks=1)
LARGER = ScaleSize(managers=2, sellers_per_manager=6, accounts=14, weeks=9)


@dataclass(frozen=True)
class Ids:
    """Rows a page's URL may need, from seller1's and manager1's side of the company."""

    seller_id: int
    manager_id: int
    account_id: int
    meeting_id: int  # today's, not started
    finished_meeting_id: int  # the most recent finished one


@dataclass(frozen=True)
class Page:
    name: str
    user: str  # "seller" or "manager"
    path: Callable[[Ids], str]


PAGES = [
    Page("home", "seller", lambda ids: "/"),
    Page("accounts", "seller", lambda ids: "/accounts"),
    Page("account edit", "seller", lambda ids: f"/accounts/{ids.account_id}/edit"),
    Page("new account", "seller", lambda ids: "/accounts/new"),
    Page("team", "manager", lambda ids: "/team"),
    Page("a seller's accounts (manager)", "manager", lambda ids: f"/team/{ids.seller_id}/accounts"),
    Page("account edit (manager)", "manager", lambda ids: f"/accounts/{ids.account_id}/edit"),
    # After the merge: Page("meeting", "seller", lambda ids: f"/meetings/{ids.meeting_id}"),
    # Page("read-along", "manager", lambda ids: f"/meetings/{ids.meeting_id}/live"), the account history, ...
]


def _ids() -> Ids:
    seller = db.session.scalar(select(User).where(User.email == "seller1@scale.test"))
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at.desc())
    ).all()
    account_id = db.session.scalar(select(Account.id).where(Account.owner_id == seller.id).order_by(Account.id))
    finished = next((meeting.id for meeting in meetings if meeting.finished_at), meetings[0].id)
    return Ids(seller.id, seller.manager_id, account_id, meetings[0].id, finished)


def _queries_for(client, auth, size: ScaleSize, page: Page) -> int:
    """Seed a company of this size, sign in as seller1 or manager1, and count the page's queries."""
    seed(size, seed=5, now=NOW)
    ids = _ids()
    auth.login(f"{page.user}1@scale.test", SCALE_PASSWORD)
    # The first visit may top up meeting schedules from cadences (writes, once a week per seller);
    # what must not grow is the page itself, so count the second, steady-state visit.
    client.get(page.path(ids))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(page.path(ids))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, f"{page.name}: {response.status_code}"
    return len(statements)


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_queries_per_page_do_not_grow_with_the_data(app, client, auth, page):
    from tests.conftest import _empty_all_tables

    small = _queries_for(client, auth, SMALL, page)
    auth.logout()
    _empty_all_tables()
    larger = _queries_for(client, auth, LARGER, page)
    assert larger == small, f"{page.name}: {small} queries on the small company, {larger} on the larger one"
