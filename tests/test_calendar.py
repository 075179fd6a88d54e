"""Each user's private iCalendar feed and the page that shows (and rotates) its secret URL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from focusweb.extensions import db
from focusweb.models import ManagerNote, User

PRIVATE = "PRIVATE-calendar-note"


@pytest.fixture
def feed_setup(factory):
    manager, (seller,) = factory.team()
    _, (stranger,) = factory.team()
    scheduled = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
    last = factory.meeting(
        seller,
        scheduled_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=7),
        started_at=datetime.now(UTC) - timedelta(days=7),
        finished_at=datetime.now(UTC) - timedelta(days=7) + timedelta(minutes=30),
    )
    upcoming = factory.meeting(seller, scheduled_at=scheduled, planned_minutes=45)
    account = factory.account(seller, "Acme Logistics")
    step = factory.review(last, account, next_step="Send the renewal proposal", projection_date=date(2030, 2, 1))
    db.session.add(ManagerNote(review=step, author=manager, text=PRIVATE, private=True))
    their_meeting = factory.meeting(stranger, finished_at=None)
    factory.review(their_meeting, factory.account(stranger, "Not Yours"), next_step="Not your step")
    db.session.commit()
    return {"manager": manager, "seller": seller, "upcoming": upcoming, "last": last}


def _feed(client, user: User):
    response = client.get(f"/calendar/{user.calendar_secret}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return response, Calendar.from_ical(response.get_data())


def test_seller_feed_has_meetings_and_open_steps_as_all_day_events(client, feed_setup):
    s = feed_setup
    response, calendar = _feed(client, s["seller"])
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    meeting = events[f"meeting-{s['upcoming'].id}@focusweb"]
    assert str(meeting["summary"]) == f"Focus meeting with {s['manager'].name}"
    assert meeting.decoded("dtstart") == s["upcoming"].scheduled_at
    assert meeting.decoded("dtend") - meeting.decoded("dtstart") == timedelta(minutes=45)
    assert str(meeting["url"]) == f"http://localhost/meetings/{s['upcoming'].id}"
    assert f"meeting-{s['last'].id}@focusweb" in events
    steps = [event for uid, event in events.items() if uid.startswith("next-step-")]
    assert len(steps) == 1
    assert str(steps[0]["summary"]) == "Next step: Acme Logistics"
    assert str(steps[0]["description"]) == "Send the renewal proposal"
    assert steps[0].decoded("dtstart") == date(2030, 2, 1)  # a date: an all-day event
    body = response.get_data(as_text=True)
    assert PRIVATE not in body and "Not your step" not in body and "Not Yours" not in body


def test_manager_feed_has_the_meetings_they_lead_and_no_steps(client, feed_setup):
    s = feed_setup
    _, calendar = _feed(client, s["manager"])
    events = list(calendar.walk("VEVENT"))
    assert {str(e["uid"]) for e in events} == {
        f"meeting-{s['upcoming'].id}@focusweb",
        f"meeting-{s['last'].id}@focusweb",
    }
    assert all(str(e["summary"]) == f"Focus meeting with {s['seller'].name}" for e in events)


def test_unknown_secret_is_404(client, feed_setup):
    assert client.get("/calendar/not-a-secret.ics").status_code == 404


def test_calendar_page_shows_the_absolute_feed_url_and_rotating_stops_the_old_one(client, auth, feed_setup):
    seller = feed_setup["seller"]
    old_secret = seller.calendar_secret
    auth.login(seller)
    page = client.get("/calendar").get_data(as_text=True)
    assert f'value="http://localhost/calendar/{old_secret}.ics"' in page
    assert f'href="webcal://localhost/calendar/{old_secret}.ics"' in page
    settings = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<a class="button small" href="/calendar">Open</a>', settings)

    response = client.post("/calendar/rotate")
    assert response.status_code == 303
    new_secret = db.session.get(User, seller.id).calendar_secret
    assert new_secret != old_secret
    assert client.get(f"/calendar/{old_secret}.ics").status_code == 404
    assert client.get(f"/calendar/{new_secret}.ics").status_code == 200
    assert f"/calendar/{new_secret}.ics" in client.get("/calendar").get_data(as_text=True)


def test_calendar_page_needs_a_sign_in(client, feed_setup):
    response = client.get("/calendar")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]
    assert client.post("/calendar/rotate").status_code in (302, 303)
