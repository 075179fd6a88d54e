"""Fixtures in the flaskr shape: app, client, runner, plus sign-in and factories.

The schema is built once per run through the migrations (as production builds it); each test
then starts from empty tables. SQLite by default; TEST_DATABASE_URL points the run at PostgreSQL.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from focusweb import cache, create_app
from focusweb.config import engine_options
from focusweb.extensions import db
from focusweb.models import Account, AccountReview, Cadence, Meeting, User
from tests.template_code import SHARED_TEMPLATE_CODE

PASSWORD = "correct horse battery"
CSRF_IN_PAGE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def make_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "FOCUSWEB_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SEND_FILE_MAX_AGE_DEFAULT": 31_536_000,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "10 per minute",
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_USE_TLS": False,
        "MAIL_FROM": "FocusWeb <focusweb@test.invalid>",
        "BASE_URL": "http://localhost",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One database per run, built by the migrations."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "focusweb-test.db")
    app = create_app(make_config(url))
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    for table in tables:
        db.session.execute(text(f"DELETE FROM {table}"))
    if db.engine.dialect.name == "postgresql":
        # What TRUNCATE ... RESTART IDENTITY does, without its cost (tens of ms) on tables this small.
        db.session.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )
    db.session.commit()


class Client(FlaskClient):
    """A test client that sends a CSRF token with each POST, as the browser form would.

    Each request runs in its own app context (its own ``g`` and database session), as in
    production, rather than in the test's; afterwards the test's session forgets what it had
    loaded, so assertions read what the request stored.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        page = self.get("/", follow_redirects=True).get_data(as_text=True)
        match = CSRF_IN_PAGE.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            data = kwargs.setdefault("data", {})
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        return super().post(*args, **kwargs)


@pytest.fixture
def app_config() -> dict:
    """Overrides a test module may replace to configure its app."""
    return {}


@pytest.fixture
def app(database_url, app_config):
    app = create_app(make_config(database_url, **app_config))
    app.test_client_class = Client
    app.jinja_env.bytecode_cache = SHARED_TEMPLATE_CODE  # templates compiled once per run, not per test
    with app.app_context():
        _empty_all_tables()
        cache.clear_all()  # the tables start empty and ids repeat: nothing kept from the test before
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Factory:
    """Rows for tests, with sensible defaults."""

    def __init__(self):
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        return self._count

    def user(self, role="seller", manager=None, email=None, password=PASSWORD, **fields) -> User:
        n = self._next()
        user = User(
            email=email or f"{role}{n}@example.test",
            name=fields.pop("name", f"{role.title()} {n}"),
            role=role,
            manager=manager,
            **fields,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    def team(self, sellers: int = 1) -> tuple[User, list[User]]:
        manager = self.user("manager")
        return manager, [self.user("seller", manager=manager) for _ in range(sellers)]

    def account(self, owner: User, name: str | None = None, kind: str = "key", **fields) -> Account:
        name = name or f"Account {self._next()}"
        account = Account(owner=owner, name=name, name_key=Account.key_for(name), kind=kind, **fields)
        db.session.add(account)
        db.session.commit()
        return account

    def cadence(self, seller: User, **fields) -> Cadence:
        values = dict(
            every_weeks=1,
            weekday=0,
            local_time=time(9, 0),
            timezone=seller.timezone,
            minutes=30,
            starts_on=date.today(),
        )
        values.update(fields)
        cadence = Cadence(seller=seller, manager=seller.manager, **values)
        db.session.add(cadence)
        db.session.commit()
        return cadence

    def meeting(self, seller: User, scheduled_at: datetime | None = None, **fields) -> Meeting:
        scheduled_at = scheduled_at or datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
        meeting = Meeting(
            seller=seller,
            manager=seller.manager,
            scheduled_at=scheduled_at,
            planned_minutes=fields.pop("planned_minutes", 30),
            **fields,
        )
        db.session.add(meeting)
        db.session.commit()
        return meeting

    def review(self, meeting: Meeting, account: Account, **fields) -> AccountReview:
        """The meeting's card for ``account`` with ``fields`` set: the one the cards rule made, or a new one."""
        review = next((card for card in meeting.reviews if card.account_id == account.id), None)
        if review is None:
            review = AccountReview(meeting=meeting, account=account, position=len(meeting.reviews))
            db.session.add(review)
        for name, value in fields.items():
            setattr(review, name, value)
        db.session.commit()
        return review


@pytest.fixture
def factory(app) -> Factory:
    return Factory()


class Auth:
    def __init__(self, client: Client):
        self._client = client

    def login(self, user_or_email, password: str = PASSWORD):
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


# == hardening: counts reported at the end of the run ==
HARDENING_COUNTS = pytest.StashKey[Counter]()


@pytest.fixture(scope="session")
def tally(pytestconfig) -> Counter:
    """Counts the hardening tests report (routes × roles checked, hostile inputs, faults, saves)."""
    return pytestconfig.stash.setdefault(HARDENING_COUNTS, Counter())


def pytest_terminal_summary(terminalreporter, config):
    counts = config.stash.get(HARDENING_COUNTS, None)
    if counts:
        terminalreporter.section("hardening counts")
        for name, count in sorted(counts.items()):
            terminalreporter.write_line(f"{name}: {count}")


def multipart(fields: dict[str, str | bytes], files: dict[str, tuple[bytes, str]]) -> dict:
    """Keyword arguments for ``client.post`` with a multipart body built in memory.

    Werkzeug's test client spools bodies over 500 KB to a temporary file it never closes
    (an unraisable-exception warning, an error under ``filterwarnings = error``).
    """
    boundary = "----FocusWebTestBoundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + (value if isinstance(value, bytes) else value.encode())
        + b"\r\n"
        for name, value in fields.items()
    ]
    for name, (content, filename) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(head.encode() + b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def production_app(monkeypatch, tmp_path, database_url):
    """The app as production builds it from the environment (Secure cookies, HSTS)."""
    monkeypatch.setenv("FOCUSWEB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-" + "x" * 32)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FOCUSWEB_INSTANCE", str(tmp_path))
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    production = create_app()
    yield production
    with production.app_context():
        db.engine.dispose()


@pytest.fixture
def gunicorn_server(tmp_path):
    """``gunicorn_server(database_url)`` starts FocusWeb under gunicorn (2 workers); stopped after the test.

    See tests/durability_support.py (kill_worker, signed_in_client, csrf_from).
    """
    from tests.durability_support import GunicornServer

    servers = []

    def start(database_url: str, workers: int = 2) -> GunicornServer:
        server = GunicornServer(database_url, tmp_path, workers)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# == end hardening ==
