"""Accessibility: axe-core finds nothing on any page, light and dark, phone and laptop; keyboard-only works.

axe-core is the npm package, pinned in the Makefile and installed into node_modules/ by `make test`.
It is injected with the page's CSP bypassed (the app allows no script but its own).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from .conftest import PHONE, seller_with_meeting, sideways_overflow, sign_in
from .pages import SCREENS

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
SCHEMES = ("light", "dark")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE} is missing): run `make test`, which installs it with npm"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI never skips the accessibility tests")
        pytest.skip(message)
    return AXE.read_text()


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
        lines.extend(f"    {node['failureSummary']}".replace("\n", " ") for node in violation["nodes"][:2])
    return "\n".join(lines)


@pytest.fixture(scope="module")
def open_page(browser, live_server, states):
    """One page per user, viewport and colour scheme, reused from screen to screen (contexts are slow to make)."""
    contexts = {}

    def page_for(user: str | None, viewport: str, scheme: str):
        key = (user, viewport, scheme)
        if key not in contexts:
            contexts[key] = browser.new_context(
                viewport=VIEWPORTS[viewport],
                color_scheme=scheme,
                bypass_csp=True,
                base_url=live_server.url,
                storage_state=states[user],
            )
            contexts[key].new_page()
        return contexts[key].pages[0]

    yield page_for
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_no_axe_violations(open_page, ids, axe_source, screen, viewport, scheme):
    page = open_page(screen.user, viewport, scheme)
    response = page.goto(screen.path.format(**ids))
    if screen.optional and response.status == 404:
        pytest.skip(f"{screen.path} is not built yet")
    assert response.status == screen.status
    page.add_script_tag(content=axe_source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert result["violations"] == [], describe(result["violations"])


def tab_to(page, target, presses: int = 40) -> None:
    """Press Tab until ``target`` has the focus (as a keyboard-only user would)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus with Tab")


def test_sign_in_and_add_an_account_with_the_keyboard_only(browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS["phone"], base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/login")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        tab_to(page, page.get_by_label("Email"))
        page.keyboard.type("seller2@demo.test")
        tab_to(page, page.get_by_label("Password"))
        page.keyboard.type("focus-demo")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)

        tab_to(page, page.get_by_role("navigation").get_by_role("link", name="Accounts", exact=True))
        page.keyboard.press("Enter")
        page.wait_for_url("**/accounts")
        tab_to(page, page.get_by_role("link", name="Add account"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/accounts/new")
        tab_to(page, page.get_by_label("Name"))
        page.keyboard.type("Keyboard Only Key Co")
        tab_to(page, page.get_by_role("button", name="Save account"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/accounts")
        key_group = page.locator("section", has=page.get_by_role("heading", name="Key accounts"))
        expect(key_group.get_by_text("Keyboard Only Key Co")).to_be_visible()
    finally:
        context.close()


def test_a_long_history_pages_on_a_phone_with_big_targets_and_no_violations(browser, live_server, axe_source):
    """Two years of weekly steps are read 20 at a time: the pager works by touch, in light and dark."""
    from focusweb.extensions import db
    from focusweb.models import Account, AccountReview, Meeting, User

    email, _ = seller_with_meeting(
        live_server.app,
        name="Hana Long",
        timezone="Europe/Paris",
        accounts=[("key", "Longstanding Co")],
        last_step="Step 1",
        last_due=date.today(),
    )
    with live_server.app.app_context():
        seller = db.session.scalar(select(User).where(User.email == email))
        account = db.session.scalar(select(Account).where(Account.owner_id == seller.id))
        for weeks in range(2, 26):  # 24 older weekly meetings, each setting a step
            held = datetime.now(UTC).replace(microsecond=0) - timedelta(weeks=weeks)
            meeting = Meeting(
                seller=seller, manager=seller.manager, scheduled_at=held, started_at=held, finished_at=held
            )
            meeting.reviews.append(AccountReview(account=account, position=0, next_step=f"Step {weeks}"))
            db.session.add(meeting)
        db.session.commit()
        account_id = account.id
        db.session.remove()
    for scheme in SCHEMES:
        context = browser.new_context(
            viewport=PHONE, has_touch=True, color_scheme=scheme, bypass_csp=True, base_url=live_server.url
        )
        try:
            page = context.new_page()
            sign_in(page, email)
            page.goto(f"/accounts/{account_id}/history")
            expect(page.get_by_text("Steps 1–20 of 25, newest first")).to_be_visible()
            older = page.get_by_role("link", name="Older steps")
            box = older.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44 and sideways_overflow(page) == 0
            older.tap()
            page.wait_for_url(f"**/accounts/{account_id}/history?page=2")
            expect(page.get_by_text("Steps 21–25 of 25, newest first")).to_be_visible()
            expect(page.get_by_text("Step 25", exact=True)).to_be_visible()
            assert page.get_by_role("link", name="Newer steps").bounding_box()["height"] >= 44
            page.add_script_tag(content=axe_source)
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            assert result["violations"] == [], describe(result["violations"])
        finally:
            context.close()
