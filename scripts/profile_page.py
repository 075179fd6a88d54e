#!/usr/bin/env python3
"""Where a signed-in page's time goes: cProfile over many requests, in one process, no network.

    .venv/bin/python scripts/profile_page.py              # the seller's home, 2 years, 1 manager x 10 sellers
    .venv/bin/python scripts/profile_page.py --path /team --as manager1@scale.test
    .venv/bin/python scripts/profile_page.py --path /healthz --anonymous
    .venv/bin/python scripts/profile_page.py --path "/meetings/{finished_meeting_id}/recap.pdf" --accounts 30 --plain

The app runs with the production settings (as gunicorn serves it) on a copy of a ``seed-scale`` data
set (SQLite, cached in instance/ like scripts/bench.py). It prints the share of the time spent in each
layer (sign-in, CSRF, the limiter, compression, the ORM, the database driver, Jinja) and the
functions that cost the most. Load figures come from ``make bench`` (wrk); this is only the profile.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from focusweb.scale import SCALE_PASSWORD, ScaleSize  # noqa: E402
from scripts.bench import SQLiteData  # noqa: E402

# Where a function lives says which layer it belongs to; the first match wins.
LAYERS = (
    ("sign-in (flask_login, user load)", ("flask_login",)),
    ("CSRF (flask_wtf)", ("flask_wtf/csrf",)),
    ("Flask-Limiter", ("flask_limiter", "limits/")),
    ("Flask-Compress", ("flask_compress",)),
    ("Jinja (templates)", ("jinja2/", "<template>", "templates/")),
    ("database driver (sqlite3/psycopg)", ("sqlite3", "psycopg")),
    ("SQLAlchemy ORM and Core", ("sqlalchemy/",)),
    ("FocusWeb's own code", ("focusweb/",)),
    ("Flask and Werkzeug", ("flask/", "werkzeug/")),
)


def layer_of(filename: str) -> str:
    for name, needles in LAYERS:
        if any(needle in filename for needle in needles):
            return name
    return "other (stdlib, C)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="/")
    parser.add_argument("--as", dest="email", default="seller1@scale.test")
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--accounts", type=int, default=25, help="accounts per seller")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--plain", action="store_true", help="time the requests without the profiler, and stop")
    args = parser.parse_args()

    size = ScaleSize(managers=1, sellers_per_manager=10, accounts=args.accounts, weeks=args.weeks)
    workdir = Path(tempfile.mkdtemp(prefix="focusweb-profile-"))
    with SQLiteData(workdir).copy_of(3, size) as url:
        os.environ.update(
            FOCUSWEB_ENV="production",
            SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=url,
            FOCUSWEB_INSTANCE=str(workdir),
            LOGIN_RATE_LIMIT="100000 per minute",
        )
        from focusweb import create_app

        app = create_app()
        client = app.test_client()
        https = {"base_url": "https://localhost"}  # production cookies are Secure: as behind the TLS proxy
        if not args.anonymous:
            login = client.get("/login", **https).get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
            form = {"csrf_token": token, "email": args.email, "password": SCALE_PASSWORD}
            signed_in = client.post("/login", data=form, headers={"Referer": "https://localhost/login"}, **https)
            if signed_in.status_code != 303:
                raise SystemExit(f"sign-in as {args.email} answered {signed_in.status_code}")
        args.path = args.path.format(finished_meeting_id=last_finished_meeting_id(app, args.email))
        for _ in range(20):  # warm: templates compiled, connections open, caches filled
            response = client.get(args.path, **https)
        if response.status_code != 200:
            raise SystemExit(f"GET {args.path} answered {response.status_code}")
        if args.plain:
            started = time.perf_counter()
            for _ in range(args.requests):
                client.get(args.path, **https)
            elapsed = time.perf_counter() - started
            print(f"GET {args.path}: {1000 * elapsed / args.requests:.2f} ms each over {args.requests} requests")
            return
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            client.get(args.path, **https)
        profiler.disable()
        elapsed = time.perf_counter() - started

    stats = pstats.Stats(profiler)
    per_layer: dict[str, float] = {}
    for (filename, _line, _name), (_calls, _primitive, own, _cumulative, _callers) in stats.stats.items():
        per_layer[layer_of(filename)] = per_layer.get(layer_of(filename), 0.0) + own
    total = sum(per_layer.values())
    print(f"GET {args.path} as {'nobody' if args.anonymous else args.email}, {args.weeks} weeks of history:")
    print(
        f"  {args.requests} requests in {elapsed:.2f} s under the profiler:"
        f" {1000 * elapsed / args.requests:.2f} ms each"
    )
    print("  own time by layer:")
    for name, seconds in sorted(per_layer.items(), key=lambda item: -item[1]):
        print(f"    {100 * seconds / total:5.1f} %  {1000 * seconds / args.requests:6.2f} ms/request  {name}")
    print(f"\n  top {args.top} functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"\n  top {args.top} functions by own time:")
    stats.sort_stats("tottime").print_stats(args.top)


def last_finished_meeting_id(app, email: str) -> int | None:
    """For ``--path /meetings/{finished_meeting_id}/recap.pdf``: the seller's newest finished meeting."""
    from sqlalchemy import select

    from focusweb.extensions import db
    from focusweb.models import Meeting, User

    with app.app_context():
        return db.session.scalar(
            select(Meeting.id)
            .join(User, User.id == Meeting.seller_id)
            .where(User.email == email, Meeting.finished_at.is_not(None))
            .order_by(Meeting.scheduled_at.desc())
            .limit(1)
        )


if __name__ == "__main__":
    main()
