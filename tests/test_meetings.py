"""The seller runs the focus meeting: cards, autosave, start, finish, read-only, carry-over (issue 3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from focusweb import signals
from focusweb.extensions import db
from focusweb.meetings.service import started_on_time
from focusweb.models import Account, AccountReview, Meeting, OutboxMessage

NEXT_STEP = "What is your next step with this account?"
PROJECTION_DATE = "What is your projection date to get this accomplished?"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def team(factory):
    manager, (seller, other_seller) = factory.team(sellers=2)
    return SimpleNamespace(manager=manager, seller=seller, other_seller=other_seller, factory=factory)


@pytest.fixture
def meeting(team):
    """A meeting in ten minutes for a seller with two Key accounts and one Target account (plus an archived one)."""
    f = team.factory
    f.account(team.seller, "Borealis Foods", "key")
    f.account(team.seller, "Acme Logistics", "key")
    f.account(team.seller, "Cobalt Health", "target")
    f.account(team.seller, "Archived Co", "key", archived_at=datetime.now(UTC))
    return f.meeting(team.seller)


def cards(meeting_id: int) -> list[AccountReview]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccountReview).filter_by(meeting_id=meeting_id).order_by("position")))


def url(meeting, suffix: str = "") -> str:
    return f"/meetings/{meeting.id}{suffix}"


def save(client, meeting, review, headers=HTMX, version=None, **fields):
    data = {"version": review.version if version is None else version}
    data.update({name: value.isoformat() if isinstance(value, date) else value for name, value in fields.items()})
    return client.post(url(meeting, f"/reviews/{review.id}"), data=data, headers=headers)


def answer_all(client, meeting, day=None):
    day = day or date.today() + timedelta(days=7)
    for review in cards(meeting.id):
        response = save(client, meeting, review, next_step=f"Call {review.account.name}", projection_date=day)
        assert response.status_code == 200


@pytest.fixture
def seller_client(client, auth, team, meeting):
    auth.login(team.seller)
    client.get(url(meeting))
    return client


def test_first_open_makes_cards_key_first_then_target_by_name(seller_client, meeting):
    names = [(review.account.kind, review.account.name, review.position) for review in cards(meeting.id)]
    assert names == [("key", "Acme Logistics", 0), ("key", "Borealis Foods", 1), ("target", "Cobalt Health", 2)]


def test_page_shows_the_two_questions_progress_and_start(seller_client, meeting):
    page = seller_client.get(url(meeting)).get_data(as_text=True)
    assert NEXT_STEP in page and PROJECTION_DATE in page
    assert "1 of 3 accounts" in page
    assert "Start meeting" in page and "Next account" in page


def test_an_account_added_later_is_appended_within_its_kind(seller_client, team, meeting):
    team.factory.account(team.seller, "Zenith Mills", "key")
    seller_client.get(url(meeting))
    assert [review.account.name for review in cards(meeting.id)] == [
        "Acme Logistics",
        "Borealis Foods",
        "Zenith Mills",
        "Cobalt Health",
    ]


def test_an_account_added_during_the_meeting_gets_a_card_and_last_time_stays(seller_client, team, meeting):
    seller_client.get(url(meeting))
    seller_client.post(url(meeting, "/start"))
    before = {review.account.name: review.previous_review_id for review in cards(meeting.id)}
    team.factory.account(team.seller, "Zenith Mills", "key")
    page = seller_client.get(url(meeting)).text
    after = {review.account.name: review.previous_review_id for review in cards(meeting.id)}
    assert after == before | {"Zenith Mills": None}
    assert "Zenith Mills" in page and "1 of 4 accounts" in page


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("post", "/start"), ("post", "/finish"), ("post", "/reviews/{rid}"), ("post", "/reviews/{rid}/move")],
)
@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("other_seller", 404)])
def test_only_the_meetings_seller_may_change_it(seller_client, auth, team, meeting, method, suffix, who, status):
    review = cards(meeting.id)[0]
    auth.logout()
    auth.login(getattr(team, who))
    target = url(meeting, suffix.format(rid=review.id))
    response = seller_client.post(target, data={"version": 1, "next_step": "hijack", "direction": "down"})
    assert response.status_code == status
    after = cards(meeting.id)[0]
    assert (after.id, after.next_step, after.version) == (review.id, "", 1)
    assert db.session.get(Meeting, meeting.id).started_at is None


def test_manager_opening_the_meeting_goes_to_the_live_view(seller_client, auth, team, meeting):
    auth.logout()
    auth.login(team.manager)
    response = seller_client.get(url(meeting))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/live")


def test_another_teams_manager_and_other_sellers_get_404(seller_client, auth, team, meeting):
    stranger = team.factory.user("manager")
    for user in (team.other_seller, stranger):
        auth.logout()
        auth.login(user)
        assert seller_client.get(url(meeting)).status_code == 404


def test_start_records_the_time_once_and_may_be_early(seller_client, meeting):
    response = seller_client.post(url(meeting, "/start"))
    assert response.status_code == 303
    started = db.session.get(Meeting, meeting.id).started_at
    assert started is not None and started < meeting.scheduled_at  # ten minutes early
    seller_client.post(url(meeting, "/start"))
    db.session.expire_all()
    stored = db.session.get(Meeting, meeting.id)
    assert stored.started_at == started
    assert stored.current_review_id == cards(meeting.id)[0].id
    assert started_on_time(stored) is True


@pytest.mark.parametrize(("late_by", "on_time"), [(-30, True), (0, True), (5, True), (6, False), (40, False)])
def test_started_on_time_means_within_five_minutes(late_by, on_time):
    scheduled = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    meeting = Meeting(scheduled_at=scheduled, started_at=scheduled + timedelta(minutes=late_by))
    assert started_on_time(meeting) is on_time
    assert started_on_time(Meeting(scheduled_at=scheduled)) is None


def test_autosave_stores_bumps_versions_and_answers_a_fragment(seller_client, meeting):
    review = cards(meeting.id)[0]
    meeting_version = db.session.get(Meeting, meeting.id).version
    response = save(seller_client, meeting, review, notes="Talked budget", next_step="", projection_date="")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Saved" in body and "<html" not in body and 'value="2"' in body
    assert "HX-Request" in response.headers["Vary"]
    stored = cards(meeting.id)[0]
    assert (stored.notes, stored.next_step, stored.projection_date, stored.version) == ("Talked budget", "", None, 2)
    assert db.session.get(Meeting, meeting.id).version > meeting_version


def test_a_retried_save_is_idempotent(seller_client, meeting):
    """The page re-sends a save whose answer never came (the connection dropped after it landed)."""
    review = cards(meeting.id)[0]
    meeting_version = db.session.get(Meeting, meeting.id).version
    for _ in range(2):
        response = save(seller_client, meeting, review, version=1, notes="Same words")
        assert response.status_code == 200
        assert 'name="version" value="2"' in response.get_data(as_text=True)  # both answers: the stored version
    assert (cards(meeting.id)[0].notes, cards(meeting.id)[0].version) == ("Same words", 2)
    assert db.session.get(Meeting, meeting.id).version == meeting_version + 1, "the read-along saw one change"


@pytest.mark.parametrize("version", ["", "x", "-1", "99999999999999999999"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_a_card_without_a_readable_version_is_judged_stale_never_applied(seller_client, meeting, version, headers):
    review = cards(meeting.id)[0]
    save(seller_client, meeting, review, version=1, next_step="Stored first")
    response = save(seller_client, meeting, review, headers=headers, version=version, next_step="Sent blind")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Stored first" in body and "Sent blind" in body and 'name="version" value="None"' not in body
    assert (cards(meeting.id)[0].next_step, cards(meeting.id)[0].version) == ("Stored first", 2)


def test_stale_version_is_refused_with_both_texts_and_changes_nothing(seller_client, meeting):
    review = cards(meeting.id)[0]
    save(seller_client, meeting, review, version=1, next_step="Typed on the laptop")
    response = save(seller_client, meeting, review, version=1, next_step="Typed on the phone")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Typed on the laptop" in body and "Typed on the phone" in body and "Keep mine" in body
    stored = cards(meeting.id)[0]
    assert (stored.next_step, stored.version) == ("Typed on the laptop", 2)

    # Keep mine: the conflict form re-sends the phone's text over the stored version.
    kept = save(seller_client, meeting, stored, headers={}, next_step="Typed on the phone")
    assert kept.status_code == 303
    assert cards(meeting.id)[0].next_step == "Typed on the phone"


def test_stale_version_without_javascript_shows_the_card_with_both_texts(seller_client, meeting):
    review = cards(meeting.id)[0]
    save(seller_client, meeting, review, version=1, notes="First device")
    response = save(seller_client, meeting, review, headers={}, version=1, notes="Second device", go="next")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Changed on another device" in body and "First device" in body and "Second device" in body
    assert cards(meeting.id)[0].notes == "First device"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"next_step": "x" * 501}, "next_step", "500 characters or fewer"),
        ({"projection_date": "2001-01-01"}, "projection_date", "on or after the meeting"),
        ({"projection_date": "next week"}, "projection_date", "Enter a date"),
    ],
)
def test_bad_answers_get_422_next_to_the_field_and_the_rest_is_kept(seller_client, meeting, fields, field, message):
    review = cards(meeting.id)[0]
    response = save(seller_client, meeting, review, notes="Keep these notes", **fields)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body and message in body
    stored = cards(meeting.id)[0]
    assert stored.notes == "Keep these notes"
    assert (stored.next_step, stored.projection_date) == ("", None)


def save_status(body: str) -> str:
    """The card's save status line, as the seller reads it."""
    match = re.search(r'<p class="save-status"[^>]*>(.*?)</p>', body, re.S)
    assert match, "no save status in the answer"
    return " ".join(match.group(1).split())


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_a_bad_answer_beside_stored_ones_says_the_rest_is_saved(seller_client, meeting, headers):
    review = cards(meeting.id)[0]
    response = save(
        seller_client, meeting, review, headers=headers, notes="Budget approved", projection_date="2001-01-01"
    )
    assert response.status_code == 422
    assert save_status(response.get_data(as_text=True)) == "Saved, except: see the message by the answer"
    assert (cards(meeting.id)[0].notes, cards(meeting.id)[0].projection_date) == ("Budget approved", None)


