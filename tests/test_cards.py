"""One read model of a meeting's cards (focusweb.cards), and transactions at the request's edge (issue 14).

Every screen that shows a meeting's cards is read through HTTP here, as the seller and the manager
see them, after the changes that used to make the screens disagree: an account's kind changed, an
account added, a card moved, skipped, its account archived, all while the meeting runs.
"""

from __future__ import annotations

import ast
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from focusweb import cards, create_app
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Meeting
from focusweb.transactions import WriteInSafeRequest
from tests.conftest import PASSWORD, make_config

HTMX = {"HX-Request": "true"}
SELLER_LIST = re.compile(r'\?review=(\d+)"[^>]*>([^<]+)</a>')
BOARD_CARD = re.compile(r'<h2 id="card-(\d+)-name">([^<]+)</h2>')
SUMMARY_CARD = re.compile(r"<h3>([^<]+?) <span class=\"badge")
RECAP_CARD = re.compile(r'<h3><span class="recap-kind[^"]*">[^<]*</span> ([^<]+)</h3>')
PROGRESS = re.compile(r'<span id="progress"[^>]*>(\d+) of (\d+) accounts</span>')
BOARD_PROGRESS = re.compile(r"<strong>(\d+) of (\d+) accounts</strong>")


@pytest.fixture
def people(factory, app):
    manager, (seller,) = factory.team()
    accounts = {
        name: factory.account(seller, name, kind)
        for name, kind in [("Acme Logistics", "key"), ("Borealis Foods", "key"), ("Cobalt Health", "target")]
    }
    meeting = factory.meeting(seller, scheduled_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2))
    manager_client = app.test_client()
    assert manager_client.post("/login", data={"email": manager.email, "password": PASSWORD}).status_code == 303
    return manager, seller, accounts, meeting, manager_client


def seller_order(client, meeting) -> list[str]:
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    return [name for _, name in SELLER_LIST.findall(page)]


def board_order(manager_client, meeting) -> list[str]:
    page = manager_client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)
    return [name for _, name in BOARD_CARD.findall(page)]


def card_id(meeting, account_name: str) -> int:
    return db.session.scalar(
        select(AccountReview.id).where(
            AccountReview.meeting_id == meeting.id, AccountReview.account_name == account_name
        )
    )


def save(client, meeting, review_id, headers=HTMX, **fields):
    version = db.session.get(AccountReview, review_id).version
    data = {"version": version} | {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}
    return client.post(f"/meetings/{meeting.id}/reviews/{review_id}", data=data, headers=headers)


