"""No lost data: a failed save leaves nothing half written; a killed server loses no acknowledged save.

The kill test runs real gunicorn (2 sync workers) on its own SQLite file and, in the PostgreSQL
run, on PostgreSQL; sellers create accounts (POST /accounts/new, CSRF from the page) while
workers are SIGKILLed; every save the client was told about (303) must be stored. To prove the
same for meeting autosaves, replace ``create_accounts`` with a loop of autosaves and compare
the stored card with the last acknowledged text.
"""

from __future__ import annotations

import itertools
import os
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, event, func, select

from focusweb.extensions import db
from focusweb.models import Account, User
from tests.conftest import PASSWORD, multipart
from tests.durability_support import SELLER_EMAIL, csrf_from, signed_in_client


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


SELLERS = 6
KILLS = 4
SAVES_BETWEEN_KILLS = 25


def wait_for_saves(outcome: dict, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(outcome["acknowledged"]) < count:
        assert time.monotonic() < deadline, f"only {len(outcome['acknowledged'])} saves acknowledged: {outcome}"
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


def test_no_acknowledged_save_is_lost_when_workers_are_killed(gunicorn_server, server_database, tally):
    server = gunicorn_server(server_database)
    outcome = {"acknowledged": set(), "unknown": set(), "errors": []}
    stop = threading.Event()
    sellers = [threading.Thread(target=create_accounts, args=(server, n, stop, outcome)) for n in range(SELLERS)]
    for thread in sellers:
        thread.start()
    killed = []
    try:
        # Paced by work done, not by the clock: a kill after every SAVES_BETWEEN_KILLS acknowledged saves.
        for round_ in range(1, KILLS + 2):
            wait_for_saves(outcome, round_ * SAVES_BETWEEN_KILLS)
            if round_ <= KILLS:
                killed.append(server.kill_worker())
                server.wait_workers()  # gunicorn's master has started another
    finally:
        stop.set()
        for thread in sellers:
            thread.join(timeout=30)
    server.wait_ready()

    engine = create_engine(server_database)
    with engine.connect() as connection:
        stored = set(
            connection.execute(
                select(Account.name).join(User, User.id == Account.owner_id).where(User.email == SELLER_EMAIL)
            ).scalars()
        )
    engine.dispose()
    lost = outcome["acknowledged"] - stored
    tally["durability: workers SIGKILLed"] += sum(1 for pid in killed if pid)
    tally["durability: saves acknowledged under SIGKILL"] += len(outcome["acknowledged"])
    tally["durability: acknowledged saves lost"] += len(lost)
    assert all(killed), "every kill found a worker to kill"
    assert outcome["acknowledged"], "the load made saves"
    assert not outcome["errors"], outcome["errors"][:10]
    assert not lost, f"{len(lost)} acknowledged saves lost: {sorted(lost)[:10]}"
    assert stored <= outcome["acknowledged"] | outcome["unknown"], "nothing stored that was not sent"
    print(
        f"{server_database.split(':')[0]}: {len(outcome['acknowledged'])} saves acknowledged, "
        f"{len(outcome['unknown'])} cut off by a kill, {len(killed)} workers killed, {len(lost)} lost"
    )
