"""The door sign as a one-page PDF (WeasyPrint), rendered from the same Jinja as the page.

A minimal, safe URL fetcher: the sign needs nothing from outside its own HTML, so every URL
except ``data:`` is refused (no network, no ``file://``). focusweb/pdf.py (the recap) may
grow a shared fetcher for static files; this one can then be replaced by it.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from ..models import Meeting


class DataOnlyFetcher(URLFetcher):
    """Serves ``data:`` URLs and refuses everything else."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        raise ValueError(f"FocusWeb PDFs fetch nothing from outside: {url[:80]}")


def door_sign(meeting: Meeting, planned_end: datetime, paper_size: str) -> bytes:
    """Render the door sign; text is autoescaped by Jinja as on every page."""
    html = render_template("pdf/door_sign.html", meeting=meeting, planned_end=planned_end, paper_size=paper_size)
    return HTML(string=html, base_url="about:blank", url_fetcher=DataOnlyFetcher()).write_pdf()
