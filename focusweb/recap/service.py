"""The action-plan recap of a finished meeting: what it says, its PDF, and its e-mails.

Times are shown in the reader's time zone and the PDF is laid out on the reader's paper size
(User.paper_size): each person prints on their own printer, so the seller and the manager may
get different PDFs of the same meeting. E-mails queue without the PDF (finishing a meeting stays
fast whatever its length); it is rendered for each recipient at delivery, see focusweb.mail.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .. import cards, mail, pdf, rules
from ..extensions import db
from ..models import KIND_LABELS, Meeting, OutboxMessage, User


@dataclass
class AccountItem:
    """One account as the recap prints it."""

    name: str
    kind: str
    last_step: str
    last_date: date | None
    last_status: str  # "done", "not done", "slipped", "not marked", or "" when there was no step
    notes: str
    next_step: str
    projection_date: date | None
    shared_notes: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Recap:
    meeting: Meeting
    seller: User
    manager: User
    zone: ZoneInfo
    accounts: list[AccountItem]
    skipped: list[str]

    def _local(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(self.zone)

    @property
    def day(self) -> date:
        return self._local(self.meeting.scheduled_at).date()

    @property
    def scheduled(self) -> datetime:
        return self._local(self.meeting.scheduled_at)

    @property
    def started(self) -> datetime | None:
        return self._local(self.meeting.started_at)

    @property
    def finished(self) -> datetime | None:
        return self._local(self.meeting.finished_at)

    @property
    def minutes_late(self) -> int:
        return rules.minutes_late(self.meeting)

    @property
    def on_time(self) -> bool:
        return bool(rules.started_on_time(self.meeting))

    @property
    def duration_minutes(self) -> int | None:
        if self.meeting.started_at is None or self.meeting.finished_at is None:
            return None
        return round((self.meeting.finished_at - self.meeting.started_at).total_seconds() / 60)

    @property
    def plan(self) -> list[AccountItem]:
        """Every next step, soonest projection date first (the timeline)."""
        steps = [item for item in self.accounts if item.next_step]
        return sorted(steps, key=lambda item: (item.projection_date or date.max, item.name.casefold()))

    @property
    def title(self) -> str:
        return f"{self.seller.name} with {self.manager.name}"


def build(meeting: Meeting, reader: User) -> Recap:
    """The recap of a finished meeting as ``reader`` sees it (their time zone), from its cards (focusweb.cards)."""
    # The two people first: the notes' authors then come from the session, in as many queries whoever wrote.
    seller, manager = meeting.seller, meeting.manager
    deck = cards.load(meeting, shared_notes=True)
    accounts = []
    for card in deck.discussed:
        previous = card.previous_review
        had_step = previous is not None and bool(previous.next_step)
        accounts.append(
            AccountItem(
                name=card.account_name,
                kind=card.kind,
                last_step=previous.next_step if had_step else "",
                last_date=previous.projection_date if had_step else None,
                last_status=cards.last_time_status(card) if had_step else "",
                notes=card.notes,
                next_step=card.next_step,
                projection_date=card.projection_date,
                shared_notes=[note.text for note in deck.notes_for(card)],
            )
        )
    skipped = [card.account_name for card in deck.skipped]
    return Recap(meeting, seller, manager, ZoneInfo(reader.timezone or "UTC"), accounts, skipped)


def slug(text: str) -> str:
    """ASCII file-name part: 'Zoë Ødegård' -> 'zoe-degard'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def file_name(recap: Recap) -> str:
    """focus-recap-<seller>-<date>.pdf"""
    seller = slug(recap.seller.name) or f"seller-{recap.seller.id}"
    return f"focus-recap-{seller}-{recap.day.isoformat()}.pdf"


def render_pdf(recap: Recap, paper_size: str) -> bytes:
    """The recap PDF (templates/pdf/recap.html) on A4 or Letter."""
    return pdf.render_pdf("pdf/recap.html", paper_size=paper_size, recap=recap)