def test_every_screen_shows_the_same_cards_in_the_same_order_through_a_changing_meeting(client, auth, people):
    manager, seller, accounts, meeting, manager_client = people
    auth.login(seller)
    assert seller_order(client, meeting) == ["Acme Logistics", "Borealis Foods", "Cobalt Health"]
    assert client.post(f"/meetings/{meeting.id}/start").status_code == 303

    # In another tab, mid-meeting: Borealis becomes a Target account, Dune Energy (Key) is added, Cobalt archived.
    borealis = accounts["Borealis Foods"]
    edited = client.post(f"/accounts/{borealis.id}/edit", data={"name": "Borealis Foods", "kind": "target"})
    assert edited.status_code == 303
    assert db.session.get(Account, borealis.id).kind == "target"
    assert client.post("/accounts/new", data={"name": "Dune Energy", "kind": "key"}).status_code == 303
    assert client.post(f"/accounts/{accounts['Cobalt Health'].id}/archive").status_code == 303

    # The running meeting froze kinds and names at its start; the new account joins at the end of the Key ones.
    expected = ["Acme Logistics", "Borealis Foods", "Dune Energy", "Cobalt Health"]
    assert seller_order(client, meeting) == expected
    assert board_order(manager_client, meeting) == expected

    # The seller moves Dune Energy up, opens it and skips Acme: both screens follow, and agree on "N of M".
    dune = card_id(meeting, "Dune Energy")
    assert client.post(f"/meetings/{meeting.id}/reviews/{dune}/move", data={"direction": "up"}).status_code == 303
    expected = ["Acme Logistics", "Dune Energy", "Borealis Foods", "Cobalt Health"]
    assert seller_order(client, meeting) == expected
    assert board_order(manager_client, meeting) == expected
    acme = card_id(meeting, "Acme Logistics")
    assert save(client, meeting, acme, headers={}, go="skip").status_code == 303
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert PROGRESS.search(page).groups() == ("2", "4")  # Skip led to Dune Energy, the second card
    beacon = client.post(f"/meetings/{meeting.id}/current", data={"review": dune}, headers=HTMX)
    assert beacon.status_code == 204
    board = manager_client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)
    assert BOARD_PROGRESS.search(board).groups() == ("2", "4")

    # Finish, then the summary, the recap page and the PDF list the discussed cards in that order too.
    day = date.today() + timedelta(days=7)
    for name in expected[1:]:
        assert (
            save(client, meeting, card_id(meeting, name), next_step=f"Call {name}", projection_date=day).status_code
            == 200
        )
    assert client.post(f"/meetings/{meeting.id}/finish").status_code == 303
    discussed = expected[1:]
    summary = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert SUMMARY_CARD.findall(summary) == discussed
    recap = client.get(f"/meetings/{meeting.id}/recap").get_data(as_text=True)
    assert RECAP_CARD.findall(recap) == discussed
    assert RECAP_CARD.findall(manager_client.get(f"/meetings/{meeting.id}/recap").get_data(as_text=True)) == discussed
    pdf = client.get(f"/meetings/{meeting.id}/recap.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    places = [text.index(f"Call {name}") for name in discussed]
    assert places == sorted(places), text
    assert "Acme Logistics" in text.split("Skipped this time")[-1]


def test_before_the_start_cards_follow_their_accounts(client, auth, people):
    """Prep: a kind changed or an account archived before the meeting shows on both screens at once."""
    _, seller, accounts, meeting, manager_client = people
    auth.login(seller)
    acme = accounts["Acme Logistics"]
    client.post(f"/accounts/{acme.id}/edit", data={"name": "Acme Logistics EU", "kind": "target"})
    client.post(f"/accounts/{accounts['Cobalt Health'].id}/archive")
    expected = ["Borealis Foods", "Acme Logistics EU"]
    assert seller_order(client, meeting) == expected
    assert board_order(manager_client, meeting) == expected


def test_the_boards_version_follows_every_change_once_and_not_a_refused_one(client, auth, people):
    _, seller, accounts, meeting, manager_client = people
    auth.login(seller)
    client.post(f"/meetings/{meeting.id}/start")
    version = db.session.get(Meeting, meeting.id).version
    acme = card_id(meeting, "Acme Logistics")
    assert save(client, meeting, acme, notes="Budget confirmed", next_step="Send the quote").status_code == 200
    assert db.session.get(Meeting, meeting.id).version == version + 1  # two fields, one transaction, one step
    stale = client.post(
        f"/meetings/{meeting.id}/reviews/{acme}", data={"version": 1, "notes": "From the other phone"}, headers=HTMX
    )
    assert stale.status_code == 409
    assert db.session.get(Meeting, meeting.id).version == version + 1
    note = manager_client.post(
        f"/meetings/{meeting.id}/reviews/{acme}/note", data={"text": "Ask procurement", "version": 0}, headers=HTMX
    )
    assert note.status_code in (200, 303), note.get_data(as_text=True)
    assert db.session.get(Meeting, meeting.id).version == version + 2


def test_a_get_never_writes(database_url, people):
    """A GET that leaves a change behind is rolled back, and in testing raises (focusweb.transactions)."""
    meeting_id = people[3].id
    app = create_app(make_config(database_url))

    @app.get("/__writes-on-get")
    def writes_on_get():
        db.session.get(Meeting, meeting_id).planned_minutes = 90
        return "changed"

    with app.app_context():
        with pytest.raises(WriteInSafeRequest, match="GET /__writes-on-get"):
            app.test_client().get("/__writes-on-get")
        db.session.remove()
        db.engine.dispose()
    db.session.expire_all()
    assert db.session.get(Meeting, meeting_id).planned_minutes == 30


def test_a_save_that_loses_the_race_with_finish_is_refused(client, auth, people):
    """claim(): once the meeting is finished, a save staged against it is refused and changes nothing."""
    _, seller, _, meeting, _ = people
    auth.login(seller)
    client.post(f"/meetings/{meeting.id}/start")
    acme = card_id(meeting, "Acme Logistics")
    stored = db.session.get(Meeting, meeting.id)
    assert cards.claim(stored) is True
    db.session.rollback()
    stored = db.session.get(Meeting, meeting.id)
    stored.finished_at = datetime.now(UTC)
    db.session.commit()
    version = db.session.get(Meeting, meeting.id).version
    response = save(client, meeting, acme, notes="Typed as Finish was pressed")
    assert response.status_code == 409
    assert db.session.get(AccountReview, acme).notes == ""
    assert db.session.get(Meeting, meeting.id).version == version


SERVICE_MODULES = sorted(
    [
        *Path("focusweb").glob("*/service.py"),
        *(Path("focusweb") / name for name in ("cards.py", "rules.py", "plans.py")),
    ]
)
REQUEST_STATE = {"request", "session", "g", "current_user"}


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=str)
def test_services_neither_read_the_request_nor_commit(path):
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login")
        for alias in node.names
    }
    assert not imported & REQUEST_STATE, f"{path} imports {imported & REQUEST_STATE}"
    commits = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "commit"]
    assert not commits, f"{path} commits on lines {commits}: stage the change, the request commits"


def test_nothing_but_the_transactions_module_commits():
    offenders = [
        f"{path}:{number}"
        for path in Path("focusweb").rglob("*.py")
        if path.name != "transactions.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ".commit()" in line
    ]
    assert not offenders, offenders
