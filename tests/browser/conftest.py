"""Real Chromium (Debian's /usr/bin/chromium through Playwright) against a live FocusWeb.

The server runs in a thread on its own SQLite file, migrated and loaded with the demo data.
Without Chromium these tests are skipped with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from focusweb import create_app
from focusweb.demo import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """FocusWeb with the demo data, served on a free port for the whole run."""
    from flask_migrate import upgrade

    from focusweb.demo import seed
    from focusweb.extensions import db
    from tests.conftest import make_config

    url = "sqlite:///" + str(tmp_path_factory.mktemp("live") / "live.db")
    app = create_app(make_config(url, TESTING=False))
    with app.app_context():
        upgrade()
        seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app = app
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (apt-get install -y chromium): browser tests skipped"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI never skips them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    """A page in a fresh phone-sized context (390×844, touch)."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, base_url=live_server.url
    )
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the screen (0 is right)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
