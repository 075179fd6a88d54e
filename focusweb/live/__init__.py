"""The manager's read-along of a running meeting, manager notes, the door sign, and field topics."""
