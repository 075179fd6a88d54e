"""flask --app wsgi backup PATH: a consistent copy while the app runs, restored and read back."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading

import pytest
from sqlalchemy.engine import make_url

from focusweb.extensions import db


def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's online backup (the PostgreSQL run covers pg_dump)")


def test_sqlite_backup_is_a_consistent_copy_while_someone_writes(app, runner, factory, tmp_path):
    sqlite_only(app)
    seller = factory.user("seller")
    factory.account(seller, "Acme Before Backup")
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    stop = threading.Event()
    owner_id = seller.id

    def keep_writing():
        writer = sqlite3.connect(path, timeout=30)
        n = 0
        while not stop.is_set():
            n += 1
            with writer:
                writer.execute(
                    "INSERT INTO accounts (owner_id, name, name_key, kind, notes, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'key', '', '2024-01-01', '2024-01-01')",
                    (owner_id, f"During {n}", f"during {n}"),
                )
        writer.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    names = {name for (name,) in copy.execute("SELECT name FROM accounts")}
    assert "Acme Before Backup" in names
    assert copy.execute("SELECT email FROM users").fetchone() == (seller.email,)
    copy.close()
    assert not (tmp_path / "copy.db.partial").exists()


def test_backup_refuses_to_overwrite(app, runner, tmp_path):
    existing = tmp_path / "old.db"
    existing.write_bytes(b"an earlier backup")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert existing.read_bytes() == b"an earlier backup"


def test_postgresql_backup_runs_pg_dump_and_the_dump_holds_the_data(app, runner, factory, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs in the PostgreSQL run (TEST_DATABASE_URL)")
    if not shutil.which("pg_restore"):
        pytest.skip("pg_dump/pg_restore are not installed")
    seller = factory.user("seller")
    factory.account(seller, "Acme In The Dump")
    result = runner.invoke(args=["backup", str(tmp_path / "focusweb.dump")])
    assert result.exit_code == 0, result.output
    restored = subprocess.run(
        ["pg_restore", "--data-only", "--table=accounts", "--file=-", str(tmp_path / "focusweb.dump")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Acme In The Dump" in restored.stdout


def test_postgresql_without_pg_dump_says_what_to_do(app, runner, monkeypatch, tmp_path):
    from focusweb import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="pg_dump --format=custom"):
        backup.backup(make_url("postgresql+psycopg://u:secret@127.0.0.1/focusweb"), tmp_path / "x.dump")
    assert not (tmp_path / "x.dump").exists()
