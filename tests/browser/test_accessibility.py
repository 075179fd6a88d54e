"""Accessibility: axe-core finds nothing on any page, light and dark, phone and laptop; keyboard-only works.

axe-core is the npm package, pinned in the Makefile and installed into node_modules/ by `make test`.
It is injected with the page's CSP bypassed (the app allows no script but its own).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

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
