"""Who may open what: every route of the app, for every role, declared in ONE table (ROUTES).

Roles (``World`` builds one of each):
- ``anonymous``: not signed in;
- ``owner``: the seller who owns the objects (account, meetings, reviews);
- ``teammate``: another seller on the owner's team;
- ``manager``: the owner's manager;
- ``other_manager``: the manager of another team;
- ``admin``: a manager with ``is_admin`` on a third team.

What an admin may see: SPEC.md has admins create users and teams from the command line
(``flask --app wsgi create-user``). In the web app the admin flag grants nothing more: an admin
is the manager of their own team and sees another team's sellers, accounts and meetings exactly
as any other manager does, as 404. So no page depends on ``is_admin`` and nothing leaks through it.

Answers: 200; ``LOGIN`` (303 to /login?next=..., and 401 + HX-Redirect for htmx); 404 for
anything the user may not see, another team's objects included (never 403, which would confirm
that the id exists); or a 303 to a named place. Every check also asserts that a GET stored
nothing, that a refused POST changed nothing, and that a page never shows a marker its reader may
not see (another seller's account name, a manager's private note).

A route without an entry fails ``test_every_route_has_an_entry`` with its endpoint named. To add a
route: add ``"blueprint.endpoint": [get(...), post(...)]`` below, with URL arguments built from the
world (``{"meeting_id": lambda w: w.meeting.id}``) and, for a POST, a valid form (``form=``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import url_for
from pypdf import PdfReader
from sqlalchemy import and_, select

from focusweb.extensions import db
from focusweb.models import FieldTopic, ManagerNote, User
from tests.conftest import CSRF_IN_PAGE, PASSWORD, Factory, _empty_all_tables

ROLES = ("anonymous", "owner", "teammate", "manager", "other_manager", "admin")
SIGNED_IN = ROLES[1:]
SELLERS = ("owner", "teammate")
MANAGERS = ("manager", "other_manager", "admin")

# Markers that only some roles may ever see on a page.
OWNER_ACCOUNT = "Owner Account Q7Z"
TEAMMATE_ACCOUNT = "Teammate Account M4K"
OTHER_TEAM_ACCOUNT = "Other Team Account X2B"
PRIVATE_NOTE = "PRIVATE manager note R8W"
SHARED_NOTE = "Shared manager note S5J"
FIELD_TOPIC = "Field topic for the ride-along T3V"
MAY_SEE = {
    OWNER_ACCOUNT: {"owner", "manager"},
    TEAMMATE_ACCOUNT: {"teammate", "manager"},
    OTHER_TEAM_ACCOUNT: {"other_manager"},
    PRIVATE_NOTE: {"manager"},
    SHARED_NOTE: {"owner", "manager"},
    FIELD_TOPIC: {"manager"},  # a seller never sees their manager's For the field list
}


@dataclass
class World:
    """One of everything: two teams and an admin's team, with accounts, meetings and reviews.

    The owner has three meetings: last week's (finished, with its recap and a private and a
    shared manager note), today's (running, every card answered, notes again) and next week's
    (not started: prepared, started or rescheduled). The manager parked a topic for the field.
    """

    owner: User
    teammate: User
    manager: User
    other_manager: User
    other_seller: User
    admin: User
    account: object
    second_account: object
    teammate_account: object
    other_account: object
    meeting: object
    review: object
    running_meeting: object
    running_review: object
    finished_meeting: object
    finished_review: object
    private_note: object
    topic: object

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def build_world() -> World:
    """A fresh world in empty tables."""
    _empty_all_tables()
    make = Factory()
    manager = make.user("manager", name="Mona Manager")
    owner = make.user("seller", manager=manager, name="Olly Owner")
    teammate = make.user("seller", manager=manager, name="Tess Teammate")
    other_manager = make.user("manager", name="Otto Other")
    other_seller = make.user("seller", manager=other_manager, name="Oona Other")
    admin = make.user("manager", is_admin=True, name="Ada Admin")
    make.user("seller", manager=admin, name="Abe Admin-Team")
    account = make.account(owner, OWNER_ACCOUNT)
    second_account = make.account(owner, "Owner Second Account")
    teammate_account = make.account(teammate, TEAMMATE_ACCOUNT)
    other_account = make.account(other_seller, OTHER_TEAM_ACCOUNT, kind="target")
    now = datetime.now(UTC).replace(microsecond=0)
    earlier = now - timedelta(days=7)
    finished_meeting = make.meeting(
        owner, scheduled_at=earlier, started_at=earlier, finished_at=earlier + timedelta(minutes=30)
    )
    finished_review = make.review(
        finished_meeting, account, next_step="Send the proposal", projection_date=date.today() + timedelta(days=3)
    )
    running_meeting = make.meeting(
        owner, scheduled_at=now - timedelta(minutes=5), started_at=now - timedelta(minutes=5)
    )
    running_review = make.review(
        running_meeting,
        account,
        previous_review_id=finished_review.id,
        next_step="Book the site visit",
        projection_date=date.today() + timedelta(days=10),
    )
    make.review(
        running_meeting,
        second_account,
        next_step="Ask for a referral",
        projection_date=date.today() + timedelta(days=7),
    )
    running_meeting.current_review_id = running_review.id
    meeting = make.meeting(owner, scheduled_at=now + timedelta(days=7))
    review = make.review(meeting, account)
    make.review(meeting, second_account)
    private_note = ManagerNote(review=running_review, author=manager, text=PRIVATE_NOTE, private=True)
    db.session.add_all(
        [
            private_note,
            ManagerNote(review=finished_review, author=manager, text=PRIVATE_NOTE, private=True),
            ManagerNote(review=finished_review, author=manager, text=SHARED_NOTE, private=False),
        ]
    )
    topic = FieldTopic(seller_id=owner.id, manager_id=manager.id, text=FIELD_TOPIC)
    db.session.add(topic)
    db.session.commit()
    return World(
        owner=owner,
        teammate=teammate,
        manager=manager,
        other_manager=other_manager,
        other_seller=other_seller,
        admin=admin,
        account=account,
        second_account=second_account,
        teammate_account=teammate_account,
        other_account=other_account,
        meeting=meeting,
        review=review,
        running_meeting=running_meeting,
        running_review=running_review,
        finished_meeting=finished_meeting,
        finished_review=finished_review,
        private_note=private_note,
        topic=topic,
    )


# -- answers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    location: Callable[[World], str] | str | None = None

    def describe(self) -> str:
        return f"{self.status}" + (f" to {self.location}" if isinstance(self.location, str) else "")


OK = Answer(200)
NOT_FOUND = Answer(404)
FORBIDDEN = Answer(403)  # for a signed-in user's own kind of page they may not use; never for objects
LOGIN = Answer(303, "/login")


def to(endpoint: str, **args: Callable[[World], object]) -> Answer:
    """A 303 to ``url_for(endpoint, **args built from the world)``."""
    return Answer(303, lambda w: url_for(endpoint, **{name: build(w) for name, build in args.items()}))


@dataclass(frozen=True)
class Case:
    """One request (a method on one URL rule) and the answer each role gets."""

    method: str
    expect: dict[str, Answer]
    args: dict[str, Callable[[World], object]] = field(default_factory=dict)
    form: Callable[[World], dict] | None = None  # a valid POST body: a refusal is about who asks, not what
    multipart: bool = False
    # Tables a GET may write to, for the roles it answers 200: an exception declared where it is made.
    stores: tuple[str, ...] = ()
    # Whose page this is, whoever asks (a feed opened by its secret): the markers they may see.
    reader: str | None = None
    # Markers no one may see here, whatever MAY_SEE says (a private note is never in a recap).
    hidden: tuple[str, ...] = ()
    # Markers each 200 must show: proves the page (or the PDF's text) was really read for leaks.
    shows: tuple[str, ...] = ()

    def url(self, w: World, endpoint: str) -> str:
        return url_for(endpoint, **{name: build(w) for name, build in self.args.items()})


def answers(default: Answer, **by_role: Answer) -> dict[str, Answer]:
    """Every role's answer: ``default`` unless named; anonymous is sent to sign in unless named."""
    table = {"anonymous": LOGIN} | {role: default for role in SIGNED_IN}
    table.update(by_role)
    return table


