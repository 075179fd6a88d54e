"""The plan's words, defined once, as pure functions: no database, no request.

- A *step* (next step) is the next step of an account review in a finished meeting, where the
  account was not skipped. Its *projection date* is the day it was promised for.
- Its *outcome is recorded* when a later review looks back on it (``previous_review_id``) with
  done or not done, and that review's meeting has finished (``finish`` stamps ``outcome_at``).
  Until then done / not done on a card is a draft. The outcome's *day* is ``outcome_at`` in the
  seller's time zone.
- An account's *newest* step is the one from its latest-scheduled meeting; older ones are
  *superseded*. It is kept on the account (``Account.last_step_id``, see focusweb.plans).
- *Open*: the newest step of an active (not archived) account, with no outcome recorded.
  An account has at most one open step.
- *Overdue*: open, and the projection date is before today in the seller's time zone.
- *Done by its projection date* (done on time): done, recorded on or before the projection date.
- *Slipped*: not done, recorded after the projection date (not done before it is no slip).
- *Started on time*: started at most 5 minutes after the scheduled time; early counts as on
  time; a meeting not started is neither (None).
- *Prepared* (updated since the last meeting): an active account whose card in a meeting not
  yet finished has something written in it (notes, next step, projection date or last time's
  outcome), saved after the seller's last finished meeting ended (any time before the first).
  Prep is done on the meeting's own cards: editing the account itself is not preparation, and
  having been discussed last time is not being updated since.
- *Commitments from last time*: the steps set in the seller's last finished meeting.

focusweb.plans reads the rows these rules judge; the models use these rules for their properties.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ON_TIME = timedelta(minutes=5)


def started_on_time(meeting) -> bool | None:
    """Started no later than 5 minutes after the scheduled time (early is on time); None before the start."""
    if meeting.started_at is None:
        return None
    return meeting.started_at - meeting.scheduled_at <= ON_TIME


def minutes_late(meeting) -> int:
    """Whole minutes (rounded up) the start came after the scheduled time; 0 when early or not started."""
    if meeting.started_at is None:
        return 0
    return max(0, math.ceil((meeting.started_at - meeting.scheduled_at).total_seconds() / 60))


def local_day(moment: datetime | None, zone: str) -> date | None:
    """The calendar day of a UTC moment where the seller lives."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date()


def is_overdue(projection_date: date | None, today: date) -> bool:
    """The projection date has passed (the caller knows the step is open)."""
    return projection_date is not None and projection_date < today


def is_done_on_time(outcome: str | None, projection_date: date | None, recorded_on: date | None) -> bool:
    """Done, recorded on or before the projection date."""
    if outcome != "done" or projection_date is None or recorded_on is None:
        return False
    return recorded_on <= projection_date


def is_slipped(outcome: str | None, projection_date: date | None, recorded_on: date | None) -> bool:
    """Not done, recorded after the projection date."""
    if outcome != "not_done" or projection_date is None or recorded_on is None:
        return False
    return recorded_on > projection_date


def outcome_status(outcome: str | None, projection_date: date | None, recorded_on: date | None) -> str:
    """What became of last time's step, in the words every screen and the PDF show (macros.outcome_badge)."""
    if outcome == "done":
        return "done"
    if outcome == "not_done":
        return "slipped" if is_slipped(outcome, projection_date, recorded_on) else "not done"
    return "not marked"
