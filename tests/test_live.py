"""The manager's read-along, notes, door sign and field topics.

The seller's meeting screen is another area: here a seller's save is simulated the way it
stores it (change the review, bump its version, commit: the meeting's version follows its cards).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import render_template_string
from pypdf import PdfReader

from focusweb.cards import load, shared_notes_by_card
from focusweb.extensions import db
from focusweb.models import FieldTopic, ManagerNote, Meeting

PRIVATE = "PRIVATE-only-for-the-manager"
SHARED = "Shared: ask procurement early"
HX = {"HX-Request": "true"}


@pytest.fixture
def meeting_setup(factory):
    """A running meeting of a seller with two Target and two Key cards (positions mixed up)."""
    manager, (seller,) = factory.team()
    other_manager, (other_seller,) = factory.team()
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=7)
    meeting = factory.meeting(seller, scheduled_at=started - timedelta(minutes=2), started_at=started)
    accounts = [
        factory.account(seller, "Target Two", "target"),
        factory.account(seller, "Key One", "key"),
        factory.account(seller, "Target One", "target"),
        factory.account(seller, "Key Two", "key"),
    ]
    reviews = [
        factory.review(meeting, accounts[0], position=3),
        factory.review(meeting, accounts[1], position=0),
        factory.review(meeting, accounts[2], position=2),
        factory.review(meeting, accounts[3], position=1),
    ]
    return {
        "manager": manager,
        "seller": seller,
        "other_manager": other_manager,
        "other_seller": other_seller,
        "meeting": meeting,
        "reviews": reviews,
    }


def seller_saves(review, **fields) -> None:
    """What the seller's autosave stores: the answers, a new card version (the board's follows)."""
    for name, value in fields.items():
        setattr(review, name, value)
    review.version += 1
    review.meeting.current_review_id = review.id
    db.session.commit()


def note_url(meeting, review) -> str:
    return f"/meetings/{meeting.id}/reviews/{review.id}/note"


def add_notes(s) -> None:
    """A private and a shared note by the meeting's manager on two cards."""
    key_one, key_two = s["reviews"][1], s["reviews"][3]
    db.session.add_all(
        [
            ManagerNote(review=key_one, author=s["manager"], text=PRIVATE, private=True),
            ManagerNote(review=key_two, author=s["manager"], text=SHARED, private=False),
        ]
    )
    db.session.commit()


def test_live_view_shows_cards_key_first_with_answers_current_and_progress(client, auth, meeting_setup):
    s = meeting_setup
    target_one = s["reviews"][2]
    seller_saves(target_one, notes="Met the CFO", next_step="Send the pilot plan", projection_date=date(2031, 5, 6))
    auth.login(s["manager"])
    response = client.get(f"/meetings/{s['meeting'].id}/live")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    order = [page.index(name) for name in ("Key One", "Key Two", "Target One", "Target Two")]
    assert order == sorted(order)
    assert "Send the pilot plan" in page and "Met the CFO" in page and "Tue 6 May 2031" in page
    assert f'id="card-{target_one.id}" aria-labelledby' in page
    assert "live-card is-current" in page.split(f'id="card-{target_one.id}"')[0].rsplit("<article", 1)[1]
    assert "3 of 4 accounts" in page
    assert 'hx-history="false"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "Manager note" in page and "Private" in page
    # The manager reads; there is no field for the seller's answers.
    assert 'name="next_step"' not in page and 'name="notes"' not in page


def test_seller_is_sent_to_their_meeting_screen(client, auth, meeting_setup):
    s = meeting_setup
    auth.login(s["seller"])
    for headers in ({}, HX):
        response = client.get(f"/meetings/{s['meeting'].id}/live?v=1", headers=headers)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/meetings/{s['meeting'].id}")


def test_poll_answers_204_until_a_save_then_the_new_board(client, auth, meeting_setup):
    s = meeting_setup
    meeting = s["meeting"]
    auth.login(s["manager"])
    version = db.session.get(Meeting, meeting.id).version
    url = f"/meetings/{meeting.id}/live?v={version}"
    unchanged = client.get(url, headers=HX)
    assert unchanged.status_code == 204
    assert unchanged.get_data() == b""
    assert "HX-Request" in unchanged.headers["Vary"]

    seller_saves(s["reviews"][0], next_step="Book the demo with IT")
    changed = client.get(url, headers=HX)
    fragment = changed.get_data(as_text=True)
    assert changed.status_code == 200
    assert "Book the demo with IT" in fragment
    assert "<html" not in fragment and 'id="board"' in fragment
    assert 'id="board-poll"' not in fragment  # the poller stays on the page, keeping its second
    # the next poll sends the new version, from the board's hidden field
    assert f'<input type="hidden" id="board-version" name="v" value="{version + 1}">' in fragment
    assert client.get(f"/meetings/{meeting.id}/live?v={version + 1}", headers=HX).status_code == 204