def get(expect: dict[str, Answer], *, stores=(), reader=None, hidden=(), shows=(), **args) -> Case:
    return Case("GET", expect, args, stores=stores, reader=reader, hidden=hidden, shows=shows)


def post(expect: dict[str, Answer], form=None, multipart=False, **args) -> Case:
    return Case("POST", expect, args, form=form, multipart=multipart)


OWNER_ID = {"seller_id": lambda w: w.owner.id}
ACCOUNT_ID = {"account_id": lambda w: w.account.id}
TEAM_ACCOUNTS = to("accounts.index", **OWNER_ID)
OWN_ACCOUNTS = to("accounts.index")
# The owner or their manager may; anyone else gets 404.
OWNER_OR_MANAGER = dict(owner=OK, manager=OK, teammate=NOT_FOUND, other_manager=NOT_FOUND, admin=NOT_FOUND)
SELLERS_ONLY = dict(owner=OK, teammate=OK, manager=NOT_FOUND, other_manager=NOT_FOUND, admin=NOT_FOUND)


def account_form(w: World) -> dict:
    return {"name": "Northwind Trading", "kind": "target", "notes": "Met at the fair"}


def import_form(w: World) -> dict:
    return {"file": (io.BytesIO(b"name,kind\nImported One,key\n"), "export.csv")}


