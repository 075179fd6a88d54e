"""What the measurements rely on: the seed-scale data set, the Server-Timing header, compression."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Cadence, ManagerNote, Meeting, Reschedule, User
from focusweb.scale import SCALE_PASSWORD, ScaleSize, seed
from tests.conftest import _empty_all_tables

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
RANDOM_COLUMNS = {"session_token", "calendar_secret", "password_hash"}
SIZE = ScaleSize(managers=2, sellers_per_manager=3, accounts=5, weeks=6)


def _digest() -> str:
    """Everything seed-scale writes, except the random sign-in secrets and the password hash's salt."""
    parts = []
    for model in (User, Account, Cadence, Meeting, Reschedule, AccountReview, ManagerNote):
        columns = [c for c in model.__table__.columns if c.name not in RANDOM_COLUMNS]
        for row in db.session.execute(select(*columns).order_by(model.id)):
            parts.append(repr(tuple(row)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_seed_scale_command_builds_the_company_and_prints_the_password(runner):
    args = ["seed-scale", "--managers", "2", "--sellers-per-manager", "3", "--accounts", "5", "--weeks", "6"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"password {SCALE_PASSWORD}" in result.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "manager")) == 2
    sellers = db.session.scalars(select(User).where(User.role == "seller")).all()
    assert len(sellers) == 6 and all(seller.manager_id for seller in sellers)
    seller = db.session.scalar(select(User).where(User.email == "seller1@scale.test"))
    assert seller.check_password(SCALE_PASSWORD)
    kinds = db.session.scalars(select(Account.kind).where(Account.owner_id == seller.id)).all()
    assert len(kinds) == 5 and {"key", "target"} == set(kinds)
    # Six weeks of finished meetings and today's coming one, a card per account in each.
    assert db.session.scalar(select(func.count()).select_from(AccountReview)) == 6 * 5 * (6 + 1)

    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "fresh database" in again.output


def test_every_seller_has_weekly_finished_meetings_and_one_unstarted_today(app):
    seed(SIZE, seed=3, now=NOW)
    for seller in db.session.scalars(select(User).where(User.role == "seller")):
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at)
        ).all()
        finished = [meeting for meeting in meetings if meeting.finished_at]
        unstarted = [meeting for meeting in meetings if meeting.started_at is None]
        assert len(finished) == SIZE.weeks and len(unstarted) == 1
        assert unstarted[0] is meetings[-1] and unstarted[0].manager_id == seller.manager_id
        assert all(meeting.finished_at > meeting.started_at for meeting in finished)


def test_reviews_look_back_on_the_same_accounts_earlier_step(app):
    seed(SIZE, seed=3, now=NOW)
    previous = aliased(AccountReview)
    earlier = aliased(Meeting)
    rows = db.session.execute(
        select(AccountReview, previous, Meeting.scheduled_at, earlier.scheduled_at)
        .join(previous, AccountReview.previous_review_id == previous.id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .join(earlier, earlier.id == previous.meeting_id)
        .where(Meeting.finished_at.is_not(None))
    ).all()
    assert rows
    for review, looked_back, when, before in rows:
        assert review.account_id == looked_back.account_id and before < when
        assert review.outcome in {"done", "not_done"} and review.outcome_at is not None
        assert looked_back.next_step and looked_back.projection_date
    assert {review.outcome for review, *_ in rows} == {"done", "not_done"}
    assert db.session.scalar(select(func.count()).select_from(ManagerNote).where(ManagerNote.private)) > 0
    assert db.session.scalar(select(func.count()).select_from(ManagerNote).where(~ManagerNote.private)) > 0


def test_same_seed_same_data_other_seed_other_data(app):
    seed(SIZE, seed=7, now=NOW)
    first = _digest()
    _empty_all_tables()
    seed(SIZE, seed=7, now=NOW)
    assert _digest() == first
    _empty_all_tables()
    seed(SIZE, seed=8, now=NOW)
    assert _digest() != first


@pytest.mark.parametrize("path", ["/healthz", "/login", "/static/css/app.css"])
def test_every_response_tells_the_apps_own_time(client, path):
    response = client.get(path)
    response.close()
    name, duration = response.headers["Server-Timing"].split(";dur=")
    assert response.status_code == 200 and name == "app" and float(duration) >= 0


def test_a_refused_csrf_post_still_answers_400_with_timing(client):
    response = client.post("/login", data={"email": "x@example.test", "password": "y"}, csrf=False)
    assert response.status_code == 400 and "Server-Timing" in response.headers


@pytest.mark.parametrize(("path", "status"), [("/login", 200), ("/no-such-page", 404)])
def test_pages_are_compressed_whatever_their_status(client, path, status):
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == status and response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_a_422_form_with_its_errors_is_compressed(client):
    response = client.post("/login", data={"email": "", "password": ""}, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 422 and response.headers["Content-Encoding"] == "gzip"
