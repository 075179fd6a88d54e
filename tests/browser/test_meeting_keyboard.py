"""A whole focus meeting run with the keyboard only, in real Chromium at phone size.

No mouse, no ``fill`` or ``click``: Tab and Shift+Tab to move, typing and Enter to act, as a seller with a
Bluetooth keyboard or a switch device would. Each control reached must also show where the focus is.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from focusweb.demo import DEMO_PASSWORD
from focusweb.extensions import db
from focusweb.models import AccountReview, Meeting

from .conftest import PHONE, seller_with_meeting

NEXT_STEP = "What is your next step with this account?"
PROJECTION_DATE = "What is your projection date to get this accomplished?"
ACCOUNTS = [("key", "Harbor Optics"), ("key", "Juniper Mills"), ("target", "Kestrel Freight")]
LAST_STEP = "Send the optics price list"
MOST_PRESSES = 60  # more than any page here has stops before the control a test looks for

# What the focused element is called (its label, aria-label or text) and how its focus shows.
FOCUSED = """() => {
  const el = document.activeElement;
  const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
  const style = getComputedStyle(el);
  return {
    name: (el.getAttribute("aria-label") || label || el.textContent || "").replace(/\\s+/g, " ").trim(),
    tag: el.tagName.toLowerCase(),
    outline: style.outlineStyle === "none" ? "" : style.outlineWidth,
    shadow: style.boxShadow === "none" ? "" : style.boxShadow,
  };
}"""


@pytest.fixture
def keyboard_meeting(live_server) -> tuple[str, int]:
    """A seller of our own with three accounts (one with a step from last week) and a meeting due now."""
    last_week = date.today() - timedelta(days=7)
    return seller_with_meeting(
        live_server.app, name="Kai Keys", timezone="UTC", accounts=ACCOUNTS, last_step=LAST_STEP, last_due=last_week
    )


@pytest.fixture
def keyboard_phone(browser, live_server):
    """A phone-sized page with a US English locale, so a date is typed month, day, year."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-US", base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str, key: str = "Tab") -> dict:
    """Press Tab (or Shift+Tab) until the control called ``name`` has the focus; fail if it never does."""
    passed = []
    for _ in range(MOST_PRESSES):
        page.keyboard.press(key)
        element = focused(page)
        if element["name"] == name:
            return element
        passed.append(element["name"])
    raise AssertionError(f"{name!r} not reached with {key}; passed {passed}")


def press_button(page, name: str, key: str = "Tab") -> None:
    """Tab to a button, check that its focus can be seen, and press Enter on it."""
    button = tab_to(page, name, key)
    assert button["tag"] == "button", button
    assert button["outline"] or button["shadow"], f"{name!r} shows no focus: {button}"
    page.keyboard.press("Enter")


def sign_in_by_keyboard(page, email: str) -> None:
    page.goto("/login")
    tab_to(page, "Email")
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(DEMO_PASSWORD)
    press_button(page, "Sign in")
    page.wait_for_url(lambda url: "/login" not in url)


def type_date(page, day: date) -> None:
    """A date field takes its parts as typed digits (month, day, year in en-US), moving on by itself."""
    page.keyboard.type(f"{day:%m%d%Y}")


def stored(live_server, meeting_id: int) -> tuple[bool, list[tuple]]:
    """Whether the meeting is finished, and each card's stored answers in meeting order."""
    with live_server.app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        finished = meeting.finished_at is not None
        reviews = db.session.scalars(
            select(AccountReview).filter_by(meeting_id=meeting_id).order_by(AccountReview.position)
        ).all()
        rows = [(r.account.name, r.outcome, r.notes, r.next_step, r.projection_date) for r in reviews]
        db.session.remove()
    return finished, rows


def test_a_whole_meeting_with_the_keyboard_only(keyboard_phone, live_server, keyboard_meeting):
    page = keyboard_phone
    email, meeting_id = keyboard_meeting
    sign_in_by_keyboard(page, email)
    expect(page.get_by_role("heading", name="Next focus meeting")).to_be_visible()

    press_button(page, "Start meeting")
    expect(page.get_by_text("1 of 3 accounts")).to_be_visible()
    day = date.today() + timedelta(days=10)

    for number, (_, name) in enumerate(ACCOUNTS, start=1):
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        expect(page.get_by_text(f"{number} of 3 accounts")).to_be_visible()
        if name == "Harbor Optics":
            # Last time's step: the radio group takes one Tab, the arrow key picks "Not done".
            expect(page.get_by_text(LAST_STEP)).to_be_visible()
            tab_to(page, "Done")
            page.keyboard.press("ArrowRight")
            assert focused(page)["name"] == "Not done"
            expect(page.get_by_label("Not done")).to_be_checked()
        tab_to(page, "Discussion notes")
        page.keyboard.type(f"Talked about {name}")
        tab_to(page, NEXT_STEP)
        page.keyboard.type(f"Book a visit at {name}")
        tab_to(page, PROJECTION_DATE)
        type_date(page, day)
        expect(page.get_by_label(PROJECTION_DATE)).to_have_value(day.isoformat())
        # Back with Shift+Tab to make the step more precise, then on with Tab.
        tab_to(page, NEXT_STEP, key="Shift+Tab")
        page.keyboard.press("End")
        page.keyboard.type(" with the buyer")
        expect(page.locator(".save-status")).to_have_text("Saved")
        before = page.url
        press_button(page, "Next account")
        page.wait_for_url(lambda url, before=before: url != before)

    # After the last card, Next account leads to the finish section.
    expect(page.get_by_role("button", name="Finish meeting")).to_be_visible()
    press_button(page, "Finish meeting")
    expect(page.get_by_role("heading", name="Meeting summary")).to_be_visible()
    expect(page.get_by_text("Book a visit at Kestrel Freight with the buyer")).to_be_visible()

    finished, rows = stored(live_server, meeting_id)
    assert finished
    assert rows == [
        (
            name,
            "not_done" if name == "Harbor Optics" else None,
            f"Talked about {name}",
            f"Book a visit at {name} with the buyer",
            day,
        )
        for _, name in ACCOUNTS
    ]