def password_form(w: World) -> dict:
    return {"current_password": PASSWORD, "new_password": "a brand new pass", "new_password_again": "a brand new pass"}


# A POST on the owner's book: the owner and their manager go back to it, anyone else gets 404.
CHANGES_OWNERS_BOOK = answers(NOT_FOUND, owner=OWN_ACCOUNTS, manager=TEAM_ACCOUNTS)

MEETING_ID = {"meeting_id": lambda w: w.meeting.id}
RUNNING_ID = {"meeting_id": lambda w: w.running_meeting.id}
FINISHED_ID = {"meeting_id": lambda w: w.finished_meeting.id}
RUNNING_CARD = RUNNING_ID | {"review_id": lambda w: w.running_review.id}
PREP_CARD = MEETING_ID | {"review_id": lambda w: w.review.id}
TOPIC_ID = OWNER_ID | {"topic_id": lambda w: w.topic.id}
# The manager's own pages about one of their sellers: anyone else gets 404.
MANAGER_ONLY = dict(owner=NOT_FOUND, teammate=NOT_FOUND, manager=OK, other_manager=NOT_FOUND, admin=NOT_FOUND)
EVERYONE = dict(owner=OK, teammate=OK, manager=OK, other_manager=OK, admin=OK)
# The seller's changes to their meeting: the manager reads along but may not change it (403, the
# meeting is theirs to see, so nothing leaks); anyone else gets 404.
SELLER_CHANGES = dict(manager=FORBIDDEN)
# The recap (page and PDF) is the seller's and the meeting's manager's; a private note is never in it.
RECAP = dict(hidden=(PRIVATE_NOTE,), shows=(OWNER_ACCOUNT, SHARED_NOTE))


def card_form(w: World, review=None) -> dict:
    """An account card as the page posts it (autosave or Next account), over the stored version."""
    review = review or w.running_review
    meeting_day = review.meeting.scheduled_at.date()
    return {
        "version": str(review.version),
        "outcome": "not_done",
        "notes": "Budget moved to Q3; the buyer changed",
        "next_step": "Send the revised offer to the new buyer",
        "projection_date": (meeting_day + timedelta(days=14)).isoformat(),
    }


def prep_form(w: World) -> dict:
    """Preparing next week's card before the meeting (the same screen, so nothing is typed twice)."""
    form = card_form(w, w.review)
    del form["outcome"]  # no last time on this card yet
    return form


def note_form(w: World) -> dict:
    return {"text": "Shared: well prepared on this one", "version": str(w.private_note.version)}


def topic_form(w: World) -> dict:
    return {"text": "Practise the opening question on the next ride-along"}


def cadence_form(w: World) -> dict:
    return {
        "every_weeks": "2",
        "weekday": "2",
        "local_time": "09:30",
        "minutes": "45",
        "timezone": "Europe/Berlin",
        "starts_on": (date.today() + timedelta(days=1)).isoformat(),
    }


def reschedule_form(w: World) -> dict:
    moved = w.meeting.scheduled_at + timedelta(days=1)
    return {"new_date": moved.date().isoformat(), "new_time": "10:15", "reason": "Customer visit moved to that day"}


def settings_form(w: World) -> dict:
    return {"timezone": "America/Chicago", "paper_size": "Letter", "remind_prep": "y", "remind_overdue": "y"}


ROUTES: dict[str, list[Case]] = {
    "auth.login": [
        get(answers(to("home.index"), anonymous=OK)),
        post(
            answers(to("home.index"), anonymous=to("home.index")),
            form=lambda w: {"email": w.owner.email, "password": PASSWORD},
        ),
    ],
    "auth.logout": [post(answers(to("auth.login")))],
    "auth.password": [get(answers(OK)), post(answers(to("home.index")), form=password_form)],
    "home.index": [get(answers(OK, manager=to("team.index"), other_manager=to("team.index"), admin=to("team.index")))],
    "home.healthz": [get(answers(OK, anonymous=OK))],
    "team.index": [get(answers(OK, owner=NOT_FOUND, teammate=NOT_FOUND))],
    "team.plan_csv": [get(answers(OK, owner=NOT_FOUND, teammate=NOT_FOUND))],
    "accounts.index": [
        get(answers(OK, manager=to("team.index"), other_manager=to("team.index"), admin=to("team.index"))),
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **OWNER_ID),
    ],
    "accounts.new": [
        get(answers(NOT_FOUND, **SELLERS_ONLY)),
        post(answers(NOT_FOUND, owner=OWN_ACCOUNTS, teammate=OWN_ACCOUNTS), form=account_form),
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **OWNER_ID),
        post(CHANGES_OWNERS_BOOK, form=account_form, **OWNER_ID),
    ],
    "accounts.edit": [
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **ACCOUNT_ID),
        post(CHANGES_OWNERS_BOOK, form=account_form, **ACCOUNT_ID),
    ],
    "accounts.archive": [post(CHANGES_OWNERS_BOOK, **ACCOUNT_ID)],
    "accounts.restore": [post(CHANGES_OWNERS_BOOK, **ACCOUNT_ID)],
    "accounts.import_csv": [
        get(answers(NOT_FOUND, **SELLERS_ONLY)),
        post(answers(NOT_FOUND, owner=OWN_ACCOUNTS, teammate=OWN_ACCOUNTS), form=import_form, multipart=True),
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **OWNER_ID),
        post(CHANGES_OWNERS_BOOK, form=import_form, multipart=True, **OWNER_ID),
    ],
    "team.seller": [get(answers(NOT_FOUND, manager=OK), shows=(OWNER_ACCOUNT,), **OWNER_ID)],
    "schedule.cadence": [
        get(answers(NOT_FOUND, **MANAGER_ONLY), **OWNER_ID),
        post(answers(NOT_FOUND, manager=to("schedule.cadence", **OWNER_ID)), form=cadence_form, **OWNER_ID),
    ],
    "schedule.reschedule": [
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **MEETING_ID),
        post(
            answers(NOT_FOUND, owner=to("home.index"), manager=to("schedule.cadence", **OWNER_ID)),
            form=reschedule_form,
            **MEETING_ID,
        ),
    ],
    "nextsteps.index": [get(answers(NOT_FOUND, **SELLERS_ONLY))],
    "nextsteps.history": [get(answers(NOT_FOUND, **OWNER_OR_MANAGER), shows=(OWNER_ACCOUNT,), **ACCOUNT_ID)],
    "nextsteps.index_csv": [get(answers(NOT_FOUND, **SELLERS_ONLY))],
    "nextsteps.history_csv": [get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **ACCOUNT_ID)],
    "meetings.show": [
        # Reads only, even on the first open: a meeting's cards are made with it (focusweb.rules), and the
        # card on screen is recorded for the read-along by the page's beacon (meetings.current), a POST.
        get(
            answers(NOT_FOUND, owner=OK, manager=to("live.show", **MEETING_ID)),
            **MEETING_ID,
        ),
        get(answers(NOT_FOUND, owner=OK, manager=to("live.show", **RUNNING_ID)), shows=(OWNER_ACCOUNT,), **RUNNING_ID),
        get(answers(NOT_FOUND, owner=OK, manager=to("live.show", **FINISHED_ID)), **FINISHED_ID),
    ],
    "meetings.start": [
        post(answers(NOT_FOUND, owner=to("meetings.show", **MEETING_ID), **SELLER_CHANGES), **MEETING_ID)
    ],
    "meetings.save": [
        post(
            answers(
                NOT_FOUND,
                owner=to("meetings.show", **RUNNING_ID, review=lambda w: w.running_review.id),
                **SELLER_CHANGES,
            ),
            form=card_form,
            **RUNNING_CARD,
        ),
        post(
            answers(NOT_FOUND, owner=to("meetings.show", **MEETING_ID, review=lambda w: w.review.id), **SELLER_CHANGES),
            form=prep_form,
            **PREP_CARD,
        ),
    ],
    "meetings.move": [
        post(
            answers(NOT_FOUND, owner=to("meetings.show", **RUNNING_ID, _anchor=lambda w: "accounts"), **SELLER_CHANGES),
            form=lambda w: {"direction": "down"},
            **RUNNING_CARD,
        )
    ],
    "meetings.current": [
        # The beacon of the card on the seller's screen, for the read-along: the seller's alone.
        post(
            answers(NOT_FOUND, owner=Answer(204), **SELLER_CHANGES),
            form=lambda w: {"review": w.running_review.id},
            **RUNNING_ID,
        )
    ],
    "meetings.finish": [
        post(answers(NOT_FOUND, owner=to("meetings.show", **RUNNING_ID), **SELLER_CHANGES), **RUNNING_ID)
    ],
    "live.show": [
        get(
            answers(NOT_FOUND, owner=to("meetings.show", **RUNNING_ID), manager=OK), shows=(PRIVATE_NOTE,), **RUNNING_ID
        ),
        get(answers(NOT_FOUND, owner=to("meetings.show", **FINISHED_ID), manager=OK), **FINISHED_ID),
    ],
    "live.save_note": [
        post(
            answers(NOT_FOUND, manager=to("live.show", **RUNNING_ID, _anchor=lambda w: f"card-{w.running_review.id}")),
            form=note_form,
            **RUNNING_CARD,
        )
    ],
    "live.park": [post(answers(NOT_FOUND, manager=to("live.show", **RUNNING_ID)), form=topic_form, **RUNNING_ID)],
    "live.field_list": [
        get(answers(NOT_FOUND, **MANAGER_ONLY), shows=(FIELD_TOPIC,), **OWNER_ID),
        post(answers(NOT_FOUND, manager=to("live.field_list", **OWNER_ID)), form=topic_form, **OWNER_ID),
    ],
    "live.field_done": [
        post(answers(NOT_FOUND, manager=to("live.field_list", **OWNER_ID)), form=lambda w: {"done": "1"}, **TOPIC_ID)
    ],
    "live.door_sign": [get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **RUNNING_ID)],
    "live.door_sign_pdf": [
        get(answers(NOT_FOUND, **OWNER_OR_MANAGER), shows=("Please do not interrupt",), **RUNNING_ID)
    ],
    "recap.show": [get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **RECAP, **FINISHED_ID)],
    "recap.pdf": [get(answers(NOT_FOUND, **OWNER_OR_MANAGER), **RECAP, **FINISHED_ID)],
    "recap.send": [
        post(
            answers(NOT_FOUND, owner=to("recap.show", **FINISHED_ID), manager=to("recap.show", **FINISHED_ID)),
            **FINISHED_ID,
        )
    ],
    "calendar.index": [get(answers(OK))],
    "calendar.rotate": [post(answers(to("calendar.index")))],
    "calendar.feed": [
        # Public by secret: the secret in the URL is the key, so whoever holds it reads that user's feed.
        get(
            answers(OK, anonymous=OK, **EVERYONE),
            reader="owner",
            shows=("Send the proposal",),
            secret=lambda w: w.owner.calendar_secret,
        ),
        get(
            answers(OK, anonymous=OK, **EVERYONE),
            reader="manager",
            hidden=(PRIVATE_NOTE,),
            secret=lambda w: w.manager.calendar_secret,
        ),
        get(answers(NOT_FOUND, anonymous=NOT_FOUND), secret=lambda w: "not-" + w.owner.calendar_secret),
    ],
    "settings.index": [get(answers(OK)), post(answers(to("settings.index")), form=settings_form)],
}
NOT_ROUTES = {"static"}  # served files, not pages: no roles involved


# -- the machinery (shared with test_headers.py and test_hostile_input.py) ---------------------------


def stored_state() -> dict[str, list[tuple]]:
    """Every row of every table, to prove a request stored nothing."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


def csrf_token(client) -> str:
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    return CSRF_IN_PAGE.search(page).group(1)


class Snapshot:
    """Every row of every table, to put them all back (same ids, same values) in one transaction.

    Rebuilding the world row by row through the factory costs a commit per row; putting the rows
    back is a handful of statements. ``restore`` checks that what is stored afterwards is exactly
    what was taken (``stored_state``), so a world put back is the world as it was built.
    """

    def __init__(self):
        db.session.expire_all()
        self.rows = {
            table: [
                {column.key: row._mapping[column] for column in table.columns}
                for row in db.session.execute(select(table))
            ]
            for table in db.metadata.sorted_tables
        }
        self.state = {
            table.name: sorted((tuple(row.values()) for row in rows), key=repr) for table, rows in self.rows.items()
        }

    def restore(self) -> None:
        tables = db.metadata.sorted_tables
        for table in reversed(tables):
            db.session.execute(table.delete())
        later = []  # (table, row, values) for keys to rows not back yet (a user's manager, the meeting's card)
        for index, table in enumerate(tables):
            pending = [fk.parent for fk in table.foreign_keys if tables.index(fk.column.table) >= index]
            touched = [column for column in table.columns if column.onupdate is not None]
            rows = self.rows[table]
            if rows:
                db.session.execute(table.insert(), [row | {column.key: None for column in pending} for row in rows])
            for row in rows:
                if any(row[column.key] is not None for column in pending):
                    later.append((table, row, {column.key: row[column.key] for column in pending + touched}))
        for table, row, values in later:
            key = and_(*(column == row[column.key] for column in table.primary_key.columns))
            db.session.execute(table.update().where(key).values(values))
        db.session.commit()
        assert stored_state() == self.state, "the world was not put back as it was built"


@dataclass(frozen=True)
class SignedIn:
    """A role's session cookie as its sign-in left it (the first page set its CSRF secret), and that token."""

    cookie: str
    csrf: str
    session_token: str | None  # the user's session token it holds (None: anonymous)


