#!/usr/bin/env python3
"""Requests per second and latency of each page, measured with wrk (a C load generator): ``make bench``.

For each data set (the demo-sized company and two years of weekly meetings, 1 manager x 10 sellers),
on SQLite and, when it answers, on PostgreSQL: a fresh copy of the data (scripts/bench.py builds and
caches it), gunicorn started exactly as ``make run`` starts it (production settings), ten sellers and
their manager signed in, then ``wrk`` on each page for a few seconds at 16 connections. A Lua script
gives each request the session cookie of the next person in turn, so the ten sellers' pages are all
asked for, and prints the percentiles wrk measured.

wrk is a C program: on the same two cores it costs a fraction of what a Python client would, so the
figures are the server's. Beside each page, its ratio to ``GET /healthz`` on the same server (SPEC,
Quality targets: at least 1/3) and the p95 latency (at most 30 ms).

    .venv/bin/python scripts/bench_wrk.py                  # SQLite and PostgreSQL, 10 s a page
    .venv/bin/python scripts/bench_wrk.py --quick          # SQLite only, 3 s a page
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from focusweb.scale import ScaleSize  # noqa: E402
from scripts.bench import (  # noqa: E402
    DEFAULT_PG_URL,
    SERVER_PIDS,
    PostgresData,
    SQLiteData,
    VUser,
    free_port,
    gunicorn,
)

CONNECTIONS = 16
SIZES = {
    "demo-sized (1 x 10 sellers, 8 weeks)": ScaleSize(managers=1, sellers_per_manager=10, accounts=10, weeks=8),
    "one year (1 x 10 sellers, 52 weeks)": ScaleSize(managers=1, sellers_per_manager=10, accounts=25, weeks=52),
    "two years (1 x 10 sellers, 104 weeks)": ScaleSize(managers=1, sellers_per_manager=10, accounts=25, weeks=104),
}

# The pages: who asks, and the path (with the ids of that person's seller).
PAGES = (
    ("GET /healthz (the limit)", None, "/healthz"),
    ("a static file (htmx, 17 KB)", None, "{static_path}"),
    ("seller's home", "seller", "/"),
    ("seller's meeting page", "seller", "/meetings/{meeting_id}"),
    ("My next steps", "seller", "/next-steps"),
    ("account history", "seller", "/accounts/{account_id}/history"),
    ("manager's team view", "manager", "/team"),
    ("recap page", "seller", "/meetings/{finished_meeting_id}/recap"),
    ("recap PDF", "seller", "/meetings/{finished_meeting_id}/recap.pdf"),
)
STATIC_FILE = re.compile(r'src="(/static/vendor/htmx[^"]*)"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

LUA = """
local cookies = {%(cookies)s}
local paths = {%(paths)s}
local n = 0
request = function()
  n = n + 1
  local i = (n %% #paths) + 1
  local headers = {}
  if cookies[i] ~= "" then headers["Cookie"] = cookies[i] end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('WRK {"requests": %%d, "seconds": %%f, "errors": %%d, '
    .. '"p50": %%f, "p95": %%f, "p99": %%f}\\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
"""


@dataclass
class Result:
    name: str
    rate: float
    p50: float
    p95: float
    p99: float
    errors: int
    cpu_ms: float  # gunicorn's CPU (master and workers) per request


def lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(value) for value in values)


def server_cpu_seconds(master: int) -> float:
    """CPU used so far by gunicorn: the master, its live workers, and the workers it has recycled."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == master:
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, and of children waited for
        elif parent == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def run_wrk(base: str, name: str, requests: list[tuple[str, str]], seconds: float, workdir: Path) -> Result:
    """wrk on one page; ``requests`` are (cookie, path) pairs asked for in turn."""
    cpu_before = server_cpu_seconds(SERVER_PIDS[base])
    script = workdir / "page.lua"
    cookies, paths = zip(*requests, strict=True)
    script.write_text(LUA % {"cookies": lua_list(list(cookies)), "paths": lua_list(list(paths))})
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), base]
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"{name}: wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    output = done.stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    figures = json.loads(line[4:])
    cpu = server_cpu_seconds(SERVER_PIDS[base]) - cpu_before
    return Result(
        name,
        figures["requests"] / figures["seconds"],
        figures["p50"],
        figures["p95"],
        figures["p99"],
        figures["errors"],
        1000 * cpu / max(figures["requests"], 1),
    )


def signed_in(base: str, database_url: str, size: ScaleSize) -> list[tuple[VUser, VUser]]:
    """The ten sellers of manager 1 and that manager, each signed in once: (seller, manager) pairs."""
    from scripts.bench import people

    users = people(base, database_url, size.sellers_per_manager, ScaleSize(1, size.sellers_per_manager))
    return list(zip(users["seller"], users["manager"], strict=True))


def cookie_of(user: VUser) -> str:
    return "; ".join(f"{name}={value}" for name, value in user.cookies.items())


def measure(base: str, pairs, seconds: float, workdir: Path) -> list[Result]:
    home = pairs[0][0].send("GET", "/").text
    static_path = STATIC_FILE.search(home).group(1)
    results = []
    for name, who, path in PAGES:
        requests = []
        for seller, manager in pairs:
            user = {"seller": seller, "manager": manager}.get(who)
            full = path.format(**seller.ids, static_path=static_path)
            if user is not None:
                answer = user.send("GET", full)
                if answer.status_code != 200:
                    raise SystemExit(f"{name}: GET {full} answered {answer.status_code} for {user.email}")
            requests.append((cookie_of(user) if user else "", full))
        results.append(run_wrk(base, name, requests, seconds, workdir))
    return results


def print_table(title: str, results: list[Result]) -> None:
    limit = results[0].rate
    print(f"\n{title}")
    header = f"{'page':<28} {'req/s':>8} {'vs /healthz':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(f"  {header} {'errors':>7} {'CPU ms/req':>11}")
    for result in results:
        ratio = result.rate / limit
        print(
            f"  {result.name:<28} {result.rate:>8.0f} {ratio:>12.2f} {result.p50:>8.1f} {result.p95:>8.1f}"
            f" {result.p99:>8.1f} {result.errors:>7} {result.cpu_ms:>11.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="SQLite only, the demo-sized company, 3 s a page")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (scripts/system-deps.sh bench installs it)")
    seconds = 3.0 if args.quick else args.seconds
    workdir = Path(tempfile.mkdtemp(prefix="focusweb-wrk-"))
    stores = [SQLiteData(workdir)]
    if not (args.quick or args.sqlite_only):
        stores.append(PostgresData(args.pg_url))
    sizes = list(SIZES.items())[:1] if args.quick else list(SIZES.items())
    print(f"wrk, 2 threads, {CONNECTIONS} connections, {seconds:g} s a page; gunicorn as make run starts it")
    try:
        for store in stores:
            for label, size in sizes:
                with store.copy_of(3, size) as url:
                    instance = workdir / f"instance-{store.name}"
                    instance.mkdir(exist_ok=True)
                    with gunicorn(url, free_port(), instance) as base:
                        pairs = signed_in(base, url, size)
                        results = measure(base, pairs, seconds, workdir)
                        for seller, manager in pairs:
                            seller.close()
                            manager.close()
                print_table(f"{store.name}, {label}", results)
    except BaseException:
        for log in workdir.glob("instance-*/gunicorn.log"):
            print(f"--- the end of {log.parent.name}/gunicorn.log:\n{log.read_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
