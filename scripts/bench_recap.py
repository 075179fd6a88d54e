"""Render time of the recap PDF: a meeting of N accounts with long notes, median of 5 warm renders.

    FOCUSWEB_ENV=testing .venv/bin/python scripts/bench_recap.py [--accounts 30] [--paper A4] [--out recap.pdf]

Builds its data in a throw-away SQLite database; prints the median wall time, every run, the
median CPU time of the process (less sensitive to other load on the machine), and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from focusweb import create_app  # noqa: E402
from focusweb.extensions import db  # noqa: E402
from focusweb.models import Account, AccountReview, ManagerNote, Meeting, User  # noqa: E402
from focusweb.recap import service  # noqa: E402

NO_PASSWORD = "!"  # noqa: S105 -- no one signs in as these throw-away users
NOTE = (
    "Met the operations lead and the buyer together; they want a pilot in two plants before the summer "
    "shutdown, with a price held until the end of the year. Risks: the incumbent's contract auto-renews, "
    "and the CFO has not seen the business case yet. "
)


def make_meeting(accounts: int, paper: str) -> tuple[Meeting, User]:
    manager = User(email="m@bench.test", name="Maria Manager", role="manager", password_hash=NO_PASSWORD)
    seller = User(email="s@bench.test", name="Sam Seller", role="seller", manager=manager, password_hash=NO_PASSWORD)
    seller.paper_size = paper
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    last = Meeting(seller=seller, manager=manager, scheduled_at=start - timedelta(days=7), planned_minutes=45)
    last.started_at, last.finished_at = last.scheduled_at, last.scheduled_at + timedelta(minutes=40)
    meeting = Meeting(seller=seller, manager=manager, scheduled_at=start, planned_minutes=45)
    meeting.started_at, meeting.finished_at = start + timedelta(minutes=3), start + timedelta(minutes=44)
    db.session.add_all([manager, seller, last, meeting])
    for n in range(accounts):
        kind = "key" if n % 2 == 0 else "target"
        account = Account(owner=seller, name=f"Account {n:02d} Holdings", name_key=f"account {n:02d}", kind=kind)
        previous = AccountReview(
            meeting=last,
            account=account,
            position=n,
            next_step=f"Send the revised proposal number {n} to procurement",
            projection_date=date(2026, 2, 27),
        )
        review = AccountReview(
            meeting=meeting,
            account=account,
            position=n,
            previous_review=previous,
            outcome="done" if n % 3 else "not_done",
            outcome_at=meeting.started_at,
            notes=NOTE * (1 + n % 3),
            next_step=f"Book the pilot kick-off with the plant managers of account {n} and confirm the budget owner",
            projection_date=date(2026, 3, 3) + timedelta(days=n % 20),
        )
        review.manager_notes.append(ManagerNote(author=manager, text=f"Shared: ask for the CFO intro ({n})."))
        review.manager_notes.append(ManagerNote(author=manager, text=f"PRIVATE-{n}: coach on pricing", private=True))
        db.session.add_all([account, previous, review])
    db.session.commit()
    return meeting, seller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--paper", choices=["A4", "Letter"], default="A4")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "FOCUSWEB_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "BASE_URL": "http://127.0.0.1:5000",
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with app.app_context():
            db.create_all()
            meeting, seller = make_meeting(args.accounts, args.paper)
            render = lambda: service.render_pdf(service.build(meeting, seller), args.paper)  # noqa: E731
            body = render()  # warm-up: fonts, stylesheet parsing
            times, cpu_times = [], []
            for _ in range(args.runs):
                began, began_cpu = time.perf_counter(), time.process_time()
                body = render()
                times.append(time.perf_counter() - began)
                cpu_times.append(time.process_time() - began_cpu)
            if args.out:
                args.out.write_bytes(body)
            print(
                f"{args.accounts} accounts, {args.paper}: median {statistics.median(times):.3f} s "
                f"over {args.runs} runs ({', '.join(f'{t:.3f}' for t in times)}); "
                f"CPU median {statistics.median(cpu_times):.3f} s; {len(PdfReader(BytesIO(body)).pages)} pages, "
                f"{len(body) // 1024} KB; load average {os.getloadavg()[0]:.1f}"
            )


if __name__ == "__main__":
    main()
