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
from datetime import UTC, datetime, timedelta

from flask import url_for
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import ManagerNote, User
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
MAY_SEE = {
    OWNER_ACCOUNT: {"owner", "manager"},
    TEAMMATE_ACCOUNT: {"teammate", "manager"},
    OTHER_TEAM_ACCOUNT: {"other_manager"},
    PRIVATE_NOTE: {"manager"},
}


@dataclass
class World:
    """One of everything: two teams and an admin's team, with accounts, meetings and reviews."""

    owner: User
    teammate: User
    manager: User
    other_manager: User
    other_seller: User
    admin: User
    account: object
    teammate_account: object
    other_account: object
    meeting: object
    review: object
    finished_meeting: object
    finished_review: object
    private_note: object

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
    teammate_account = make.account(teammate, TEAMMATE_ACCOUNT)
    other_account = make.account(other_seller, OTHER_TEAM_ACCOUNT, kind="target")
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
    finished_meeting = make.meeting(
        owner, scheduled_at=earlier, started_at=earlier, finished_at=earlier + timedelta(minutes=30)
    )
    finished_review = make.review(finished_meeting, account, next_step="Send the proposal")
    meeting = make.meeting(owner)
    review = make.review(meeting, account, previous_review_id=finished_review.id)
    private_note = ManagerNote(review=review, author=manager, text=PRIVATE_NOTE, private=True)
    db.session.add(private_note)
    db.session.commit()
    return World(
        owner=owner,
        teammate=teammate,
        manager=manager,
        other_manager=other_manager,
        other_seller=other_seller,
        admin=admin,
        account=account,
        teammate_account=teammate_account,
        other_account=other_account,
        meeting=meeting,
        review=review,
        finished_meeting=finished_meeting,
        finished_review=finished_review,
        private_note=private_note,
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

    def url(self, w: World, endpoint: str) -> str:
        return url_for(endpoint, **{name: build(w) for name, build in self.args.items()})


def answers(default: Answer, **by_role: Answer) -> dict[str, Answer]:
    """Every role's answer: ``default`` unless named; anonymous is sent to sign in unless named."""
    table = {"anonymous": LOGIN} | {role: default for role in SIGNED_IN}
    table.update(by_role)
    return table


def get(expect: dict[str, Answer], **args) -> Case:
    return Case("GET", expect, args)


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


class Visitors:
    """A signed-in test client per role, made on first use and dropped when the world is rebuilt."""

    def __init__(self, app):
        self.app = app
        self.world = build_world()
        self._clients: dict[str, tuple[object, str]] = {}

    def rebuild(self) -> None:
        self.world = build_world()
        self._clients.clear()

    def client(self, role: str):
        if role not in self._clients:
            client = self.app.test_client()
            user = self.world.user(role)
            if user is not None:
                response = client.post("/login", data={"email": user.email, "password": PASSWORD})
                assert response.status_code == 303, f"{role} could not sign in"
            self._clients[role] = (client, csrf_token(client))
        return self._clients[role]

    def forget(self, role: str) -> None:
        """The role signs in afresh next time (after a POST that may have signed in, out, or rotated)."""
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


def page_leaks(role: str, response) -> list[str]:
    body = response.get_data(as_text=True)
    return [marker for marker, readers in MAY_SEE.items() if role not in readers and marker in body]


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
            if response.status_code == 200 and (leaks := page_leaks(role, response)):
                problems.append(f"{where}: shows {leaks}")
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            changed = stored_state() != before
            refused = answer in (LOGIN, NOT_FOUND, FORBIDDEN)
            if changed and (case.method == "GET" or refused):
                problems.append(f"{where}: {'a GET' if case.method == 'GET' else 'a refused POST'} changed stored data")
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