def test_the_page_polls_every_second_from_outside_the_board_it_swaps(client, auth, meeting_setup):
    s = meeting_setup
    auth.login(s["manager"])
    page = client.get(f"/meetings/{s['meeting'].id}/live").get_data(as_text=True)
    poller = re.search(r'<div id="board-poll"[^>]*>', page).group(0)
    assert f'hx-get="/meetings/{s["meeting"].id}/live"' in poller and 'hx-trigger="every 1s"' in poller
    assert 'hx-include="#board-version"' in poller and 'hx-target="#board"' in poller
    assert page.index('id="board-poll"') < page.index('id="board"')  # not inside what it replaces
    assert "hx-trigger" not in page.split('id="board"')[1].split(">")[0]


def test_a_finished_meeting_says_so_links_to_the_recap_and_stops_polling(client, auth, meeting_setup):
    s = meeting_setup
    meeting = s["meeting"]
    meeting.finished_at = datetime.now(UTC)
    db.session.commit()
    auth.login(s["manager"])
    page = client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)
    assert "This meeting is finished" in page
    assert f'href="/meetings/{meeting.id}/recap"' in page
    assert 'id="board-poll"' not in page
    # A poll that was under way when it finished gets the last board with 286: htmx swaps it and stops.
    for seen in (meeting.version - 1, meeting.version):
        last = client.get(f"/meetings/{meeting.id}/live?v={seen}", headers=HX)
        assert last.status_code == 286 and "This meeting is finished" in last.get_data(as_text=True)
    response = client.post(note_url(meeting, s["reviews"][0]), data={"text": "late", "version": "0"}, headers=HX)
    assert response.status_code == 409
    assert db.session.query(ManagerNote).count() == 0


