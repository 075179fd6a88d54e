"""No lost data: a failed save leaves nothing half written; a killed server loses no acknowledged save.

The kill test runs real gunicorn (2 sync workers) on its own SQLite file and, in the PostgreSQL
run, on PostgreSQL, while workers are SIGKILLed: sellers create accounts (POST /accounts/new,
CSRF from the page), and other sellers run a meeting, autosaving their cards as meetings.js
does (htmx headers, the whole card with the version it was typed over, the new version read
from the answer; a cut connection retried with the same card until answered). Every save the
client was told about (303, or 200 with a version) must be stored: each card ends exactly as
last acknowledged, its version bumped once per acknowledged change (a retry that had landed is
not applied twice).
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, event, func, select

from focusweb import create_app
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Meeting, User
from tests.conftest import CSRF_IN_PAGE, PASSWORD, make_config, multipart
from tests.durability_support import SELLER_EMAIL, csrf_from, seed_meetings, signed_in_client


class InjectedFault(Exception):
    """Stands for a database failing mid-save (disk full, connection lost, deadlock victim)."""


@pytest.fixture
def app_config():
    # The 500 page is rendered (as in production) instead of the exception reaching the test;
    # small insert batches, so an import of 1,000 rows is ten statements and can fail half-way.
    return {"PROPAGATE_EXCEPTIONS": False, "SQLALCHEMY_ENGINE_OPTIONS": {"insertmanyvalues_page_size": 100}}


@pytest.fixture
def fail_statement(app):
    """``fail_statement("INSERT INTO accounts", nth)``: the nth such statement raises, as a dying database would."""
    installed = []

    def install(prefix: str, nth: int) -> None:
        seen = itertools.count(1)

        def before(connection, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(prefix.upper()) and next(seen) == nth:
                raise InjectedFault(f"injected: {prefix} #{nth} failed")

        event.listen(db.engine, "before_cursor_execute", before)
        installed.append(before)

    yield install
    for before in installed:
        event.remove(db.engine, "before_cursor_execute", before)


ROWS = 1000


def import_rows(client):
    content = ("name,kind\n" + "".join(f"Row {n},key\n" for n in range(ROWS))).encode()
    return client.post(
        "/accounts/import", csrf=False, **multipart({"csrf_token": client.csrf_token()}, {"file": (content, "a.csv")})
    )


def stored_accounts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Account))


@pytest.mark.parametrize("nth", [1, 2, 6, 10])
def test_an_import_failing_half_way_stores_nothing_and_can_be_retried(
    client, auth, factory, fail_statement, tally, nth
):
    auth.login(factory.user("seller"))
    fail_statement("INSERT INTO accounts", nth)
    response = import_rows(client)
    tally["durability: faults injected"] += 1
    assert response.status_code == 500
    assert "Nothing you saved before this was lost" in response.get_data(as_text=True)
    assert stored_accounts() == 0, "an import is all or nothing"
    assert import_rows(client).status_code == 303, "the next try works"
    assert stored_accounts() == ROWS


def test_a_failed_commit_stores_nothing(client, auth, factory, tally):
    auth.login(factory.user("seller"))

    def refuse(connection):
        raise InjectedFault("injected: COMMIT failed")

    event.listen(db.engine, "commit", refuse)
    try:
        response = import_rows(client)
    finally:
        event.remove(db.engine, "commit", refuse)
    tally["durability: faults injected"] += 1
    assert response.status_code == 500
    assert stored_accounts() == 0


def test_a_password_change_failing_keeps_the_old_password_and_sessions(
    app, client, auth, factory, fail_statement, tally
):
    user = factory.user("seller")
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    auth.login(user)
    fail_statement("UPDATE users", 1)
    data = {"current_password": PASSWORD, "new_password": "a brand new pass", "new_password_again": "a brand new pass"}
    response = client.post("/account/password", data=data)
    tally["durability: faults injected"] += 1
    assert response.status_code == 500
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    assert other_device.get("/").status_code == 200, "nothing changed: the other device is still signed in"


# -- SIGKILL under load --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database(request, tmp_path):
    """Its own SQLite file; PostgreSQL in the PostgreSQL run (TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "durable.db")
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL run (TEST_DATABASE_URL=postgresql+psycopg://...)")
    return url


SELLERS = 4  # adding accounts
MEETINGS = 4  # sellers autosaving their meeting's cards
CARDS = 3
KILLS = 4
SAVES_BETWEEN_KILLS = 30  # of both kinds together
CARD_VERSION = re.compile(r'name="version" value="(\d+)"')
CARD_LINK = re.compile(r"\?review=(\d+)\"")


def acknowledged(*outcomes: dict) -> int:
    return sum(len(outcome["acknowledged"]) for outcome in outcomes)


def wait_for_saves(outcomes: tuple[dict, ...], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while acknowledged(*outcomes) < count:
        assert time.monotonic() < deadline, f"only {acknowledged(*outcomes)} saves acknowledged"
        for outcome in outcomes:
            assert not outcome["errors"], outcome["errors"][:10]
        time.sleep(0.02)


def create_accounts(server, seller: int, stop: threading.Event, outcome: dict) -> None:
    """One seller adding accounts as fast as the server answers; records what was acknowledged."""
    client = signed_in_client(server)
    token = None
    for n in itertools.count(1):
        if stop.is_set():
            break
        name = f"Durable {seller}-{n}"
        try:
            token = token or csrf_from(client.get("/accounts/new").text)
            response = client.post("/accounts/new", data={"name": name, "kind": "key", "csrf_token": token})
        except httpx.HTTPError:
            outcome["unknown"].add(name)  # the connection died: it may or may not have been stored
            continue
        if response.status_code == 303:
            outcome["acknowledged"].add(name)
        else:
            outcome["errors"].append(f"{name}: {response.status_code}")
    client.close()


def until_answered(send, outcome: dict) -> httpx.Response:
    """Send until the server answers, as the meeting page retries a save whose connection was cut."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return send()
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            outcome["retried"] += 1
            time.sleep(0.05)


def run_meeting(server, email: str, meeting_id: int, stop: threading.Event, outcome: dict) -> None:
    """A seller starts the meeting and autosaves the cards in turn until told to stop.

    A save in flight when ``stop`` is set is still retried to its answer, so what the client last
    heard about each card is what must be stored.
    """
    client = signed_in_client(server, email)
    page_url = f"/meetings/{meeting_id}"
    page = until_answered(lambda: client.get(page_url), outcome).text
    token = CSRF_IN_PAGE.search(page).group(1)
    until_answered(lambda: client.post(f"{page_url}/start", data={"csrf_token": token}), outcome)
    versions = {}
    for review_id in dict.fromkeys(int(found) for found in CARD_LINK.findall(page)):
        card_page = until_answered(lambda: client.get(f"{page_url}?review={review_id}"), outcome).text  # noqa: B023
        versions[review_id] = int(CARD_VERSION.search(card_page).group(1))
    headers = {"HX-Request": "true", "HX-Target": "save-state", "HX-Trigger": "card", "X-CSRFToken": token}
    projection_date = (date.today() + timedelta(days=7)).isoformat()
    for n in itertools.count(1):
        if stop.is_set():
            break
        review_id = list(versions)[n % len(versions)]
        card = {
            "csrf_token": token,
            "version": str(versions[review_id]),
            "notes": f"{email} card {review_id}: notes as of save {n}",
            "next_step": f"Next step {n}",
            "projection_date": projection_date,
        }
        url = f"{page_url}/reviews/{review_id}"
        response = until_answered(
            lambda: client.post(url, data=card, headers=headers | {"HX-Current-URL": server.url + url}),  # noqa: B023
            outcome,
        )
        version = CARD_VERSION.search(response.text) if response.status_code == 200 else None
        if version is None:
            outcome["errors"].append(f"{email} card {review_id} save {n}: {response.status_code}")
            continue
        versions[review_id] = int(version.group(1))
        outcome["cards"][review_id] = (card["notes"], card["next_step"], versions[review_id])
        outcome["acknowledged"].append(n)
    client.close()


def test_no_acknowledged_save_is_lost_when_workers_are_killed(gunicorn_server, server_database, tally):
    server = gunicorn_server(server_database)
    meetings = seed_meetings(server_database, MEETINGS, CARDS)
    accounts = {"acknowledged": set(), "unknown": set(), "errors": []}
    autosaves = {"acknowledged": [], "cards": {}, "retried": 0, "errors": []}
    stop = threading.Event()
    load = [threading.Thread(target=create_accounts, args=(server, n, stop, accounts)) for n in range(SELLERS)]
    load += [
        threading.Thread(target=run_meeting, args=(server, email, meeting_id, stop, autosaves))
        for email, meeting_id in meetings
    ]
    for thread in load:
        thread.start()
    killed = []
    try:
        # Paced by work done, not by the clock: a kill after every SAVES_BETWEEN_KILLS acknowledged saves.
        for round_ in range(1, KILLS + 2):
            wait_for_saves((accounts, autosaves), round_ * SAVES_BETWEEN_KILLS)
            if round_ <= KILLS:
                killed.append(server.kill_worker())
                server.wait_workers()  # gunicorn's master has started another
    finally:
        stop.set()
        for thread in load:
            thread.join(timeout=30)
    server.wait_ready()

    engine = create_engine(server_database)
    with engine.connect() as connection:
        stored = set(
            connection.execute(
                select(Account.name).join(User, User.id == Account.owner_id).where(User.email == SELLER_EMAIL)
            ).scalars()
        )
        stored_cards = {
            review_id: (notes, next_step, version)
            for review_id, notes, next_step, version in connection.execute(
                select(AccountReview.id, AccountReview.notes, AccountReview.next_step, AccountReview.version).where(
                    AccountReview.id.in_(autosaves["cards"])
                )
            )
        }
    engine.dispose()
    lost = accounts["acknowledged"] - stored
    lost_cards = {card: acked for card, acked in autosaves["cards"].items() if stored_cards[card] != acked}
    tally["durability: workers SIGKILLed"] += sum(1 for pid in killed if pid)
    tally["durability: saves acknowledged under SIGKILL"] += len(accounts["acknowledged"])
    tally["durability: meeting autosaves acknowledged under SIGKILL"] += len(autosaves["acknowledged"])
    tally["durability: autosaves retried after a cut connection"] += autosaves["retried"]
    tally["durability: acknowledged saves lost"] += len(lost) + len(lost_cards)
    assert all(killed), "every kill found a worker to kill"
    assert accounts["acknowledged"] and autosaves["acknowledged"], "the load made saves of both kinds"
    assert not accounts["errors"] and not autosaves["errors"], (accounts["errors"] + autosaves["errors"])[:10]
    assert not lost, f"{len(lost)} acknowledged saves lost: {sorted(lost)[:10]}"
    assert stored <= accounts["acknowledged"] | accounts["unknown"], "nothing stored that was not sent"
    assert not lost_cards, "cards not as last acknowledged: " + "; ".join(
        f"card {review_id}: told {acked}, stored {stored_cards[review_id]}" for review_id, acked in lost_cards.items()
    )
    print(
        f"{server_database.split(':')[0]}: {len(accounts['acknowledged'])} account saves and "
        f"{len(autosaves['acknowledged'])} meeting autosaves acknowledged, {len(accounts['unknown'])} account saves "
        f"cut off, {autosaves['retried']} autosaves retried, {len(killed)} workers killed, "
        f"{len(lost) + len(lost_cards)} lost"
    )


def seed_sellers_with_cadences(url: str, sellers: int) -> list[str]:
    """Sellers of the durable manager with a cadence and no meetings yet: signing in tops their schedule up."""
    from tests.conftest import Factory
    from tests.durability_support import MANAGER_EMAIL

    app = create_app(make_config(url))
    with app.app_context():
        make = Factory()
        manager = db.session.scalar(select(User).where(User.email == MANAGER_EMAIL))
        emails = []
        for n in range(sellers):
            seller = make.user("seller", manager=manager, email=f"durable.cadence{n}@example.test")
            for card in range(3):
                make.account(seller, f"Cadence Co {n}-{card}")
            make.cadence(seller)
            emails.append(seller.email)
        db.session.remove()
        db.engine.dispose()
    return emails


def test_sellers_signing_in_at_once_all_get_in_and_get_their_schedules(gunicorn_server, server_database):
    """Each sign-in writes (the schedule's top-up, with its cards): two workers at once must both get in.

    On SQLite, a top-up once began a read transaction (a SAVEPOINT) whose first write failed at once
    with "database is locked" when the other worker had written meanwhile: a 500 at sign-in.
    """
    from concurrent.futures import ThreadPoolExecutor

    server = gunicorn_server(server_database)
    emails = seed_sellers_with_cadences(server_database, 8)

    def sign_in(email: str) -> int:
        with httpx.Client(base_url=server.url, timeout=20) as client:
            token = csrf_from(client.get("/login").text)
            return client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(sign_in, emails))
    assert statuses == [303] * len(emails), server.log.read_text()[-3000:]
    app = create_app(make_config(server_database))
    with app.app_context():
        scheduled = db.session.execute(
            select(User.email, func.count(Meeting.id))
            .join(Meeting, Meeting.seller_id == User.id)
            .where(User.email.in_(emails))
            .group_by(User.email)
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert len(scheduled) == len(emails) and all(count > 0 for _, count in scheduled)
