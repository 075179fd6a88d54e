"""The application factory, configuration and the schema."""

import os
import subprocess
import sys

import pytest

from focusweb import PROJECT_ROOT, config, create_app


def test_secret_key_required_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSWEB_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        config.from_environment(str(tmp_path))


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSWEB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    settings = config.from_environment(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] and settings["SESSION_COOKIE_HTTPONLY"]
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_key_is_kept_between_starts(monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSWEB_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == first and len(first) == 64


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "sqlite:///{instance}/focusweb.db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_url(monkeypatch, tmp_path, url, expected):
    monkeypatch.setenv("DATABASE_URL", url)
    assert config.database_url(str(tmp_path)) == expected.format(instance=tmp_path)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [(None, {"options": "-c random_page_cost=1.1"}), ("2", {"options": "-c random_page_cost=2.0"}), ("", None)],
)
def test_postgresql_plans_for_an_ssd_unless_told_otherwise(monkeypatch, setting, expected):
    if setting is None:
        monkeypatch.delenv("PG_RANDOM_PAGE_COST", raising=False)
    else:
        monkeypatch.setenv("PG_RANDOM_PAGE_COST", setting)
    assert config.engine_options("postgresql+psycopg://u@h/db").get("connect_args") == expected
    assert "connect_args" not in config.engine_options("sqlite:///focusweb.db")


def test_the_postgresql_sessions_use_it(app):
    from sqlalchemy import text

    from focusweb.extensions import db

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL setting")
    assert db.session.execute(text("SHOW random_page_cost")).scalar() == "1.1"


def test_sqlite_runs_in_wal_with_foreign_keys(app):
    from sqlalchemy import text

    from focusweb.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrations_match_the_models(app):
    """A model change without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from focusweb.extensions import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_static_files_are_versioned_and_cached(client):
    page = client.get("/login").get_data(as_text=True)
    assert "/static/css/app.css?v=" in page
    import re

    url = re.search(r'href="(/static/css/app.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(url)
    response.close()
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_no_other_host_in_pages(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_create_app_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSWEB_ENV", "development")
    monkeypatch.setenv("FOCUSWEB_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/focusweb.db"


def test_the_wsgi_module_compiles_templates_and_opens_no_database_connection(tmp_path):
    """gunicorn --preload imports wsgi once in its master and forks the workers from it: a connection
    opened there would be shared by every worker, and templates compiled there are every worker's."""
    script = """
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
opened = []
event.listen(Engine, "connect", lambda *args: opened.append(1))
import wsgi
compiled = len(wsgi.app.jinja_env.cache)
print(len(opened), compiled, len(wsgi.app.jinja_env.list_templates()))
"""
    env = os.environ | {
        "FOCUSWEB_ENV": "production",
        "SECRET_KEY": "k" * 32,
        "FOCUSWEB_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
    }
    result = subprocess.run(  # noqa: S603 -- our own interpreter and script
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    connections, compiled, templates = map(int, result.stdout.split())
    assert connections == 0
    assert compiled == templates > 20


def test_migrations_go_down_and_up_again(app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from focusweb.extensions import db

    downgrade(revision="base")
    assert "meetings" not in inspect(db.engine).get_table_names()
    upgrade()
    assert {"users", "accounts", "meetings", "account_reviews"} <= set(inspect(db.engine).get_table_names())


def test_proxy_headers_are_trusted_only_when_configured(database_url):
    from flask import request

    from tests.conftest import make_config

    for count, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app(make_config(database_url, PROXY_COUNT=count))

        @app.get("/_addr")
        def addr():
            return request.remote_addr

        response = app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.9"})
        assert response.get_data(as_text=True) == expected


def test_the_migration_fills_in_each_accounts_newest_step_from_the_history(tmp_path):
    """c5e8a1d2f407 adds accounts.last_step_id to a database that already holds meetings: it is filled in."""
    from datetime import UTC, datetime, timedelta

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from focusweb import demo
    from focusweb.extensions import db
    from focusweb.models import Account, AccountReview, Meeting
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{tmp_path / 'history.db'}"))
    with app.app_context():
        upgrade()
        demo.seed()
        # Written after the demo's meeting of last week but scheduled before it: the older step is not the newest.
        accounts = db.session.scalars(select(Account).order_by(Account.id)).all()
        older = datetime.now(UTC) - timedelta(days=30)
        owner = accounts[0].owner
        older_meeting = Meeting(seller_id=owner.id, manager_id=owner.manager_id, scheduled_at=older)
        older_meeting.started_at, older_meeting.finished_at = older, older + timedelta(minutes=30)
        older_meeting.reviews.append(AccountReview(account=accounts[0], position=0, next_step="Older step"))
        db.session.add(older_meeting)
        db.session.commit()
        kept = dict(db.session.execute(select(Account.id, Account.last_step_id)).all())
        assert sum(1 for step in kept.values() if step) >= 6  # the demo's finished meeting set six steps
        db.session.remove()

        downgrade(revision="b7d2e41f9c30")
        upgrade()
        assert dict(db.session.execute(select(Account.id, Account.last_step_id)).all()) == kept
        db.engine.dispose()