def test_two_bad_answers_beside_stored_ones_point_at_both_messages(seller_client, meeting):
    review = cards(meeting.id)[0]
    response = save(seller_client, meeting, review, notes="Kept", next_step="z" * 501, projection_date="2001-01-01")
    assert response.status_code == 422
    assert save_status(response.get_data(as_text=True)) == "Saved, except: see the messages by the answers"
    assert cards(meeting.id)[0].notes == "Kept"


def test_a_save_of_only_a_bad_answer_says_not_saved(seller_client, meeting):
    review = cards(meeting.id)[0]
    response = save(seller_client, meeting, review, projection_date="2001-01-01")
    assert response.status_code == 422
    assert save_status(response.get_data(as_text=True)) == "Not saved — see the message by the answer"
    assert (cards(meeting.id)[0].projection_date, cards(meeting.id)[0].version) == (None, 1)


def test_bad_answer_without_javascript_rerenders_the_card_with_the_text_kept(seller_client, meeting):
    review = cards(meeting.id)[0]
    long_step = "y" * 501
    response = save(seller_client, meeting, review, headers={}, next_step=long_step, notes="Kept", go="next")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert long_step in body and "500 characters or fewer" in body and 'aria-invalid="true"' in body


def test_line_breaks_count_once_so_500_characters_fit(seller_client, meeting):
    review = cards(meeting.id)[0]
    step = "\r\n".join(["a" * 99] * 5) + "b"  # 500 characters as typed, 504 as the browser sends them
    assert save(seller_client, meeting, review, next_step=step).status_code == 200
    assert len(cards(meeting.id)[0].next_step) == 500


