"""A real FocusWeb under gunicorn in a subprocess, for tests that kill it: see test_durability.py.

``GunicornServer(database_url, tmp_path).start()`` migrates the database, seeds a team
(``SELLER_EMAIL`` / ``MANAGER_EMAIL``, password ``PASSWORD``), serves it with 2 sync workers on a
free port, and waits for /healthz. ``kill_worker()`` SIGKILLs one worker (gunicorn's master
starts another); ``stop()`` ends the master and its workers. Only processes started here are
signalled, by their process id.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import PASSWORD, Factory, _empty_all_tables, make_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SELLER_EMAIL = "durable.seller@example.test"
MANAGER_EMAIL = "durable.manager@example.test"
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def prepare_database(url: str) -> None:
    """Migrate, empty, and seed one manager with one seller."""
    from flask_migrate import upgrade

    from focusweb import create_app
    from focusweb.extensions import db

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        _empty_all_tables()
        make = Factory()
        manager = make.user("manager", email=MANAGER_EMAIL)
        make.user("seller", manager=manager, email=SELLER_EMAIL)
        db.session.remove()
        db.engine.dispose()


def seed_meetings(url: str, sellers: int, cards: int) -> list[tuple[str, int]]:
    """More sellers of the durable manager, each with ``cards`` Key accounts and a meeting due now.

    Returns (e-mail, meeting id) per seller.
    """
    from sqlalchemy import select

    from focusweb import create_app
    from focusweb.extensions import db
    from focusweb.models import User

    app = create_app(make_config(url))
    with app.app_context():
        make = Factory()
        manager = db.session.scalar(select(User).where(User.email == MANAGER_EMAIL))
        seeded = []
        for n in range(sellers):
            seller = make.user("seller", manager=manager, email=f"durable.meeting{n}@example.test")
            for card in range(cards):
                make.account(seller, f"Durable Co {n}-{card}")
            seeded.append((seller.email, make.meeting(seller).id))
        db.session.remove()
        db.engine.dispose()
    return seeded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornServer:
    def __init__(self, database_url: str, workdir: Path, workers: int = 2):
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> GunicornServer:
        prepare_database(self.database_url)
        env = dict(
            os.environ,
            FOCUSWEB_ENV="development",
            FOCUSWEB_INSTANCE=str(self.workdir),
            SECRET_KEY="durability-test-secret",
            DATABASE_URL=self.database_url,
            LOGIN_RATE_LIMIT="10000 per minute",
            RATELIMIT_STORAGE_URI="memory://",
            PYTHONWARNINGS="ignore",
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "2",
            "wsgi:app",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(self.url + "/healthz", timeout=2).status_code == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def wait_workers(self, timeout: float = 30) -> None:
        """Until the master runs all its workers again (after a kill)."""
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not restart its workers:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """The master's child processes (its workers), from /proc."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            return [int(pid) for pid in children.read_text().split()]
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def kill_worker(self) -> int | None:
        """SIGKILL one worker, as the kernel's OOM killer or a crash would; the master starts another."""
        pids = self.worker_pids()
        if not pids:
            return None
        victim = pids[self.kills % len(pids)]
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            return None
        self.kills += 1
        return victim

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def signed_in_client(server: GunicornServer, email: str = SELLER_EMAIL, password: str = PASSWORD) -> httpx.Client:
    """An httpx client signed in through the real sign-in form (CSRF token taken from the page)."""
    client = httpx.Client(base_url=server.url, timeout=10)
    for _ in range(20):  # a worker may be restarting
        try:
            token = csrf_from(client.get("/login").text)
            response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
            if response.status_code == 303:
                return client
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"could not sign in as {email}")


def csrf_from(html: str) -> str:
    return CSRF_FIELD.search(html).group(1)
