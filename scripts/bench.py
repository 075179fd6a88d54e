#!/usr/bin/env python3
"""FocusWeb under load, as production runs it: ``make bench`` (``scripts/bench.py --help``).

Builds a company with ``flask --app wsgi seed-scale`` (cached per seed and size: instance/bench-*.db for
SQLite, template databases next to ``--pg-url`` for PostgreSQL; each run works on a fresh copy), starts
gunicorn with the flags of ``make run`` (2 sync workers, --keep-alive 5, --max-requests with jitter,
FOCUSWEB_ENV=production), signs in simulated sellers and managers, and prints per endpoint requests/s,
p50/p95/p99 server time, and errors. Beside them: the same gunicorn answering /healthz and a static
file of the size of the meeting page, the limit of the stack, and each page's ratio to it. Then the
seller's home, the account history and the team view on 1 month, 1 year and 2 years of history.

Why our own client on httpx rather than locust: httpx is already a test dependency, while locust brings
gevent, Flask and a web UI of its own; and the figure that matters is the app's own time per request,
which the app reports in its ``Server-Timing`` header (focusweb/timing.py). Reading it per response
keeps the client's own CPU (it shares the 2 cores with the server) out of the server times; requests/s
is what the whole machine does, client included, for the pages and for the limit alike.

Endpoints that are not built yet are listed as "n/a (not built yet)": an endpoint is run only when the
app has a route for it. Wiring a new one is a line in ENDPOINTS (or a step in meeting_scenario).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from math import ceil
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from focusweb.scale import SCALE_PASSWORD, ScaleSize  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/focusweb_bench"
CLIENT_PROCESSES = 2
NEXT_STEP_LABEL = "What is your next step with this account?"
PROJECTION_LABEL = "What is your projection date to get this accomplished?"


@dataclass(frozen=True)
class Profile:
    """How much data, how many users and how long each measurement runs."""

    size: ScaleSize
    history_weeks: tuple[int, ...]  # data sets for "cost as work grows"
    history_labels: tuple[str, ...]
    users: int
    seconds: float
    history_users: int
    history_seconds: float


FULL = Profile(ScaleSize(20, 10, 25, 104), (4, 52, 104), ("1 month", "1 year", "2 years"), 25, 6.0, 10, 4.0)
QUICK = Profile(ScaleSize(2, 5, 25, 8), (1, 4, 8), ("1 week", "4 weeks", "8 weeks"), 8, 0.8, 3, 0.4)


# -- what is measured -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One request a simulated user repeats. ``path`` is formatted with the user's ids (see VUser.ids)."""

    label: str
    who: str  # "anon", "seller" or "manager"
    method: str
    path: str
    target: str = ""  # the SPEC.md quality target it is held to, shown beside it
    submit: str = ""  # for POST: the button of the form to send, found on the page at ``path``


ENDPOINTS = [
    Endpoint("seller home", "seller", "GET", "/"),
    Endpoint("accounts", "seller", "GET", "/accounts"),
    Endpoint("account edit", "seller", "GET", "/accounts/{account_id}/edit"),
    Endpoint("save account (POST)", "seller", "POST", "/accounts/{account_id}/edit", submit="Save account"),
    Endpoint("team", "manager", "GET", "/team"),
    Endpoint("a seller's accounts (manager)", "manager", "GET", "/team/{seller_id}/accounts"),
    Endpoint("meeting page", "seller", "GET", "/meetings/{meeting_id}", target="p95 <= 30 ms, >= 1/3 of limit"),
    Endpoint("read-along page", "manager", "GET", "/meetings/{meeting_id}/live"),
    # After the merge, e.g.:
    # Endpoint("read-along poll", "manager", "GET", "/meetings/{meeting_id}/<poll path>"),
    # Endpoint("account history", "seller", "GET", "/accounts/{account_id}/<history path>"),
    # Endpoint("my next steps", "seller", "GET", "/<next steps path>"),
    # Endpoint("schedule", "manager", "GET", "/<schedule path>"),
]
# The meeting's own steps, run once per seller by meeting_scenario (each meeting can start only once).
SCENARIO_STEPS = [
    ("start meeting", "POST /meetings/<id>/start", ""),
    ("autosave", "POST (the card's autosave)", "p95 <= 30 ms, >= 1/2 of limit"),
    ("next account", "POST (card form)", ""),
    ("finish meeting", "POST /meetings/<id>/finish", ""),
    ("recap PDF", "GET /meetings/<id>/recap.pdf", "<= 1.5 s for 30 accounts"),
    ("read-along delay", "save -> manager sees it", "p95 <= 1.5 s"),
]
# Cost as work grows: (label, who, path) on each history data set.
HISTORY_PAGES = [
    ("seller home", "seller", "/"),
    ("account history", "seller", "/accounts/{account_id}/history"),  # the path is a guess until it is built
    ("team", "manager", "/team"),
]


