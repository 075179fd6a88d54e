"""The manager's read-along in real Chromium: a seller on a phone, the manager on a laptop.

One test types on the seller's own meeting screen; the 20-save figure stores the seller's saves
the way the autosave does (the card and its version; the meeting's version follows through the
flush rule of focusweb.cards) to time the read-along alone.
Delays are printed as figures, never asserted.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from focusweb.demo import DEMO_PASSWORD
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, ManagerNote, Meeting, User, utcnow

from .conftest import PHONE, WATCH, sideways_overflow, sign_in, type_on_arrival

LAPTOP = {"width": 1280, "height": 800}
SAVES = 20
NEXT_STEP_LABEL = "What is your next step with this account?"


@pytest.fixture
def running(live_server):
    """A new seller of the demo manager with a started meeting of four cards (the demo rows stay untouched)."""
    with live_server.app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@demo.test"))
        tag = uuid.uuid4().hex[:8]
        seller = User(email=f"live-{tag}@demo.test", name=f"Lee Live {tag}", role="seller", manager=manager)
        seller.set_password(DEMO_PASSWORD)
        now = utcnow().replace(microsecond=0)
        meeting = Meeting(
            seller=seller, manager=manager, scheduled_at=now - timedelta(minutes=3), started_at=now, planned_minutes=30
        )
        for position, (name, kind) in enumerate(
            [("Kite Key", "key"), ("Lark Key", "key"), ("Moth Target", "target"), ("Newt Target", "target")]
        ):
            account = Account(owner=seller, name=name, name_key=Account.key_for(name), kind=kind)
            meeting.reviews.append(AccountReview(account=account, position=position))
        db.session.add(meeting)
        db.session.commit()
        info = {
            "seller": seller.email,
            "seller_name": seller.name,
            "meeting_id": meeting.id,
            "review_ids": [r.id for r in meeting.reviews],
        }
        db.session.remove()
    return info


def seller_saves(app, meeting_id: int, review_id: int, next_step: str) -> None:
    """What the seller's autosave stores, committed as the seller's server process would."""
    with app.app_context():
        review = db.session.get(AccountReview, review_id)
        review.next_step = next_step
        review.version += 1
        meeting = db.session.get(Meeting, meeting_id)
        meeting.current_review_id = review.id
        db.session.commit()
        db.session.remove()


def stored_note(app, review_id: int) -> tuple[str, bool]:
    """The manager's note on a card as stored: its text and whether it is private."""
    with app.app_context():
        note = db.session.scalar(select(ManagerNote).where(ManagerNote.review_id == review_id))
        stored = (note.text, note.private)
        db.session.remove()
    return stored


def _context(browser, live_server, viewport, phone: bool):
    return browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        base_url=live_server.url,
    )


@pytest.fixture
def screens(browser, live_server, running):
    """The seller signed in on a phone, the manager reading along on a laptop, and the manager's reloads."""
    seller_context = _context(browser, live_server, PHONE, phone=True)
    manager_context = _context(browser, live_server, LAPTOP, phone=False)
    try:
        seller = seller_context.new_page()
        sign_in(seller, running["seller"])
        manager = manager_context.new_page()
        sign_in(manager, "manager@demo.test")
        manager.goto(f"/meetings/{running['meeting_id']}/live")
        expect(manager.get_by_role("heading", name="Kite Key")).to_be_visible()
        navigations = []
        manager.on("framenavigated", lambda frame: navigations.append(frame.url))
        yield seller, manager, navigations
    finally:
        seller_context.close()
        manager_context.close()


def test_manager_sees_each_saved_next_step_without_reload(live_server, running, screens, capsys):
    _, manager, navigations = screens
    delays = []
    review_ids = running["review_ids"]
    for n in range(SAVES):
        review_id = review_ids[n % len(review_ids)]
        text = f"Next step {n}: call {uuid.uuid4().hex[:6]}"
        manager.evaluate(WATCH, text)
        saved = time.time()
        seller_saves(live_server.app, running["meeting_id"], review_id, text)
        card = manager.locator(f"#card-{review_id}")
        expect(card).to_contain_text(text, timeout=10_000)
        expect(card).to_have_attribute("aria-current", "step")
        delays.append(manager.evaluate("window.__shownAt") / 1000 - saved)
    assert navigations == []  # every update arrived without a reload
    expect(manager.get_by_text(f"{len(review_ids)} of {len(review_ids)} accounts")).to_be_visible()
    delays.sort()
    with capsys.disabled():
        print(
            f"\nread-along delay over {len(delays)} saves (1 threaded server): "
            f"p50 {statistics.median(delays):.2f} s, p95 {delays[round(0.95 * len(delays)) - 1]:.2f} s"
        )


