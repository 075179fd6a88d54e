"""The manager's team view: meeting health figures derived from rows, and the pages behind them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event

from focusweb import cache
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Meeting, Reschedule
from focusweb.team.service import team_health


def _at(days_ago: int, minutes: int = 0) -> datetime:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(minutes=minutes)


def _held(seller, days_ago: int, late_minutes: int, finished: bool = True) -> Meeting:
    scheduled = _at(days_ago)
    meeting = Meeting(
        seller=seller,
        manager=seller.manager,
        scheduled_at=scheduled,
        planned_minutes=30,
        started_at=scheduled + timedelta(minutes=late_minutes),
        finished_at=scheduled + timedelta(minutes=late_minutes + 30) if finished else None,
    )
    db.session.add(meeting)
    return meeting


def _account(seller, name: str, kind: str = "key", updated_days_ago: int = 60, **fields) -> Account:
    account = Account(
        owner=seller, name=name, name_key=Account.key_for(name), kind=kind, updated_at=_at(updated_days_ago), **fields
    )
    account.created_at = account.updated_at
    db.session.add(account)
    return account


def _card(meeting, account, position, step="", due_days_ago=None, previous=None, outcome=None, outcome_days_ago=None):
    review = AccountReview(
        meeting=meeting,
        account=account,
        position=position,
        next_step=step,
        projection_date=None if due_days_ago is None else _at(due_days_ago).date(),
        previous_review=previous,
        outcome=outcome,
        outcome_at=None if outcome_days_ago is None else _at(outcome_days_ago, 60),
        updated_at=meeting.scheduled_at + timedelta(minutes=20),
    )
    db.session.add(review)
    return review


@pytest.fixture
def team(factory):
    """A seller with known meetings and steps (all in UTC, days counted back from today).

    Held meetings: 11 old ones, all late (one rescheduled, but older than the last 12), then
    m1 (30 days ago, on time), m2 (14 days ago, 12 min late, rescheduled), m3 (7 days ago,
    on time, rescheduled). Next: m4 tomorrow.
    Steps due in the last 90 days: A1 done early (on time), B1 not done later (slipped),
    C1 done before its date (on time), A2 still open and 3 days overdue. Share 2 of 4 = 50 %.
    Open: A2 (overdue), C2 (in 7 days), D3 (in 10 days; it replaced D1). E1's account is archived.
    Preparation since m3: A and B have a filled card in m4 (C's was left empty; D's account was
    only renamed): 2 of 4.
    """
    manager, (seller, quiet) = factory.team(sellers=2)
    other_manager, (stranger,) = factory.team()
    a, b, c, d = (_account(seller, name) for name in ("Alpha", "Bravo", "Charlie", "Delta"))
    e = _account(seller, "Echo", archived_at=_at(1))
    old = [_held(seller, 35 + 7 * n, late_minutes=10) for n in range(11)]
    db.session.add(Reschedule(meeting=old[-1], from_at=_at(120), to_at=old[-1].scheduled_at, reason="Too old to count"))
    m1 = _held(seller, 30, late_minutes=2)
    a1 = _card(m1, a, 0, "Call Alpha", due_days_ago=20)
    b1 = _card(m1, b, 1, "Call Bravo", due_days_ago=25)
    c1 = _card(m1, c, 2, "Call Charlie", due_days_ago=10)
    d1 = _card(m1, d, 3, "Call Delta", due_days_ago=-5)
    _card(m1, e, 4, "Call Echo", due_days_ago=-3)
    m2 = _held(seller, 14, late_minutes=12)
    db.session.add(Reschedule(meeting=m2, from_at=_at(15), to_at=m2.scheduled_at, reason="Customer emergency"))
    _card(m2, a, 0, "Alpha workshop", due_days_ago=3, previous=a1, outcome="done", outcome_days_ago=21)
    _card(m2, b, 1, "", previous=b1, outcome="not_done", outcome_days_ago=14).skipped = True
    _card(m2, c, 2, "Charlie pilot", due_days_ago=-7, previous=c1, outcome="done", outcome_days_ago=14)
    m3 = _held(seller, 7, late_minutes=0)
    db.session.add(Reschedule(meeting=m3, from_at=_at(8), to_at=m3.scheduled_at, reason="Sales kickoff"))
    _card(m3, d, 0, "Delta contract", due_days_ago=-10)
    m4 = Meeting(seller=seller, manager=manager, scheduled_at=_at(-1), planned_minutes=30)
    db.session.add(m4)
    prep_a, prep_b, prep_c = _card(m4, a, 0), _card(m4, b, 1), _card(m4, c, 2)
    db.session.flush()
    prep_a.outcome, prep_a.outcome_at, prep_a.updated_at = "done", datetime.now(UTC), datetime.now(UTC)
    prep_b.notes, prep_b.updated_at = "Bravo wants a call", datetime.now(UTC)
    prep_c.updated_at = datetime.now(UTC)
    d.name, d.updated_at = "Delta Corp", datetime.now(UTC)
    # The other team's seller has steps too; none of them may show up here.
    theirs = _held(stranger, 7, late_minutes=0)
    _card(theirs, _account(stranger, "Stranger Co"), 0, "Their step", due_days_ago=2)
    db.session.commit()
    return {"manager": manager, "seller": seller, "quiet": quiet, "other_manager": other_manager, "d1": d1}


def test_team_figures_are_derived_from_the_rows(team):
    by_seller = {h.seller.id: h for h in team_health(team["manager"].id)}
    assert set(by_seller) == {team["seller"].id, team["quiet"].id}
    h = by_seller[team["seller"].id]
    assert h.next_meeting.scheduled_at == _at(-1) and h.running is None
    assert len(h.recent) == 12
    assert len(h.on_time) == 2
    assert sorted(r.reason for m in h.rescheduled for r in h.reschedules[m.id]) == [
        "Customer emergency",
        "Sales kickoff",
    ]
    assert sorted(a.name for a in h.prepared) == ["Alpha", "Bravo"] and len(h.accounts) == 4
    assert [s.next_step for s in h.open_steps] == ["Alpha workshop", "Charlie pilot", "Delta contract"]
    assert [s.next_step for s in h.overdue_steps] == ["Alpha workshop"]
    assert [s.next_step for s in h.due_steps] == ["Call Bravo", "Call Alpha", "Call Charlie", "Alpha workshop"]
    assert [s.next_step for s in h.done_on_time] == ["Call Alpha", "Call Charlie"]
    assert [s.next_step for s in h.slipped] == ["Call Bravo"]
    assert h.done_share == 50

    quiet = by_seller[team["quiet"].id]
    assert (quiet.next_meeting, quiet.recent, quiet.open_steps, quiet.done_share) == (None, [], [], None)


def _figures(page: str, name: str) -> str:
    """The text of one seller's card on the team page, tags stripped."""
    card = page.split(f">{name}</a></h2>")[1].split("</li>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def test_team_page_shows_the_figures_each_linked_to_what_it_counts(client, auth, team):
    seller = team["seller"]
    auth.login(team["manager"])
    page = client.get("/team").get_data(as_text=True)
    text = _figures(page, seller.name)
    assert "2 of 4 accounts updated" in text
    assert "Last 12 meetings 2 on time , 2 rescheduled" in text
    assert "3 open , 1 overdue" in text
    assert "50 % (2 of 4, 90 days)" in text
    detail = f"/team/{seller.id}"
    for anchor in ("#prep", "#meetings", "#open", "#overdue", "#done"):
        assert f'href="{detail}{anchor}"' in page
    assert f'href="/team/{seller.id}/accounts"' in page  # the accounts link stays
    assert f'href="/team/{seller.id}/field"' in page
    assert "Stranger Co" not in page and "Their step" not in page
    assert "Read along" not in page
    assert "no meeting held yet" in _figures(page, team["quiet"].name)


def test_seller_detail_lists_what_the_figures_count(client, auth, team):
    auth.login(team["manager"])
    page = client.get(f"/team/{team['seller'].id}").get_data(as_text=True)
    for expected in (
        "Customer emergency",
        "Sales kickoff",
        "Started 12 min late",
        "Alpha workshop",
        "Overdue",
        "Slipped",
        "2 of 4 Key and Target accounts updated",
        "2 of 4 steps due in the last 90 days were done by their date; 1 slipped",
    ):
        assert expected in page
    assert "Too old to count" not in page
    assert "Stranger Co" not in page


def test_a_running_meeting_is_linked_for_reading_along(client, auth, factory, team):
    seller = team["quiet"]
    meeting = factory.meeting(seller, scheduled_at=_at(0), started_at=datetime.now(UTC))
    auth.login(team["manager"])
    page = client.get("/team").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/live"' in page and "Read along" in page


def test_team_pages_are_the_managers_own(client, auth, team):
    auth.login(team["other_manager"])
    assert client.get(f"/team/{team['seller'].id}").status_code == 404
    assert team["seller"].name not in client.get("/team").get_data(as_text=True)
    client.post("/logout")
    auth.login(team["seller"])
    assert client.get("/team").status_code == 404
    assert client.get(f"/team/{team['seller'].id}").status_code == 404


def _count_queries(client, url: str) -> int:
    statements = []

    def count(*args):
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_team_page_queries_do_not_grow_with_sellers_or_accounts(client, auth, factory):
    manager, sellers = factory.team(sellers=2)

    def add_seller_with_history(seller):
        meeting = _held(seller, 7, late_minutes=1)
        for n in range(3):
            _card(meeting, _account(seller, f"{seller.name} {n}"), n, f"Step {n}", due_days_ago=n - 1)
        db.session.commit()

    for seller in sellers:
        add_seller_with_history(seller)
    auth.login(manager)
    small = _count_queries(client, "/team")
    for _ in range(4):
        add_seller_with_history(factory.user("seller", manager=manager))
    assert _count_queries(client, "/team") == small


def test_one_meeting_held_is_counted_in_the_singular(client, auth, factory, team):
    seller = team["quiet"]
    held = _at(7)
    factory.meeting(seller, scheduled_at=held, started_at=held, finished_at=held + timedelta(minutes=30))
    auth.login(team["manager"])
    assert "Last 1 meeting 1 on time , 0 rescheduled" in _figures(
        client.get("/team").get_data(as_text=True), seller.name
    )
    detail = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/team/{seller.id}").get_data(as_text=True)).split())
    assert "Last 1 meeting held: 1 on time, 0 rescheduled" in detail
    assert "1 meetings" not in detail


def test_the_team_view_is_kept_until_a_sellers_plan_changes(client, auth, team):
    """Worked out once per seller's plan version and day (focusweb.cache); a change shows on the next view."""
    manager, seller = team["manager"], team["seller"]
    auth.login(manager)
    first, detail = client.get("/team").get_data(as_text=True), client.get(f"/team/{seller.id}").get_data(as_text=True)
    made = cache.pages.misses
    assert client.get("/team").get_data(as_text=True) == first
    assert client.get(f"/team/{seller.id}").get_data(as_text=True) == detail  # the kept rows still read
    assert cache.pages.misses == made and cache.pages.hits >= 2

    auth.logout()
    auth.login(seller)
    assert client.post("/accounts/new", data={"name": "Foxtrot", "kind": "key"}).status_code == 303
    seller.name = "Renamed Seller"  # not part of the plan: the page reads the seller's own row each time
    db.session.commit()
    auth.logout()
    auth.login(manager)
    page = client.get("/team").get_data(as_text=True)
    assert "2 of 5 accounts updated" in _figures(page, "Renamed Seller")
    assert "no meeting held yet" in _figures(page, team["quiet"].name)  # the other seller came from the cache
