"""Reminders: each once, at 07:00 in the seller's own time zone, never to a seller who turned it off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import OutboxMessage
from focusweb.reminders import service

STEP_DUE = date(2026, 3, 10)
STEP_EARLIER = date(2026, 3, 9)
NEXT_MEETING_DAY = date(2026, 3, 11)


def at_seven(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(7, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def seller_with_plan(factory, manager, zone: str, **switches):
    """A seller whose last meeting left two open steps (due 9 and 10 March) and a meeting on 11 March, 09:00."""
    seller = factory.user("seller", manager=manager, timezone=zone, **switches)
    last_at = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(zone))
    last = factory.meeting(
        seller, scheduled_at=last_at, started_at=last_at, finished_at=last_at + timedelta(minutes=30)
    )
    for name, due in (("Alpha", STEP_DUE), ("Beta", STEP_EARLIER)):
        factory.review(last, factory.account(seller, name=name), next_step=f"Call {name}", projection_date=due)
    upcoming = factory.meeting(seller, scheduled_at=datetime.combine(NEXT_MEETING_DAY, time(9), tzinfo=ZoneInfo(zone)))
    return seller, last, upcoming


CRON_STEP = timedelta(minutes=15)
# In each seller's zone: the reminder time, and cron's run just before it (a reminder queued early shows there).
LOOKED_AT = {service.REMINDER_TIME, (datetime.combine(date.min, service.REMINDER_TIME) - CRON_STEP).time()}


def run_clock(start: datetime, end: datetime, zones: tuple[str, ...]) -> dict[str, datetime]:
    """Run the reminders at cron's 15-minute instants; when each dedupe key was first queued.

    Not at every one of them: what a run queues changes with the local time (07:00) and the local
    date, so the clock runs at each hour (each local midnight is one) and, in every seller's zone,
    at 06:45 and 07:00 each day. A reminder queued early, late or twice is still seen at another
    instant than its 07:00.
    """
    first_seen: dict[str, datetime] = {}
    now = start
    while now < end:
        local = {now.astimezone(ZoneInfo(zone)).time() for zone in zones}
        if now.minute == 0 or local & LOOKED_AT:
            for message in service.queue_reminders(now):
                assert message.dedupe_key not in first_seen
                first_seen[message.dedupe_key] = now
            db.session.commit()
        now += CRON_STEP
    return first_seen


@pytest.fixture
def manager(factory):
    return factory.user("manager")


def test_each_reminder_goes_once_at_seven_in_the_sellers_time_zone(app, factory, manager):
    sellers = {
        zone: seller_with_plan(factory, manager, zone) for zone in ("Asia/Tokyo", "America/Los_Angeles", "Europe/Paris")
    }
    start, end = datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 3, 11, 18, tzinfo=UTC)
    first_seen = run_clock(start, end, tuple(sellers))

    expected = {}
    for zone, (seller, _, upcoming) in sellers.items():
        expected[f"due:{seller.id}:{STEP_EARLIER}"] = at_seven(STEP_EARLIER, zone)
        expected[f"due:{seller.id}:{STEP_DUE}"] = at_seven(STEP_DUE, zone)
        expected[f"overdue:{seller.id}:{STEP_DUE}"] = at_seven(STEP_DUE, zone)  # Beta, the morning after
        expected[f"overdue:{seller.id}:{NEXT_MEETING_DAY}"] = at_seven(NEXT_MEETING_DAY, zone)  # Alpha
        expected[f"prep:{upcoming.id}:{upcoming.scheduled_at:%Y%m%dT%H%M}"] = at_seven(STEP_DUE, zone)
    assert first_seen == expected
    # 07:00 in Los Angeles moved from 15:00 to 14:00 UTC with daylight saving time on 8 March.
    la_seller = sellers["America/Los_Angeles"][0]
    assert first_seen[f"due:{la_seller.id}:{STEP_EARLIER}"] == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)

    # A second pass over the same days queues nothing new, and the outbox has each reminder once.
    assert run_clock(start, end, tuple(sellers)) == {}
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) == len(expected)


def test_reminders_say_what_and_link_back(app, factory, manager):
    seller, last, upcoming = seller_with_plan(factory, manager, "Europe/Paris")
    service.queue_reminders(at_seven(STEP_DUE, "Europe/Paris"))
    db.session.commit()
    messages = {m.kind: m for m in db.session.scalars(select(OutboxMessage)).all()}
    assert set(messages) == {"due", "overdue", "prep"}
    assert all(m.recipient == seller.email for m in messages.values())
    assert "Call Alpha" in messages["due"].body and "Call Beta" not in messages["due"].body
    assert "Call Beta" in messages["overdue"].body
    assert f"http://localhost/meetings/{last.id}/recap" in messages["due"].body
    assert f"http://localhost/meetings/{upcoming.id}" in messages["prep"].body
    assert "Call Beta" in messages["prep"].body  # overdue step on the prep list
    assert "Tomorrow" in messages["prep"].subject


@pytest.mark.parametrize(
    ("switch", "kind"), [("remind_prep", "prep"), ("remind_due", "due"), ("remind_overdue", "overdue")]
)
def test_no_reminder_of_a_kind_the_seller_turned_off(app, factory, manager, switch, kind):
    seller_with_plan(factory, manager, "Asia/Tokyo", **{switch: False})
    run_clock(datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 3, 11, 18, tzinfo=UTC), ("Asia/Tokyo",))
    kinds = set(db.session.scalars(select(OutboxMessage.kind)).all())
    assert kinds == {"prep", "due", "overdue"} - {kind}


def test_nothing_before_seven_local(app, factory, manager):
    seller_with_plan(factory, manager, "Asia/Tokyo")
    assert service.queue_reminders(at_seven(STEP_DUE, "Asia/Tokyo") - timedelta(minutes=1)) == []


def test_a_step_recorded_done_is_not_reminded(app, factory, manager):
    seller, last, upcoming = seller_with_plan(factory, manager, "Europe/Paris")
    alpha = next(review for review in last.reviews if review.account.name == "Alpha")
    upcoming.started_at = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    upcoming.finished_at = upcoming.started_at + timedelta(minutes=30)  # an outcome counts once recorded
    db.session.commit()
    factory.review(upcoming, alpha.account, previous_review=alpha, outcome="done", outcome_at=upcoming.finished_at)
    messages = service.queue_reminders(at_seven(STEP_DUE, "Europe/Paris"))
    assert [m.kind for m in messages] == ["overdue"]  # Beta only; no prep, the meeting has started


def test_send_reminders_command(app, runner, factory, manager):
    seller_with_plan(factory, manager, "UTC")
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "reminders:" in result.output
    assert "No mail server is configured" in result.output
