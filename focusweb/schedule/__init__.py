"""Scheduling: a seller's cadence, the meetings created from it, and rescheduling with a reason."""
