"""The outbox: e-mails are queued as rows in the transaction that causes them, and delivered later.

Queueing never talks to a mail server, so finishing a meeting stays fast and a crash or a
mail-server outage loses nothing. Delivery (``deliver_pending``) runs outside that request:
``flask --app wsgi send-outbox`` (cron), ``send-reminders``, *Send again*, and a background
thread started after the response of a request that queued something (see ``init_app``).

Two deliverers never send the same row: each attempt first claims the row with a conditional
UPDATE on ``attempts`` (only one wins) and commits, then talks to the server. A claim older than
``RETRY_AFTER`` with no result (the process died mid-send) is tried again.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import or_, select, update

from .extensions import db
from .models import OutboxMessage, utcnow
from .transactions import unit_of_work

NOT_CONFIGURED = "No mail server is configured (MAIL_SERVER is empty)."
MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=10)
SMTP_TIMEOUT = 15

# kind -> function(message) -> (bytes, file name): attachments made at delivery (e.g. the recap PDF).
attachment_builders: dict[str, Callable[[OutboxMessage], tuple[bytes, str]]] = {}


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    not_configured: bool = False

    def __str__(self) -> str:
        if self.not_configured:
            return f"nothing sent: {NOT_CONFIGURED}"
        return f"{len(self.sent)} sent, {len(self.failed)} failed"


def mail_configured() -> bool:
    """True when MAIL_SERVER is set."""
    return bool(current_app.config.get("MAIL_SERVER"))


def already_queued(dedupe_key: str) -> bool:
    """True when a message with this dedupe key exists (sent or not)."""
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def queue(
    kind: str, recipient: str, subject: str, body: str, dedupe_key: str, meeting_id: int | None = None
) -> OutboxMessage | None:
    """Add a message to the session (the caller commits), unless one with this dedupe key exists."""
    if already_queued(dedupe_key):
        return None
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=subject, body=body, dedupe_key=dedupe_key, meeting_id=meeting_id
    )
    db.session.add(message)
    if has_app_context():
        g.outbox_queued = True
    return message


def is_in_progress(message: OutboxMessage, now: datetime | None = None) -> bool:
    """Claimed by a deliverer that has not reported back yet (and not long enough ago to be presumed dead)."""
    now = now or utcnow()
    return (
        message.sent_at is None
        and message.last_error is None
        and message.last_attempt_at is not None
        and message.last_attempt_at > now - RETRY_AFTER
    )


def deliver_pending(limit: int = 50, ids: Iterable[int] | None = None, now: datetime | None = None) -> DeliveryReport:
    """Send queued messages; with ``ids``, exactly those (a user's *Send again*), however often they failed."""
    report = DeliveryReport()
    if not mail_configured():
        report.not_configured = True
        return report
    now = now or utcnow()
    due = [OutboxMessage.attempts == 0, OutboxMessage.last_attempt_at < now - RETRY_AFTER]
    query = select(OutboxMessage.id, OutboxMessage.attempts).where(OutboxMessage.sent_at.is_(None))
    if ids is not None:
        # A user asked: a failed message goes again at once, one still being sent does not.
        query = query.where(OutboxMessage.id.in_(list(ids)), or_(*due, OutboxMessage.last_error.is_not(None)))
    else:
        query = query.where(OutboxMessage.attempts < MAX_ATTEMPTS, or_(*due))
    with unit_of_work():  # a job: what the caller queued is stored before anything is sent
        candidates = db.session.execute(query.order_by(OutboxMessage.id).limit(limit)).all()
    for message_id, attempts in candidates:
        if _claim(message_id, attempts, now):
            _deliver_one(message_id, report)
    return report


def _claim(message_id: int, attempts_seen: int, now: datetime) -> bool:
    """Take the row for one attempt; false when another deliverer took it first."""
    with unit_of_work():
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.attempts == attempts_seen,
                OutboxMessage.sent_at.is_(None),
            )
            .values(attempts=attempts_seen + 1, last_attempt_at=now, last_error=None)
        ).rowcount
    return claimed == 1


def _deliver_one(message_id: int, report: DeliveryReport) -> None:
    """Send one claimed message; its result (sent, or why not) is stored at once, whatever the others do."""
    try:
        with unit_of_work():
            message = db.session.get(OutboxMessage, message_id)
            if message.attachment is None and message.kind in attachment_builders:
                message.attachment, message.attachment_name = attachment_builders[message.kind](message)
            send_email(message)
            message.sent_at = utcnow()
            message.last_error = None
    except Exception as error:  # any failure is recorded on the row and shown to the user
        with unit_of_work():
            message = db.session.get(OutboxMessage, message_id)
            message.last_error = _describe(error)
        report.failed.append((message.recipient, message.last_error))
        current_app.logger.warning("outbox %s to %s failed: %s", message.kind, message.recipient, message.last_error)
    else:
        report.sent.append(message.recipient)
        current_app.logger.info("outbox %s sent to %s", message.kind, message.recipient)


def _describe(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "The mail server refused the connection (is it running?)."
    if isinstance(error, TimeoutError | smtplib.SMTPServerDisconnected):
        return "The mail server did not answer in time."
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "The mail server refused the user name or password (MAIL_USERNAME, MAIL_PASSWORD)."
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the recipient's address."
    return f"{type(error).__name__}: {error}"[:500]


def build_email(message: OutboxMessage) -> EmailMessage:
    """The e-mail of an outbox row: plain-text body, and its PDF attachment if it has one."""
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain="focusweb")
    email.set_content(message.body)
    if message.attachment is not None:
        name = message.attachment_name or "attachment.pdf"
        email.add_attachment(message.attachment, maintype="application", subtype="pdf", filename=name)
    return email


def send_email(message: OutboxMessage) -> None:
    """One SMTP conversation: STARTTLS when MAIL_USE_TLS, login when MAIL_USERNAME is set."""
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        smtp.send_message(build_email(message))


def _deliver_in_background(app: Flask) -> None:
    def work():
        with app.app_context():
            try:
                deliver_pending(limit=20)
            except Exception:  # the rows stay queued; cron's send-outbox tries again
                app.logger.exception("outbox: background delivery failed")
            finally:
                db.session.remove()

    threading.Thread(target=work, name="outbox-delivery", daemon=True).start()


def init_app(app: Flask) -> None:
    """After a response whose request queued mail, deliver it in a thread (the rows are already committed).

    The thread only speeds things up: if the process dies, the rows stay in the outbox for
    ``send-outbox``. Off in tests unless OUTBOX_SEND_AFTER_RESPONSE is set.
    """

    @app.after_request
    def deliver_after_response(response):
        enabled = app.config.get("OUTBOX_SEND_AFTER_RESPONSE", not app.testing)
        if g.get("outbox_queued") and enabled and mail_configured():
            response.call_on_close(lambda: _deliver_in_background(app))
        return response
