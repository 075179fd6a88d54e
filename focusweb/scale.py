"""A company-sized data set for benchmarks: ``flask --app wsgi seed-scale``.

Deterministic by seed (and today's date): the same seed gives the same people, accounts, meetings,
answers and notes. Rows go in with bulk INSERTs in batches and ids assigned here, so two years of a
200-seller company (about 520,000 account reviews) load in a minute or so rather than hours.
Sign-in secrets (session token, calendar secret) are random, as everywhere else.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, insert, select, text, update
from werkzeug.security import generate_password_hash

from . import cards, plans
from .extensions import db
from .models import Account, AccountReview, Cadence, ManagerNote, Meeting, Reschedule, User, new_token
from .transactions import unit_of_work

SCALE_PASSWORD = "focus-scale"  # noqa: S105 -- the documented password of generated benchmark users
EMAIL_DOMAIN = "scale.test"
MEETING_TIME = time(9, 0)
BATCH = 5000
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin")
FIRST = ("Alex", "Bea", "Chris", "Dana", "Eli", "Fran", "Gus", "Hana", "Ivo", "Jo", "Kim", "Lou", "Max", "Nia")
LAST = ("Adler", "Brook", "Costa", "Dufour", "Eng", "Falk", "Grant", "Holm", "Ito", "Jansen", "Kowal", "Lund")
COMPANY_A = ("Amber", "Basalt", "Cedar", "Delta", "Ember", "Falcon", "Garnet", "Harbor", "Indigo", "Jasper", "Kepler")
COMPANY_B = ("Logistics", "Foods", "Health", "Tooling", "Hotels", "Shipping", "Bank", "Pharma", "Retail", "Energy")
STEPS = (
    "Send the renewal proposal to procurement",
    "Book a site visit with the operations lead",
    "Introduce our service manager to their new CFO",
    "Get the pilot results signed off",
    "Confirm the budget owner for next year",
    "Run the product demo for the plant managers",
    "Agree the rollout plan for the second site",
    "Present the quarterly business review",
)
NOTES = (
    "Discussed the account plan and who decides.",
    "Budget is frozen until the next quarter.",
    "New contact in purchasing; friendly.",
    "Competitor offered a lower price; we hold on service.",
    "",
    "",
)
MANAGER_NOTES = (
    "Bring the regional director to the next visit.",
    "Good progress; ask for the reference call.",
    "Check the contract end date before pushing.",
    "Coach on multi-threading this account.",
)
RESCHEDULE_REASONS = ("Customer visit moved", "Manager travelling", "Trade fair", "Sick day")


@dataclass(frozen=True)
class ScaleSize:
    """How big the company is and how much history it has."""

    managers: int = 20
    sellers_per_manager: int = 10
    accounts: int = 25
    weeks: int = 104

    @property
    def sellers(self) -> int:
        return self.managers * self.sellers_per_manager

    @property
    def reviews(self) -> int:
        return self.sellers * self.accounts * self.weeks


class _Ids:
    """Ids handed out here, after whatever the tables already hold, so reviews can link to earlier reviews."""

    def __init__(self, *models):
        self._next = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1 for model in models}

    def take(self, model) -> int:
        value = self._next[model]
        self._next[model] = value + 1
        return value


class _Writer:
    """Rows buffered per table and written with bulk INSERTs, parents before children."""

    ORDER = (User, Account, Cadence, Meeting, Reschedule, AccountReview, ManagerNote)

    def __init__(self):
        self.rows = {model: [] for model in self.ORDER}
        self.counts = dict.fromkeys(self.ORDER, 0)

    def add(self, model, row: dict) -> None:
        self.rows[model].append(row)
        if len(self.rows[model]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for model in self.ORDER:
            rows = self.rows[model]
            if rows:
                db.session.execute(insert(model), rows)
                self.counts[model] += len(rows)
                rows.clear()


def _at(day: date, zone: ZoneInfo, minutes: int = 0) -> datetime:
    local = datetime.combine(day, MEETING_TIME, tzinfo=zone) + timedelta(minutes=minutes)
    return local.astimezone(UTC)


def _weeks_back(today: date, weeks: int) -> Iterator[date]:
    """The day of each finished weekly meeting, oldest first."""
    for week in range(weeks, 0, -1):
        yield today - timedelta(weeks=week)


def seed(size: ScaleSize, seed: int = 1, now: datetime | None = None) -> dict:
    """Load the company into the (migrated) database in one transaction; return counts and seconds."""
    if db.session.scalar(select(User.id).where(User.email.like(f"%@{EMAIL_DOMAIN}")).limit(1)):
        raise ValueError(f"this database already has @{EMAIL_DOMAIN} users: seed-scale needs a fresh database")
    started = perf_counter()
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    ids = _Ids(User, Account, Cadence, Meeting, Reschedule, AccountReview, ManagerNote)
    writer = _Writer()
    # One slow hash for everyone: hashing 220 passwords would take longer than the rest.
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    password_hash = generate_password_hash(SCALE_PASSWORD, method=method)
    seller_number = 0
    for manager_number in range(1, size.managers + 1):
        manager_id = ids.take(User)
        zone_name = ZONES[(manager_number - 1) % len(ZONES)]
        writer.add(
            User, _user_row(manager_id, f"manager{manager_number}", "manager", None, zone_name, password_hash, rng, now)
        )
        for _ in range(size.sellers_per_manager):
            seller_number += 1
            _seller(writer, ids, rng, size, seller_number, manager_id, zone_name, password_hash, now)
    with unit_of_work():
        writer.flush()
        plans.keep_newest_steps(db.session.connection())  # rows inserted in bulk: no flush kept them
        if db.engine.dialect.name == "postgresql":
            _advance_sequences()
        # Rows inserted in bulk: no flush rule saw them. Today's meetings get their cards as any would.
        cards.sync_sellers(set(db.session.scalars(select(User.id).where(User.role == "seller"))))
        db.session.flush()
        # Dated like the rest of the data set (``now``), so that the same seed writes the same rows.
        coming = select(Meeting.id).where(Meeting.started_at.is_(None))
        db.session.execute(
            update(AccountReview)
            .where(AccountReview.meeting_id.in_(coming))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    with unit_of_work():
        # Fresh planner statistics, as a database that grew to this size over two years would have.
        db.session.execute(text("ANALYZE"))
    counts = {model.__tablename__: count for model, count in writer.counts.items()}
    return {"counts": counts, "seconds": perf_counter() - started}


def _user_row(user_id, handle, role, manager_id, zone_name, password_hash, rng, now) -> dict:
    return {
        "id": user_id,
        "email": f"{handle}@{EMAIL_DOMAIN}",
        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} ({handle})",
        "password_hash": password_hash,
        "role": role,
        "is_admin": False,
        "manager_id": manager_id,
        "timezone": zone_name,
        "paper_size": "Letter" if zone_name.startswith("America") else "A4",
        "remind_prep": True,
        "remind_due": True,
        "remind_overdue": True,
        "calendar_secret": new_token(),
        "session_token": new_token(),
        "created_at": now - timedelta(days=800),
    }


def _seller(writer, ids, rng, size, number, manager_id, zone_name, password_hash, now) -> None:
    """One seller: accounts, cadence, the finished weekly meetings with their reviews, and today's meeting."""
    seller_id = ids.take(User)
    writer.add(User, _user_row(seller_id, f"seller{number}", "seller", manager_id, zone_name, password_hash, rng, now))
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(weeks=size.weeks)
    minutes = 45 if number % 4 == 0 else 30
    accounts = []
    names = rng.sample([f"{a} {b}" for a in COMPANY_A for b in COMPANY_B], k=min(size.accounts, 110))
    for index in range(size.accounts):
        name = names[index] if index < len(names) else f"Account {index + 1}"
        kind = "key" if index < size.accounts * 2 // 5 else "target"
        account_id = ids.take(Account)
        accounts.append((account_id, kind, name))
        created = _at(first_day - timedelta(days=7), zone)
        writer.add(
            Account,
            {
                "id": account_id,
                "owner_id": seller_id,
                "name": name,
                "name_key": Account.key_for(name),
                "kind": kind,
                "notes": rng.choice(NOTES),
                "archived_at": None,
                "created_at": created,
                "updated_at": created,
            },
        )
    writer.add(
        Cadence,
        {
            "id": ids.take(Cadence),
            "seller_id": seller_id,
            "manager_id": manager_id,
            "every_weeks": 1,
            "weekday": today.weekday(),
            "local_time": MEETING_TIME,
            "timezone": zone_name,
            "minutes": minutes,
            "starts_on": first_day,
        },
    )
    # The review each account's next one looks back on: (review id, projection date).
    last: dict[int, tuple[int, date]] = {}
    for day in _weeks_back(today, size.weeks):
        _finished_meeting(writer, ids, rng, seller_id, manager_id, zone, day, minutes, accounts, last)
    writer.add(Meeting, _meeting_row(ids.take(Meeting), seller_id, manager_id, _at(today, zone), minutes))


