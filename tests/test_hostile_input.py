"""Hostile input, property-based (hypothesis): every form endpoint of the authorization table.

For each POST route in tests/test_authorization.py ROUTES, the valid form declared there is
mutated: fields replaced by huge strings, NUL bytes, invalid UTF-8, wrong types, dates like
0000-00-00, numbers, markup; fields dropped, repeated or added; the body sent as JSON or
multipart. What must hold: never a 500; a refusal (422) names a field next to it and shows back
what was typed in the other fields; nothing is stored unless the answer is a success, and then
exactly what was sent. New POST routes get this for free once they are in ROUTES.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug import urls  # noqa: F401 -- registers the 'werkzeug.url_quote' decoding error handler

from focusweb.converters import MAX_ID
from focusweb.extensions import db
from focusweb.meetings.service import CARD_FIELDS, clean_text
from focusweb.models import Account, AccountReview, User
from tests.conftest import multipart
from tests.test_authorization import (
    ROUTES,
    Visitors,
    best_role,
    cadence_form,
    card_form,
    changed_tables,
    every_case,
    reschedule_form,
    stored_state,
)

EXAMPLES = 30
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "0000-00-00",
    "9999-12-31",
    "2024-02-30",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "=cmd|' /C calc'!A0",
    "+SUM(1)",
    "@SUM(1)",
    "\t=1",
    "ß" * 200,
    "\ufb03" * 70,
    "\u202eevil",
    "\ufeffbom",
    "line\r\nbreak",
    "\U0001d54f" * 100,
    "x" * 6000,
    "y" * 100_000,
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
HOSTILE_TEXT = st.one_of(st.sampled_from(SPECIAL), TEXT, st.integers().map(str))
HOSTILE_BYTES = st.one_of(
    st.sampled_from([b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"caf\xe9", b"\x80" * 10]), st.binary(max_size=40)
)
# Forms stored field by field (the meeting's account card autosave): see check_card.
SAVED_BY_FIELD = {"meetings.save"}
EXTRA_NAMES = st.sampled_from(
    ["id", "owner_id", "is_admin", "role", "seller_id", "archived_at", "version", "__proto__"]
)


def form_cases():
    """(endpoint, case) for every POST with a urlencoded form in the table; files are tested below."""
    return [
        (endpoint, case)
        for endpoint, cases in ROUTES.items()
        for case in cases
        if case.method == "POST" and case.form and not case.multipart and best_role(case)
    ]


@st.composite
def hostile_form(draw, valid: dict):
    """A mutation of a valid form: per field keep, replace, drop, repeat or send invalid bytes; add extras."""
    fields: list[tuple[str, str | bytes]] = []
    for name, value in valid.items():
        how = draw(st.sampled_from(["keep", "text", "text", "missing", "repeat", "bytes"]))
        if how == "keep":
            fields.append((name, value))
        elif how == "text":
            fields.append((name, draw(HOSTILE_TEXT)))
        elif how == "repeat":
            fields += [(name, draw(HOSTILE_TEXT)), (name, value)]
        elif how == "bytes":
            fields.append((name, value.encode() + draw(HOSTILE_BYTES)))
    for _ in range(draw(st.integers(0, 2))):
        fields.append((draw(EXTRA_NAMES), draw(HOSTILE_TEXT)))
    body = draw(st.sampled_from(["urlencoded", "urlencoded", "urlencoded", "json", "multipart"]))
    return fields, body


def encode(fields, body: str, token: str) -> dict:
    """Keyword arguments for client.post: the fields in the chosen body, the CSRF token always right."""
    if body == "json":
        as_text = {
            name: value.decode("utf-8", "replace") if isinstance(value, bytes) else value for name, value in fields
        }
        return {"data": json.dumps(as_text), "content_type": "application/json", "headers": {"X-CSRFToken": token}}
    if body == "multipart":
        # Repeated names collapse to one (the last) in a dict: the multipart case tests single values.
        return multipart({"csrf_token": token, **dict(fields)}, {})
    pairs = [("csrf_token", token.encode())] + [
        (name, value if isinstance(value, bytes) else value.encode()) for name, value in fields
    ]
    raw = "&".join(f"{quote_from_bytes(name.encode())}={quote_from_bytes(value)}" for name, value in pairs)
    return {"data": raw.encode(), "content_type": "application/x-www-form-urlencoded"}


def sent_values(fields, body: str) -> dict[str, str]:
    """What the server decodes for each field sent once.

    Werkzeug percent-quotes invalid UTF-8 in a urlencoded body and replaces it (U+FFFD) in multipart.
    """
    if body == "json":
        return {}
    if body == "multipart":
        return {name: value.decode("utf-8", "replace") if isinstance(value, bytes) else value for name, value in fields}
    counts: dict[str, int] = {}
    for name, _ in fields:
        counts[name] = counts.get(name, 0) + 1
    return {
        name: value.decode("utf-8", "werkzeug.url_quote") if isinstance(value, bytes) else value
        for name, value in fields
        if counts[name] == 1
    }


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class FormScan(HTMLParser):
    """The values the form posting to ``action`` shows, and which of its fields carry an error.

    A field carries an error when a non-empty ``class="error"`` element is ``<name>-error`` or is
    (or sits inside) an element the field's ``aria-describedby`` names. A page with several forms
    (the read-along has a note form per card) is read only inside the one that was posted.
    """

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.values: dict[str, str] = {}
        self.checked: dict[str, str] = {}
        self.described_by: dict[str, set[str]] = {}
        self.error_text: dict[str, str] = {}  # element id -> error text inside it
        self._open: list[tuple[str, str | None, bool]] = []  # (tag, id, is an error) of the elements we are in
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._in_form = attributes.get("action") == self.action
        if tag not in VOID:
            self._open.append((tag, attributes.get("id"), "error" in attributes.get("class", "").split()))
        name = attributes.get("name")
        if not self._in_form or not name or tag not in ("input", "textarea", "select"):
            return
        self.described_by[name] = set(attributes.get("aria-describedby", "").split())
        if tag == "input":
            if attributes.get("type") in ("radio", "checkbox"):
                if "checked" in attributes:
                    self.checked[name] = attributes.get("value", "")
            elif attributes.get("type") not in ("password", "file", "hidden", "submit"):
                self.values[name] = attributes.get("value", "")
        if tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data
        if any(is_error for _, _, is_error in self._open):
            for _, element_id, _ in self._open:
                if element_id:
                    self.error_text[element_id] = self.error_text.get(element_id, "") + data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        if tag == "textarea" and self._textarea:
            # The browser drops one newline right after <textarea>; WTForms writes one (\r\n) first.
            self.values[self._textarea] = self.values[self._textarea].removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        if any(open_tag == tag for open_tag, _, _ in self._open):
            while self._open.pop()[0] != tag:
                pass

    @property
    def errors(self) -> set[str]:
        """The fields with an error next to them."""
        with_text = {element_id for element_id, text in self.error_text.items() if text.strip()}
        named = {element_id.removesuffix("-error") for element_id in with_text}
        described = {name for name, ids in self.described_by.items() if ids & with_text}
        return named | described


def scan(html: str, action: str) -> FormScan:
    parser = FormScan(action)
    parser.feed(html)
    parser.close()
    return parser


def as_typed(value: str) -> str:
    """Text as a form shows it back: line breaks as one, spaces at the ends trimmed (filters may do both)."""
    return value.replace("\r\n", "\n").strip()


def check_refusal(response, fields, body, valid: dict, action: str, conflict: bool = False) -> list[str]:
    """A 422 names a field next to it; a 409 (or the 422) shows back what was typed everywhere else."""
    page = scan(response.get_data(as_text=True), action)
    problems = []
    if not conflict and not page.errors & set(valid):
        problems.append(f"422 without an error next to any of {sorted(valid)}")
    for name, value in sent_values(fields, body).items():
        if name in page.values and as_typed(page.values[name]) != as_typed(value):
            problems.append(f"{name}: typed {value[:60]!r}, shown back {page.values[name][:60]!r}")
        if name in page.checked and page.checked[name] != value:
            problems.append(f"{name}: chose {value[:60]!r}, shown back {page.checked[name][:60]!r}")
    return problems


def accounts_after(before: dict) -> list[Account]:
    """Accounts added or changed since ``before``."""
    old = set(before["accounts"])
    return [
        account
        for account in db.session.scalars(select(Account))
        if (account.id, account.owner_id, account.name, account.name_key, account.kind, account.notes)
        not in {(row[0], row[1], row[2], row[3], row[4], row[5]) for row in old}
    ]


def posted_values(fields, body: str) -> dict[str, str]:
    """What the server reads for each field: the first of repeated names (the last in multipart, see encode)."""
    if body == "json":
        return {}
    values: dict[str, str] = {}
    for name, value in fields if body == "multipart" else reversed(fields):
        values[name] = (
            value.decode("utf-8", "replace" if body == "multipart" else "werkzeug.url_quote")
            if isinstance(value, bytes)
            else value
        )
    return values


def card_as_stored(review: AccountReview) -> dict:
    db.session.refresh(review)
    return {name: getattr(review, name) for name in (*CARD_FIELDS, "version")}


def parsed(name: str, value: str):
    """A card field's value as the form parses it."""
    if name == "projection_date":
        return datetime.strptime(value, "%Y-%m-%d").date() if value.strip() else None
    return clean_text(value) if name in ("notes", "next_step") else value


