"""Which reminders are due now, queued in the outbox once each (``flask --app wsgi send-reminders``).

Every reminder goes out from REMINDER_TIME in the seller's own time zone, on its day:
- prep: the day before a meeting (the seller's prep list, as the home screen shows it),
- due: the morning a next step reaches its projection date,
- overdue: the next morning, for a step still open.
The dedupe key (one per seller and day, or per meeting and time) makes a second run a no-op;
each kind is skipped for a seller who turned it off (User.remind_prep, remind_due, remind_overdue).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from .. import mail
from ..extensions import db
from ..models import Meeting, OutboxMessage, User
from ..nextsteps.service import open_next_steps, prep_status
from ..plans import Step

REMINDER_TIME = time(7, 0)


def _url(path: str) -> str:
    return current_app.config["BASE_URL"] + path


def _day(value: date) -> str:
    return f"{value:%a %-d %b %Y}"


def _step_lines(steps: list[Step]) -> list[str]:
    lines = []
    for step in steps:
        lines += [
            f"- {step.account.name}: {step.next_step}",
            f"  projection date {_day(step.projection_date)}; recap: {_url(f'/meetings/{step.meeting.id}/recap')}",
        ]
    return lines


def _prep_key(meeting: Meeting) -> str:
    # The scheduled time is part of the key: a meeting moved to another day gets its own reminder.
    return f"prep:{meeting.id}:{meeting.scheduled_at:%Y%m%dT%H%M}"


def _queue_prep(seller: User, meeting: Meeting) -> OutboxMessage | None:
    if mail.already_queued(_prep_key(meeting)):
        return None
    zone = ZoneInfo(seller.timezone)
    when = meeting.scheduled_at.astimezone(zone)
    prep = prep_status(seller, now=meeting.scheduled_at)  # overdue as of the meeting
    listed = {step.review.id for step in prep.overdue}
    commitments = [step for step in prep.commitments if step.review.id not in listed]
    lines = [
        f"Tomorrow, {_day(when.date())} at {when:%H:%M}: your focus meeting with {meeting.manager.name}.",
        f"Open it: {_url(f'/meetings/{meeting.id}')}",
        "",
        f"Your prep list: {prep.summary}.",
        "",
    ]
    if prep.overdue:
        lines += ["Next steps past their projection date:", *_step_lines(prep.overdue), ""]
    if commitments:
        lines += ["Commitments from last time:", *_step_lines(commitments), ""]
    if prep.stale_accounts:
        lines += [
            "Not updated since last meeting:",
            *[f"- {account.name} ({account.kind_label})" for account in prep.stale_accounts],
            "",
        ]
    return mail.queue(
        kind="prep",
        recipient=seller.email,
        subject=f"Tomorrow {when:%H:%M}: focus meeting with {meeting.manager.name}",
        body="\n".join(lines),
        dedupe_key=_prep_key(meeting),
        meeting_id=meeting.id,
    )


def _queue_steps(seller: User, kind: str, steps: list[Step], today: date) -> OutboxMessage | None:
    if kind == "due":
        subject = f"Due today: {len(steps)} next step{'s' if len(steps) != 1 else ''}"
        intro = f"These next steps reach their projection date today, {_day(today)}:"
    else:
        subject = f"Overdue: {len(steps)} next step{'s' if len(steps) != 1 else ''} from yesterday"
        intro = "These next steps passed their projection date yesterday and are still open:"
    body = "\n".join([intro, "", *_step_lines(steps), ""])
    return mail.queue(
        kind=kind, recipient=seller.email, subject=subject, body=body, dedupe_key=f"{kind}:{seller.id}:{today}"
    )


def queue_reminders(now: datetime) -> list[OutboxMessage]:
    """Queue every reminder due at ``now`` (aware UTC) that has not been queued before; the caller commits."""
    queued = []
    sellers = db.session.scalars(
        select(User).where(User.role == "seller", or_(User.remind_prep, User.remind_due, User.remind_overdue))
    ).all()
    for seller in sellers:
        local = now.astimezone(ZoneInfo(seller.timezone))
        if local.time() < REMINDER_TIME:
            continue
        today = local.date()
        if seller.remind_prep:
            for meeting in _meetings_on(seller, today + timedelta(days=1)):
                queued.append(_queue_prep(seller, meeting))
        want_due = seller.remind_due and not mail.already_queued(f"due:{seller.id}:{today}")
        want_overdue = seller.remind_overdue and not mail.already_queued(f"overdue:{seller.id}:{today}")
        if want_due or want_overdue:
            steps = open_next_steps(seller.id, now=now)
            due = [step for step in steps if step.projection_date == today]
            overdue = [step for step in steps if step.projection_date == today - timedelta(days=1)]
            if want_due and due:
                queued.append(_queue_steps(seller, "due", due, today))
            if want_overdue and overdue:
                queued.append(_queue_steps(seller, "overdue", overdue, today))
    return [message for message in queued if message is not None]


def _meetings_on(seller: User, day: date) -> list[Meeting]:
    """The seller's meetings not yet started on a local calendar day."""
    zone = ZoneInfo(seller.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return db.session.scalars(
        select(Meeting).where(
            Meeting.seller_id == seller.id,
            Meeting.started_at.is_(None),
            Meeting.scheduled_at >= start,
            Meeting.scheduled_at < end,
        )
    ).all()
