"""The action-plan recap of a finished meeting: PDF, phone page, and e-mail to both people."""

from flask import Flask

from .. import mail, signals
from . import service


def init_app(app: Flask) -> None:
    """Queue the recap e-mails whenever a meeting finishes; render their PDF at delivery."""
    signals.meeting_finished.connect(service.queue_recap)
    mail.attachment_builders["recap"] = service.recap_attachment