def test_next_account_without_javascript_saves_and_moves_on(seller_client, meeting):
    first, second, _ = cards(meeting.id)
    response = save(seller_client, meeting, first, headers={}, next_step="Send the quote", go="next")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(meeting, f"?review={second.id}"))
    assert cards(meeting.id)[0].next_step == "Send the quote"
    seller_client.get(response.headers["Location"])
    assert db.session.get(Meeting, meeting.id).current_review_id == second.id

    back = save(seller_client, meeting, cards(meeting.id)[1], headers={}, go="previous")
    assert back.headers["Location"].endswith(url(meeting, f"?review={first.id}"))


def test_next_on_the_last_card_leads_to_finish(seller_client, meeting):
    last = cards(meeting.id)[-1]
    response = save(seller_client, meeting, last, headers={}, go="next")
    assert response.headers["Location"].endswith(f"?review={last.id}#finish")


def test_reorder_moves_within_key_and_within_target(seller_client, meeting):
    acme, borealis, cobalt = cards(meeting.id)
    response = seller_client.post(url(meeting, f"/reviews/{acme.id}/move"), data={"direction": "down"})
    assert response.status_code == 303
    assert [review.id for review in cards(meeting.id)] == [borealis.id, acme.id, cobalt.id]
    # A Key account does not move below a Target account.
    seller_client.post(url(meeting, f"/reviews/{acme.id}/move"), data={"direction": "down"})
    assert [review.id for review in cards(meeting.id)] == [borealis.id, acme.id, cobalt.id]
    fragment = seller_client.post(url(meeting, f"/reviews/{acme.id}/move"), data={"direction": "up"}, headers=HTMX)
    assert fragment.status_code == 200 and 'id="accounts"' in fragment.get_data(as_text=True)
    assert [review.id for review in cards(meeting.id)] == [acme.id, borealis.id, cobalt.id]


