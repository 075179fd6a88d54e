"""Cadences, the meetings created from them, and rescheduling. No request objects in here.

A cadence keeps a local time and a time zone, not a UTC time: each meeting's UTC moment is
computed from the local date, so a 09:00 meeting stays at 09:00 across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AccountReview, Cadence, Meeting, Reschedule, User, utcnow
from ..plans import has_content
from ..transactions import hold_the_write_lock

HORIZON_WEEKS = 8
# Lazy top-up only when the furthest meeting is closer than this: most page views do one query.
TOP_UP_BELOW_WEEKS = 6
REASON_MAX = 500
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def at_local(day: date, at: time, zone: str) -> datetime:
    """The UTC moment of a local date and wall-clock time in ``zone``."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def local_today(zone: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(zone)).date()


def slot_days(cadence: Cadence, first: date, last: date) -> list[date]:
    """The cadence's meeting days from ``first`` to ``last``; fortnights count from ``starts_on``."""
    anchor = cadence.starts_on + timedelta(days=(cadence.weekday - cadence.starts_on.weekday()) % 7)
    step = 7 * cadence.every_weeks
    day = anchor
    if first > anchor:
        day = anchor + timedelta(days=-(-(first - anchor).days // step) * step)
    days = []
    while day <= last:
        days.append(day)
        day += timedelta(days=step)
    return days


def generate_meetings(cadence: Cadence, until: date, now: datetime | None = None) -> list[Meeting]:
    """Create the cadence's upcoming meetings up to ``until`` (a local date); safe to run again.

    A slot is left alone when the seller already has a meeting that local day, or when a meeting
    was moved away from it (a reschedule's ``from_at``): rescheduling must not bring it back.
    The caller commits.
    """
    now = now or utcnow()
    zone = ZoneInfo(cadence.timezone)
    first = max(cadence.starts_on, local_today(cadence.timezone, now))
    slots = [at_local(day, cadence.local_time, cadence.timezone) for day in slot_days(cadence, first, until)]
    slots = [slot for slot in slots if slot > now]
    if not slots:
        return []
    window = (slots[0] - timedelta(days=1), slots[-1] + timedelta(days=1))
    taken_days = {
        moment.astimezone(zone).date()
        for moment in db.session.scalars(
            select(Meeting.scheduled_at).where(
                Meeting.seller_id == cadence.seller_id, Meeting.scheduled_at.between(*window)
            )
        )
    }
    moved_away = set(
        db.session.scalars(
            select(Reschedule.from_at)
            .join(Meeting, Meeting.id == Reschedule.meeting_id)
            .where(Meeting.seller_id == cadence.seller_id, Reschedule.from_at.between(*window))
        )
    )
    created = []
    for slot in slots:
        if slot.astimezone(zone).date() in taken_days or slot in moved_away:
            continue
        meeting = Meeting(
            seller_id=cadence.seller_id,
            manager_id=cadence.manager_id,
            scheduled_at=slot,
            planned_minutes=cadence.minutes,
        )
        db.session.add(meeting)
        created.append(meeting)
    return created


def horizon(zone: str, now: datetime | None = None) -> date:
    return local_today(zone, now) + timedelta(weeks=HORIZON_WEEKS)


def save_cadence(seller: User, manager: User, values: dict, now: datetime | None = None) -> Cadence:
    """Set a seller's cadence, replace the replaceable meetings of the old one, and create the new ones.

    Replaced: unstarted meetings from tomorrow (or the new first day, if later) that have no
    answers and were never rescheduled. A meeting due today (in the seller's or the cadence's
    zone) and anything with a history stay.
    """
    now = now or utcnow()
    cadence = db.session.scalar(select(Cadence).where(Cadence.seller_id == seller.id)) or Cadence(seller_id=seller.id)
    cadence.manager_id = manager.id
    for name in ("every_weeks", "weekday", "local_time", "timezone", "minutes", "starts_on"):
        setattr(cadence, name, values[name])
    db.session.add(cadence)
    replace_from = max(
        at_local(max(cadence.starts_on, local_today(zone, now) + timedelta(days=1)), time(0, 0), zone)
        for zone in (cadence.timezone, seller.timezone)
    )
    db.session.execute(
        delete(Meeting).where(
            Meeting.seller_id == seller.id,
            Meeting.scheduled_at >= replace_from,
            Meeting.started_at.is_(None),
            ~exists().where(Reschedule.meeting_id == Meeting.id),
            ~exists().where(AccountReview.meeting_id == Meeting.id, has_content()),  # prep is never deleted
        )
    )
    db.session.flush()
    generate_meetings(cadence, horizon(cadence.timezone, now), now)
    return cadence


def top_up(seller_ids: list[int] | None, now: datetime | None = None) -> int:
    """Create meetings for sellers whose furthest meeting is near (cheap when none is); None: every seller.

    Called where state changes anyway, never on a page view: at sign-in, when a meeting finishes,
    and by the ``send-reminders`` job (cron, every 15 minutes), so the schedule never runs dry.
    """
    if seller_ids is not None and not seller_ids:
        return 0
    now = now or utcnow()
    furthest = select(Meeting.seller_id, func.max(Meeting.scheduled_at).label("last")).group_by(Meeting.seller_id)
    cadences = select(Cadence)
    if seller_ids is not None:
        furthest = furthest.where(Meeting.seller_id.in_(seller_ids))
        cadences = cadences.where(Cadence.seller_id.in_(seller_ids))
    furthest = furthest.subquery()
    short = db.session.scalars(
        cadences.outerjoin(furthest, furthest.c.seller_id == Cadence.seller_id).where(
            or_(furthest.c.last.is_(None), furthest.c.last < now + timedelta(weeks=TOP_UP_BELOW_WEEKS))
        )
    ).all()
    created = 0
    if short:
        hold_the_write_lock()  # SQLite: the savepoints below would begin a read transaction first
    for cadence in short:
        try:
            with db.session.begin_nested():
                created += len(generate_meetings(cadence, horizon(cadence.timezone, now), now))
        except IntegrityError:
            # Another process created the same meetings a moment ago (unique seller + time): theirs stand.
            continue
    return created


def cadence_for(seller_id: int) -> Cadence | None:
    return db.session.scalar(select(Cadence).where(Cadence.seller_id == seller_id))


def describe(cadence: Cadence) -> str:
    """E.g. "Every two weeks on Tuesday at 09:00 (Europe/Berlin), 45 minutes"."""
    every = "Every week" if cadence.every_weeks == 1 else "Every two weeks"
    return (
        f"{every} on {WEEKDAYS[cadence.weekday]} at {cadence.local_time:%H:%M} ({cadence.timezone}), "
        f"{cadence.minutes} minutes"
    )


def upcoming(seller_id: int, since: datetime, limit: int = 10) -> list[Meeting]:
    """The seller's unfinished meetings from ``since`` on, soonest first."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.seller_id == seller_id, Meeting.finished_at.is_(None), Meeting.scheduled_at >= since)
            .order_by(Meeting.scheduled_at)
            .limit(limit)
            .options(selectinload(Meeting.reschedules))
        )
    )


def meetings_after(meeting: Meeting, limit: int = 3) -> list[Meeting]:
    """The seller's unfinished meetings after this one, soonest first."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.seller_id == meeting.seller_id,
                Meeting.finished_at.is_(None),
                Meeting.scheduled_at > meeting.scheduled_at,
            )
            .order_by(Meeting.scheduled_at)
            .limit(limit)
            .options(selectinload(Meeting.reschedules))
        )
    )