def test_first_note_save_creates_it_and_touches_the_meeting(client, auth, meeting_setup):
    s = meeting_setup
    meeting, review = s["meeting"], s["reviews"][1]
    before = db.session.get(Meeting, meeting.id).version
    auth.login(s["manager"])
    response = client.post(note_url(meeting, review), data={"text": "Ask about budget", "version": "0"}, headers=HX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert 'name="version" value="1"' in fragment and "Saved" in fragment and "shared" in fragment
    note = db.session.query(ManagerNote).one()
    assert (note.text, note.private, note.version, note.author_id) == ("Ask about budget", False, 1, s["manager"].id)
    assert db.session.get(Meeting, meeting.id).version == before + 1

    response = client.post(
        note_url(meeting, review), data={"text": "Ask about budget!", "private": "y", "version": "1"}, headers=HX
    )
    assert response.status_code == 200
    note = db.session.query(ManagerNote).one()
    assert (note.text, note.private, note.version) == ("Ask about budget!", True, 2)


def test_a_stale_note_save_is_refused_with_both_texts(client, auth, meeting_setup):
    s = meeting_setup
    meeting, review = s["meeting"], s["reviews"][1]
    auth.login(s["manager"])
    client.post(note_url(meeting, review), data={"text": "From the laptop", "version": "0"}, headers=HX)
    response = client.post(note_url(meeting, review), data={"text": "From the phone", "version": "0"}, headers=HX)
    assert response.status_code == 409
    fragment = response.get_data(as_text=True)
    assert "From the laptop" in fragment and "From the phone" in fragment
    assert 'name="version" value="1"' in fragment  # saving again knowingly replaces the other text
    assert db.session.query(ManagerNote).one().text == "From the laptop"


@pytest.mark.parametrize("version", ["", "x", "-1"])
def test_a_note_without_a_readable_version_is_judged_stale_never_applied(client, auth, meeting_setup, version):
    s = meeting_setup
    meeting, review = s["meeting"], s["reviews"][1]
    auth.login(s["manager"])
    client.post(note_url(meeting, review), data={"text": "From the laptop", "version": "0"}, headers=HX)
    response = client.post(note_url(meeting, review), data={"text": "Sent blind", "version": version}, headers=HX)
    assert response.status_code == 409
    fragment = response.get_data(as_text=True)
    assert "From the laptop" in fragment and "Sent blind" in fragment
    assert (db.session.query(ManagerNote).one().text, db.session.query(ManagerNote).one().version) == (
        "From the laptop",
        1,
    )


def test_a_too_long_note_is_refused_with_422_and_the_text_kept(client, auth, meeting_setup):
    s = meeting_setup
    meeting, review = s["meeting"], s["reviews"][1]
    auth.login(s["manager"])
    long_text = "x" * 5001
    response = client.post(note_url(meeting, review), data={"text": long_text, "version": "0"}, headers=HX)
    assert response.status_code == 422
    assert "at most 5000 characters" in response.get_data(as_text=True)
    # Without JavaScript the whole page comes back, the typed text still in its field.
    response = client.post(note_url(meeting, review), data={"text": long_text, "version": "0"})
    assert response.status_code == 422
    assert long_text in response.get_data(as_text=True)
    assert db.session.query(ManagerNote).count() == 0


def test_a_note_saves_without_javascript_and_returns_to_the_card(client, auth, meeting_setup):
    s = meeting_setup
    meeting, review = s["meeting"], s["reviews"][1]
    auth.login(s["manager"])
    response = client.post(note_url(meeting, review), data={"text": "Plain post", "version": "0"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/live#card-{review.id}")
    assert db.session.query(ManagerNote).one().text == "Plain post"


def test_a_note_on_a_card_of_another_meeting_is_404(client, auth, factory, meeting_setup):
    s = meeting_setup
    other_meeting = factory.meeting(s["seller"], scheduled_at=datetime.now(UTC) + timedelta(days=7))
    auth.login(s["manager"])
    response = client.post(note_url(other_meeting, s["reviews"][0]), data={"text": "x", "version": "0"})
    assert response.status_code == 404


def test_private_notes_never_reach_the_seller(client, auth, meeting_setup):
    s = meeting_setup
    meeting = s["meeting"]
    add_notes(s)
    auth.login(s["manager"])
    assert PRIVATE in client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)
    client.post("/logout")

    auth.login(s["seller"])
    secret = s["seller"].calendar_secret
    routes = [
        f"/meetings/{meeting.id}/live",
        f"/meetings/{meeting.id}/live?v=1",
        f"/meetings/{meeting.id}",  # the seller's meeting screen (another area), whatever it answers
        f"/meetings/{meeting.id}/door-sign",
        f"/calendar/{secret}.ics",
        "/calendar",
        "/",
    ]
    for url in routes:
        for headers in ({}, HX):
            response = client.get(url, headers=headers, follow_redirects=True)
            assert PRIVATE not in response.get_data(as_text=True), url
    response = client.post(note_url(meeting, s["reviews"][1]), data={"text": "x", "version": "0"}, headers=HX)
    assert response.status_code == 404
    assert PRIVATE not in response.get_data(as_text=True)


def test_shared_notes_helper_and_macro_leave_private_notes_out(app, meeting_setup):
    s = meeting_setup
    add_notes(s)
    key_one, key_two = s["reviews"][1], s["reviews"][3]
    deck = load(s["meeting"], shared_notes=True)
    assert deck.notes_for(key_one) == []
    assert [note.text for note in deck.notes_for(key_two)] == [SHARED]
    grouped = shared_notes_by_card([key_one.id, key_two.id])
    assert list(grouped) == [key_two.id]
    with app.test_request_context():
        every_note = db.session.query(ManagerNote).all()
        html = render_template_string(
            '{% from "macros.html" import shared_notes %}{{ shared_notes(notes) }}', notes=every_note
        )
    assert SHARED in html and PRIVATE not in html


def _routes(s) -> list[tuple[str, str]]:
    meeting, review, seller = s["meeting"], s["reviews"][0], s["seller"]
    topic = FieldTopic(seller_id=seller.id, manager_id=s["manager"].id, text="Open with a question")
    db.session.add(topic)
    db.session.commit()
    return [
        ("get", f"/meetings/{meeting.id}/live"),
        ("get", f"/meetings/{meeting.id}/live?v=1"),
        ("post", note_url(meeting, review)),
        ("post", f"/meetings/{meeting.id}/live/park"),
        ("get", f"/meetings/{meeting.id}/door-sign"),
        ("get", f"/meetings/{meeting.id}/door-sign.pdf"),
        ("get", f"/team/{seller.id}/field"),
        ("post", f"/team/{seller.id}/field"),
        ("post", f"/team/{seller.id}/field/{topic.id}/done"),
        ("get", f"/team/{seller.id}"),
    ]


def test_another_teams_manager_gets_404_everywhere(client, auth, meeting_setup):
    s = meeting_setup
    routes = _routes(s)
    auth.login(s["other_manager"])
    for method, url in routes:
        response = getattr(client, method)(url, data={"text": "sneaky", "version": "0"} if method == "post" else None)
        assert response.status_code == 404, url
    assert db.session.query(ManagerNote).count() == 0
    assert db.session.query(FieldTopic).one().done_at is None


def test_another_seller_gets_404_and_the_own_seller_cannot_see_the_field_list(client, auth, meeting_setup):
    s = meeting_setup
    routes = [(m, u) for m, u in _routes(s) if "door-sign" not in u]
    for user in (s["other_seller"], s["seller"]):
        auth.login(user)
        for method, url in routes:
            if user is s["seller"] and url.startswith(f"/meetings/{s['meeting'].id}/live") and method == "get":
                continue  # the meeting's own seller is redirected to their screen (tested above)
            response = getattr(client, method)(url, data={"text": "x", "version": "0"} if method == "post" else None)
            assert response.status_code == 404, (user.email, url)
        client.post("/logout")


def test_park_a_topic_from_the_live_view_and_tick_it_off(client, auth, meeting_setup):
    s = meeting_setup
    meeting, seller = s["meeting"], s["seller"]
    auth.login(s["manager"])
    page = client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)
    assert "Park for the field" in page and f"/team/{seller.id}/field" in page

    response = client.post(f"/meetings/{meeting.id}/live/park", data={"text": "  Ask  open questions "}, headers=HX)
    assert response.status_code == 200
    assert "Parked: “Ask open questions”" in response.get_data(as_text=True)
    assert client.post(f"/meetings/{meeting.id}/live/park", data={"text": ""}, headers=HX).status_code == 422
    response = client.post(f"/meetings/{meeting.id}/live/park", data={"text": "Handle the price objection"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/meetings/{meeting.id}/live")
    topics = db.session.query(FieldTopic).order_by(FieldTopic.id).all()
    assert [(t.text, t.seller_id, t.manager_id) for t in topics] == [
        ("Ask open questions", seller.id, s["manager"].id),
        ("Handle the price objection", seller.id, s["manager"].id),
    ]

    field_page = client.get(f"/team/{seller.id}/field").get_data(as_text=True)
    assert "Ask open questions" in field_page and "Handle the price objection" in field_page
    response = client.post(f"/team/{seller.id}/field/{topics[0].id}/done", data={"done": "1"})
    assert response.status_code == 303
    assert db.session.get(FieldTopic, topics[0].id).done_at is not None
    client.post(f"/team/{seller.id}/field/{topics[0].id}/done", data={"done": "0"})
    assert db.session.get(FieldTopic, topics[0].id).done_at is None
    # Parked topics stay out of the meeting itself.
    assert "Ask open questions" not in client.get(f"/meetings/{meeting.id}/live").get_data(as_text=True)


def test_the_field_list_refuses_an_empty_topic_with_422(client, auth, meeting_setup):
    s = meeting_setup
    auth.login(s["manager"])
    response = client.post(f"/team/{s['seller'].id}/field", data={"text": "   "})
    assert response.status_code == 422
    assert "Write down the topic to park." in response.get_data(as_text=True)
    assert db.session.query(FieldTopic).count() == 0


@pytest.mark.parametrize("who", ["manager", "seller"])
def test_door_sign_page_shows_the_seller_and_planned_end_in_the_viewers_zone(client, auth, factory, who):
    manager, (seller,) = factory.team()
    manager.timezone = "Europe/Berlin"
    seller.timezone = "America/New_York"
    db.session.commit()
    scheduled = datetime(2030, 1, 15, 14, 0, tzinfo=UTC)
    meeting = factory.meeting(seller, scheduled_at=scheduled, planned_minutes=45)
    auth.login(manager if who == "manager" else seller)
    page = client.get(f"/meetings/{meeting.id}/door-sign").get_data(as_text=True)
    assert "Please do not interrupt." in page and "Individual Focus Meeting in progress." in page
    assert seller.name in page
    assert ("15:45" if who == "manager" else "09:45") in page  # 14:45 UTC in Berlin / New York
    # Once started, the end moves with the actual start.
    meeting.started_at = scheduled + timedelta(minutes=10)
    db.session.commit()
    page = client.get(f"/meetings/{meeting.id}/door-sign").get_data(as_text=True)
    assert ("15:55" if who == "manager" else "09:55") in page


def test_door_sign_pdf_is_one_page_with_the_sign(client, auth, factory):
    manager, (seller,) = factory.team()
    meeting = factory.meeting(seller)
    auth.login(manager)
    response = client.get(f"/meetings/{meeting.id}/door-sign.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Please do not interrupt. Individual Focus Meeting in progress." in text and seller.name in text