def test_skip_and_unskip(seller_client, meeting):
    first, second, _ = cards(meeting.id)
    response = save(seller_client, meeting, first, headers={}, go="skip")
    assert response.headers["Location"].endswith(f"?review={second.id}")
    assert cards(meeting.id)[0].skipped is True
    save(seller_client, meeting, cards(meeting.id)[0], headers={}, go="unskip")
    assert cards(meeting.id)[0].skipped is False


def test_finish_lists_missing_answers_with_links(seller_client, meeting):
    seller_client.post(url(meeting, "/start"))
    first, second, third = cards(meeting.id)
    save(seller_client, meeting, first, next_step="Call", projection_date=date.today() + timedelta(days=3))
    save(seller_client, meeting, second, next_step="Only a step")
    save(seller_client, meeting, third, headers={}, go="skip")
    response = seller_client.post(url(meeting, "/finish"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f"?review={second.id}" in body and "projection date" in body
    assert f"?review={first.id}" not in body and f"?review={third.id}" not in body  # answered; skipped
    assert db.session.get(Meeting, meeting.id).finished_at is None


def test_finish_before_start_is_refused(seller_client, meeting):
    answer_all(seller_client, meeting)
    assert seller_client.post(url(meeting, "/finish")).status_code == 409
    assert db.session.get(Meeting, meeting.id).finished_at is None


@pytest.fixture
def finished_meeting(seller_client, meeting):
    seller_client.post(url(meeting, "/start"))
    answer_all(seller_client, meeting)
    response = seller_client.post(url(meeting, "/finish"))
    assert response.status_code == 303
    return meeting


def test_finish_records_the_end_and_sends_the_signal_inside_the_transaction(seller_client, meeting):
    seen = []

    def queue_recap(sender):
        seen.append(sender.finished_at)
        db.session.add(OutboxMessage(kind="recap", recipient="x@test", subject="s", body="b", dedupe_key="t"))

    seller_client.post(url(meeting, "/start"))
    answer_all(seller_client, meeting)
    with signals.meeting_finished.connected_to(queue_recap):
        seller_client.post(url(meeting, "/finish"))
    assert len(seen) == 1 and seen[0] is not None
    assert db.session.get(Meeting, meeting.id).finished_at == seen[0]
    assert "t" in db.session.scalars(select(OutboxMessage.dedupe_key)).all()  # committed together with the finish


def test_finished_meeting_is_read_only(seller_client, finished_meeting):
    meeting = finished_meeting
    review = cards(meeting.id)[0]
    before = (review.next_step, review.version)
    for response in (
        save(seller_client, meeting, review, headers={}, next_step="Changed later"),
        seller_client.post(url(meeting, f"/reviews/{review.id}/move"), data={"direction": "down"}),
    ):
        assert response.status_code == 409
        assert "finished" in response.get_data(as_text=True)
    htmx = save(seller_client, meeting, review, next_step="Changed later")
    assert htmx.status_code == 409 and "meeting is finished" in htmx.get_data(as_text=True)
    assert (cards(meeting.id)[0].next_step, cards(meeting.id)[0].version) == before
    page = seller_client.get(url(meeting)).get_data(as_text=True)
    assert "Meeting summary" in page and "Call Acme Logistics" in page and "Next account" not in page


def test_summary_links_the_recap_and_says_whether_it_was_sent(seller_client, finished_meeting):
    page = seller_client.get(url(finished_meeting)).get_data(as_text=True)
    assert f'href="/meetings/{finished_meeting.id}/recap.pdf"' in page
    assert "The recap was not sent: No mail server is configured" in page


def carry_over_history(team, meeting) -> AccountReview:
    """Two weeks ago a finished meeting set Acme a step now overdue; last week's finished meeting skipped Acme."""
    f = team.factory
    acme = db.session.scalar(select(Account).filter_by(owner_id=team.seller.id, name="Acme Logistics"))
    two_weeks = meeting.scheduled_at - timedelta(days=14)
    old = f.meeting(team.seller, two_weeks, started_at=two_weeks, finished_at=two_weeks + timedelta(minutes=30))
    old_review = f.review(old, acme, next_step="Book the site visit", projection_date=date.today() - timedelta(days=3))
    last_week = meeting.scheduled_at - timedelta(days=7)
    skipped_in = f.meeting(team.seller, last_week, started_at=last_week, finished_at=last_week + timedelta(minutes=30))
    f.review(skipped_in, acme, skipped=True, next_step="typed, then skipped")
    # A meeting that never took place (rescheduled, then dropped) holds an unfinished review.
    f.review(f.meeting(team.seller, last_week + timedelta(days=1)), acme, next_step="never discussed")
    return old_review


def test_commitment_carries_over_a_skipped_account_and_an_unheld_meeting(client, auth, team, meeting):
    old_review = carry_over_history(team, meeting)
    auth.login(team.seller)
    page = client.get(url(meeting)).get_data(as_text=True)
    acme = cards(meeting.id)[0]
    assert acme.account.name == "Acme Logistics" and acme.previous_review_id == old_review.id
    assert "Last time" in page and "Book the site visit" in page


def test_not_done_after_the_date_is_a_slip_and_is_counted(client, auth, team, meeting):
    carry_over_history(team, meeting)
    auth.login(team.seller)
    client.get(url(meeting))
    client.post(url(meeting, "/start"))
    acme = cards(meeting.id)[0]
    assert save(client, meeting, acme, outcome="not_done").status_code == 200
    answer_all(client, meeting)
    assert client.post(url(meeting, "/finish")).status_code == 303
    acme = cards(meeting.id)[0]
    assert (acme.outcome, acme.is_slipped) == ("not_done", True) and acme.outcome_at is not None
    page = client.get(url(meeting)).get_data(as_text=True)
    assert "1 step" in page and "slipped" in page


def test_a_skipped_account_keeps_its_commitment_open(client, auth, team, meeting):
    old_review = carry_over_history(team, meeting)
    auth.login(team.seller)
    client.get(url(meeting))
    client.post(url(meeting, "/start"))
    save(client, meeting, cards(meeting.id)[0], outcome="done")
    save(client, meeting, cards(meeting.id)[0], headers={}, go="skip")
    for review in cards(meeting.id)[1:]:
        save(client, meeting, review, next_step="Next", projection_date=date.today() + timedelta(days=2))
    assert client.post(url(meeting, "/finish")).status_code == 303
    acme = cards(meeting.id)[0]
    assert (acme.skipped, acme.outcome, acme.outcome_at) == (True, None, None)
    assert acme.previous_review_id == old_review.id


def test_finishing_makes_the_new_steps_the_open_ones_and_supersedes_last_time(client, auth, team, meeting):
    carry_over_history(team, meeting)
    auth.login(team.seller)
    client.get(url(meeting))
    assert "Book the site visit" in client.get("/next-steps").get_data(as_text=True)
    client.post(url(meeting, "/start"))
    answer_all(client, meeting)
    assert client.post(url(meeting, "/finish")).status_code == 303
    page = client.get("/next-steps").get_data(as_text=True)
    assert all(f"Call {name}" in page for name in ("Acme Logistics", "Borealis Foods", "Cobalt Health"))
    assert "Book the site visit" not in page  # replaced by a newer step, no longer open
    acme = cards(meeting.id)[0]
    assert db.session.get(Account, acme.account_id).last_step_id == acme.id


def test_a_past_meeting_opened_late_looks_back_on_the_step_before_it_not_a_later_one(client, auth, team):
    f = team.factory
    acme = f.account(team.seller, "Acme Logistics", "key")
    now = datetime.now(UTC).replace(microsecond=0)

    def held(weeks_ago: int, step: str) -> AccountReview:
        at = now - timedelta(weeks=weeks_ago)
        meeting = f.meeting(team.seller, at, started_at=at, finished_at=at + timedelta(minutes=30))
        return f.review(meeting, acme, next_step=step, projection_date=date.today())

    before = held(3, "Step of three weeks ago")
    held(1, "Step of last week")
    never_held = f.meeting(team.seller, now - timedelta(weeks=2))
    auth.login(team.seller)
    client.get(url(never_held))
    (card,) = cards(never_held.id)
    assert card.previous_review_id == before.id


def test_boosted_visit_gets_the_whole_card_page_with_its_scripts(seller_client, meeting):
    """Page scripts load once from base.html and start on htmx.onLoad: a boosted visit needs no full load."""
    response = seller_client.get(url(meeting), headers={"HX-Request": "true", "HX-Boosted": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert page.startswith("<!doctype html>") and 'id="card"' in page and 'hx-history="false"' in page
    assert "/static/js/meetings.js" in page
