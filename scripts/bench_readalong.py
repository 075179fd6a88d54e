"""Read-along delay: from a seller's save (committed to the database) to the manager's screen.

Run it against a server of several processes on the same database, e.g.

    FOCUSWEB_ENV=development FOCUSWEB_INSTANCE=/tmp/fw-inst .venv/bin/flask --app wsgi db upgrade
    FOCUSWEB_ENV=development FOCUSWEB_INSTANCE=/tmp/fw-inst .venv/bin/flask --app wsgi seed-demo
    FOCUSWEB_ENV=development FOCUSWEB_INSTANCE=/tmp/fw-inst .venv/bin/gunicorn -w 2 --keep-alive 5 \\
        -b 127.0.0.1:5304 wsgi:app &
    FOCUSWEB_ENV=development FOCUSWEB_INSTANCE=/tmp/fw-inst .venv/bin/python scripts/bench_readalong.py \\
        --url http://127.0.0.1:5304 --saves 20

The manager's live view runs in real Chromium (Playwright), so htmx's own polling is measured;
this script writes the seller's saves straight to the database from its own process (as the
seller's screen would through any server process), so nothing can be shared in memory.
It starts the demo seller's meeting of today if needed (demo data only).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from focusweb import cards, create_app  # noqa: E402
from focusweb.demo import DEMO_PASSWORD  # noqa: E402
from focusweb.extensions import db  # noqa: E402
from focusweb.meetings import service as meetings_service  # noqa: E402
from focusweb.models import Meeting, User  # noqa: E402
from focusweb.transactions import unit_of_work  # noqa: E402
from tests.browser.conftest import WATCH  # noqa: E402


def running_meeting(seller_email: str) -> int:
    """The demo seller's meeting of today, started as the Start meeting button does (its cards exist already)."""
    seller = db.session.scalar(select(User).where(User.email == seller_email))
    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.seller_id == seller.id, Meeting.finished_at.is_(None))
        .order_by(Meeting.scheduled_at)
        .limit(1)
    )
    with unit_of_work():
        if meeting.started_at is None:
            meetings_service.start(meeting)
    return meeting.id


def seller_saves(meeting_id: int, n: int, text: str) -> None:
    """One autosave of the seller: a next step on the next card, the card opened (the version follows)."""
    with unit_of_work():
        deck = cards.load(db.session.get(Meeting, meeting_id))
        review = deck.cards[n % len(deck)]
        review.next_step = text
        review.version += 1
        deck.meeting.current_review_id = review.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--seller", default="seller@demo.test")
    parser.add_argument("--manager", default="manager@demo.test")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    app = create_app()
    with app.app_context(), sync_playwright() as playwright:
        meeting_id = running_meeting(args.seller)
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        # bypass_csp lets the timing probe below run; the app's own scripts are unchanged.
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=args.url, bypass_csp=True)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(args.manager)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"/meetings/{meeting_id}/live")
        delays = []
        run = random.randrange(10**6)
        for n in range(args.saves):
            text = f"Bench step {run}-{n}"
            page.evaluate(WATCH, text)
            saved = time.time()
            seller_saves(meeting_id, n, text)
            shown_ms = page.wait_for_function("window.__shownAt", timeout=10_000).json_value()
            delays.append(shown_ms / 1000 - saved)
            time.sleep(random.uniform(0.2, 1.3))  # saves land anywhere in the poll's cycle
        browser.close()
    delays.sort()
    p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
    print(
        f"read-along delay over {len(delays)} saves: p50 {statistics.median(delays):.2f} s, "
        f"p95 {p95:.2f} s, max {delays[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
