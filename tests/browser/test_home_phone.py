"""The seller's home, My next steps and the manager's cadence form on a phone, in real Chromium."""

import re

from playwright.sync_api import expect

from .conftest import sideways_overflow, sign_in


def test_demo_seller_home_shows_the_next_meeting_and_prep_list(phone):
    sign_in(phone, "seller@demo.test")
    meeting = phone.locator("section", has=phone.get_by_role("heading", name="Next focus meeting"))
    expect(meeting.get_by_text("with Maria Manager")).to_be_visible()
    expect(meeting.get_by_text(re.compile(r"^Today, "))).to_be_visible()
    start = meeting.get_by_role("button", name="Start meeting")
    expect(start).to_be_visible()
    assert start.bounding_box()["height"] >= 44
    prep = phone.locator("section", has=phone.get_by_role("heading", name="Prep list"))
    expect(prep.get_by_text(re.compile(r"\d+ of \d+ accounts updated since last meeting"))).to_be_visible()
    expect(prep.get_by_role("heading", name=re.compile("Past their projection date"))).to_be_visible()
    expect(prep.get_by_text("Send the renewal proposal to procurement").first).to_be_visible()
    assert sideways_overflow(phone) == 0


def test_my_next_steps_renders(phone):
    sign_in(phone, "seller@demo.test")
    phone.get_by_role("link", name="Next steps", exact=True).click()
    phone.wait_for_url("**/next-steps")
    expect(phone.get_by_role("heading", name="My next steps")).to_be_visible()
    expect(phone.get_by_text("Overdue", exact=True).first).to_be_visible()
    phone.get_by_role("link", name="History of Acme Logistics").click()
    phone.wait_for_url("**/history")
    expect(phone.get_by_role("heading", name="Acme Logistics")).to_be_visible()
    assert sideways_overflow(phone) == 0


def test_manager_sets_a_cadence_through_the_form(phone):
    sign_in(phone, "manager@demo.test")
    phone.get_by_role("link", name="Cadence of Sasha Seller").click()
    phone.wait_for_url("**/cadence")
    assert sideways_overflow(phone) == 0
    phone.get_by_label("Every two weeks").check()
    phone.get_by_label("Weekday").select_option(label="Thursday")
    phone.get_by_label("Time", exact=True).fill("10:30")
    phone.get_by_label("45 minutes").check()
    phone.get_by_label("Time zone").select_option("America/New_York")
    phone.get_by_role("button", name="Save cadence").click()
    saved = "Every two weeks on Thursday at 10:30 (America/New_York), 45 minutes"
    expect(phone.get_by_text(saved).first).to_be_visible()
    upcoming = phone.locator("section", has=phone.get_by_role("heading", name=re.compile("Upcoming meetings")))
    expect(upcoming.get_by_text(re.compile(r"^Thu .*, 10:30$")).first).to_be_visible()
    assert sideways_overflow(phone) == 0