def _meeting_row(meeting_id, seller_id, manager_id, scheduled_at, minutes, **fields) -> dict:
    row = {
        "id": meeting_id,
        "seller_id": seller_id,
        "manager_id": manager_id,
        "scheduled_at": scheduled_at,
        "planned_minutes": minutes,
        "started_at": None,
        "finished_at": None,
        "current_review_id": None,
        "version": 1,
    }
    row.update(fields)
    return row


def _finished_meeting(writer, ids, rng, seller_id, manager_id, zone, day, minutes, accounts, last) -> None:
    meeting_id = ids.take(Meeting)
    scheduled = _at(day, zone)
    if rng.random() < 0.06:
        # Moved a day later, with a reason: "never reschedule" is counted, so the data has some.
        moved = scheduled + timedelta(days=1)
        writer.add(
            Reschedule,
            {
                "id": ids.take(Reschedule),
                "meeting_id": meeting_id,
                "from_at": scheduled,
                "to_at": moved,
                "reason": rng.choice(RESCHEDULE_REASONS),
                "by_id": rng.choice((seller_id, manager_id)),
                "created_at": scheduled - timedelta(days=2),
            },
        )
        scheduled = moved
    late = rng.choice((0, 0, 0, 1, 2, 3, 4, 7, 12, -1))
    started = scheduled + timedelta(minutes=late)
    finished = started + timedelta(minutes=minutes + rng.randint(-8, 6))
    reviews = []
    for position, account in enumerate(accounts):  # Key accounts come first: positions are meeting order
        review_id = ids.take(AccountReview)
        outcome_at = started + timedelta(seconds=60 * position + 30)
        reviews.append(_review_row(rng, review_id, meeting_id, account, position, day, outcome_at, finished, last))
    writer.add(
        Meeting,
        _meeting_row(
            meeting_id,
            seller_id,
            manager_id,
            scheduled,
            minutes,
            started_at=started,
            finished_at=finished,
            version=1 + 2 * len(reviews),
        ),
    )
    for row in reviews:
        writer.add(AccountReview, row)
        if not row["skipped"] and rng.random() < 0.08:
            created = row["outcome_at"] or started
            writer.add(
                ManagerNote,
                {
                    "id": ids.take(ManagerNote),
                    "review_id": row["id"],
                    "author_id": manager_id,
                    "text": rng.choice(MANAGER_NOTES),
                    "private": rng.random() < 0.35,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                },
            )