def check_card(review_id: int, card_before: dict, fields, body, before: dict, page_errors: set[str]) -> list[str]:
    """An autosave stores each valid field whole, exactly as sent, refused ones not at all; nothing else changes.

    The card saves field by field by design (SPEC: nothing typed is lost): with a 500-character
    next step refused, the notes typed next to it are still stored. What may never happen is a
    field stored other than as sent, a refused field stored, or a row other than the card (and
    its meeting's read-along version) changed.
    """
    review = db.session.get(AccountReview, review_id)
    after = card_as_stored(review)
    posted = posted_values(fields, body)
    problems = []
    changed = [name for name in CARD_FIELDS if after[name] != card_before[name]]
    for name in changed:
        if name in page_errors:
            problems.append(f"{name} was refused on the page, yet stored as {after[name]!r:.60}")
        elif name not in posted:
            problems.append(f"{name} changed to {after[name]!r:.60} without being sent")
        elif parsed(name, posted[name]) != after[name]:
            problems.append(f"{name} stored as {after[name]!r:.60}, sent {posted[name]!r:.60}")
    if after["version"] != card_before["version"] + bool(changed):
        problems.append(f"version went {card_before['version']} -> {after['version']} for {len(changed)} changes")
    state = stored_state()
    for table in changed_tables(before, state) - {"account_reviews", "meetings", "users"}:
        problems.append(f"the autosave changed {table}")
    problems += check_plan_versions(review, before["users"], state["users"], bool(changed))
    other_cards = [row for row in state["account_reviews"] if row[0] != review_id]
    if other_cards != [row for row in before["account_reviews"] if row[0] != review_id]:
        problems.append("the autosave changed another card")
    return problems


