"""URL converters: an id the database cannot hold is simply not found (404), never a 500."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# PostgreSQL's integer (SQLAlchemy Integer): larger ids overflow in the query and raise.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` with an upper bound; werkzeug's int already refuses negative numbers."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
