"""Every screen of FocusWeb, in one list: the page-weight and accessibility tests and `make screenshots` use it.

Add a screen here when it is built. ``optional`` screens are skipped while their route answers 404.
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
    Screen("accounts", SELLER, "/accounts"),
    Screen("account-new", SELLER, "/accounts/new"),
    Screen("account-edit", SELLER, "/accounts/{account}/edit"),
    Screen("account-import", SELLER, "/accounts/import"),
    Screen("team", MANAGER, "/team"),
    Screen("team-seller-accounts", MANAGER, "/team/{seller}/accounts"),
    Screen("not-found", SELLER, "/no-such-page", status=404),
    Screen("meeting", SELLER, "/meetings/{meeting}", optional=True),
    Screen("meeting-live", MANAGER, "/meetings/{meeting}/live", optional=True),
]


def demo_ids(app) -> dict[str, int | None]:
    """Ids the screens' paths need, read from the demo data (which other tests may have added to)."""
    with app.app_context():
        seller = db.session.scalar(select(User).where(User.email == SELLER))
        account = db.session.scalar(
            select(Account.id).where(Account.owner_id == seller.id, Account.archived_at.is_(None)).order_by(Account.id)
        )
        meeting = db.session.scalar(
            select(Meeting.id).where(Meeting.seller_id == seller.id).order_by(Meeting.scheduled_at.desc())
        )
        db.session.remove()
    return {"seller": seller.id, "account": account, "meeting": meeting}


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
