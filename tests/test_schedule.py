"""Cadence, the meetings created from it, rescheduling with a reason, and the seller's home."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from focusweb.extensions import db
from focusweb.models import Cadence, Meeting, Reschedule
from focusweb.schedule import service


@pytest.fixture
def team(factory):
    manager = factory.user("manager", timezone="America/New_York")
    seller = factory.user("seller", manager=manager, timezone="Europe/Berlin")
    return manager, seller


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def meetings_of(seller) -> list[Meeting]:
    query = select(Meeting).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at)
    return db.session.scalars(query).all()


@pytest.mark.parametrize(
    ("zone", "weekday", "starts_on", "now", "expected_utc"),
    [
        # The US moves its clocks on Sunday 2026-03-08: 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
        ("America/New_York", 4, date(2026, 3, 1), utc(2026, 3, 1), [utc(2026, 3, 6, 14), utc(2026, 3, 13, 13)]),
        # Europe moves back on Sunday 2026-10-25: 09:00 CEST is 07:00 UTC, 09:00 CET is 08:00 UTC.
        ("Europe/Berlin", 3, date(2026, 10, 19), utc(2026, 10, 19), [utc(2026, 10, 22, 7), utc(2026, 10, 29, 8)]),
    ],
)
def test_cadence_keeps_local_time_across_a_dst_change(factory, team, zone, weekday, starts_on, now, expected_utc):
    _, seller = team
    cadence = factory.cadence(seller, weekday=weekday, local_time=time(9, 0), timezone=zone, starts_on=starts_on)
    service.generate_meetings(cadence, until=starts_on + timedelta(days=13), now=now)
    db.session.commit()
    scheduled = [meeting.scheduled_at for meeting in meetings_of(seller)]
    assert scheduled == expected_utc
    assert {moment.astimezone(ZoneInfo(zone)).time() for moment in scheduled} == {time(9, 0)}
    assert scheduled[1] - scheduled[0] != timedelta(weeks=1)  # an hour more or less, in UTC


@pytest.mark.parametrize(
    ("every_weeks", "expected_days"),
    [
        (1, [date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 6)]),
        # Fortnights count from the first Monday on or after starts_on (2026-03-09), not from today.
        (2, [date(2026, 3, 23), date(2026, 4, 6)]),
    ],
)
def test_weekly_and_every_two_weeks(factory, team, every_weeks, expected_days):
    _, seller = team
    cadence = factory.cadence(
        seller, every_weeks=every_weeks, weekday=0, timezone="UTC", starts_on=date(2026, 3, 4), minutes=45
    )
    service.generate_meetings(cadence, until=date(2026, 4, 10), now=utc(2026, 3, 16, 8))
    db.session.commit()
    meetings = meetings_of(seller)
    assert [meeting.scheduled_at.date() for meeting in meetings] == expected_days
    assert {(meeting.planned_minutes, meeting.manager_id) for meeting in meetings} == {(45, seller.manager_id)}


def test_generating_again_creates_nothing_new(factory, team):
    _, seller = team
    cadence = factory.cadence(seller, weekday=2, timezone="UTC", starts_on=date(2026, 1, 1))
    now = utc(2026, 1, 1)
    first = service.generate_meetings(cadence, until=date(2026, 2, 26), now=now)
    db.session.commit()
    again = service.generate_meetings(cadence, until=date(2026, 2, 26), now=now)
    db.session.commit()
    assert len(first) == 8 and again == []
    assert len(meetings_of(seller)) == 8


def test_a_rescheduled_slot_is_not_created_again(factory, team):
    manager, seller = team
    cadence = factory.cadence(seller, weekday=2, timezone="UTC", starts_on=date(2026, 1, 1))
    now = utc(2026, 1, 1)
    service.generate_meetings(cadence, until=date(2026, 1, 31), now=now)
    db.session.commit()
    moved = meetings_of(seller)[0]
    service.reschedule(moved, utc(2026, 1, 9, 15), "Customer visit moved", manager)
    assert service.generate_meetings(cadence, until=date(2026, 1, 31), now=now) == []


def test_top_up_only_when_the_horizon_is_short(factory, team):
    _, seller = team
    factory.cadence(seller, weekday=0, timezone="UTC", starts_on=date.today())
    assert service.top_up([seller.id]) >= 8
    assert service.top_up([seller.id]) == 0


def test_manager_sets_a_cadence_in_their_own_time_zone_by_default(client, auth, team):
    manager, seller = team
    auth.login(manager)
    page = client.get(f"/team/{seller.id}/cadence").get_data(as_text=True)
    assert '<option selected value="America/New_York">' in page
    response = client.post(
        f"/team/{seller.id}/cadence",
        data={
            "every_weeks": "2",
            "weekday": "1",
            "local_time": "10:30",
            "minutes": "45",
            "timezone": "America/New_York",
            "starts_on": date.today().isoformat(),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/team/{seller.id}/cadence"
    cadence = db.session.scalar(select(Cadence).where(Cadence.seller_id == seller.id))
    assert (cadence.every_weeks, cadence.weekday, cadence.local_time, cadence.minutes, cadence.manager_id) == (
        2,
        1,
        time(10, 30),
        45,
        manager.id,
    )
    zone = ZoneInfo("America/New_York")
    local = [meeting.scheduled_at.astimezone(zone) for meeting in meetings_of(seller)]
    assert len(local) >= 4  # every two weeks over an eight-week horizon
    assert {(moment.weekday(), moment.time()) for moment in local} == {(1, time(10, 30))}
    assert {(later.date() - earlier.date()).days for earlier, later in zip(local, local[1:], strict=False)} == {14}
    assert "Every two weeks on Tuesday at 10:30" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"minutes": "60"}, "Not a valid choice"),
        ({"local_time": ""}, "Give a time, e.g. 09:00."),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"every_weeks": ""}, "Choose every week or every two weeks."),
    ],
)
def test_bad_cadence_is_refused_and_the_rest_kept(client, auth, team, change, message):
    manager, seller = team
    auth.login(manager)
    data = {
        "every_weeks": "1",
        "weekday": "4",
        "local_time": "08:15",
        "minutes": "30",
        "timezone": "Europe/Berlin",
        "starts_on": "2026-05-04",
    } | change
    response = client.post(f"/team/{seller.id}/cadence", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="2026-05-04"' in page
    assert db.session.scalar(select(func.count()).select_from(Cadence)) == 0
    assert meetings_of(seller) == []


def test_only_the_sellers_manager_sets_the_cadence(client, auth, factory, team):
    _, seller = team
    other_manager = factory.user("manager")
    for user in (seller, other_manager):
        auth.logout()
        auth.login(user)
        assert client.get(f"/team/{seller.id}/cadence").status_code == 404
        assert client.post(f"/team/{seller.id}/cadence", data={"every_weeks": "1"}).status_code == 404


def test_changing_the_cadence_replaces_only_blank_future_meetings(factory, team):
    manager, seller = team
    now = utc(2026, 6, 1, 6)  # a Monday, 08:00 in Berlin
    account = factory.account(seller)
    first = {
        "every_weeks": 1,
        "weekday": 0,
        "local_time": time(9, 0),
        "timezone": "Europe/Berlin",
        "minutes": 30,
        "starts_on": date(2026, 6, 1),
    }
    service.save_cadence(seller, manager, first, now=now)
    today, with_answers, moved, blank, *_ = meetings_of(seller)
    factory.review(with_answers, account, notes="prepared")
    service.reschedule(moved, moved.scheduled_at + timedelta(hours=2), "Trade fair", manager)
    kept = {today.id, with_answers.id, moved.id}
    replaced = blank.scheduled_at  # SQLite may hand a deleted row's id to a new one: compare times

    service.save_cadence(seller, manager, first | {"weekday": 2, "local_time": time(14, 0)}, now=now)

    remaining = {meeting.id for meeting in meetings_of(seller)}
    assert kept <= remaining
    assert replaced not in {meeting.scheduled_at for meeting in meetings_of(seller)}
    new = [m for m in meetings_of(seller) if m.scheduled_at.astimezone(ZoneInfo("Europe/Berlin")).weekday() == 2]
    assert len(new) == 8
    assert {m.scheduled_at.astimezone(ZoneInfo("Europe/Berlin")).time() for m in new} == {time(14, 0)}


# -- rescheduling -------------------------------------------------------------------------


@pytest.fixture
def upcoming_meeting(factory, team):
    _, seller = team
    return factory.meeting(seller, scheduled_at=datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2))


def test_reschedule_needs_a_reason(client, auth, team, upcoming_meeting):
    _, seller = team
    original = upcoming_meeting.scheduled_at
    auth.login(seller)
    new_day = (original + timedelta(days=1)).astimezone(ZoneInfo(seller.timezone)).date()
    response = client.post(
        f"/meetings/{upcoming_meeting.id}/reschedule",
        data={"new_date": new_day.isoformat(), "new_time": "11:00", "reason": "   "},
    )
    assert response.status_code == 422
    assert "Say why the meeting moves" in response.get_data(as_text=True)
    db.session.refresh(upcoming_meeting)
    assert upcoming_meeting.scheduled_at == original
    assert db.session.scalar(select(func.count()).select_from(Reschedule)) == 0


def test_reschedule_moves_the_meeting_and_keeps_the_record(client, auth, team, upcoming_meeting):
    manager, seller = team
    original = upcoming_meeting.scheduled_at
    new_day = (original + timedelta(days=1)).astimezone(ZoneInfo(seller.timezone)).date()
    auth.login(seller)
    response = client.post(
        f"/meetings/{upcoming_meeting.id}/reschedule",
        data={"new_date": new_day.isoformat(), "new_time": "11:00", "reason": "Key customer visit"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    move = db.session.scalar(select(Reschedule))
    expected = datetime.combine(new_day, time(11, 0), tzinfo=ZoneInfo(seller.timezone)).astimezone(UTC)
    assert (move.from_at, move.to_at, move.reason, move.by_id) == (original, expected, "Key customer visit", seller.id)
    db.session.refresh(upcoming_meeting)
    assert upcoming_meeting.scheduled_at == expected

    auth.logout()
    auth.login(manager)
    response = client.post(
        f"/meetings/{upcoming_meeting.id}/reschedule",
        data={"new_date": new_day.isoformat(), "new_time": "12:00", "reason": "I am travelling"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/team/{seller.id}/cadence"
    auth.logout()
    auth.login(seller)
    home = client.get("/").get_data(as_text=True)
    assert "Rescheduled 2×" in home
    assert "Key customer visit" in home and "I am travelling" in home


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda m: m.scheduled_at, "already at this time"),
        (lambda m: m.scheduled_at - timedelta(days=5), "This time has passed"),
    ],
)
def test_reschedule_refuses_a_useless_or_past_time(client, auth, team, upcoming_meeting, when, message):
    _, seller = team
    moment = when(upcoming_meeting).astimezone(ZoneInfo(seller.timezone))
    auth.login(seller)
    response = client.post(
        f"/meetings/{upcoming_meeting.id}/reschedule",
        data={"new_date": moment.date().isoformat(), "new_time": f"{moment:%H:%M}", "reason": "keep me"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "keep me" in page
    assert db.session.scalar(select(func.count()).select_from(Reschedule)) == 0


def test_only_the_seller_or_their_manager_may_reschedule(client, auth, factory, upcoming_meeting):
    other_manager, (other_seller,) = factory.team()
    for user in (other_seller, other_manager):
        auth.logout()
        auth.login(user)
        assert client.get(f"/meetings/{upcoming_meeting.id}/reschedule").status_code == 404
        response = client.post(
            f"/meetings/{upcoming_meeting.id}/reschedule",
            data={"new_date": "2030-01-01", "new_time": "10:00", "reason": "mine now"},
        )
        assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Reschedule)) == 0


def test_a_started_meeting_cannot_be_rescheduled(client, auth, team, upcoming_meeting):
    _, seller = team
    upcoming_meeting.started_at = datetime.now(UTC)
    db.session.commit()
    auth.login(seller)
    assert client.get(f"/meetings/{upcoming_meeting.id}/reschedule").status_code == 409
    response = client.post(
        f"/meetings/{upcoming_meeting.id}/reschedule",
        data={"new_date": "2030-01-01", "new_time": "10:00", "reason": "too late"},
    )
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Reschedule)) == 0


# -- the seller's home --------------------------------------------------------------------


def _today_at(seller, hour: int) -> datetime:
    return service.at_local(service.local_today(seller.timezone), time(hour, 0), seller.timezone)


def test_home_offers_start_for_todays_meeting(client, auth, factory, team):
    manager, seller = team
    meeting = factory.meeting(seller, scheduled_at=_today_at(seller, 12))
    auth.login(seller)
    page = client.get("/").get_data(as_text=True)
    local = meeting.scheduled_at.astimezone(ZoneInfo(seller.timezone))
    assert f"{local:%a %-d %b %Y}, 12:00" in page
    assert f"with {manager.name}" in page
    assert "Today, " in page
    assert f'action="/meetings/{meeting.id}/start" method="post"' in page
    assert 'name="csrf_token"' in page.split(f'action="/meetings/{meeting.id}/start"')[1].split("</form>")[0]
    assert ">Start meeting</button>" in page


def test_home_has_no_start_for_a_later_meeting(client, auth, factory, team):
    _, seller = team
    meeting = factory.meeting(seller, scheduled_at=_today_at(seller, 12) + timedelta(days=3))
    auth.login(seller)
    page = client.get("/").get_data(as_text=True)
    assert "In 3 days" in page
    assert "Start meeting" not in page
    assert f"/meetings/{meeting.id}/reschedule" in page


def test_home_continues_a_started_meeting(client, auth, factory, team):
    _, seller = team
    meeting = factory.meeting(seller, scheduled_at=_today_at(seller, 12), started_at=datetime.now(UTC))
    auth.login(seller)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}">Continue meeting</a>' in page
    assert "Start meeting" not in page
    assert "In progress" in page


def test_home_creates_meetings_from_the_cadence_lazily(client, auth, factory, team):
    _, seller = team
    factory.cadence(seller, weekday=service.local_today(seller.timezone).weekday(), local_time=time(23, 59))
    auth.login(seller)
    client.get("/")
    assert len(meetings_of(seller)) >= 8


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 2, 12), "today, in 3 hours"),
        (utc(2026, 3, 2, 9, 20), "today, in 20 minutes"),
        (utc(2026, 3, 2, 9), "today, now"),
        (utc(2026, 3, 2, 7), "today, 2 hours ago"),
        (utc(2026, 3, 3, 9), "tomorrow"),
        (utc(2026, 3, 7, 9), "in 5 days"),
    ],
)
def test_relative_when(moment, expected):
    assert service.relative_when(moment, utc(2026, 3, 2, 9), "UTC") == expected
