"""A whole focus meeting on a phone, in real Chromium: with JavaScript (autosave) and without (form posts)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import AccountReview, Meeting, User

from .conftest import PHONE, seller_with_meeting, sideways_overflow, sign_in, type_on_arrival

NEXT_STEP = "What is your next step with this account?"
PROJECTION_DATE = "What is your projection date to get this accomplished?"
KEY = ["Alder Mining", "Beacon Dairy", "Cinder Works"]
TARGET = ["Dune Travel", "Ember Telecom"]


@pytest.fixture
def own_meeting(live_server) -> tuple[str, int]:
    """A seller of our own (the shared demo meeting may be used by other tests), due in three minutes."""
    return seller_with_meeting(
        live_server.app,
        name="Pat Phone",
        timezone="America/New_York",
        accounts=[("key", name) for name in KEY] + [("target", name) for name in TARGET],
        last_step="Send the mine survey",
        last_due=date.today() - timedelta(days=2),
        starts_in=timedelta(minutes=3),
    )


def stored_reviews(live_server, meeting_id: int) -> list[AccountReview]:
    with live_server.app.app_context():
        reviews = db.session.scalars(
            select(AccountReview).filter_by(meeting_id=meeting_id).order_by(AccountReview.position)
        ).all()
        result = [(r.account.name, r.skipped, r.next_step, r.projection_date, r.outcome) for r in reviews]
        db.session.remove()
    return result


def watch_for_csp_violations(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    return problems


def test_seller_runs_a_whole_meeting_on_a_phone(phone, live_server, own_meeting):
    email, meeting_id = own_meeting
    csp = watch_for_csp_violations(phone)
    sign_in(phone, email)
    phone.get_by_role("link", name="Prepare").click()
    phone.wait_for_url(f"**/meetings/{meeting_id}")
    assert sideways_overflow(phone) == 0
    phone.get_by_role("button", name="Start meeting").click()
    expect(phone.get_by_text("Time used")).to_be_visible()
    expect(phone.get_by_text("1 of 5 accounts")).to_be_visible()

    # Reorder: Alder Mining goes below Beacon Dairy.
    phone.get_by_role("button", name="Move Alder Mining down").click()
    accounts = phone.locator("#accounts li a")
    expect(accounts.first).to_have_text("Beacon Dairy")
    expect(accounts.nth(1)).to_have_text("Alder Mining")

    phone.locator("#accounts").get_by_role("link", name="Beacon Dairy").click()
    phone.wait_for_url("**review=*")
    day = (date.today() + timedelta(days=9)).isoformat()
    order = ["Beacon Dairy", "Alder Mining", "Cinder Works", "Dune Travel", "Ember Telecom"]
    for number, name in enumerate(order, start=1):
        expect(phone.get_by_role("heading", name=name)).to_be_visible()
        expect(phone.get_by_text(f"{number} of 5 accounts")).to_be_visible()
        if name == "Cinder Works":
            phone.get_by_role("button", name="Skip this account").click()
            continue
        if name == "Alder Mining":
            expect(phone.get_by_text("Send the mine survey")).to_be_visible()
            phone.get_by_label("Not done").check()
        phone.get_by_label("Discussion notes").fill(f"Notes about {name}")
        phone.get_by_label(NEXT_STEP).fill(f"Call the buyer at {name}")
        phone.get_by_label(PROJECTION_DATE).fill(day)
        expect(phone.locator(".save-status")).to_have_text("Saved")
        if name == "Dune Travel":
            # A reload in the middle loses nothing typed.
            phone.reload()
            expect(phone.get_by_label(NEXT_STEP)).to_have_value("Call the buyer at Dune Travel")
            expect(phone.get_by_label("Discussion notes")).to_have_value("Notes about Dune Travel")
            expect(phone.get_by_label(PROJECTION_DATE)).to_have_value(day)
        assert sideways_overflow(phone) == 0
        phone.get_by_role("button", name="Next account").click()
        phone.wait_for_load_state()

    phone.get_by_role("button", name="Finish meeting").click()
    expect(phone.get_by_role("heading", name="Meeting summary")).to_be_visible()
    expect(phone.get_by_text("4 discussed, 1 skipped")).to_be_visible()
    expect(phone.get_by_text("Call the buyer at Ember Telecom")).to_be_visible()
    assert sideways_overflow(phone) == 0
    assert csp == []

    stored = stored_reviews(live_server, meeting_id)
    assert [row[0] for row in stored] == order
    assert [row[1] for row in stored] == [False, False, True, False, False]
    assert stored[1][2:] == ("Call the buyer at Alder Mining", date.fromisoformat(day), "not_done")


def test_a_whole_meeting_without_javascript(browser, live_server, own_meeting):
    email, meeting_id = own_meeting
    context = browser.new_context(
        java_script_enabled=False, viewport=PHONE, device_scale_factor=2, is_mobile=True, base_url=live_server.url
    )
    page = context.new_page()
    try:
        sign_in(page, email)
        page.goto(f"/meetings/{meeting_id}")
        page.get_by_role("button", name="Start meeting").click()
        expect(page.get_by_text("Time used")).to_be_visible()
        page.get_by_role("button", name="Move Dune Travel down").click()
        expect(page.locator("#accounts li a").nth(3)).to_have_text("Ember Telecom")

        day = (date.today() + timedelta(days=5)).isoformat()
        order = ["Alder Mining", "Beacon Dairy", "Cinder Works", "Ember Telecom", "Dune Travel"]
        page.goto(f"/meetings/{meeting_id}")
        for name in order:
            expect(page.get_by_role("heading", name=name)).to_be_visible()  # the card's page has loaded
            assert sideways_overflow(page) == 0
            if name == "Beacon Dairy":
                page.get_by_role("button", name="Skip this account").click()
                continue
            page.get_by_label(NEXT_STEP).fill(f"Visit {name}")
            page.get_by_label(PROJECTION_DATE).fill(day)
            page.get_by_role("button", name="Next account").click()

        # A date before the meeting is refused next to the field, the rest is kept.
        page.goto(f"/meetings/{meeting_id}")
        page.locator("#accounts").get_by_role("link", name="Alder Mining").click()
        page.get_by_label(PROJECTION_DATE).fill("2001-01-01")
        page.get_by_role("button", name="Next account").click()
        expect(page.get_by_text("Choose a date on or after the meeting’s date")).to_be_visible()
        expect(page.get_by_label(NEXT_STEP)).to_have_value("Visit Alder Mining")

        page.goto(f"/meetings/{meeting_id}")
        page.get_by_role("button", name="Finish meeting").click()
        expect(page.get_by_role("heading", name="Meeting summary")).to_be_visible()
        expect(page.get_by_text("4 discussed, 1 skipped")).to_be_visible()
    finally:
        context.close()
    stored = stored_reviews(live_server, meeting_id)
    assert [row[0] for row in stored] == order
    assert stored[0][3] == date.fromisoformat(day)  # the refused date changed nothing


def test_a_stale_save_shows_both_texts_and_the_seller_keeps_one(browser, live_server, own_meeting):
    email, meeting_id = own_meeting
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, base_url=live_server.url)
        page = context.new_page()
        sign_in(page, email)
        page.goto(f"/meetings/{meeting_id}")
        pages.append(page)
    laptop, phone = pages
    laptop.get_by_label(NEXT_STEP).fill("Typed on the laptop")
    expect(laptop.locator(".save-status")).to_have_text("Saved")
    phone.get_by_label(NEXT_STEP).fill("Typed on the phone")
    expect(phone.locator(".save-status")).to_contain_text("Not saved")
    conflict = phone.locator("#conflict")
    expect(conflict).to_contain_text("Typed on the laptop")
    expect(conflict).to_contain_text("Typed on the phone")
    expect(phone.get_by_label(NEXT_STEP)).to_have_value("Typed on the phone")
    phone.get_by_role("button", name="Keep mine").click()
    expect(phone.get_by_label(NEXT_STEP)).to_have_value("Typed on the phone")
    expect(phone.locator("#conflict")).not_to_contain_text("Typed on the laptop")
    assert stored_reviews(live_server, meeting_id)[0][2] == "Typed on the phone"
    for page in pages:
        page.context.close()


def test_the_demo_sellers_meeting_today_opens(phone, live_server):
    with live_server.app.app_context():
        seller = db.session.scalar(select(User).where(User.email == "seller@demo.test"))
        meeting_id = db.session.scalar(
            select(Meeting.id).where(Meeting.seller_id == seller.id, Meeting.finished_at.is_(None))
        )
        db.session.remove()
    sign_in(phone, "seller@demo.test")
    phone.goto(f"/meetings/{meeting_id}")
    expect(phone.get_by_label(NEXT_STEP)).to_be_visible()
    expect(phone.get_by_label(PROJECTION_DATE)).to_be_visible()
    expect(phone.get_by_text(re.compile(r"^\d+ of \d+ accounts$"))).to_be_visible()  # others may add accounts
    assert sideways_overflow(phone) == 0


def test_a_failed_save_keeps_the_text_and_retries(phone, live_server, own_meeting):
    email, meeting_id = own_meeting
    sign_in(phone, email)
    phone.goto(f"/meetings/{meeting_id}")
    failures = []

    def flaky_network(route):
        if route.request.headers.get("hx-request") and not failures:
            failures.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    phone.route("**/reviews/*", flaky_network)
    phone.get_by_label(NEXT_STEP).fill("Written on a train")
    expect(phone.locator(".save-status")).to_have_text("Not saved — retrying")
    expect(phone.get_by_label(NEXT_STEP)).to_have_value("Written on a train")
    expect(phone.locator(".save-status")).to_have_text("Saved")
    assert len(failures) == 1
    assert stored_reviews(live_server, meeting_id)[0][2] == "Written on a train"


def test_text_typed_the_moment_the_card_arrives_is_saved(phone, live_server, own_meeting):
    """A boosted visit's card listens for input as soon as it is on the page: the first key is saved."""
    email, meeting_id = own_meeting
    sign_in(phone, email)
    with phone.expect_response(lambda response: response.request.method == "GET" and response.url.endswith("/")):
        phone.get_by_role("link", name="Home").click()
    type_on_arrival(phone, "next_step", "Call the plant manager")
    phone.get_by_role("button", name="Start meeting").click()
    expect(phone.locator("html")).to_have_attribute("data-typed", "after wiring")  # htmx listens at once
    expect(phone.locator(".save-status")).to_have_text("Saved")
    assert stored_reviews(live_server, meeting_id)[0][2] == "Call the plant manager"