def _review_row(rng, review_id, meeting_id, account, position, day, outcome_at, finished, last) -> dict:
    """A review: last time's outcome (done more often when its date has passed), then the two answers."""
    account_id, kind, name = account
    row = {
        "id": review_id,
        "meeting_id": meeting_id,
        "account_id": account_id,
        "kind": kind,
        "account_name": name,
        "position": position,
        "skipped": False,
        "previous_review_id": None,
        "outcome": None,
        "outcome_at": None,
        "notes": "",
        "next_step": "",
        "projection_date": None,
        "version": 1,
        "updated_at": finished,
    }
    if rng.random() < 0.03:
        row["skipped"] = True
        return row
    previous = last.get(account_id)
    if previous is not None:
        previous_id, due = previous
        done_chance = 0.75 if due <= day else 0.45
        row.update(
            previous_review_id=previous_id,
            outcome="done" if rng.random() < done_chance else "not_done",
            outcome_at=outcome_at,
        )
    due = day + timedelta(days=rng.choice((3, 7, 7, 10, 14, 14, 21, 28, 35)))
    row.update(
        notes=rng.choice(NOTES),
        next_step=rng.choice(STEPS),
        projection_date=due,
        version=rng.randint(1, 4),
    )
    last[account_id] = (review_id, due)
    return row


def _advance_sequences() -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them."""
    for model in _Writer.ORDER:
        table = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 -- table names are ours
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )
