"""Every screen of FocusWeb, in one list: the page-weight and accessibility tests and `make screenshots` use it.

Add a screen here when it is built. ``optional`` screens are skipped while their route answers 404.
The finish-meeting "missing answers" page is left out: it only answers a POST (a reload shows the meeting).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import Account, Meeting, User

SELLER = "seller@demo.test"
SELLER2 = "seller2@demo.test"
MANAGER = "manager@demo.test"


@dataclass(frozen=True)
class Screen:
    name: str
    user: str | None  # demo e-mail; None: signed out
    path: str  # formatted with demo_ids()
    status: int = 200
    optional: bool = False  # not built yet on every branch: skip while it answers 404


SCREENS = [
    Screen("login", None, "/login"),
    Screen("home", SELLER, "/"),
    Screen("meeting-prepare", SELLER, "/meetings/{planned}"),
    Screen("meeting", SELLER2, "/meetings/{running}"),
    Screen("meeting-summary", SELLER, "/meetings/{finished}"),
    Screen("recap", SELLER, "/meetings/{finished}/recap"),
    Screen("reschedule", SELLER, "/meetings/{planned}/reschedule"),
    Screen("next-steps", SELLER, "/next-steps"),
    Screen("account-history", SELLER, "/accounts/{account}/history"),
    Screen("accounts", SELLER, "/accounts"),
    Screen("account-new", SELLER, "/accounts/new"),
    Screen("account-edit", SELLER, "/accounts/{account}/edit"),
    Screen("account-import", SELLER, "/accounts/import"),
    Screen("calendar", SELLER, "/calendar"),
    Screen("settings", SELLER, "/settings"),
    Screen("password", SELLER, "/account/password"),
    Screen("team", MANAGER, "/team"),
    Screen("team-seller", MANAGER, "/team/{seller}"),
    Screen("team-seller-accounts", MANAGER, "/team/{seller}/accounts"),
    Screen("cadence", MANAGER, "/team/{seller}/cadence"),
    Screen("field", MANAGER, "/team/{seller2}/field"),
    Screen("meeting-live", MANAGER, "/meetings/{running}/live"),
    Screen("door-sign", MANAGER, "/meetings/{running}/door-sign"),
    Screen("not-found", SELLER, "/no-such-page", status=404),
]


def _seller(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _first_meeting(seller: User, *conditions, newest: bool = False) -> int | None:
    order = Meeting.scheduled_at.desc() if newest else Meeting.scheduled_at
    return db.session.scalar(select(Meeting.id).where(Meeting.seller_id == seller.id, *conditions).order_by(order))


def demo_ids(app) -> dict[str, int | None]:
    """Ids the screens' paths need, read from the demo data (which other tests may have added to).

    ``planned`` is the demo seller's meeting due today, not started; ``finished`` the demo's meeting of last
    week; ``running`` the second seller's meeting once start_running_meeting() has started it.
    """
    with app.app_context():
        seller, seller2 = _seller(SELLER), _seller(SELLER2)
        account = db.session.scalar(
            select(Account.id).where(Account.owner_id == seller.id, Account.archived_at.is_(None)).order_by(Account.id)
        )
        ids = {
            "seller": seller.id,
            "seller2": seller2.id,
            "account": account,
            "planned": _first_meeting(seller, Meeting.started_at.is_(None)),
            "finished": _first_meeting(seller, Meeting.finished_at.is_not(None), newest=True),
            "running": _first_meeting(seller2, Meeting.started_at.is_not(None), Meeting.finished_at.is_(None)),
        }
        db.session.remove()
    return ids


def start_running_meeting(browser, base_url: str, states: dict, app) -> dict[str, int | None]:
    """Start the second demo seller's meeting due today through the app (as she would), so a running card,
    the read-along and the door sign have a meeting in progress; return demo_ids() afterwards.

    The demo seller's own meeting stays unstarted: his home page and its tests show it as due today.
    """
    ids = demo_ids(app)
    if ids["running"] is not None:
        return ids
    with app.app_context():
        waiting = _first_meeting(_seller(SELLER2), Meeting.started_at.is_(None))
        db.session.remove()
    context = browser.new_context(base_url=base_url, storage_state=states[SELLER2])
    try:
        page = context.new_page()
        page.goto(f"/meetings/{waiting}")
        page.get_by_role("button", name="Start meeting").click()
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    ids = demo_ids(app)
    assert ids["running"] == waiting, "the second demo seller's meeting did not start"
    return ids


def sign_in_states(browser, base_url: str) -> dict[str | None, dict]:
    """A signed-in browser state (cookies) per demo user, so each page opens without signing in again."""
    from .conftest import sign_in

    states: dict[str | None, dict] = {None: {"cookies": [], "origins": []}}
    for email in {screen.user for screen in SCREENS if screen.user}:
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        sign_in(page, email)
        states[email] = context.storage_state()
        context.close()
    return states