def check_plan_versions(review: AccountReview, users_before: list, users_after: list, saved: bool) -> list[str]:
    """Of the users' rows, only the card's seller's plan version may move: up by one if a field was stored."""
    columns = [column.name for column in User.__table__.columns]
    version = columns.index("plan_version")
    before = {row[0]: row for row in users_before}
    problems = []
    for row in users_after:
        old = before.get(row[0])
        if old is None or [*old[:version], *old[version + 1 :]] != [*row[:version], *row[version + 1 :]]:
            problems.append("the autosave changed users")
        elif row[version] != old[version] + (saved and row[0] == review.meeting.seller_id):
            problems.append(f"user {row[0]}'s plan version went {old[version]} -> {row[version]}")
    return problems


def check_success(endpoint, fields, body, before, visitors, role) -> list[str]:
    """A 303 stored exactly what was sent (accounts), and nothing was assigned from extra fields."""
    if not endpoint.startswith("accounts."):
        return []
    sent = sent_values(fields, body)
    problems = []
    for account in accounts_after(before):
        owner = visitors.world.owner if role in ("owner", "manager") else visitors.world.user(role)
        if account.owner_id != owner.id:
            problems.append(f"account stored for owner {account.owner_id}, not {owner.id}")
        if "name" in sent and account.name != " ".join(sent["name"].split()):
            problems.append(f"name stored as {account.name!r}, sent {sent['name']!r}")
        if "notes" in sent and account.notes != sent["notes"].strip():
            problems.append("notes not stored as sent")
    return problems