def meeting_url(meeting: Meeting) -> str:
    """The recap page's address for e-mails (BASE_URL)."""
    return f"{current_app.config['BASE_URL']}/meetings/{meeting.id}/recap"


def plain_text(recap: Recap) -> str:
    """The e-mail body: the plan as plain text, readable in any mail client."""
    lines = [
        f"Action plan from the focus meeting of {recap.title}, {recap.day:%a %-d %b %Y}.",
        "",
        "THE PLAN",
        "",
    ]
    for item in recap.plan:
        when = f"{item.projection_date:%a %-d %b %Y}" if item.projection_date else "no date"
        lines += [f"{when} - {item.name} ({item.kind_label})", f"    {item.next_step}", ""]
    if not recap.plan:
        lines += ["No next steps were recorded.", ""]
    if recap.skipped:
        lines += [f"Skipped this time: {', '.join(recap.skipped)}", ""]
    lines += [
        "The full recap (notes, last steps, shared manager notes) is attached as a PDF",
        f"and online: {meeting_url(recap.meeting)}",
    ]
    return "\n".join(lines) + "\n"


def recap_key(meeting: Meeting, email: str) -> str:
    """One recap e-mail per meeting and recipient, ever."""
    return f"recap:{meeting.id}:{email}"


def queue_recap(meeting: Meeting, **_) -> list[OutboxMessage]:
    """Receiver of meeting_finished: queue the recap e-mail to the seller and the manager (no commit).

    Runs inside the finishing transaction, so the rows commit with the finish or not at all.
    """
    queued = []
    for person in (meeting.seller, meeting.manager):
        if person is None:
            continue
        recap = build(meeting, person)
        message = mail.queue(
            kind="recap",
            recipient=person.email,
            subject=f"Focus meeting recap: {recap.title}, {recap.day:%-d %b %Y}",
            body=plain_text(recap),
            dedupe_key=recap_key(meeting, person.email),
            meeting_id=meeting.id,
        )
        if message is not None:
            queued.append(message)
    return queued


def recap_attachment(message: OutboxMessage) -> tuple[bytes, str]:
    """The PDF for one queued recap e-mail, on the recipient's paper, in their time zone."""
    meeting = db.session.get(Meeting, message.meeting_id)
    if meeting is None:
        raise LookupError("the meeting of this recap no longer exists")
    reader = db.session.scalar(select(User).where(User.email == message.recipient)) or meeting.seller
    recap = build(meeting, reader)
    return render_pdf(recap, reader.paper_size), file_name(recap)


def sends(meeting: Meeting) -> list[OutboxMessage]:
    """Every recap e-mail of a meeting, to show who got it, when, and what went wrong."""
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.meeting_id == meeting.id, OutboxMessage.kind == "recap")
        .order_by(OutboxMessage.id)
    ).all()


def mail_summary(meeting: Meeting) -> str:
    """One line on the recap e-mails, for pages that link to the recap (e.g. the finished meeting)."""
    rows = sends(meeting)
    if rows and all(row.sent_at for row in rows):
        return "The recap was e-mailed to " + " and ".join(row.recipient for row in rows) + "."
    failed = [row for row in rows if row.sent_at is None and row.last_error]
    if failed:
        return f"The recap was not sent: {failed[0].last_error}"
    if not mail.mail_configured():
        return f"The recap was not sent: {mail.NOT_CONFIGURED}"
    return "The recap e-mail is on its way."


def send_again(meeting: Meeting) -> mail.DeliveryReport:
    """Queue what is missing (idempotent), then try every unsent recap e-mail of the meeting now."""
    queue_recap(meeting)
    db.session.flush()  # delivery runs as a job and commits these with each message it sends
    unsent = [message.id for message in sends(meeting) if message.sent_at is None]
    return mail.deliver_pending(ids=unsent)
