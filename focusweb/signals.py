"""Domain events, so one area can react to another without importing it."""

from blinker import Namespace

_signals = Namespace()

# Sent by the meetings service inside the transaction that finishes a meeting, before commit:
# receivers add rows (e.g. the recap e-mails in the outbox) that commit together with it.
# Arguments: sender = the Meeting.
meeting_finished = _signals.signal("meeting-finished")
