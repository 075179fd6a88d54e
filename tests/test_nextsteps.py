"""Open next steps, slips, an account's history, My next steps, and the seller's prep list."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from focusweb.extensions import db
from focusweb.nextsteps import service
from focusweb.schedule.service import local_today

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class World:
    manager: object
    seller: object
    accounts: dict
    last: object  # the last finished meeting
    today: object


def finished_meeting(factory, seller, days_ago: int):
    scheduled = NOW - timedelta(days=days_ago)
    return factory.meeting(
        seller, scheduled_at=scheduled, started_at=scheduled, finished_at=scheduled + timedelta(minutes=30)
    )


@pytest.fixture
def world(factory) -> World:
    """Two finished meetings and one running; each account tells one story (see the comments)."""
    manager = factory.user("manager")
    seller = factory.user("seller", manager=manager, timezone="America/New_York")
    today = local_today(seller.timezone)
    day = lambda offset: today + timedelta(days=offset)  # noqa: E731
    long_ago = NOW - timedelta(days=60)
    names = {
        "alpha": "key",
        "bravo": "key",
        "charlie": "target",
        "delta": "target",
        "echo": "target",
        "foxtrot": "key",
        "golf": "key",
        "hotel": "target",
    }
    accounts = {
        name: factory.account(seller, name.title(), kind, created_at=long_ago, updated_at=long_ago)
        for name, kind in names.items()
    }
    first = finished_meeting(factory, seller, 21)
    last = finished_meeting(factory, seller, 7)
    running = factory.meeting(seller, scheduled_at=NOW - timedelta(minutes=5), started_at=NOW)
    recorded = last.finished_at

    def step(meeting, name, text, projection, **fields):
        return factory.review(meeting, accounts[name], next_step=text, projection_date=projection, **fields)

    # Alpha: a1 done (recorded after its date), a2 open and overdue.
    a1 = step(first, "alpha", "a1", day(-14))
    step(last, "alpha", "a2", day(-2), previous_review=a1, outcome="done", outcome_at=recorded)
    # Bravo: b1 not done after its date (a slip), b2 open.
    b1 = step(first, "bravo", "b1", day(-18))
    step(last, "bravo", "b2", day(5), previous_review=b1, outcome="not_done", outcome_at=recorded)
    # Charlie: skipped last time, so c1 carries on, overdue.
    step(first, "charlie", "c1", day(-10))
    factory.review(last, accounts["charlie"], skipped=True)
    # Delta: d1 done on time, then skipped: no open step.
    d1 = step(first, "delta", "d1", day(1))
    factory.review(last, accounts["delta"], skipped=True, previous_review=d1, outcome="done", outcome_at=recorded)
    # Echo: e1 open; the running meeting marks it done, which counts only once that meeting finishes.
    e1 = step(last, "echo", "e1", day(3))
    factory.review(running, accounts["echo"], previous_review=e1, outcome="done", outcome_at=NOW)
    # Foxtrot: archived, so out of every list.
    step(last, "foxtrot", "f1", day(-3))
    accounts["foxtrot"].archived_at = NOW
    # Golf: g1 not done before its date (not a slip), g2 open.
    g1 = step(first, "golf", "g1", day(30))
    step(last, "golf", "g2", day(30), previous_review=g1, outcome="not_done", outcome_at=recorded)
    # Hotel: never discussed; its own notes were edited after the last meeting, which is not prep.
    accounts["hotel"].notes = "New buyer since Monday"
    accounts["hotel"].updated_at = NOW - timedelta(days=1)
    db.session.commit()
    # Prepared: Alpha's card in the running meeting has notes, Echo's has last time's outcome;
    # Bravo's card there is empty, and being discussed last time is not being updated since.
    factory.review(running, accounts["alpha"], notes="Budget approved")
    factory.review(running, accounts["bravo"])
    # India: added after the last meeting and not touched since.
    accounts["india"] = factory.account(seller, "India", "key")
    return World(manager=manager, seller=seller, accounts=accounts, last=last, today=today)


def test_open_next_steps(world):
    steps = service.open_next_steps(world.seller.id)
    assert [(step.review.next_step, step.overdue) for step in steps] == [
        ("c1", True),  # overdue first, oldest date first
        ("a2", True),
        ("e1", False),
        ("b2", False),
        ("g2", False),
    ]
    assert {step.account.name: step.slips for step in steps}["Bravo"] == 1
    assert sum(step.slips for step in steps) == 1


def test_slips_are_counted_per_account(world):
    slips = service.slips_by_account(world.seller.id)
    assert dict(slips) == {world.accounts["bravo"].id: 1}


def test_open_next_steps_run_a_fixed_number_of_queries(factory, world):
    def queries_for(seller) -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            service.open_next_steps(seller.id)
            service.prep_status(seller)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    small = queries_for(world.seller)
    for number in range(12):
        account = factory.account(world.seller, f"More {number}")
        factory.review(world.last, account, next_step=f"m{number}", projection_date=world.today)
    assert queries_for(world.seller) == small, small
    assert small <= 12  # load_steps: the steps, then their accounts and meetings once each


def test_my_next_steps_page_lists_overdue_first_then_by_date(client, auth, world):
    auth.login(world.seller)
    page = client.get("/next-steps").get_data(as_text=True)
    positions = [page.index(f">{text}<") for text in ("c1", "a2", "e1", "b2", "g2")]
    assert positions == sorted(positions)
    assert "f1" not in page
    assert "5 open" in page and "2 overdue" in page and "1 slip so far" in page
    assert f'href="/accounts/{world.accounts["bravo"].id}/history"' in page
    assert "slipped 1×" in page


def test_a_manager_has_no_my_next_steps(client, auth, world):
    auth.login(world.manager)
    assert client.get("/next-steps").status_code == 404


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alpha", [("a2", None, "open", True), ("a1", "done", "late", False)]),
        ("bravo", [("b2", None, "open", False), ("b1", "not_done", "slipped", False)]),
        ("delta", [("d1", "done", "on time", False)]),
        ("golf", [("g2", None, "open", False), ("g1", "not_done", "not slipped", False)]),
    ],
)
def test_history_outcomes_and_slips(world, name, expected):
    history = service.account_history(world.accounts[name])

    def verdict(step):
        if step.is_open:
            return "open"
        if step.outcome == "done":
            return "on time" if step.done_on_time else "late"
        return "slipped" if step.slipped else "not slipped"

    assert [(step.review.next_step, step.outcome, verdict(step), step.overdue) for step in history] == expected


def test_history_page_shows_outcomes(client, auth, world):
    auth.login(world.seller)
    page = client.get(f"/accounts/{world.accounts['bravo'].id}/history").get_data(as_text=True)
    assert "b2" in page and "b1" in page
    assert "Not done" in page and "Slipped" in page and "1 slipped" in page
    page = client.get(f"/accounts/{world.accounts['delta'].id}/history").get_data(as_text=True)
    assert "Done</span> on time" in page and "1 done on time" in page


def test_history_is_the_sellers_and_their_managers_only(client, auth, factory, world):
    account_id = world.accounts["alpha"].id
    auth.login(world.manager)
    assert client.get(f"/accounts/{account_id}/history").status_code == 200
    other_manager, (other_seller,) = factory.team()
    for user in (other_seller, other_manager):
        auth.logout()
        auth.login(user)
        assert client.get(f"/accounts/{account_id}/history").status_code == 404


def test_accounts_list_links_to_history(client, auth, world):
    auth.login(world.seller)
    page = client.get("/accounts").get_data(as_text=True)
    assert f'href="/accounts/{world.accounts["alpha"].id}/history"' in page


def test_prep_status(world):
    prep = service.prep_status(world.seller)
    assert prep.last_meeting.id == world.last.id
    assert [account.name for account in prep.stale_accounts] == ["Bravo", "Golf", "India", "Charlie", "Delta", "Hotel"]
    assert [step.review.next_step for step in prep.overdue] == ["c1", "a2"]
    # In last meeting's order: its Key accounts (Alpha, Bravo, Golf), then its Target accounts (Echo).
    assert [review.next_step for review in prep.commitments] == ["a2", "b2", "g2", "e1"]
    assert prep.summary == "2 of 8 accounts updated since last meeting"


def test_prep_status_before_the_first_meeting(factory):
    _, (seller,) = factory.team()
    factory.account(seller, "Only")
    prep = service.prep_status(seller)
    assert prep.summary == "0 of 1 accounts updated for the first meeting"
    assert prep.commitments == [] and prep.overdue == []


def test_home_shows_the_prep_list(client, auth, world):
    auth.login(world.seller)
    page = client.get("/").get_data(as_text=True)
    prep = page[page.index("Prep list") :]
    assert "2 of 8 accounts updated since last meeting" in prep
    stale = prep[prep.index("Not updated since last meeting") : prep.index("Past their projection date")]
    assert all(name in stale for name in ("Bravo", "Golf", "India", "Charlie", "Delta", "Hotel"))
    assert not any(name in stale for name in ("Alpha", "Echo", "Foxtrot"))
    overdue = prep[prep.index("Past their projection date") : prep.index("Commitments from last time")]
    assert "c1" in overdue and "a2" in overdue and "b2" not in overdue
    commitments = prep[prep.index("Commitments from last time") :]
    assert all(f": {text} " in commitments for text in ("a2", "b2", "e1", "g2"))
    assert "f1" not in commitments


def test_a_long_history_is_shown_twenty_steps_a_page_with_the_totals_of_all(client, auth, factory):
    manager = factory.user("manager")
    seller = factory.user("seller", manager=manager)
    account = factory.account(seller, "Longstanding")
    for week in range(45, 0, -1):  # 45 weekly meetings, the newest a week ago
        meeting = finished_meeting(factory, seller, 7 * week)
        factory.review(meeting, account, next_step=f"Step of week {46 - week}", projection_date=meeting.scheduled_at)
    auth.login(seller)
    url = f"/accounts/{account.id}/history"

    first = client.get(url).get_data(as_text=True)
    assert "45 next steps" in first and "Steps 1–20 of 45" in first and "Page 1 of 3" in first
    assert re.findall(r"Step of week (\d+)", first) == [str(week) for week in range(45, 25, -1)]
    assert f'href="{url}?page=2" rel="next">Older steps' in first and "Newer steps" not in first

    last = client.get(f"{url}?page=3").get_data(as_text=True)
    assert re.findall(r"Step of week (\d+)", last) == [str(week) for week in range(5, 0, -1)]
    assert "Steps 41–45 of 45" in last and f'href="{url}?page=2" rel="prev">Newer steps' in last
    assert "Older steps" not in last
    assert client.get(f"{url}?page=4").status_code == 404 and client.get(f"{url}?page=0").status_code == 404


def test_a_short_history_has_no_pager(client, auth, world):
    auth.login(world.seller)
    page = client.get(f"/accounts/{world.accounts['bravo'].id}/history").get_data(as_text=True)
    assert "b2" in page and "Older steps" not in page and "Page 1 of" not in page