@dataclass
class NextMeeting:
    """What the seller's home says about the next meeting."""

    meeting: Meeting
    due_today: bool
    when: str  # "today, in 3 hours", "tomorrow", "in 5 days", "in progress"

    @property
    def can_start(self) -> bool:
        return self.due_today and self.meeting.started_at is None

    @property
    def can_continue(self) -> bool:
        return self.meeting.is_running


def next_meeting(seller: User, now: datetime | None = None) -> NextMeeting | None:
    """A running meeting first; else the next unfinished one from the start of the seller's today."""
    now = now or utcnow()
    zone = seller.timezone
    today = local_today(zone, now)
    running = db.session.scalar(
        select(Meeting)
        .where(Meeting.seller_id == seller.id, Meeting.started_at.is_not(None), Meeting.finished_at.is_(None))
        .order_by(Meeting.started_at.desc())
        .limit(1)
    )
    meeting = running or db.session.scalar(
        select(Meeting)
        .where(Meeting.seller_id == seller.id, Meeting.finished_at.is_(None))
        .where(Meeting.scheduled_at >= at_local(today, time(0, 0), zone))
        .order_by(Meeting.scheduled_at)
        .limit(1)
    )
    if meeting is None:
        return None
    due_today = meeting.scheduled_at.astimezone(ZoneInfo(zone)).date() == today
    when = "in progress" if meeting.is_running else relative_when(meeting.scheduled_at, now, zone)
    return NextMeeting(meeting=meeting, due_today=due_today, when=when)


def relative_when(moment: datetime, now: datetime, zone: str) -> str:
    """How far away a moment is, in words a seller reads at a glance."""
    tz = ZoneInfo(zone)
    days = (moment.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days == 0:
        return "today, " + _hours_words(moment - now)
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def _hours_words(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    if abs(minutes) < 1:
        return "now"
    amount = abs(minutes)
    if amount < 60:
        words = f"{amount} minute{'s' if amount != 1 else ''}"
    else:
        hours = round(amount / 60)
        words = f"{hours} hour{'s' if hours != 1 else ''}"
    return f"in {words}" if minutes > 0 else f"{words} ago"


def reschedule(meeting: Meeting, to_at: datetime, reason: str, by: User) -> Reschedule:
    """Move an unstarted meeting and keep the move on record (from, to, reason, who)."""
    move = Reschedule(meeting=meeting, from_at=meeting.scheduled_at, to_at=to_at, reason=reason.strip(), by=by)
    db.session.add(move)
    meeting.scheduled_at = to_at
    return move


def seller_has_meeting_at(seller_id: int, moment: datetime, exclude_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(Meeting.id).where(
                Meeting.seller_id == seller_id, Meeting.scheduled_at == moment, Meeting.id != exclude_id
            )
        )
    )
