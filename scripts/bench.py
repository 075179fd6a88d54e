#!/usr/bin/env python3
"""FocusWeb under load, as production runs it: ``make bench`` (``scripts/bench.py --help``).

Builds a company with ``flask --app wsgi seed-scale`` (cached per seed and size: instance/bench-*.db for
SQLite, template databases next to ``--pg-url`` for PostgreSQL; each run works on a fresh copy), starts
gunicorn with the flags of ``make run`` (2 sync workers, --keep-alive 5, --preload, --max-requests with jitter,
FOCUSWEB_ENV=production), signs in simulated sellers and managers, and prints per endpoint requests/s,
p50/p95/p99 server time, and errors. Beside them: the same gunicorn answering /healthz and a static
file of the size of the meeting page, the limit of the stack, and each page's ratio to it, with the CPU
each request cost gunicorn, the client and PostgreSQL (all on the same cores). Then the
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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html.parser import HTMLParser
from math import ceil
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from focusweb.live.views import POLL_SECONDS  # noqa: E402
from focusweb.scale import SCALE_PASSWORD, ScaleSize  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/focusweb_bench"
CLIENT_PROCESSES = 2
WARM_UP = 2  # requests per simulated user before the measured seconds
PDF_EVERY = 5  # on the meeting day, one seller in five downloads the recap PDF; the others read the page
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
    meetings: int  # sellers who run a whole meeting at once (others than the ``users``)
    think: float  # seconds a seller takes between two saves
    ramp: float  # the meetings start spread over this many seconds
    recap_runs: int


# The full run fits in 10 minutes on 2 cores, both databases, once the data sets are built (``Phases`` says
# where the time goes); --quick in a minute, on SQLite unless --db says otherwise.
FULL = Profile(
    ScaleSize(20, 10, 25, 104), (4, 52, 104), ("1 month", "1 year", "2 years"), 25, 3.0, 10, 2.0, 50, 0.2, 10.0, 5
)
QUICK = Profile(ScaleSize(2, 5, 25, 8), (1, 4, 8), ("1 week", "4 weeks", "8 weeks"), 4, 0.5, 3, 0.3, 6, 0.05, 1.0, 1)


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
    typed: str = ""  # for POST: the label of a field that gets new text on every request (autosave)
    htmx: bool = False  # sent as htmx sends it (HX-Request), so a fragment comes back
    poll: bool = False  # GET ``path?v=<version seen>`` as the read-along page polls it: 204 while unchanged


ENDPOINTS = [
    Endpoint("seller home", "seller", "GET", "/"),
    Endpoint("accounts", "seller", "GET", "/accounts"),
    Endpoint("account edit", "seller", "GET", "/accounts/{account_id}/edit"),
    Endpoint("save account (POST)", "seller", "POST", "/accounts/{account_id}/edit", submit="Save account"),
    Endpoint(
        "meeting page (a card)", "seller", "GET", "/meetings/{meeting_id}", target="p95 <= 30 ms, >= 1/3 of limit"
    ),
    Endpoint(
        "autosave (htmx)",
        "seller",
        "POST",
        "/meetings/{meeting_id}",
        target="p95 <= 30 ms, >= 1/2 of limit",
        submit="Next account",
        typed=NEXT_STEP_LABEL,
        htmx=True,
    ),
    Endpoint("my next steps", "seller", "GET", "/next-steps"),
    Endpoint("account history", "seller", "GET", "/accounts/{account_id}/history"),
    Endpoint("team", "manager", "GET", "/team"),
    Endpoint("a seller (manager)", "manager", "GET", "/team/{seller_id}"),
    Endpoint("a seller's accounts (manager)", "manager", "GET", "/team/{seller_id}/accounts"),
    Endpoint("read-along page", "manager", "GET", "/meetings/{meeting_id}/live"),
    Endpoint("read-along poll, no change", "manager", "GET", "/meetings/{meeting_id}/live", htmx=True, poll=True),
    Endpoint("read-along poll, changed", "manager", "GET", "/meetings/{meeting_id}/live?v=0", htmx=True),
    Endpoint("recap page, last meeting", "manager", "GET", "/meetings/{finished_meeting_id}/recap"),
]
# Cost as work grows: (label, who, path) on each history data set.
HISTORY_PAGES = [
    ("seller home", "seller", "/"),
    ("account history", "seller", "/accounts/{account_id}/history"),
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
    status: int | None = None  # None: no answer (connection failed or timed out)


class VUser:
    """One signed-in person with their own connection pool and the ids their URLs need."""

    CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')

    def __init__(self, base: str, email: str | None, ids: dict):
        self.email, self.ids = email, ids
        self.http = httpx.Client(base_url=base, timeout=30.0, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
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
    return timed_response(user, label, method, path, expect, **kwargs)[0]


def timed_response(
    user: VUser, label: str, method: str, path: str, expect: tuple[int, ...], **kwargs
) -> tuple[Sample, httpx.Response | None]:
    """One request, with the app's own time; the response too (None when the connection failed)."""
    started = time.perf_counter()
    try:
        response = user.send(method, path, **kwargs)
        response.read()
    except httpx.HTTPError:
        return Sample(label, False, None, (time.perf_counter() - started) * 1000), None
    wall = (time.perf_counter() - started) * 1000
    ok = response.status_code in expect
    return Sample(label, ok, server_ms(response), wall, response.status_code), response


