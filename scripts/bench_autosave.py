#!/usr/bin/env python3
"""Server time of the meeting card's autosave request: p50/p95 over N saves.

    .venv/bin/python scripts/bench_autosave.py [--saves 200] [--database-url URL --reset]

Times the WSGI app itself (from request in to the last byte of the response out, CSRF,
sign-in check, database write and commit included; no network). Without --database-url it
uses a fresh SQLite file. With a PostgreSQL URL it needs --reset, which drops and rebuilds
that database's public schema: point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from focusweb import create_app  # noqa: E402
from focusweb.extensions import db  # noqa: E402
from focusweb.models import Account, Meeting, User  # noqa: E402

PASSWORD = secrets.token_urlsafe(12)  # a throw-away user in a scratch database


class Timed:
    """WSGI middleware that records how long the app takes per request, body included."""

    def __init__(self, app):
        self.app = app
        self.times: list[float] = []

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = b"".join(self.app(environ, start_response))
        self.times.append(time.perf_counter() - started)
        return [body]


def build(database_url: str, reset: bool):
    app = create_app(
        {
            "FOCUSWEB_ENV": "testing",
            "SECRET_KEY": secrets.token_hex(16),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "WTF_CSRF_TIME_LIMIT": None,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "MAIL_SERVER": "",
            "BASE_URL": "http://localhost",
        }
    )
    with app.app_context():
        if database_url.startswith("postgresql"):
            if not reset:
                sys.exit("a PostgreSQL URL needs --reset (it rebuilds that database's schema)")
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        manager = User(email="m@bench.test", name="Manager", role="manager")
        seller = User(email="s@bench.test", name="Seller", role="seller", manager=manager)
        for user in (manager, seller):
            user.set_password(PASSWORD)
        accounts = [
            Account(owner=seller, name=f"Account {n}", name_key=f"account {n}", kind="key" if n < 15 else "target")
            for n in range(30)
        ]
        meeting = Meeting(
            seller=seller, manager=manager, scheduled_at=datetime.now(UTC) + timedelta(minutes=5), planned_minutes=45
        )
        db.session.add_all([manager, seller, *accounts, meeting])
        db.session.commit()
        meeting_id = meeting.id
    return app, meeting_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    url = args.database_url or "sqlite:///" + str(Path(scratch.name) / "bench.db")
    app, meeting_id = build(url, args.reset)
    timed = Timed(app.wsgi_app)
    app.wsgi_app = timed
    client = app.test_client()

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "s@bench.test", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    save_url = re.search(r'hx-post="(/meetings/\d+/reviews/\d+)"', page).group(1)
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))

    timed.times.clear()
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    for n in range(args.saves):
        data = {"version": version, "notes": f"Notes typed so far, keystroke {n}", "next_step": "Call the buyer"}
        response = client.post(save_url, data=data, headers=headers)
        assert response.status_code == 200, response.status_code
        version = int(re.search(r'name="version" value="(\d+)"', response.get_data(as_text=True)).group(1))
    times = sorted(t * 1000 for t in timed.times)
    p95 = times[int(round(0.95 * len(times))) - 1]
    engine = url.split(":", 1)[0]
    print(f"{engine}: {len(times)} autosaves, p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
