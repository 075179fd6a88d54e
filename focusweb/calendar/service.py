"""The iCalendar feed, built with the icalendar package. No request objects in here."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Meeting, User, new_token, utcnow
from ..plans import Step, load_steps

PAST_DAYS = 180


def user_by_secret(secret: str) -> User | None:
    """The user whose feed this secret opens, or None."""
    if not secret:
        return None
    return db.session.scalar(select(User).where(User.calendar_secret == secret))


def rotate_secret(user: User) -> None:
    """A new secret: the old feed URL stops working."""
    user.calendar_secret = new_token()


def feed(user: User, base_url: str) -> bytes:
    """The user's meetings (as seller or manager) and, for a seller, open next steps as all-day events."""
    stamp = utcnow().replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", "-//FocusWeb//Focus meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"FocusWeb: {user.name}")
    for meeting in _meetings(user):
        calendar.add_component(_meeting_event(meeting, user, base_url, stamp))
    if user.is_seller:
        for step in load_steps([user], open_only=True):
            calendar.add_component(_step_event(step, base_url, stamp))
    return calendar.to_ical()


def _meetings(user: User) -> list[Meeting]:
    return db.session.scalars(
        select(Meeting)
        .where(or_(Meeting.seller_id == user.id, Meeting.manager_id == user.id))
        .where(Meeting.scheduled_at >= utcnow() - timedelta(days=PAST_DAYS))
        .options(selectinload(Meeting.seller), selectinload(Meeting.manager))
        .order_by(Meeting.scheduled_at)
    ).all()


def _meeting_event(meeting: Meeting, user: User, base_url: str, stamp) -> Event:
    other = meeting.manager if meeting.seller_id == user.id else meeting.seller
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@focusweb")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.scheduled_at)
    event.add("dtend", meeting.scheduled_at + timedelta(minutes=meeting.planned_minutes))
    event.add("summary", f"Focus meeting with {other.name}")
    event.add("url", f"{base_url}meetings/{meeting.id}")
    event.add("status", "CONFIRMED")
    return event


def _step_event(step: Step, base_url: str, stamp) -> Event:
    event = Event()
    event.add("uid", f"next-step-{step.review.id}@focusweb")
    event.add("dtstamp", stamp)
    event.add("dtstart", step.projection_date)
    event.add("dtend", step.projection_date + timedelta(days=1))
    event.add("summary", f"Next step: {step.account.name}")
    event.add("description", step.next_step)
    event.add("transp", "TRANSPARENT")
    return event