def test_boosted_from_home_to_the_meeting_autosaves_ticks_and_comes_back(phone, live_server, own_meeting):
    """Clicks only (boosted, no full page load): the page scripts start on htmx.onLoad, also after Back."""
    email, meeting_id = own_meeting
    csp = watch_for_csp_violations(phone)
    sign_in(phone, email)
    full_loads = []
    phone.on("load", lambda: full_loads.append(phone.url))
    # Let the boosted Home visit land first: a Start pressed meanwhile would be swapped over by it.
    with phone.expect_response(lambda response: response.request.method == "GET" and response.url.endswith("/")):
        phone.get_by_role("link", name="Home").click()
    phone.get_by_role("button", name="Start meeting").click()
    phone.wait_for_url(f"**/meetings/{meeting_id}")
    phone.get_by_label(NEXT_STEP).fill("Book the mine survey")
    expect(phone.locator(".save-status")).to_have_text("Saved")
    assert stored_reviews(live_server, meeting_id)[0][2] == "Book the mine survey"
    timer = phone.locator("#timer")
    expect(timer).to_have_text(re.compile(r"^\d+:\d\d$"))  # the script has taken over from "0 min"
    shown = timer.text_content()
    expect(timer).not_to_have_text(shown)  # and it ticks

    # Away (boosted) and back with the browser's Back button: htmx restores the page from the server.
    phone.get_by_role("link", name="Home").click()
    expect(phone.get_by_role("link", name="Continue meeting")).to_be_visible()
    phone.go_back()
    phone.wait_for_url(f"**/meetings/{meeting_id}")
    expect(phone.get_by_label(NEXT_STEP)).to_have_value("Book the mine survey")
    shown = phone.locator("#timer").text_content()
    expect(phone.locator("#timer")).not_to_have_text(shown)
    phone.get_by_label(NEXT_STEP).fill("Book the mine survey for May")
    expect(phone.locator(".save-status")).to_have_text("Saved")
    assert stored_reviews(live_server, meeting_id)[0][2] == "Book the mine survey for May"
    assert full_loads == [], "every step was a boosted swap or a history restore"
    assert csp == []