class Visitors:
    """A signed-in test client per role, made on first use and dropped when the world is rebuilt.

    Each role signs in through the form once; a fresh client of that role later starts from the
    session cookie that sign-in left, which is what signing in again would give, as long as the
    user's session token is still the one it holds (the world put back restores it). When it is
    not (a sign-out or password change not yet put back), the role signs in through the form again.
    """

    def __init__(self, app):
        self.app = app
        self.world = build_world()
        self._built = Snapshot()
        self._clients: dict[str, tuple[object, str]] = {}
        self._signed_in: dict[str, SignedIn] = {}

    def rebuild(self) -> None:
        """The world as it was built: every table's rows put back (``self.world``'s objects read them again)."""
        self._built.restore()
        self._clients.clear()

    def _session_token(self, role: str) -> str | None:
        user = self.world.user(role)
        return None if user is None else db.session.scalar(select(User.session_token).where(User.id == user.id))

    def client(self, role: str):
        if role not in self._clients:
            client = self.app.test_client()
            cookie = self.app.config["SESSION_COOKIE_NAME"]
            saved = self._signed_in.get(role)
            if saved is not None and saved.session_token == self._session_token(role):
                client.set_cookie(cookie, saved.cookie)
                self._clients[role] = (client, saved.csrf)
                return self._clients[role]
            user = self.world.user(role)
            if user is not None:
                response = client.post("/login", data={"email": user.email, "password": PASSWORD})
                assert response.status_code == 303, f"{role} could not sign in"
            token = csrf_token(client)
            self._signed_in[role] = SignedIn(client.get_cookie(cookie).value, token, self._session_token(role))
            self._clients[role] = (client, token)
        return self._clients[role]

    def forget(self, role: str) -> None:
        """A fresh client for the role next time (after a POST that may have signed in, out, or rotated)."""
        self._clients.pop(role, None)

    def send(self, endpoint: str, case: Case, role: str, headers: dict | None = None):
        client, token = self.client(role)
        url = case.url(self.world, endpoint)
        if case.method == "GET":
            return client.get(url, headers=headers)
        data = dict(case.form(self.world)) if case.form else {}
        data["csrf_token"] = token
        content_type = "multipart/form-data" if case.multipart else None
        self.forget(role)
        return client.post(url, data=data, headers=headers, content_type=content_type, csrf=False)


def location_of(answer: Answer, w: World) -> str | None:
    return answer.location(w) if callable(answer.location) else answer.location


def mismatch(answer: Answer, response, w: World) -> str | None:
    """Why the response is not the declared answer, or None."""
    if response.status_code != answer.status:
        return f"answered {response.status_code}, expected {answer.describe()}"
    expected = location_of(answer, w)
    if expected is not None:
        location = response.headers.get("Location", "")
        if answer is LOGIN:
            if not location.startswith("/login?next="):
                return f"redirected to {location!r}, expected the sign-in page with next="
        elif location != expected:
            return f"redirected to {location!r}, expected {expected!r}"
    return None


def page_text(response) -> str:
    """What a reader sees: the page, or the text of a PDF (whitespace collapsed, as lines wrap)."""
    if response.mimetype == "application/pdf":
        reader = PdfReader(io.BytesIO(response.get_data()))
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    return response.get_data(as_text=True)


def page_leaks(role: str, response, case: Case | None = None) -> list[str]:
    """Markers on the page its reader may not see (the case's reader, when the URL decides whose page it is)."""
    body = page_text(response)
    reader = (case.reader if case else None) or role
    hidden = case.hidden if case else ()
    return [
        marker for marker, readers in MAY_SEE.items() if (reader not in readers or marker in hidden) and marker in body
    ]


def page_misses(response, case: Case) -> list[str]:
    body = page_text(response)
    return [marker for marker in case.shows if marker not in body]


def changed_tables(before: dict, after: dict) -> set[str]:
    return {name for name in after if after[name] != before.get(name)}