@pytest.mark.parametrize(("endpoint", "case"), form_cases(), ids=lambda value: getattr(value, "method", value))
def test_hostile_forms_never_500_and_never_store_half(app, tally, endpoint, case):
    visitors = Visitors(app)
    role = best_role(case)
    valid = case.form(visitors.world)

    @SETTINGS
    @given(mutation=hostile_form(valid))
    def run(mutation):
        fields, body = mutation
        client, token = visitors.client(role)
        visitors.forget(role)
        before = stored_state()
        with app.test_request_context():
            url = case.url(visitors.world, endpoint)
        card = case.args["review_id"](visitors.world) if endpoint in SAVED_BY_FIELD else None
        card_before = card_as_stored(db.session.get(AccountReview, card)) if card else None
        response = client.post(url, csrf=False, **encode(fields, body, token))
        tally["hostile: form inputs tried"] += 1
        where = f"{endpoint} {url} {body} {fields!r:.300}"
        status = response.status_code
        assert status < 500, f"{where}: server error"
        # 409: a form carrying the version it was typed over, sent without a readable one (judged stale).
        allowed = (303, 409, 413, 422) if "version" in valid else (303, 413, 422)
        assert status in allowed, f"{where}: answered {status}"
        after = stored_state()
        if status in (409, 422):
            conflict = status == 409
            assert check_refusal(response, fields, body, valid, url, conflict=conflict) == [], where
        if card and status in (303, 422):
            errors = scan(response.get_data(as_text=True), url).errors if status == 422 else set()
            assert check_card(card, card_before, fields, body, before, errors) == [], where
        elif status == 303:
            assert check_success(endpoint, fields, body, before, visitors, role) == [], where
        else:
            assert after == before, f"{where}: a refused request stored something"
        if after != before:
            visitors.rebuild()

    run()


# -- named hostile values on the meeting, read-along, schedule and settings forms ---------------------

NUL_MESSAGE = "Remove the invisible NUL character"
# (endpoint, which of its POST cases, field, value, what the message next to the field says)
NAMED = [
    ("meetings.save", 0, "next_step", "x" * 501, "500 characters or fewer"),
    ("meetings.save", 0, "next_step", "a\x00b", NUL_MESSAGE),
    ("meetings.save", 0, "notes", "\x00", NUL_MESSAGE),
    ("meetings.save", 0, "projection_date", "0000-00-00", "Enter a date"),
    ("meetings.save", 0, "projection_date", "9999-12-31", "within five years"),
    ("meetings.save", 0, "projection_date", "2001-01-01", "on or after the meeting"),
    ("meetings.save", 0, "projection_date", "2024-02-30", "Enter a date"),
    ("meetings.save", 1, "projection_date", "9999-12-31", "within five years"),
    ("live.save_note", 0, "text", "n" * 5001, "at most 5000 characters"),
    ("live.save_note", 0, "text", "a\x00b", NUL_MESSAGE),
    ("live.park", 0, "text", "", "Write down the topic"),
    ("live.park", 0, "text", "\x00", NUL_MESSAGE),
    ("live.field_list", 0, "text", "t" * 501, "at most 500 characters"),
    ("schedule.cadence", 0, "starts_on", "0000-00-00", "Not a valid date"),
    ("schedule.cadence", 0, "starts_on", "9999-12-31", "within a year"),
    ("schedule.cadence", 0, "starts_on", "0001-01-01", "within a year"),
    ("schedule.cadence", 0, "timezone", "Mars/Olympus_Mons", "Not a valid choice"),
    ("schedule.cadence", 0, "timezone", "Europe/Berlin\x00", NUL_MESSAGE),
    ("schedule.cadence", 0, "minutes", "60", "Not a valid choice"),
    ("schedule.cadence", 0, "local_time", "25:00", "Not a valid time"),
    ("schedule.reschedule", 0, "new_date", "9999-12-31", "within a year"),
    ("schedule.reschedule", 0, "new_date", "0001-01-01", "has passed"),
    ("schedule.reschedule", 0, "new_date", "0000-00-00", "Not a valid date"),
    ("schedule.reschedule", 0, "reason", "", "Say why the meeting moves"),
    ("schedule.reschedule", 0, "reason", "r" * 501, "Keep the reason to 500"),
    ("schedule.reschedule", 0, "reason", "moved\x00", NUL_MESSAGE),
    ("settings.index", 0, "timezone", "Not/A_Zone", "Not a valid choice"),
    ("settings.index", 0, "timezone", "UTC\x00", NUL_MESSAGE),
    ("settings.index", 0, "timezone", "", "Choose your time zone"),
    ("settings.index", 0, "paper_size", "A5", "Not a valid choice"),
]
HTMX_FORMS = {"meetings.save", "live.save_note", "live.park"}