# -- the simulated users ----------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method, fields (name -> value), buttons, and each field's label."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.labels: dict[str, str] = {}  # input id -> label text
        self._form: dict | None = None
        self._label_for: str | None = None
        self._label_text = ""
        self._button: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").upper()}
            self._form.update(fields={}, ids={}, buttons=[], radios={})
            self.forms.append(self._form)
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), ""
        elif self._form is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                self._form["radios"].setdefault(a["name"], a.get("value"))
                if "checked" in a:
                    self._form["radios"][a["name"]] = a.get("value")
            elif kind != "checkbox" or "checked" in a:
                self._form["fields"][a["name"]] = a.get("value") or ""
            self._form["ids"][a.get("id")] = a["name"]
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""
            self._form["ids"][a.get("id")] = a["name"]
        elif self._form is not None and tag == "button":
            self._button = ""

    def handle_data(self, data):
        if self._label_for is not None:
            self._label_text += data
        if self._button is not None:
            self._button += data
        if self._textarea is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = " ".join(self._label_text.split())
            self._label_for = None
        elif tag == "button" and self._button is not None:
            self._form["buttons"].append(" ".join(self._button.split()))
            self._button = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def form_with_button(html: str, button: str) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """(method, action, fields with their current values, label -> field name) of the form with this button."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if button in form["buttons"]:
            fields = dict(form["fields"]) | {k: v for k, v in form["radios"].items() if v is not None}
            by_label = {parser.labels[i]: name for i, name in form["ids"].items() if i in parser.labels}
            return form["method"], form["action"], fields, by_label
    raise LookupError(f"no form with a {button!r} button")


@dataclass
class Sample:
    label: str
    ok: bool
    server_ms: float | None
    wall_ms: float


class VUser:
    """One signed-in person with their own connection pool and the ids their URLs need."""

    CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')

    def __init__(self, base: str, email: str | None, ids: dict):
        self.email, self.ids = email, ids
        self.http = httpx.Client(base_url=base, timeout=30.0, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.csrf)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        # Production cookies are Secure; this client speaks plain HTTP on the loopback, so it keeps them itself.
        self.cookies.update(response.cookies.items())
        self.http.cookies.clear()
        return response

    def sign_in(self) -> None:
        page = self.send("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        answer = self.send(
            "POST", "/login", data={"csrf_token": token, "email": self.email, "password": SCALE_PASSWORD}
        )
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in of {self.email} answered {answer.status_code}")
        home = self.send("GET", "/")
        if home.status_code == 303:
            home = self.send("GET", home.headers["location"])
        self.csrf = self.CSRF.search(home.text).group(1)

    def reconnect(self) -> None:
        """A connection pool of its own (in a forked client process)."""
        self.http = httpx.Client(base_url=self.http.base_url, timeout=30.0, follow_redirects=False)

    def close(self) -> None:
        self.http.close()


def server_ms(response: httpx.Response) -> float | None:
    match = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
    return float(match.group(1)) if match else None


def timed(user: VUser, label: str, method: str, path: str, expect: tuple[int, ...], **kwargs) -> Sample:
    started = time.perf_counter()
    try:
        response = user.send(method, path, **kwargs)
        response.read()
    except httpx.HTTPError:
        return Sample(label, False, None, (time.perf_counter() - started) * 1000)
    wall = (time.perf_counter() - started) * 1000
    return Sample(label, response.status_code in expect, server_ms(response), wall)


def hammer(users: list[VUser], request: Callable[[VUser], Sample], seconds: float) -> tuple[list[Sample], float]:
    """Every user repeats ``request`` for ``seconds`` on its own thread, spread over CLIENT_PROCESSES processes.

    One Python process cannot keep a 2-worker gunicorn busy on its own (the GIL); forked processes can.
    Every user makes two warm-up requests, then all start together.
    """
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    ready = context.Barrier(len(users))
    groups = [users[i::CLIENT_PROCESSES] for i in range(CLIENT_PROCESSES)]
    processes = [
        context.Process(target=_client_process, args=(group, request, ready, seconds, results))
        for group in groups
        if group
    ]
    for process in processes:
        process.start()
    samples = [sample for _ in processes for sample in results.get()]
    for process in processes:
        process.join()
    return samples, seconds


def _client_process(users: list[VUser], request, ready, seconds: float, results) -> None:
    samples: list[Sample] = []
    lock = threading.Lock()

    def loop(user: VUser) -> None:
        user.reconnect()
        for _ in range(2):
            request(user)
        ready.wait(timeout=300)
        deadline = time.monotonic() + seconds
        mine = []
        while time.monotonic() < deadline:
            mine.append(request(user))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=loop, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(samples)


# -- figures --------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, ceil(share * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Row:
    label: str
    request: str
    rate: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int = 0
    count: int = 0
    note: str = ""
    target: str = ""

    @classmethod
    def of(cls, label, request, samples, seconds, target="") -> Row:
        times = [s.server_ms for s in samples if s.server_ms is not None]
        return cls(
            label,
            request,
            len(samples) / seconds if seconds else None,
            percentile(times, 0.50),
            percentile(times, 0.95),
            percentile(times, 0.99),
            sum(not s.ok for s in samples),
            len(samples),
            target=target,
        )


def print_table(title: str, rows: list[Row], limit: float | None) -> None:
    print(f"\n{title}")
    head = f"  {'endpoint':<31} {'request':<34} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}"
    print(head + ("  of limit" if limit else ""))
    for row in rows:
        start = f"  {row.label:<31} {row.request:<34} "
        if row.note:
            print(start + row.note + (f"   [target: {row.target}]" if row.target else ""))
            continue
        ratio = f"  {row.rate / limit:8.2f}" if limit and row.rate else ""
        line = f"{row.rate:7.0f} {row.p50:7.1f} {row.p95:7.1f} {row.p99:7.1f} {row.errors:6d}{ratio}"
        print(start + line + (f"   [target: {row.target}]" if row.target else ""))


# -- data sets and the server ------------------------------------------------------------------------------


def dataset_key(seed: int, size: ScaleSize) -> str:
    return f"s{seed}_m{size.managers}x{size.sellers_per_manager}_a{size.accounts}_w{size.weeks}"


def _flask(database_url: str, *args: str) -> None:
    env = os.environ | {"FOCUSWEB_ENV": "development", "DATABASE_URL": database_url}
    env["FOCUSWEB_INSTANCE"] = tempfile.mkdtemp(prefix="focusweb-bench-")
    try:
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{error.stderr.decode()[-2000:]}") from None
    finally:
        shutil.rmtree(env["FOCUSWEB_INSTANCE"], ignore_errors=True)


def _seed_args(seed: int, size: ScaleSize) -> list[str]:
    return [
        "seed-scale",
        f"--seed={seed}",
        f"--managers={size.managers}",
        f"--sellers-per-manager={size.sellers_per_manager}",
        f"--accounts={size.accounts}",
        f"--weeks={size.weeks}",
    ]


class SQLiteData:
    name = "sqlite"

    def __init__(self, workdir: Path):
        self.workdir = workdir

    @contextlib.contextmanager
    def copy_of(self, seed: int, size: ScaleSize) -> Iterator[str]:
        """A fresh copy of the cached data set (built first if needed): each run may change it."""
        cached = ROOT / "instance" / f"bench-{dataset_key(seed, size)}.db"
        if not cached.exists():
            started = time.perf_counter()
            building = cached.with_suffix(".building")
            building.unlink(missing_ok=True)
            url = f"sqlite:///{building}"
            _flask(url, "db", "upgrade")
            _flask(url, *_seed_args(seed, size))
            building.rename(cached)
            print(f"  built {cached.name} in {time.perf_counter() - started:.1f} s", flush=True)
        copy = self.workdir / "run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(cached, copy)
        yield f"sqlite:///{copy}"


class PostgresData:
    """Each data set is a database ``<base>_<key>``, used as the template of the run's ``<base>_run``."""

    name = "postgres"

    def __init__(self, url: str):
        self.url = url
        self.base = url.rsplit("/", 1)[1].split("?")[0]
        self.server = url.rsplit("/", 1)[0]

    def _admin(self, *statements: str) -> list:
        import psycopg

        plain = self.server.replace("+psycopg", "") + "/postgres"
        with psycopg.connect(plain, autocommit=True) as connection:
            results = []
            for statement in statements:
                cursor = connection.execute(statement)
                results.append(cursor.fetchall() if statement.startswith("SELECT") else None)
            return results

    @contextlib.contextmanager
    def copy_of(self, seed: int, size: ScaleSize) -> Iterator[str]:
        cached = f"{self.base}_{dataset_key(seed, size)}"
        run = f"{self.base}_run"
        exists = self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{cached}'")[0]  # noqa: S608
        if not exists:
            started = time.perf_counter()
            building = f"{self.base}_building"
            self._admin(f"DROP DATABASE IF EXISTS {building}", f"CREATE DATABASE {building}")
            url = f"{self.server}/{building}"
            _flask(url, "db", "upgrade")
            _flask(url, *_seed_args(seed, size))
            self._admin(f"ALTER DATABASE {building} RENAME TO {cached}")
            print(f"  built database {cached} in {time.perf_counter() - started:.1f} s", flush=True)
        self._admin(
            f"DROP DATABASE IF EXISTS {run} WITH (FORCE)", f"CREATE DATABASE {run} TEMPLATE {cached} STRATEGY FILE_COPY"
        )
        try:
            yield f"{self.server}/{run}"
        finally:
            self._admin(f"DROP DATABASE IF EXISTS {run} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(database_url: str, port: int, instance: Path) -> Iterator[str]:
    """The app as ``make run`` serves it, in production mode."""
    env = os.environ | {
        "FOCUSWEB_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "FOCUSWEB_INSTANCE": str(instance),
        # Every simulated user signs in from 127.0.0.1: lift the per-address sign-in limit for the run.
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }
    command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--keep-alive", "5"]
    command += ["--max-requests", "1000", "--max-requests-jitter", "100", "--access-logfile", "-", "wsgi:app"]
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 -- closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped: see {instance / 'gunicorn.log'}")
            time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer /healthz within 20 s")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# -- who signs in -------------------------------------------------------------------------------------------


def people(base: str, database_url: str, sellers: int, size: ScaleSize) -> dict[str, list[VUser]]:
    """The first ``sellers`` sellers, spread over the teams, and their managers, signed in, with their ids."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    per_team = size.sellers_per_manager
    numbers = [1 + (i % size.managers) * per_team + i // size.managers for i in range(min(sellers, size.sellers))]
    users: dict[str, list[VUser]] = {"seller": [], "manager": [], "anon": []}
    with engine.connect() as connection:
        for number in numbers:
            email = f"seller{number}@scale.test"
            seller_id, manager_id = connection.execute(
                text("SELECT id, manager_id FROM users WHERE email = :e"), {"e": email}
            ).one()
            account_id = connection.execute(
                text("SELECT min(id) FROM accounts WHERE owner_id = :s"), {"s": seller_id}
            ).scalar()
            meeting_id = connection.execute(
                text("SELECT max(id) FROM meetings WHERE seller_id = :s AND started_at IS NULL"), {"s": seller_id}
            ).scalar()
            ids = {"seller_id": seller_id, "manager_id": manager_id, "account_id": account_id, "meeting_id": meeting_id}
            users["seller"].append(VUser(base, email, ids))
            manager_email = connection.execute(
                text("SELECT email FROM users WHERE id = :m"), {"m": manager_id}
            ).scalar()
            users["manager"].append(VUser(base, manager_email, ids))
    engine.dispose()
    # One sign-in per person (a manager appears once per seller of theirs); the copies share its session.
    first: dict[str, VUser] = {}
    for user in users["seller"] + users["manager"]:
        first.setdefault(user.email, user)
    threads = [threading.Thread(target=user.sign_in) for user in first.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for user in users["seller"] + users["manager"]:
        user.cookies, user.csrf = dict(first[user.email].cookies), first[user.email].csrf
    users["anon"] = [VUser(base, None, {}) for _ in numbers]
    return users


def close_all(users: dict[str, list[VUser]]) -> None:
    for group in users.values():
        for user in group:
            user.close()


# -- the measurements ---------------------------------------------------------------------------------------


def built(method: str, path: str) -> bool:
    """Does the app have a route for this request? (Answers from the app's URL map, not by trying it.)"""
    adapter = _url_map().bind("127.0.0.1")
    sample = re.sub(r"\{[a-z_]+\}", "1", path)
    try:
        adapter.match(sample, method=method)
    except Exception:  # noqa: BLE001 -- NotFound or MethodNotAllowed: not built
        return False
    return True


_MAP = []


def _url_map():
    if not _MAP:
        os.environ.setdefault("FOCUSWEB_INSTANCE", tempfile.mkdtemp(prefix="focusweb-bench-map-"))
        with _env(FOCUSWEB_ENV="testing", DATABASE_URL="sqlite://"):
            from focusweb import create_app

            _MAP.append(create_app().url_map)
    return _MAP[0]


@contextlib.contextmanager
def _env(**values):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def endpoint_request(endpoint: Endpoint) -> Callable[[VUser], Sample]:
    """A request function for an endpoint; a POST sends the form it found on its page the first time."""
    if endpoint.method == "GET":

        def get(user: VUser) -> Sample:
            return timed(user, endpoint.label, "GET", endpoint.path.format(**user.ids), (200,))

        return get

    forms: dict[int, tuple] = {}

    def post(user: VUser) -> Sample:
        path = endpoint.path.format(**user.ids)
        if id(user) not in forms:
            forms[id(user)] = form_with_button(user.send("GET", path).text, endpoint.submit)
        method, action, fields, _ = forms[id(user)]
        return timed(user, endpoint.label, method, action or path, (200, 303), data=fields)

    return post


def measure_endpoints(base: str, users, profile: Profile, static_path: str, static_size: int) -> list[Row]:
    rows = []
    limit_rows = [
        ("limit: trivial response", "GET /healthz", "/healthz"),
        (f"limit: static file {static_size / 1024:.1f} KB", "GET /static/... (meeting-page size)", static_path),
    ]
    for label, request, path in limit_rows:
        samples, seconds = hammer(
            users["anon"], lambda u, p=path, lb=label: timed(u, lb, "GET", p, (200,)), profile.seconds
        )
        rows.append(Row.of(label, request, samples, seconds))
    for endpoint in ENDPOINTS:
        request = f"{endpoint.method} {endpoint.path}"
        if not built(endpoint.method, endpoint.path):
            rows.append(Row(endpoint.label, request, note="n/a (not built yet)", target=endpoint.target))
            continue
        samples, seconds = hammer(users[endpoint.who], endpoint_request(endpoint), profile.seconds)
        rows.append(Row.of(endpoint.label, request, samples, seconds, endpoint.target))
    return rows


def meeting_scenario(base: str, users, profile: Profile) -> list[Row]:
    """Every seller runs today's whole meeting while the manager reads along. Wired when the screens exist."""
    if not built("POST", "/meetings/{meeting_id}/start"):
        return [
            Row(label, request, note="n/a (not built yet)", target=target) for label, request, target in SCENARIO_STEPS
        ]
    # After the merge: per seller, on its own thread (see hammer for the pattern), time with timed():
    #   home -> form_with_button(home, "Start meeting") -> POST it;
    #   per card: the autosave request(s) of the card's fields, then form_with_button(card, "Next account")
    #     filled through its label map: NEXT_STEP_LABEL -> a step, PROJECTION_LABEL -> a date, and POST it;
    #   form_with_button(page, "Finish meeting") -> POST it; GET /meetings/<id>/recap.pdf.
    # and per manager: GET the live view, poll it; the read-along delay is the time from a seller's save
    # to the first poll answer that shows the saved text.
    raise NotImplementedError("the meeting screens are built: wire meeting_scenario (scripts/bench.py)")


def history_cells(users, profile: Profile) -> dict[str, str]:
    """One column of the history table: each HISTORY_PAGES page's server time on the running server."""
    cells = {}
    for label, who, path in HISTORY_PAGES:
        if not built("GET", path):
            cells[label] = "n/a (not built yet)"
            continue
        group = users[who][: profile.history_users]
        samples, seconds = hammer(group, endpoint_request(Endpoint(label, who, "GET", path)), profile.history_seconds)
        row = Row.of(label, "", samples, seconds)
        cells[label] = f"p50 {row.p50:5.1f} p95 {row.p95:5.1f} ms ({row.errors} err)"
    return cells


def measure_history(data, args, profile: Profile, workdir: Path, largest: dict[str, str]) -> list[str]:
    """The seller's home, account history and team view on growing history: the figures should stay flat.

    ``largest`` is the column for the full history, measured on the main run's server.
    """
    columns = []
    for weeks in profile.history_weeks[:-1]:
        size = ScaleSize(profile.size.managers, profile.size.sellers_per_manager, profile.size.accounts, weeks)
        with data.copy_of(args.seed, size) as url, gunicorn(url, args.port, workdir) as base:
            users = people(base, url, profile.history_users, size)
            try:
                columns.append(history_cells(users, profile))
            finally:
                close_all(users)
    columns.append(largest)
    lines = [f"  {'page':<18} " + " | ".join(f"{label:<27}" for label in profile.history_labels)]
    for label, _, _ in HISTORY_PAGES:
        lines.append(f"  {label:<18} " + " | ".join(f"{column[label]:<27}" for column in columns))
    return lines


def static_copy_of_meeting_page(base: str, users) -> tuple[str, int, str]:
    """Write the meeting page (or, until it exists, the seller's home) as a static file of the same size."""
    seller = users["seller"][0]
    if built("GET", "/meetings/{meeting_id}"):
        source, html = "meeting page", seller.send("GET", "/meetings/{meeting_id}".format(**seller.ids)).text
    else:
        source, html = "seller home (no meeting page yet)", seller.send("GET", "/").text
    folder = ROOT / "static" / ".bench"
    folder.mkdir(exist_ok=True)
    (folder / "page.html").write_text(html)
    return "/static/.bench/page.html", len(html.encode()), source


def run_database(data, args, profile: Profile, workdir: Path) -> None:
    size = profile.size
    print(
        f"\n=== {data.name}: {size.managers} managers x {size.sellers_per_manager} sellers x {size.accounts} accounts, "
        f"{size.weeks} weeks of meetings (~{size.reviews:,} reviews), seed {args.seed}",
        flush=True,
    )
    with data.copy_of(args.seed, size) as url, gunicorn(url, args.port, workdir) as base:
        users = people(base, url, profile.users, size)
        try:
            static_path, static_size, source = static_copy_of_meeting_page(base, users)
            rows = measure_endpoints(base, users, profile, static_path, static_size)
            # Before the meetings run: they change what the seller's home shows.
            largest_history = history_cells(users, profile)
            rows += meeting_scenario(base, users, profile)
        finally:
            close_all(users)
            shutil.rmtree(ROOT / "static" / ".bench", ignore_errors=True)
    limit = rows[0].rate
    print_table(
        f"{data.name}: {profile.users} concurrent users, gunicorn 2 sync workers, {profile.seconds:g} s per endpoint "
        f"(server time from Server-Timing; static file = {source}, {static_size:,} bytes;"
        " 'of limit' = req/s / /healthz req/s)",
        rows,
        limit,
    )
    print(
        f"\n{data.name}: cost as history grows"
        f" ({profile.history_users} users per page, {profile.history_seconds:g} s each)"
    )
    print("\n".join(measure_history(data, args, profile, workdir, largest_history)), flush=True)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a small company and short runs (under a minute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()
    args.port = args.port or free_port()
    profile = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"FocusWeb bench ({'quick' if args.quick else 'full'}), {os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="focusweb-bench-") as tmp:
        workdir = Path(tmp)
        if args.db in ("sqlite", "both"):
            run_database(SQLiteData(workdir), args, profile, workdir)
        if args.db in ("postgres", "both"):
            try:
                PostgresData(args.pg_url)._admin("SELECT 1")
            except Exception as error:  # noqa: BLE001 -- any connection failure means: skip PostgreSQL
                print(f"\n=== postgres: skipped, {args.pg_url} does not answer ({error.__class__.__name__})")
            else:
                run_database(PostgresData(args.pg_url), args, profile, workdir)
    print(
        f"\nbench finished in {time.perf_counter() - started:.0f} s;"
        f" load average {_load()} (other work on the machine skews the figures)"
    )


if __name__ == "__main__":
    main()
