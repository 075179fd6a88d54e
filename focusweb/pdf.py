"""Every PDF (the recap, the door sign): Jinja to PDF with WeasyPrint, fetching nothing but the
app's own static files and data: URLs.

WeasyPrint is imported here, once, when the app starts (the import costs about 0.4 s).
Its default fetcher would read any file:// URL and the network: a document with
``<link rel=attachment href=file:///etc/hostname>`` would embed that file in the PDF.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from flask import current_app, render_template
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

PAGE_SIZES = {"A4": "A4", "Letter": "letter"}


class StaticOnlyFetcher(URLFetcher):
    """Serves files inside one folder (the app's static folder) and data: URLs; refuses the rest."""

    def __init__(self, static_folder: str | Path):
        super().__init__(allowed_protocols=("data",))
        self.root = Path(static_folder).resolve()

    def fetch(self, url: str, headers=None):
        """A static file, a data: URL, or URLFetchingError (WeasyPrint then leaves the resource out)."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime_type})
        raise URLFetchingError(f"not fetched (only the app's static files are): {url[:80]}")


def static_base_url() -> str:
    """The base URL a PDF template's relative links resolve against: the static folder."""
    return Path(current_app.static_folder).resolve().as_uri() + "/"


def html_to_pdf(html: str, paper_size: str = "A4", landscape: bool = False) -> bytes:
    """Render ``html`` (relative URLs point into static/) to PDF bytes on the given paper."""
    fetcher = StaticOnlyFetcher(current_app.static_folder)
    size = PAGE_SIZES.get(paper_size, "A4") + (" landscape" if landscape else "")
    page = weasyprint.CSS(string=f"@page {{ size: {size}; }}", url_fetcher=fetcher)
    document = weasyprint.HTML(string=html, base_url=static_base_url(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[page])


def render_pdf(template: str, paper_size: str = "A4", landscape: bool = False, **context) -> bytes:
    """Render a Jinja template from templates/pdf/ (autoescaped, as every .html template) to PDF bytes."""
    return html_to_pdf(render_template(template, **context), paper_size, landscape)
