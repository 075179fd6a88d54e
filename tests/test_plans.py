"""The plan's words (focusweb/rules.py) and the rows they judge (focusweb/plans.py): one rule each."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from focusweb import plans, rules
from focusweb.extensions import db
from focusweb.models import Account, Meeting

SCHEDULED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("late", "on_time", "minutes"),
    [
        (timedelta(minutes=-20), True, 0),
        (timedelta(minutes=5), True, 5),
        (timedelta(minutes=5, seconds=30), False, 6),
        (timedelta(minutes=12), False, 12),
    ],
)
def test_started_on_time_and_minutes_late_agree(late, on_time, minutes):
    meeting = Meeting(scheduled_at=SCHEDULED, started_at=SCHEDULED + late)
    assert (rules.started_on_time(meeting), rules.minutes_late(meeting)) == (on_time, minutes)


@pytest.mark.parametrize(
    ("outcome", "recorded_on", "done_on_time", "slipped"),
    [
        ("done", date(2026, 3, 10), True, False),
        ("done", date(2026, 3, 11), False, False),
        ("not_done", date(2026, 3, 10), False, False),
        ("not_done", date(2026, 3, 11), False, True),
        (None, date(2026, 3, 11), False, False),
    ],
)
def test_done_on_time_and_slipped_compare_the_recorded_day_with_the_projection_date(
    outcome, recorded_on, done_on_time, slipped
):
    due = date(2026, 3, 10)
    assert rules.is_done_on_time(outcome, due, recorded_on) is done_on_time
    assert rules.is_slipped(outcome, due, recorded_on) is slipped


def test_the_recorded_day_is_the_sellers_so_every_view_agrees_on_a_slip(factory):
    """Recorded 23:30 UTC on the 10th is the 11th in Tokyo: a slip on the summary, the history and the team view."""
    manager = factory.user("manager")
    seller = factory.user("seller", manager=manager, timezone="Asia/Tokyo")
    account = factory.account(seller, "Kappa")
    first_at = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    first = factory.meeting(seller, scheduled_at=first_at, started_at=first_at, finished_at=first_at)
    step = factory.review(first, account, next_step="Call Kappa", projection_date=date(2026, 3, 10))
    recorded = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    second = factory.meeting(seller, scheduled_at=recorded, started_at=recorded, finished_at=recorded)
    card = factory.review(
        second, account, previous_review=step, outcome="not_done", outcome_at=recorded, next_step="Again"
    )
    (history_step,) = [s for s in plans.load_steps([seller], account_id=account.id) if s.review.id == step.id]
    assert card.is_slipped and history_step.slipped
    assert history_step.recorded_on == date(2026, 3, 11)
    assert plans.slips_by_account(seller) == {account.id: 1}


def newest_kept(account_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(Account, account_id).last_step_id


def newest_by_the_rule() -> dict[int, int | None]:
    """Every account's newest step rebuilt from the whole history, leaving what was kept as it was."""
    kept = dict(db.session.execute(select(Account.id, Account.last_step_id)).all())
    db.session.execute(update(Account).values(last_step_id=None))
    plans.keep_newest_steps(db.session.connection())
    rebuilt = dict(db.session.execute(select(Account.id, Account.last_step_id)).all())
    db.session.rollback()
    assert dict(db.session.execute(select(Account.id, Account.last_step_id)).all()) == kept
    return rebuilt


def test_the_newest_step_kept_on_the_account_follows_the_rule_as_meetings_finish(factory):
    """Newest = from the latest-scheduled finished meeting, not skipped, not blank; kept on every flush."""
    manager = factory.user("manager")
    seller = factory.user("seller", manager=manager)
    account, other = factory.account(seller, "Alpha"), factory.account(seller, "Bravo")
    day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    edited_at = account.updated_at

    def held(weeks: int) -> Meeting:
        at = day + timedelta(weeks=weeks)
        return factory.meeting(seller, scheduled_at=at, started_at=at, finished_at=at + timedelta(minutes=30))

    first = factory.review(held(0), account, next_step="First", projection_date=date(2026, 3, 9))
    assert newest_kept(account.id) == first.id and newest_kept(other.id) is None
    third = factory.review(held(2), account, next_step="Third")
    factory.review(held(1), account, next_step="Second, finished later but scheduled earlier")
    factory.review(held(3), account, next_step="Skipped", skipped=True)
    factory.review(held(4), account, next_step="")
    assert newest_kept(account.id) == third.id

    running = factory.meeting(seller, scheduled_at=day + timedelta(weeks=5), started_at=day + timedelta(weeks=5))
    fifth = factory.review(running, account, next_step="Fifth")
    factory.review(running, other, next_step="Bravo's first")
    assert newest_kept(account.id) == third.id and newest_kept(other.id) is None  # not finished yet
    running.finished_at = running.started_at + timedelta(minutes=30)
    db.session.commit()
    assert newest_kept(account.id) == fifth.id and newest_kept(other.id) is not None
    assert db.session.get(Account, account.id).updated_at == edited_at  # kept, not an edit of the account
    assert newest_by_the_rule() == {account.id: fifth.id, other.id: newest_kept(other.id)}
    now = day + timedelta(weeks=5, days=1)
    assert sorted(s.next_step for s in plans.load_steps([seller], open_only=True, now=now)) == [
        "Bravo's first",
        "Fifth",
    ]
