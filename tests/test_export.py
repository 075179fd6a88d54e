"""The plan as CSV: My next steps, an account's history, the team's plan; safe and readable in Excel."""

import csv
import io

import pytest

from focusweb.extensions import db
from tests.test_nextsteps import world  # noqa: F401  (the fixture: eight accounts, each with a story)

BOM = "\ufeff"


def read_csv(response) -> list[list[str]]:
    """The rows of a CSV response, after checking it is a UTF-8 attachment that starts with a BOM."""
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data().decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def test_my_next_steps_as_csv_is_the_open_plan_in_page_order(client, auth, world):  # noqa: F811
    auth.login(world.seller)
    rows = read_csv(client.get("/next-steps.csv"))
    assert rows[0] == ["Account", "Kind", "Next step", "Projection date", "Status", "Meeting"]
    assert [row[2] for row in rows[1:]] == ["c1", "a2", "e1", "b2", "g2"]
    charlie = rows[1]
    assert charlie[:2] == ["Charlie", "Target account"]
    assert charlie[4] == "Open, overdue"
    assert rows[4][4] == "Open"
    assert len(charlie[3]) == 10 and len(charlie[5]) == 10  # ISO dates


def test_the_history_as_csv_says_what_became_of_each_step(client, auth, world):  # noqa: F811
    auth.login(world.seller)
    for name, expected in [
        ("alpha", [("a2", "Open, overdue"), ("a1", "Done after the projection date")]),
        ("bravo", [("b2", "Open"), ("b1", "Not done, slipped")]),
        ("delta", [("d1", "Done on time")]),
        ("golf", [("g2", "Open"), ("g1", "Not done")]),
    ]:
        rows = read_csv(client.get(f"/accounts/{world.accounts[name].id}/history.csv"))
        assert [(row[2], row[4]) for row in rows[1:]] == expected, name


def test_the_team_plan_has_every_sellers_open_steps(client, auth, factory, world):  # noqa: F811
    other = factory.user("seller", manager=world.manager, name="Aaron Second")
    account = factory.account(other, "Zulu")
    meeting = factory.meeting(other, scheduled_at=world.last.scheduled_at, started_at=world.last.started_at)
    meeting.finished_at = world.last.finished_at
    db.session.commit()
    factory.review(meeting, account, next_step="z1", projection_date=world.today)
    auth.login(world.manager)
    rows = read_csv(client.get("/team/next-steps.csv"))
    assert rows[0] == ["Seller", "Account", "Kind", "Next step", "Projection date", "Status", "Meeting"]
    assert [(row[0], row[3]) for row in rows[1:]] == [("Aaron Second", "z1")] + [
        (world.seller.name, text) for text in ("c1", "a2", "e1", "b2", "g2")
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_run_as_a_formula_is_neutralised(client, auth, factory, world, start):  # noqa: F811
    account = world.accounts["india"]
    account.name = f'{start}HYPERLINK("http://x.test")'
    db.session.commit()
    factory.review(world.last, account, next_step=f"{start}cmd|' /C calc'!A0", projection_date=world.today)
    auth.login(world.seller)
    rows = read_csv(client.get("/next-steps.csv"))
    row = next(row for row in rows if "HYPERLINK" in row[0])
    assert row[0] == "'" + account.name
    assert row[2] == f"'{start}cmd|' /C calc'!A0"


def test_accents_survive_the_round_trip(client, auth, factory, world):  # noqa: F811
    account = factory.account(world.seller, "Société Générale", "target")
    factory.review(world.last, account, next_step="Réunion à Zürich", projection_date=world.today)
    auth.login(world.seller)
    rows = read_csv(client.get("/next-steps.csv"))
    assert ["Société Générale", "Target account", "Réunion à Zürich"] in [row[:3] for row in rows]


def test_exports_are_for_those_who_may_see_them(client, auth, factory, world):  # noqa: F811
    account_id = world.accounts["alpha"].id
    auth.login(world.manager)
    assert client.get("/next-steps.csv").status_code == 404  # a manager has no plan of their own
    assert client.get(f"/accounts/{account_id}/history.csv").status_code == 200
    auth.logout()
    auth.login(world.seller)
    assert client.get("/team/next-steps.csv").status_code == 404
    other_manager, (other_seller,) = factory.team()
    for user in (other_seller, other_manager):
        auth.logout()
        auth.login(user)
        assert client.get(f"/accounts/{account_id}/history.csv").status_code == 404
    rows = read_csv(client.get("/team/next-steps.csv"))  # the other manager's team has no steps
    assert rows[1:] == []
    auth.logout()
    assert client.get("/next-steps.csv").status_code == 303


def test_the_pages_link_to_their_csv(client, auth, world):  # noqa: F811
    auth.login(world.seller)
    assert 'href="/next-steps.csv"' in client.get("/next-steps").get_data(as_text=True)
    alpha = world.accounts["alpha"].id
    assert f'href="/accounts/{alpha}/history.csv"' in client.get(f"/accounts/{alpha}/history").get_data(as_text=True)
    auth.logout()
    auth.login(world.manager)
    assert 'href="/team/next-steps.csv"' in client.get("/team").get_data(as_text=True)