def test_manager_note_autosaves_and_survives_board_updates_on_a_phone(browser, live_server, running):
    context = _context(browser, live_server, PHONE, phone=True)
    try:
        page = context.new_page()
        sign_in(page, "manager@demo.test")
        page.goto(f"/meetings/{running['meeting_id']}/live")
        first, second = running["review_ids"][:2]
        card = page.locator(f"#card-{first}")
        note = card.get_by_label("Manager note")
        note.fill("Ask about budget")
        expect(card.locator(".note-status")).to_contain_text("Saved", timeout=5_000)
        # The seller moves on while the manager is still typing: the board is swapped, the note is kept.
        note.press_sequentially(" timing")
        seller_saves(live_server.app, running["meeting_id"], second, "Book the workshop")
        expect(page.locator(f"#card-{second}")).to_contain_text("Book the workshop", timeout=5_000)
        expect(note).to_have_value("Ask about budget timing")
        card.get_by_label("Private").check()
        expect(card.locator(".note-status")).to_contain_text("private", timeout=5_000)
        assert sideways_overflow(page) == 0
    finally:
        context.close()
    assert stored_note(live_server.app, first) == ("Ask about budget timing", True)


def test_a_note_typed_the_moment_the_read_along_arrives_is_saved(browser, live_server, running):
    """From the team page (a boosted visit), the note forms listen for input as soon as they are on the page."""
    context = _context(browser, live_server, PHONE, phone=True)
    first = running["review_ids"][0]
    try:
        page = context.new_page()
        sign_in(page, "manager@demo.test")
        page.goto("/team")
        type_on_arrival(page, f"note-text-{first}", "Ask who signs")
        page.get_by_role("link", name=f"Read along with {running['seller_name']}").click()
        expect(page.locator("html")).to_have_attribute("data-typed", "after wiring")
        expect(page.locator(f"#note-status-{first}")).to_contain_text("Saved", timeout=5_000)
    finally:
        context.close()
    assert stored_note(live_server.app, first) == ("Ask who signs", False)


def test_seller_types_a_next_step_and_the_manager_sees_it(running, screens, capsys):
    """Through the seller's own meeting screen (autosave) on a phone; the manager's laptop shows it."""
    seller, manager, navigations = screens
    seller.goto(f"/meetings/{running['meeting_id']}")
    text = f"Typed on the phone {uuid.uuid4().hex[:6]}"
    manager.evaluate(WATCH, text)
    typed = time.time()
    seller.get_by_label(NEXT_STEP_LABEL).fill(text)
    expect(seller.locator(".save-status")).to_have_text("Saved")
    expect(manager.locator(f"#card-{running['review_ids'][0]}")).to_contain_text(text, timeout=10_000)
    delay = manager.evaluate("window.__shownAt") / 1000 - typed
    assert navigations == []  # shown without a reload
    with capsys.disabled():
        print(f"\nread-along delay, typed on the phone to shown on the laptop (autosave waits 0.6 s): {delay:.2f} s")


def test_polling_keeps_its_second_and_stops_when_the_meeting_finishes(live_server, running, screens):
    _, manager, _ = screens
    polls = []
    manager.on("request", lambda request: "/live?v=" in request.url and polls.append(time.monotonic()))
    manager.wait_for_timeout(3500)
    assert 3 <= len(polls) <= 4  # one a second, from the poller that the board swaps leave in place
    seller_saves(live_server.app, running["meeting_id"], running["review_ids"][0], "Send the quote")
    expect(manager.locator(f"#card-{running['review_ids'][0]}")).to_contain_text("Send the quote")
    with live_server.app.app_context():
        meeting = db.session.get(Meeting, running["meeting_id"])
        meeting.finished_at = utcnow()
        db.session.commit()
        db.session.remove()
    expect(manager.get_by_text("This meeting is finished")).to_be_visible()
    expect(manager.get_by_role("link", name="Open the recap")).to_be_visible()
    asked = len(polls)
    manager.wait_for_timeout(2500)
    assert len(polls) == asked  # the 286 answer stopped htmx's polling
    assert manager.locator("#board-poll").count() == 1  # still there, but no longer asking
