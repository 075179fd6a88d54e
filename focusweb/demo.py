"""Demo data for trying FocusWeb (SPEC.md "demo users"). Never loaded in production."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .extensions import db
from .models import Account, AccountReview, Cadence, Meeting, User

DEMO_PASSWORD = "focus-demo"  # noqa: S105 -- the documented demo password, seeded outside production only
MEETING_TIME = time(9, 0)

SELLERS = {
    "seller@demo.test": {
        "name": "Sam Seller",
        "timezone": "America/New_York",
        "key": ["Acme Logistics", "Borealis Foods", "Cobalt Health", "Delta Tooling", "Evergreen Hotels"],
        "target": ["Fjord Shipping", "Granite Bank", "Helix Pharma", "Ironwood Schools", "Juniper Retail"],
    },
    "seller2@demo.test": {
        "name": "Sasha Seller",
        "timezone": "Europe/Berlin",
        "key": ["Kestrel Air", "Lumen Energy", "Meridian Labs", "Nimbus Media"],
        "target": ["Orchid Clinics", "Polar Freight", "Quartz Insurance", "Riverbend Farms"],
    },
}

LAST_STEPS = [
    "Send the renewal proposal to procurement",
    "Book a site visit with the operations lead",
    "Introduce our service manager to their new CFO",
    "Get the pilot results signed off",
    "Confirm budget owner for next year",
]


def _user(email: str, **fields) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, False
    user = User(email=email, **fields)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user, True


def _at(day: date, zone: str) -> datetime:
    return datetime.combine(day, MEETING_TIME, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def seed() -> str:
    """Create the demo team once; make sure each demo seller has a meeting due today."""
    manager, created = _user(
        "manager@demo.test", name="Maria Manager", role="manager", is_admin=True, timezone="America/New_York"
    )
    report = ["demo data created" if created else "demo data present"]
    db.session.flush()
    for email, plan in SELLERS.items():
        seller, new = _user(email, name=plan["name"], role="seller", manager=manager, timezone=plan["timezone"])
        db.session.flush()
        if new:
            _seed_book(seller, manager, plan)
        today = datetime.now(ZoneInfo(seller.timezone)).date()
        if _ensure_meeting_today(seller, manager, today):
            report.append(f"meeting due today for {email}")
    db.session.flush()
    return "; ".join(report)


def _seed_book(seller: User, manager: User, plan: dict) -> None:
    """Accounts, a weekly cadence, and last week's finished meeting with next steps to look back on."""
    accounts = [
        Account(owner=seller, name=name, name_key=Account.key_for(name), kind=kind, notes="")
        for kind in ("key", "target")
        for name in plan[kind]
    ]
    db.session.add_all(accounts)
    today = datetime.now(ZoneInfo(seller.timezone)).date()
    db.session.add(
        Cadence(
            seller=seller,
            manager=manager,
            every_weeks=1,
            weekday=today.weekday(),
            local_time=MEETING_TIME,
            timezone=seller.timezone,
            minutes=30,
            starts_on=today - timedelta(days=7),
        )
    )
    last_day = today - timedelta(days=7)
    scheduled = _at(last_day, seller.timezone)
    last = Meeting(
        seller=seller,
        manager=manager,
        scheduled_at=scheduled,
        planned_minutes=30,
        started_at=scheduled + timedelta(minutes=2),
        finished_at=scheduled + timedelta(minutes=33),
    )
    db.session.add(last)
    for position, account in enumerate(accounts[:6]):
        # Half of last week's steps fall due before today, so the prep list has something to show.
        due = last_day + timedelta(days=3 if position % 2 == 0 else 10)
        last.reviews.append(
            AccountReview(
                account=account,
                position=position,
                notes="Discussed the account plan.",
                next_step=LAST_STEPS[position % len(LAST_STEPS)],
                projection_date=due,
            )
        )


def _ensure_meeting_today(seller: User, manager: User, today: date) -> bool:
    """A meeting the demo seller can start now, whatever the hour."""
    scheduled = _at(today, seller.timezone)
    exists = db.session.scalar(
        select(Meeting.id).where(Meeting.seller_id == seller.id, Meeting.scheduled_at == scheduled)
    )
    if exists:
        return False
    db.session.add(Meeting(seller=seller, manager=manager, scheduled_at=scheduled, planned_minutes=30))
    return True
