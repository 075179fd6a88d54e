"""The seller's plan version (focusweb.versions) and the home page's prep list kept under it (focusweb.cache)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, update

from focusweb import cache
from focusweb.extensions import db
from focusweb.models import AccountReview, Meeting, User

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.pages.clear()
    yield
    cache.pages.clear()


@pytest.fixture
def world(factory):
    """A seller with a step set last week (due in two days) and a meeting coming; a teammate with their own."""
    manager, (seller, teammate) = factory.team(sellers=2)
    acme = factory.account(seller, "Acme Logistics", "key")
    factory.account(teammate, "Zenith Teammate Co", "key")
    week_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
    last = factory.meeting(
        seller, scheduled_at=week_ago, started_at=week_ago, finished_at=week_ago + timedelta(minutes=30)
    )
    factory.review(last, acme, next_step="Send the quote", projection_date=date.today() + timedelta(days=2))
    coming = factory.meeting(seller)
    return SimpleNamespace(manager=manager, seller=seller, teammate=teammate, acme=acme, coming=coming)


def version_of(user) -> int:
    return db.session.get(User, user.id).plan_version


def prep_of(client) -> str:
    page = client.get("/").get_data(as_text=True)
    start = page.index("Prep list")
    return page[start : page.index("</section>", start)]


def queries_of(client, path: str) -> int:
    statements = []
    listener = lambda *_args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_every_change_to_the_plan_moves_the_version_once_and_a_page_view_does_not(client, auth, world):
    auth.login(world.seller)
    before, teammates = version_of(world.seller), version_of(world.teammate)
    client.get("/")
    client.get(f"/accounts/{world.acme.id}/history")
    assert version_of(world.seller) == before

    edited = client.post(f"/accounts/{world.acme.id}/edit", data={"name": "Acme Logistics EU", "kind": "key"})
    assert edited.status_code == 303
    assert version_of(world.seller) == before + 1  # the account and its card in the coming meeting: one step

    client.post(f"/meetings/{world.coming.id}/start")
    assert version_of(world.seller) == before + 2
    card = db.session.scalar(select(AccountReview).where(AccountReview.meeting_id == world.coming.id))
    saved = client.post(
        f"/meetings/{world.coming.id}/reviews/{card.id}",
        data={"version": card.version, "next_step": "Book the visit"},
        headers=HTMX,
    )
    assert saved.status_code == 200
    assert version_of(world.seller) == before + 3
    assert version_of(world.teammate) == teammates  # nobody else's


def test_the_prep_list_follows_each_change_and_is_worked_out_once_between_them(client, auth, world):
    auth.login(world.seller)
    first = prep_of(client)
    assert "Send the quote" in first and "Acme Logistics" in first
    # The same view again reads the kept list: fewer queries, the same list.
    cold = cache.pages.misses
    steady = queries_of(client, "/")
    assert cache.pages.misses == cold and prep_of(client) == first
    cache.pages.clear()
    assert queries_of(client, "/") > steady

    client.post(f"/accounts/{world.acme.id}/edit", data={"name": "Acme Renamed", "kind": "key"})
    assert "Acme Renamed" in prep_of(client)
    client.post(f"/accounts/{world.acme.id}/archive")
    assert "Send the quote" not in prep_of(client)  # an archived account's step is no longer open


def test_the_prep_list_moves_with_the_day(client, auth, world, monkeypatch):
    """Overdue is a matter of the day: the kept list is the day's only."""
    auth.login(world.seller)
    overdue = lambda prep: prep[prep.index("Past their projection date") : prep.index("Commitments")]  # noqa: E731
    assert "Send the quote" not in overdue(prep_of(client))
    later = datetime.now(UTC) + timedelta(days=5)
    monkeypatch.setattr("focusweb.home.views.utcnow", lambda: later)
    monkeypatch.setattr("focusweb.nextsteps.service.utcnow", lambda: later, raising=False)
    monkeypatch.setattr("focusweb.plans.utcnow", lambda: later)
    assert "Send the quote" in overdue(prep_of(client))


def test_one_sellers_kept_list_is_never_shown_to_another(client, auth, world):
    # The same plan version, the same day and zone: only whose list it is tells the two apart.
    db.session.execute(update(User).where(User.id.in_([world.seller.id, world.teammate.id])).values(plan_version=7))
    db.session.commit()
    auth.login(world.teammate)
    assert "Zenith Teammate Co" in prep_of(client)
    auth.logout()
    auth.login(world.seller)
    prep = prep_of(client)
    assert "Zenith Teammate Co" not in prep and "Acme Logistics" in prep


def test_a_meeting_finished_elsewhere_moves_the_version(app, world):
    """Writes outside a request (a command, a job) follow the same rule."""
    from focusweb.transactions import unit_of_work

    before = version_of(world.seller)
    with unit_of_work():
        meeting = db.session.get(Meeting, world.coming.id)
        meeting.planned_minutes = 45
    assert version_of(world.seller) == before + 1