def hammer(
    users: list[VUser], request: Callable[[VUser], Sample], seconds: float, cpu: CpuMeter | None = None
) -> tuple[list[Sample], float]:
    """Every user repeats ``request`` for ``seconds`` on its own thread, spread over CLIENT_PROCESSES processes.

    One Python process cannot keep a 2-worker gunicorn busy on its own (the GIL); forked processes can.
    Every user makes WARM_UP requests first (not among the samples), then all start together; ``cpu``
    counts from that start to the end.
    """
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    ready = context.Barrier(len(users) + 1)  # the users, and this process to start the meter
    groups = [users[i::CLIENT_PROCESSES] for i in range(CLIENT_PROCESSES)]
    processes = [
        context.Process(target=_client_process, args=(group, request, ready, seconds, results))
        for group in groups
        if group
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    if cpu:
        cpu.begin()
    answers = [results.get() for _ in processes]
    for process in processes:
        process.join()
    samples = [sample for mine, _ in answers for sample in mine]
    if cpu:
        cpu.end(sum(client for _, client in answers), len(samples))
    return samples, seconds


def _client_process(users: list[VUser], request, ready, seconds: float, results) -> None:
    """Puts (samples, this process's CPU seconds from the common start to its last answer)."""
    samples: list[Sample] = []
    lock = threading.Lock()
    started: list[float] = []

    def loop(user: VUser) -> None:
        user.reconnect()
        for _ in range(WARM_UP):
            request(user)
        ready.wait(timeout=300)
        with lock:
            if not started:
                started.append(time.process_time())
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
    results.put((samples, time.process_time() - started[0]))


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
    failed: str = ""  # the errors by status, e.g. "3 x 409"
    cpu: str = ""  # CPU per request: gunicorn / client / database (see CpuMeter)

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
            failed=", ".join(
                f"{count} x {status or 'no answer'}"
                for status, count in Counter(s.status for s in samples if not s.ok).most_common()
            ),
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
        failed = f"   errors: {row.failed}" if row.failed else ""
        cpu = f"   CPU ms/request {row.cpu}" if row.cpu else ""
        print(start + line + cpu + (f"   [target: {row.target}]" if row.target else "") + failed)


class CpuMeter:
    """CPU spent per request while an endpoint is hammered (warm-up excluded): by gunicorn (master, workers,
    recycled workers), by the client processes and by PostgreSQL's processes.

    Why the ratios to the limit are what they are: every process shares the same 2 cores. Linux /proc only;
    elsewhere it measures nothing and the column is left out.
    """

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid
        self.start: tuple[float, float] | None = None
        self.figures = ""

    @classmethod
    def _ticks(cls, pid: int, children: bool) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return used / cls.TICK

    def _now(self) -> tuple[float, float] | None:
        """gunicorn's and PostgreSQL's CPU seconds so far, each with its ended children."""
        if self.server_pid is None or not Path("/proc").is_dir():
            return None
        server = self._ticks(self.server_pid, children=True)
        workers = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
        if workers.exists():
            server += sum(self._ticks(int(pid), children=True) for pid in workers.read_text().split())
        database = 0.0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                        # with its children reaped: a connection's backend that ended counts on the postmaster
                        database += self._ticks(int(entry.name), children=True)
        return server, database

    def begin(self) -> None:
        self.start = self._now()

    def end(self, client_seconds: float, requests: int) -> None:
        end = self._now()
        if self.start is None or end is None or not requests:
            return
        server, database = ((b - a) * 1000 / requests for a, b in zip(self.start, end, strict=True))
        self.figures = f"{server:4.1f} / {client_seconds * 1000 / requests:4.1f} / {database:4.1f}"


# -- data sets and the server ------------------------------------------------------------------------------


def dataset_key(seed: int, size: ScaleSize) -> str:
    """Data sets are built around today (today's meeting is the one the sellers run): one per day."""
    day = date.today().strftime("%Y%m%d")
    return f"s{seed}_m{size.managers}x{size.sellers_per_manager}_a{size.accounts}_w{size.weeks}_d{day}"


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


SERVER_PIDS: dict[str, int] = {}  # gunicorn's master by base URL, for CpuMeter


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
    command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--keep-alive", "5", "--preload"]
    command += ["--max-requests", "5000", "--max-requests-jitter", "500", "--access-logfile", "-", "wsgi:app"]
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 -- closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = process.pid
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


def people(base: str, database_url: str, sellers: int, size: ScaleSize, skip: int = 0) -> dict[str, list[VUser]]:
    """``sellers`` sellers after the first ``skip``, spread over the teams, and their managers, signed in."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    per_team = size.sellers_per_manager
    chosen = range(skip, min(skip + sellers, size.sellers))
    numbers = [1 + (i % size.managers) * per_team + i // size.managers for i in chosen]
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
                # Today's: the earliest not started (visits top up the schedule with later ones).
                text(
                    "SELECT id FROM meetings WHERE seller_id = :s AND started_at IS NULL ORDER BY scheduled_at LIMIT 1"
                ),
                {"s": seller_id},
            ).scalar()
            finished_meeting_id = connection.execute(
                text("SELECT max(id) FROM meetings WHERE seller_id = :s AND finished_at IS NOT NULL"), {"s": seller_id}
            ).scalar()
            ids = {
                "seller_id": seller_id,
                "manager_id": manager_id,
                "account_id": account_id,
                "meeting_id": meeting_id,
                "finished_meeting_id": finished_meeting_id,
            }
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
    # A few at a time: a first visit signs in (a slow hash, on purpose) and may top up the schedule;
    # fifty at once would only queue behind the two workers, past the client's timeout.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(VUser.sign_in, first.values()))
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
    sample = re.sub(r"\{[a-z_]+\}", "1", path.split("?")[0])
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


HX = {"HX-Request": "true"}
VERSION = re.compile(r'name="version" value="(\d+)"')
POLL_VERSION = re.compile(r'id="board-version" name="v" value="(\d+)"')  # what the read-along's poll sends


def endpoint_request(endpoint: Endpoint) -> Callable[[VUser], Sample]:
    """A request function for an endpoint; a POST sends the form it found on its page the first time."""
    headers = HX if endpoint.htmx else {}
    if endpoint.poll:
        seen: dict[int, str] = {}

        def poll(user: VUser) -> Sample:
            path = endpoint.path.format(**user.ids)
            if id(user) not in seen:
                seen[id(user)] = POLL_VERSION.search(user.send("GET", path).text).group(1)
            return timed(user, endpoint.label, "GET", f"{path}?v={seen[id(user)]}", (204,), headers=headers)

        return poll
    if endpoint.method == "GET":

        def get(user: VUser) -> Sample:
            return timed(user, endpoint.label, "GET", endpoint.path.format(**user.ids), (200,), headers=headers)

        return get

    forms: dict[int, tuple] = {}
    typed = [0]

    def post(user: VUser) -> Sample:
        path = endpoint.path.format(**user.ids)
        if id(user) not in forms:
            forms[id(user)] = form_with_button(user.send("GET", path).text, endpoint.submit)
        method, action, fields, by_label = forms[id(user)]
        if endpoint.typed:
            typed[0] += 1
            fields[by_label[endpoint.typed]] = f"Call the buyer about the pilot, take {typed[0]}"
        expect = (200,) if endpoint.htmx else (200, 303)
        sample, response = timed_response(
            user, endpoint.label, method, action or path, expect, data=fields, headers=headers
        )
        # An autosave answers with the card's new version: the next save is based on it, as the page's is.
        if response is not None and (version := VERSION.search(response.text)):
            fields["version"] = version.group(1)
        return sample

    return post


def measure_endpoints(base: str, users, profile: Profile, static_path: str, static_size: int) -> list[Row]:
    rows = []
    limit_rows = [
        ("limit: trivial response", "GET /healthz", "/healthz"),
        (f"limit: static file {static_size / 1024:.1f} KB", "GET /static/... (meeting-page size)", static_path),
    ]
    server_pid = SERVER_PIDS.get(base)
    for label, request, path in limit_rows:
        meter = CpuMeter(server_pid)
        samples, seconds = hammer(
            users["anon"], lambda u, p=path, lb=label: timed(u, lb, "GET", p, (200,)), profile.seconds, meter
        )
        rows.append(replace(Row.of(label, request, samples, seconds), cpu=meter.figures))
    for endpoint in ENDPOINTS:
        request = f"{endpoint.method} {endpoint.path}"
        if not built("GET" if endpoint.submit else endpoint.method, endpoint.path):
            rows.append(Row(endpoint.label, request, note="n/a (not built yet)", target=endpoint.target))
            continue
        meter = CpuMeter(server_pid)
        samples, seconds = hammer(users[endpoint.who], endpoint_request(endpoint), profile.seconds, meter)
        rows.append(replace(Row.of(endpoint.label, request, samples, seconds, endpoint.target), cpu=meter.figures))
    return rows


def start_meetings(sellers: list[VUser]) -> None:
    """Start today's meeting of each seller, so the meeting page and autosave are measured on a running one."""
    for seller in sellers:
        answer = seller.send("POST", "/meetings/{meeting_id}/start".format(**seller.ids))
        if answer.status_code != 303:
            raise SystemExit(f"starting the meeting of {seller.email} answered {answer.status_code}")


@dataclass
class Ack:
    """A save the app acknowledged: what the seller was told is stored on this card."""

    review_id: int
    next_step: str
    projection_date: str


@dataclass
class MeetingRun:
    """What one seller's meeting and their manager's read-along produced."""

    samples: list[Sample]
    acks: dict[int, Ack]  # review id -> the last acknowledged save
    saves: int  # saves acknowledged (autosaves answered 200, cards answered 303)
    delays: list[float]  # seconds from an acknowledged next step to the manager's poll that showed it
    unseen: int  # next steps the manager's view never showed


def run_meeting(seller: VUser, run: MeetingRun, think: float, seen_at: dict[str, float], downloads_pdf: bool) -> None:
    """Home, Start meeting, every card (two autosaves as the answers are typed, then Next account), Finish,
    the summary and the recap (the PDF or the page): the seller's whole meeting as the pages lead through it.
    """

    def step(label, method, path, expect, **kwargs) -> httpx.Response | None:
        sample, response = timed_response(seller, label, method, path, expect, **kwargs)
        run.samples.append(sample)
        if not sample.ok:
            status = response.status_code if response is not None else "no answer"
            raise RuntimeError(f"{seller.email}: {label} {method} {path} answered {status}")
        return response

    home = step("meeting day: seller home", "GET", "/", (200,))
    method, action, fields, _ = form_with_button(home.text, "Start meeting")
    card = step("meeting day: start meeting", method, action, (303,), data=fields)
    page = step("meeting day: card page", "GET", card.headers["location"], (200,))
    for number in range(1, 200):
        method, action, fields, by_label = form_with_button(page.text, "Next account")
        review_id = int(action.rstrip("/").rsplit("/", 1)[1])
        text = f"Pilot kick-off with the plant managers, {seller.email} card {number} {secrets.token_hex(4)}"
        date_input = re.search(r'<input[^>]*name="projection_date"[^>]*>', page.text).group(0)
        due = re.search(r'min="([0-9-]+)"', date_input).group(1)
        due = (date.fromisoformat(due) + timedelta(days=7 + number % 20)).isoformat()
        for name, value in ((by_label[NEXT_STEP_LABEL], text), (by_label[PROJECTION_LABEL], due)):
            fields[name] = value
            saved = step("meeting day: autosave", method, action, (200,), data=fields, headers=HX)
            fields["version"] = VERSION.search(saved.text).group(1)
            run.saves += 1
            run.acks[review_id] = Ack(review_id, text, fields[by_label[PROJECTION_LABEL]] or "")
            if name == by_label[NEXT_STEP_LABEL]:
                seen_at.setdefault(text, time.monotonic())
            time.sleep(think)
        after = step("meeting day: next account", method, action, (303,), data=fields | {"go": "next"})
        run.saves += 1
        if "#finish" in after.headers["location"]:
            break
        page = step("meeting day: card page", "GET", after.headers["location"], (200,))
    method, action, fields, _ = form_with_button(page.text, "Finish meeting")
    done = step("meeting day: finish meeting", method, action, (303,), data=fields)
    summary = step("meeting day: summary", "GET", done.headers["location"], (200,))
    if downloads_pdf:
        recap = re.search(r'href="(/meetings/\d+/recap\.pdf)"', summary.text).group(1)
        step(f"meeting day: recap PDF ({len(run.acks)} accounts)", "GET", recap, (200,))
    else:
        recap = re.search(r'href="(/meetings/\d+/recap)"', summary.text).group(1)
        step("meeting day: recap page", "GET", recap, (200,))


def read_along(manager: VUser, path: str, finished: threading.Event, seen_at: dict[str, float]) -> MeetingRun:
    """The manager's live view as htmx polls it: every POLL_SECONDS on the dot (the poller is not swapped;
    a poll due while one is under way goes once that one is answered), with the board's version; each
    answer that changed is searched for the seller's acknowledged next steps not seen yet."""
    run = MeetingRun([], {}, 0, [], 0)
    page = manager.send("GET", path)
    version = POLL_VERSION.search(page.text).group(1)
    shown: set[str] = set()
    fired = time.monotonic()  # when htmx's timer last fired
    while True:
        last = finished.is_set()
        sample, response = timed_response(
            manager, "meeting day: read-along poll", "GET", f"{path}?v={version}", (200, 204, 286), headers=HX
        )
        run.samples.append(sample)
        if response is not None and response.status_code in (200, 286):
            now = time.monotonic()
            for text, saved_at in list(seen_at.items()):
                if text not in shown and text in response.text:
                    shown.add(text)
                    run.delays.append(now - saved_at)
            if response.status_code == 286:  # the meeting is finished: htmx stops polling
                break
            version = POLL_VERSION.search(response.text).group(1)
        if last:
            break
        fired += POLL_SECONDS
        while fired + POLL_SECONDS <= time.monotonic():  # it fired more than once during a slow answer
            fired += POLL_SECONDS
        time.sleep(max(0.0, fired - time.monotonic()))
    run.unseen = len(set(seen_at) - shown)
    return run


def _scenario_process(pairs, think: float, ramp: float, total: int, results) -> None:
    """Each seller and their manager on threads of their own; seller ``i`` starts at i/total of the ramp."""
    runs: list[MeetingRun] = []
    errors: list[str] = []
    lock = threading.Lock()

    def pair(index: int, seller: VUser, manager: VUser) -> None:
        seller.reconnect()
        manager.reconnect()
        time.sleep(ramp * index / total)
        seen_at: dict[str, float] = {}
        finished = threading.Event()
        watching: list[MeetingRun] = []
        live = "/meetings/{meeting_id}/live".format(**seller.ids)
        watcher = threading.Thread(target=lambda: watching.append(read_along(manager, live, finished, seen_at)))
        watcher.start()
        mine = MeetingRun([], {}, 0, [], 0)
        try:
            run_meeting(seller, mine, think, seen_at, downloads_pdf=index % PDF_EVERY == 0)
        except (RuntimeError, LookupError, AttributeError, KeyError) as error:
            with lock:
                errors.append(f"{error.__class__.__name__}: {error}")
        finished.set()
        watcher.join()
        with lock:
            runs.append(mine)
            runs.extend(watching)

    threads = [threading.Thread(target=pair, args=triple) for triple in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((runs, errors))


def lost_saves(database_url: str, runs: list[MeetingRun]) -> int:
    """Acknowledged answers that are not what the database holds now (the server is still up: no cache)."""
    from sqlalchemy import create_engine, text

    acks = [ack for run in runs for ack in run.acks.values()]
    engine = create_engine(database_url)
    lost = 0
    with engine.connect() as connection:
        for ack in acks:
            stored = connection.execute(
                text("SELECT next_step, projection_date FROM account_reviews WHERE id = :r"), {"r": ack.review_id}
            ).one_or_none()
            if stored is None or (stored[0], str(stored[1])) != (ack.next_step, ack.projection_date):
                lost += 1
    engine.dispose()
    return lost


def meeting_scenario(database_url: str, users, profile: Profile) -> tuple[list[Row], list[str]]:
    """Every seller runs today's whole meeting while their manager reads along; nothing acknowledged may be lost."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    everyone = list(enumerate(zip(users["seller"], users["manager"], strict=True)))
    groups = [[(i, s, m) for i, (s, m) in everyone[k::CLIENT_PROCESSES]] for k in range(CLIENT_PROCESSES)]
    started = time.perf_counter()
    processes = [
        context.Process(target=_scenario_process, args=(group, profile.think, profile.ramp, len(everyone), results))
        for group in groups
        if group
    ]
    for process in processes:
        process.start()
    runs, errors = [], []
    for _ in processes:
        more_runs, more_errors = results.get()
        runs += more_runs
        errors += more_errors
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started
    samples = [sample for run in runs for sample in run.samples]
    rows = []
    for label in dict.fromkeys(sample.label for sample in samples):
        mine = [sample for sample in samples if sample.label == label]
        rows.append(Row.of(label.removeprefix("meeting day: "), "", mine, seconds))
    delays = sorted(delay for run in runs for delay in run.delays)
    saves = sum(run.saves for run in runs)
    lost = lost_saves(database_url, runs)
    unseen = sum(run.unseen for run in runs)
    summary = [
        f"  {len(everyone)} sellers ran a whole meeting each ({profile.think:g} s between saves, starts spread over"
        f" {profile.ramp:g} s) while their managers read along: {seconds:.0f} s;"
        f" {len(errors)} meetings stopped by an error",
        f"  saves acknowledged: {saves:,}; lost (stored text or date differs from what the seller was told): {lost}",
        f"  read-along delay, save acknowledged -> manager's poll shows it: p50 {percentile(delays, 0.5):.2f} s,"
        f" p95 {percentile(delays, 0.95):.2f} s, max {max(delays, default=float('nan')):.2f} s over {len(delays)}"
        f" next steps ({unseen} never shown)   [target: p95 <= 1.5 s]",
    ]
    summary += [f"  error: {error}" for error in errors[:5]]
    return rows, summary


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

    ``largest`` is the column for the full history, measured on the main run's server before anything else.
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


def static_copy_of_meeting_page(base: str, users) -> tuple[str, int]:
    """Write the meeting page (a running meeting's card) as a static file of the same size."""
    seller = users["seller"][0]
    html = seller.send("GET", "/meetings/{meeting_id}".format(**seller.ids)).text
    folder = ROOT / "static" / ".bench"
    folder.mkdir(exist_ok=True)
    (folder / "page.html").write_text(html)
    return "/static/.bench/page.html", len(html.encode())


class Phases:
    """Where a run's minutes go, printed after its figures (the full run has a 10-minute budget)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._mark
        self._mark = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.seconds.items())


def run_database(data, args, profile: Profile, workdir: Path) -> None:
    size = profile.size
    print(
        f"\n=== {data.name}: {size.managers} managers x {size.sellers_per_manager} sellers x {size.accounts} accounts, "
        f"{size.weeks} weeks of meetings (~{size.reviews:,} reviews), seed {args.seed}",
        flush=True,
    )
    phases = Phases()
    with data.copy_of(args.seed, size) as url, gunicorn(url, args.port, workdir) as base:
        phases.done("data copy and start")
        users = people(base, url, profile.users, size)
        phases.done("sign-in")
        try:
            # The full history's column first, in the state the other columns are measured in (a fresh copy,
            # nobody's meeting started): measured after the endpoints, it read the writes they had made.
            largest_history = history_cells(users, profile)
            phases.done("history")
            start_meetings(users["seller"])
            static_path, static_size = static_copy_of_meeting_page(base, users)
            rows = measure_endpoints(base, users, profile, static_path, static_size)
            phases.done("endpoints")
        finally:
            close_all(users)
            shutil.rmtree(ROOT / "static" / ".bench", ignore_errors=True)
        users = people(base, url, profile.meetings, size, skip=profile.users)
        phases.done("sign-in")
        try:
            meeting_rows, meeting_summary = meeting_scenario(url, users, profile)
            phases.done("meeting day")
        finally:
            close_all(users)
    phases.done("meeting day")  # gunicorn's stop
    limit = rows[0].rate
    print_table(
        f"{data.name}: {profile.users} concurrent users, gunicorn 2 sync workers, {profile.seconds:g} s per endpoint "
        f"(server time from Server-Timing; static file = the meeting page, {static_size:,} bytes;"
        " 'of limit' = req/s / /healthz req/s)",
        rows,
        limit,
    )
    print_table(
        f"\n{data.name}: meeting day, {profile.meetings} sellers at once (req/s over the whole run)", meeting_rows, None
    )
    print("\n".join(meeting_summary))
    print(
        f"\n{data.name}: cost as history grows"
        f" ({profile.history_users} users per page, {profile.history_seconds:g} s each)"
    )
    print("\n".join(measure_history(data, args, profile, workdir, largest_history)), flush=True)
    phases.done("history")
    print(f"\n{data.name}: where the time went: {phases}", flush=True)


def recap_render(profile: Profile) -> str:
    """The recap PDF of a 30-account meeting, rendered in this process's own app (scripts/bench_recap.py)."""
    command = [
        sys.executable,
        str(ROOT / "scripts" / "bench_recap.py"),
        "--accounts",
        "30",
        f"--runs={profile.recap_runs}",
    ]
    env = os.environ | {"FOCUSWEB_ENV": "testing"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    return (result.stdout or result.stderr).strip().splitlines()[-1]


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), help="default: both; sqlite with --quick")
    parser.add_argument("--quick", action="store_true", help="a small company and short runs (about a minute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args()
    args.db = args.db or ("sqlite" if args.quick else "both")
    args.port = args.port or free_port()
    profile = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"FocusWeb bench ({'quick' if args.quick else 'full'}), {os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )
    print(f"\nrecap PDF: {recap_render(profile)}   [target: <= 1.5 s for 30 accounts]", flush=True)
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
