"""A consistent copy of the database, taken while the app keeps running."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

PG_GUIDANCE = (
    "For PostgreSQL, back up with pg_dump (it copies one consistent snapshot while the app runs):\n"
    "  pg_dump --format=custom --file=focusweb.dump <database URL>\n"
    "and restore into an empty database with:\n"
    "  pg_restore --no-owner --dbname=<database URL> focusweb.dump\n"
    "Install pg_dump (Debian: apt-get install postgresql-client) at the server's major version or newer."
)


class BackupError(Exception):
    """The copy could not be made; the message says why and what to do."""


def backup(url: URL, target: Path) -> str:
    """Copy the database at ``url`` to ``target`` (a new file); return what was copied, for the user."""
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name, so no earlier backup is overwritten.")
    partial = target.with_name(target.name + ".partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite(url, partial)
        elif url.get_backend_name() == "postgresql":
            _postgresql(url, partial)
        else:
            raise BackupError(f"backing up {url.get_backend_name()} databases is not supported.")
        # Only a finished copy gets the name asked for: a crash leaves a .partial file, never a bad backup.
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return url.render_as_string(hide_password=True)


def _sqlite(url: URL, partial: Path) -> None:
    """SQLite's online backup API: one consistent snapshot, writers keep going (WAL)."""
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up.")
    if not Path(url.database).exists():
        raise BackupError(f"there is no database file at {url.database}.")
    source = sqlite3.connect(url.database, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _postgresql(url: URL, partial: Path) -> None:
    """Run pg_dump when it is installed; otherwise say how to back up."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed here.\n" + PG_GUIDANCE)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where other users could see it
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={dsn}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}\n{PG_GUIDANCE}")