def post_case(endpoint: str, index: int):
    return [case for case in ROUTES[endpoint] if case.method == "POST"][index]


@pytest.mark.parametrize(("endpoint", "index", "name", "value", "message"), NAMED)
def test_named_hostile_values_are_refused_on_their_field(app, tally, endpoint, index, name, value, message):
    """Each value: 422, its message next to its field, the rest shown back, nothing stored (a card: no refused field).

    An htmx answer is a fragment for the page's target: the card's errors swap in by their ids; a
    read-along form's fragment fills the status element its field's aria-describedby names (checked
    on the whole page, the first round).
    """
    visitors = Visitors(app)
    case = post_case(endpoint, index)
    role = best_role(case)
    for headers in ({}, {"HX-Request": "true"}) if endpoint in HTMX_FORMS else ({},):
        client, token = visitors.client(role)
        visitors.forget(role)
        valid = case.form(visitors.world)
        fields = [(field, value if field == name else sent) for field, sent in valid.items()]
        with app.test_request_context():
            url = case.url(visitors.world, endpoint)
        card = case.args["review_id"](visitors.world) if endpoint in SAVED_BY_FIELD else None
        card_before = card_as_stored(db.session.get(AccountReview, card)) if card else None
        before = stored_state()
        sent = encode(fields, "urlencoded", token)
        response = client.post(url, csrf=False, headers=headers | sent.pop("headers", {}), **sent)
        tally["hostile: form inputs tried"] += 1
        where = f"{endpoint} {name}={value[:20]!r} {headers}"
        assert response.status_code == 422, f"{where}: {response.status_code}"
        page = response.get_data(as_text=True)
        assert message in page, where
        if not headers or endpoint in SAVED_BY_FIELD:
            assert name in scan(page, url).errors, f"{where}: the message is not next to {name}"
        if not headers:
            assert check_refusal(response, fields, "urlencoded", valid, url) == [], where
        if card:
            assert check_card(card, card_before, fields, "urlencoded", before, {name}) == [], where
        else:
            assert stored_state() == before, f"{where}: a refused request stored something"
        visitors.rebuild()


