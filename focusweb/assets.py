"""Static URLs with a content hash, so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app, url_for


@cache
def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """``url_for('static', ...)`` plus ``?v=<hash of the file>``."""
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_digest(str(path)))
