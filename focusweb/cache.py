"""What a page worked out, kept in the process under a key that names every input (a version, a day).

A key must change whenever what was worked out would: e.g. ("home-prep", seller id,
users.plan_version, the seller's day, their time zone). Nothing is ever invalidated by hand, so
a stale entry cannot be served; old entries just age out of the bounded LRU. Each gunicorn process
keeps its own (a process that missed an entry works it out once); nothing in it is another person's
unless the key says so. Entries are stored only by requests that changed nothing (GET), so what is
kept is what the database holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import has_request_context, request

T = TypeVar("T")
MAX_ENTRIES = 2048


class ProcessCache:
    """A bounded, thread-safe LRU of keys to values."""

    def __init__(self, size: int = MAX_ENTRIES):
        self.size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The kept value of ``key``, or ``make()``'s, kept for next time."""
        kept = self.get_many([key])
        if key in kept:
            return kept[key]  # type: ignore[return-value]
        value = make()
        self.keep(key, value)
        return value

    def get_many(self, keys: list[Hashable]) -> dict[Hashable, object]:
        """The kept values of those keys that are kept (a page that works out the missing ones at once)."""
        found = {}
        with self._lock:
            for key in keys:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    found[key] = self._entries[key]
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def keep(self, key: Hashable, value: object) -> None:
        """Keep a value worked out by this request, if it changed nothing (GET, HEAD); outside a request, never."""
        if has_request_context() and request.method in ("GET", "HEAD"):
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


pages = ProcessCache()
# Recap PDFs: about 50 KB each, a few hundred milliseconds of WeasyPrint; the meetings of the week.
pdfs = ProcessCache(size=64)


def clear_all() -> None:
    """Forget every kept page and PDF (tests, whose ids repeat from one empty database to the next)."""
    pages.clear()
    pdfs.clear()
