"""The settings page: time zone, paper size, reminder switches."""

import pytest

from focusweb.extensions import db


@pytest.fixture
def seller(factory):
    return factory.team(1)[1][0]


def test_settings_page_shows_the_current_choices(client, auth, seller):
    auth.login(seller)
    page = client.get("/settings").get_data(as_text=True)
    assert '<option selected value="UTC">UTC</option>' in page
    assert 'value="Asia/Tokyo"' in page
    assert 'id="remind_prep" name="remind_prep" type="checkbox" value="y"' in page
    assert 'aria-current="page">Settings</a>' in page


def test_saving_settings_changes_the_user(client, auth, seller):
    auth.login(seller)
    response = client.post("/settings", data={"timezone": "Asia/Tokyo", "paper_size": "Letter", "remind_due": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/settings"
    db.session.refresh(seller)
    assert (seller.timezone, seller.paper_size) == ("Asia/Tokyo", "Letter")
    assert (seller.remind_prep, seller.remind_due, seller.remind_overdue) == (False, True, False)
    assert "Settings saved." in client.get("/settings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("timezone", "Mars/Olympus", "Not a valid choice"), ("paper_size", "A3", "Not a valid choice")],
)
def test_a_bad_choice_is_refused_and_the_rest_kept(client, auth, seller, field, value, message):
    auth.login(seller)
    data = {"timezone": "Europe/Paris", "paper_size": "Letter", "remind_overdue": "y", field: value}
    response = client.post("/settings", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert '<input checked id="remind_overdue"' in page and '<input id="remind_prep"' in page
    kept = {
        "timezone": '<input checked id="paper_size-1" name="paper_size" required type="radio" value="Letter">',
        "paper_size": '<option selected value="Europe/Paris">Europe/Paris</option>',
    }
    assert kept[field] in page
    db.session.refresh(seller)
    assert (seller.timezone, seller.paper_size) == ("UTC", "A4")


def test_settings_need_sign_in(client):
    response = client.get("/settings")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
