"""Real Chromium (Debian's /usr/bin/chromium through Playwright) against a live FocusWeb.

The server runs in a thread on its own SQLite file, migrated and loaded with the demo data.
Without Chromium these tests are skipped with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from focusweb import create_app
from focusweb.demo import DEMO_PASSWORD
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Meeting, User

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
    from focusweb.transactions import unit_of_work
    from tests.conftest import make_config

    url = "sqlite:///" + str(tmp_path_factory.mktemp("live") / "live.db")
    app = create_app(make_config(url, TESTING=False))
    with app.app_context():
        upgrade()
        with unit_of_work():
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


# Notes the moment a text appears on the read-along board (page-side, so Playwright's polling adds nothing).
WATCH = """text => {
  window.__shownAt = null;
  const seen = () => document.getElementById("board").textContent.includes(text);
  const observer = new MutationObserver(() => {
    if (seen()) { window.__shownAt = Date.now(); observer.disconnect(); }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


# The quickest thumb: as soon as a swap puts the field on the page, text goes in and "input" fires. A mutation
# callback runs before any timer, so before htmx would wire the new content if it settled on a timer.
# <html> outlives boosted swaps; its data-typed says whether htmx had wired the field's form by then.
TYPE_ON_ARRIVAL = """([fieldId, text]) => {
  new MutationObserver((records, observer) => {
    const field = document.getElementById(fieldId);
    if (!field) return;
    observer.disconnect();
    field.value = text;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    const waiting = field.closest(".htmx-added") || field.form.querySelector(".htmx-added");
    document.documentElement.dataset.typed = waiting ? "before wiring" : "after wiring";
  }).observe(document.body, { childList: true, subtree: true });
}"""


def type_on_arrival(page, field_id: str, text: str) -> None:
    """Type ``text`` into the field with ``field_id`` the moment the next swap brings it (TYPE_ON_ARRIVAL)."""
    page.evaluate(TYPE_ON_ARRIVAL, [field_id, text])


@pytest.fixture(scope="module")
def states(browser, live_server):
    """A signed-in browser state per demo user, for the tests that walk every screen (pages.SCREENS)."""
    from .pages import sign_in_states

    return sign_in_states(browser, live_server.url)


@pytest.fixture(scope="module")
def ids(browser, live_server, states):
    """The ids the screens' paths need, with seller2's meeting running (pages.start_running_meeting)."""
    from .pages import start_running_meeting

    return start_running_meeting(browser, live_server.url, states, live_server.app)


def seller_with_meeting(
    app,
    *,
    name: str,
    timezone: str,
    accounts: list[tuple[str, str]],
    last_step: str,
    last_due: date,
    starts_in: timedelta = timedelta(0),
) -> tuple[str, int]:
    """A seller of our own on the demo manager's team (other tests use the shared demo meeting).

    Their ``accounts`` are (kind, name) pairs; a meeting finished last week set ``last_step``, due on
    ``last_due``, on the first account; the meeting to run is due ``starts_in`` from now.
    Returns the seller's e-mail and that meeting's id.
    """
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@demo.test"))
        slug = name.split()[0].lower()
        seller = User(
            email=f"{slug}-{uuid.uuid4().hex[:8]}@demo.test",
            name=name,
            role="seller",
            manager=manager,
            timezone=timezone,
        )
        seller.set_password(DEMO_PASSWORD)
        owned = [
            Account(owner=seller, name=title, name_key=Account.key_for(title), kind=kind) for kind, title in accounts
        ]
        now = datetime.now(UTC).replace(microsecond=0)
        last_week = now - timedelta(days=7)
        last = Meeting(
            seller=seller, manager=manager, scheduled_at=last_week, started_at=last_week, finished_at=last_week
        )
        last.reviews.append(AccountReview(account=owned[0], position=0, next_step=last_step, projection_date=last_due))
        meeting = Meeting(seller=seller, manager=manager, scheduled_at=now + starts_in)
        db.session.add_all([seller, *owned, last, meeting])
        db.session.commit()
        email, meeting_id = seller.email, meeting.id
        db.session.remove()
    return email, meeting_id