def test_far_but_valid_dates_and_time_zones_break_no_page(app, tally):
    """The furthest dates each form accepts, in the time zones furthest from UTC: every page still answers."""
    visitors = Visitors(app)
    w = visitors.world
    owner, owner_token = visitors.client("owner")
    manager, manager_token = visitors.client("manager")
    meeting_day = w.running_meeting.scheduled_at.date()
    far = {"projection_date": (meeting_day + timedelta(days=5 * 366)).isoformat()}
    posts = [
        (owner, "/settings", {"timezone": "Pacific/Kiritimati", "paper_size": "Letter"}),
        (manager, "/settings", {"timezone": "Pacific/Pago_Pago", "paper_size": "A4"}),
        (owner, f"/meetings/{w.running_meeting.id}/reviews/{w.running_review.id}", card_form(w) | far),
        (owner, f"/meetings/{w.meeting.id}/reschedule", reschedule_form(w) | {"new_date": "", "new_time": "23:59"}),
        (owner, f"/meetings/{w.running_meeting.id}/finish", {}),
        (manager, f"/team/{w.owner.id}/cadence", cadence_form(w) | {"timezone": "Pacific/Kiritimati"}),
    ]
    today = datetime.now(UTC).date()
    posts[3][2]["new_date"] = (today + timedelta(days=366)).isoformat()
    posts[5][2]["starts_on"] = (today + timedelta(days=366)).isoformat()
    for client, url, data in posts:
        token = owner_token if client is owner else manager_token
        response = client.post(url, data={"csrf_token": token, **data}, csrf=False)
        tally["hostile: form inputs tried"] += 1
        assert response.status_code == 303, f"{url}: {response.status_code}"
    problems = []
    for endpoint, case in every_case():
        if case.method != "GET":
            continue
        for role in ("owner", "manager"):
            with app.test_request_context():
                response = visitors.send(endpoint, case, role)
            if response.status_code >= 500:
                problems.append(f"{endpoint} as {role}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_posts_without_a_form_ignore_extra_fields(app, tally):
    """Buttons (sign out, archive, restore) with hostile extra fields: the same answer, nothing assigned."""
    visitors = Visitors(app)
    for endpoint, cases in ROUTES.items():
        for case in cases:
            role = best_role(case)
            if case.method != "POST" or case.form or role is None:
                continue
            client, token = visitors.client(role)
            visitors.forget(role)
            with app.test_request_context():
                url = case.url(visitors.world, endpoint)
            extras = {"owner_id": "1", "is_admin": "1", "role": "manager", "archived_at": "0000-00-00", "id": "-1"}
            before = who_is_who()
            response = client.post(url, data={"csrf_token": token, **extras}, csrf=False)
            tally["hostile: form inputs tried"] += 1
            assert response.status_code == 303, f"{endpoint}: {response.status_code}"
            assert who_is_who() == before, f"{endpoint}: an extra field changed a user"
            visitors.rebuild()


def who_is_who() -> list[tuple]:
    return [
        (user.id, user.role, user.is_admin, user.manager_id)
        for user in db.session.scalars(select(User).order_by(User.id))
    ]


BAD_IDS = ["-1", "0", str(MAX_ID + 1), str(2**63), "9" * 30, "abc", "1.5", "1e3", "%00", "%ff", "\uff11"]


def test_negative_huge_and_odd_ids_in_urls_are_404(app, tally):
    """Every rule with an id in it, every bad id, GET and POST, as the owner and their manager: never a 500."""
    visitors = Visitors(app)
    problems = []
    for rule in app.url_map.iter_rules():
        if "<" not in rule.rule or rule.endpoint == "static":
            continue
        for bad in BAD_IDS:
            url = rule.rule
            for argument in rule.arguments:
                url = url.replace(f"<int:{argument}>", bad)
            for role in ("owner", "manager"):
                client, token = visitors.client(role)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    if method == "GET":
                        response = client.get(url)
                    else:
                        response = client.post(url, data={"csrf_token": token}, csrf=False)
                    tally["hostile: odd ids in URLs tried"] += 1
                    # A full-width digit is a digit to werkzeug ("１" is 1): any answer but a 500 will do.
                    if response.status_code not in (404, 405) and bad != "\uff11":
                        problems.append(f"{method} {url} as {role}: {response.status_code}")
                    if response.status_code >= 500:
                        problems.append(f"{method} {url} as {role}: server error")
    assert not problems, "\n".join(problems)


def test_huge_text_is_refused_on_its_field_or_with_413_never_stored(client, auth, factory):
    auth.login(factory.user("seller"))
    fields = {"name": "Huge", "kind": "key", "notes": "n" * 600_000}
    typed = client.post("/accounts/new", data=fields)
    assert typed.status_code == 422
    assert '<p class="error" id="notes-error">Field cannot be longer than 5000 characters.</p>' in typed.get_data(
        as_text=True
    )
    # In a multipart body a text field over MAX_FORM_MEMORY_SIZE (500 KB) is refused whole.
    uploaded = client.post("/accounts/new", csrf=False, **multipart({"csrf_token": client.csrf_token(), **fields}, {}))
    assert uploaded.status_code == 413
    assert "typed text up to 500 KB" in uploaded.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None


def test_raw_invalid_utf8_in_a_form_body_is_a_clear_400_not_a_500(client, auth, factory):
    """Browsers percent-encode form bodies; raw bytes make werkzeug drop the whole form (so the CSRF token)."""
    auth.login(factory.user("seller"))
    body = b"csrf_token=" + client.csrf_token().encode() + b"&name=\xff\xfe&kind=key"
    response = client.post("/accounts/new", data=body, content_type="application/x-www-form-urlencoded", csrf=False)
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None


def test_a_body_over_max_content_length_is_413_with_the_error_page(client, auth, factory):
    auth.login(factory.user("seller"))
    upload = multipart({"csrf_token": client.csrf_token()}, {"file": (b"name,kind\n" + b"a" * (3 << 20), "x.csv")})
    response = client.post("/accounts/import", csrf=False, **upload)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than FocusWeb accepts (a file up to 2 MB" in page and "<h1>Too large</h1>" in page


# -- CSV files -------------------------------------------------------------------------------------


def import_file(client, content: bytes, token: str):
    return client.post("/accounts/import", csrf=False, **multipart({"csrf_token": token}, {"file": (content, "x.csv")}))


@pytest.fixture
def seller_client(client, auth, factory):
    seller = factory.user("seller")
    auth.login(seller)
    return client, seller


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,kind\nCafé,key\n".encode("latin-1"), "not a UTF-8 CSV text file"),
        ("name,kind\nCafé,key\n".encode("utf-16"), "not a UTF-8 CSV text file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a UTF-8 CSV text file"),
        (b"PK\x03\x04" + b"\x14\x00" * 200, "not a UTF-8 CSV text file"),
        (b"name,kind\n" + b'"unterminated,key\n' + b"x" * 200_000, "could not be read as CSV"),
    ],
    ids=["latin-1", "utf-16", "png", "zip", "huge-cell"],
)
def test_unreadable_csv_is_refused_with_a_clear_message(seller_client, content, message, tally):
    client, seller = seller_client
    response = import_file(client, content, client.csrf_token())
    tally["hostile: CSV files tried"] += 1
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None