def every_case():
    """(endpoint, case) for every entry of the table."""
    for endpoint, cases in ROUTES.items():
        for case in cases:
            yield endpoint, case


def best_role(case: Case) -> str | None:
    """The role a route is meant for: the first who gets a 200 (or, for a POST, a 303 that is not sign-in).

    Anonymous comes first: a route open to them (sign-in) is meant for them.
    """
    for role in ("anonymous", "owner", "manager", "teammate", "admin", "other_manager"):
        answer = case.expect[role]
        if role == "anonymous" and answer.status != 200 and case.method == "GET":
            continue
        if answer.status == 200 or (case.method == "POST" and answer.status == 303 and answer is not LOGIN):
            return role
    return None


# -- the tests ---------------------------------------------------------------------------------------


def test_every_route_has_an_entry(app):
    """A route added to the app without an entry here fails, naming the endpoint."""
    visitors = Visitors(app)
    adapter = app.url_map.bind("localhost")
    covered = set()
    with app.test_request_context():
        for endpoint, case in every_case():
            url = case.url(visitors.world, endpoint)
            rule, _ = adapter.match(url, method=case.method, return_rule=True)
            assert rule.endpoint == endpoint, f"ROUTES[{endpoint!r}] builds {url}, which is {rule.endpoint}"
            covered.add((rule.rule, case.method))
    missing = [
        f"{rule.endpoint} ({method} {rule.rule})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in NOT_ROUTES
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if (rule.rule, method) not in covered
    ]
    assert not missing, "routes without an entry in tests/test_authorization.py ROUTES: " + ", ".join(missing)


def test_the_table_answers_for_every_role_and_never_403_for_objects():
    for endpoint, case in every_case():
        assert set(case.expect) == set(ROLES), f"{endpoint} {case.method}: give an answer for each of {ROLES}"
        for role in ("other_manager", "admin"):
            assert case.expect[role] != FORBIDDEN, f"{endpoint}: another team's objects are 404, never 403"


def test_every_route_answers_each_role_as_declared(app, tally):
    """The matrix: routes × roles, each answer and what it stored (or did not)."""
    visitors = Visitors(app)
    problems = []
    for endpoint, case in every_case():
        for role in ROLES:
            before = stored_state()
            answer = case.expect[role]
            with app.test_request_context():
                response = visitors.send(endpoint, case, role)
                why = mismatch(answer, response, visitors.world)
                url = case.url(visitors.world, endpoint)
            where = f"{endpoint} as {role}: {case.method} {url}"
            if why:
                problems.append(f"{where}: {why}")
            if response.status_code == 200 and (leaks := page_leaks(role, response, case)):
                problems.append(f"{where}: shows {leaks}")
            if response.status_code == 200 and (misses := page_misses(response, case)):
                problems.append(f"{where}: does not show {misses}")
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            after = stored_state()
            changed = after != before
            if any(PRIVATE_NOTE in str(value) for row in after["outbox_messages"] for value in row):
                problems.append(f"{where}: a private note went into an e-mail")
            refused = answer in (LOGIN, NOT_FOUND, FORBIDDEN)
            if refused and changed:
                problems.append(f"{where}: a refused {case.method} changed stored data")
            elif case.method == "GET" and changed and not changed_tables(before, after) <= set(case.stores):
                tables = sorted(changed_tables(before, after) - set(case.stores))
                problems.append(f"{where}: a GET changed stored data in {tables}")
            if answer is LOGIN:
                with app.test_request_context():
                    hx = visitors.send(endpoint, case, role, headers={"HX-Request": "true"})
                if hx.status_code != 401 or not hx.headers.get("HX-Redirect", "").startswith("/login"):
                    problems.append(f"{where} (htmx): answered {hx.status_code}, expected 401 with HX-Redirect")
                tally["authorization: htmx sign-in answers checked"] += 1
            if changed:
                visitors.rebuild()  # the next role starts from the same world
            tally["authorization: routes x roles checked"] += 1
    assert not problems, "\n".join(problems)