def test_100k_rows_are_refused_fast_with_a_clear_message(seller_client, tally):
    client, seller = seller_client
    rows = "".join(f"A{n},key\n" for n in range(100_000))
    content = ("name,kind\n" + rows).encode()
    assert len(content) < 2 << 20, "fits the upload limit, so the row limit is what refuses it"
    started = time.perf_counter()
    response = import_file(client, content, client.csrf_token())
    elapsed = time.perf_counter() - started
    tally["hostile: CSV files tried"] += 1
    assert response.status_code == 422
    assert "The file has more than 5000 rows; import it in parts." in response.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None
    print(f"100k-row CSV refused in {elapsed:.2f} s")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t=", " =", "=HYPERLINK"])
def test_formula_names_are_refused_row_by_row(seller_client, start, tally):
    client, seller = seller_client
    content = f"name,kind\nGood Co,key\n\"{start}cmd|' /C calc'!A0\",target\n".encode()
    response = import_file(client, content, client.csrf_token())
    tally["hostile: CSV files tried"] += 1
    assert response.status_code == 422
    assert "Line 3: A name cannot start with =, +, - or @" in response.get_data(as_text=True)
    assert db.session.scalar(select(Account)) is None


CELL = st.one_of(st.sampled_from(SPECIAL[:28] + ["key", "target", "Key account"]), TEXT)


@st.composite
def csv_file(draw) -> bytes:
    header = draw(st.permutations(["name", "kind", "notes", draw(st.sampled_from(["", "owner", "NAME"]))]))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=5), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8", "surrogatepass")
    return draw(st.sampled_from([data, data, b"\xef\xbb\xbf" + data, data + draw(HOSTILE_BYTES)]))


def test_random_csv_files_import_all_or_nothing(app, client, auth, factory, tally):
    seller = factory.user("seller")
    auth.login(seller)
    token = client.csrf_token()

    @SETTINGS
    @given(content=csv_file())
    def run(content):
        before = stored_state()
        response = import_file(client, content, token)
        tally["hostile: CSV files tried"] += 1
        assert response.status_code in (303, 422), response.status_code
        if response.status_code == 422:
            assert stored_state() == before
            assert "Nothing was imported" in response.get_data(as_text=True)
        else:
            for account in accounts_after(before):
                assert account.owner_id == seller.id and account.name == " ".join(account.name.split())
                assert not account.name.startswith(("=", "+", "-", "@"))

    run()
