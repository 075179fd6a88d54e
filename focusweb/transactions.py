"""Where work is saved: once per request, at its edge; once per command or job, through one helper.

The rule, for every area:

- Services stage their changes (``db.session.add``, attribute changes, ``flush`` when they need an id
  or a database check) and never commit.
- A request that may change state (POST, PUT, PATCH, DELETE) commits once, after its view has
  answered with a status below 500: a 422 that stored part of a card keeps that part, a refusal
  that staged nothing commits nothing. A view that raised rolls back (the 500 page, see errors.py).
- A GET or HEAD never writes. One that leaves changes pending or flushed is a bug: its work is
  rolled back, and in testing it raises so that the suite catches it.
- CLI commands and background jobs wrap their work in ``unit_of_work()``.

What every flush does, registered here and nowhere else (``register_flush_rules``):

- each account's newest step is kept on it (focusweb.plans.note_changed_steps / store_newest_steps);
- a card written without its kind and account name takes them from its account
  (focusweb.cards.card_knows_its_account);
- the meeting's version follows its cards, its manager notes and its own state
  (focusweb.cards.note_changed_meetings / bump_meeting_versions), so that the read-along's poll
  sees every change without any writer having to remember it;
- each seller's plan version follows their accounts, cards, meetings and cadence
  (focusweb.versions), for the pages that keep what they worked out (focusweb.cache);
- before each commit, the meetings not yet started of every seller whose accounts or meetings
  changed get their cards brought up to date (focusweb.cards.sync_changed_sellers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteInSafeRequest(RuntimeError):
    """A GET (or HEAD) tried to change the database."""


def init_app(app: Flask) -> None:
    """Commit each state-changing request once, after its view; refuse writes in safe requests."""
    register_flush_rules()

    @app.after_request
    def commit_at_the_edge(response: Response) -> Response:
        if request.method in SAFE_METHODS:
            _refuse_pending_writes(app)
        elif response.status_code < 500:
            db.session.commit()
        return response


def _refuse_pending_writes(app: Flask) -> None:
    session = db.session
    pending = session.info.pop("flushed_writes", False) or any(
        session.is_modified(item) for item in (*session.new, *session.dirty, *session.deleted)
    )
    if not pending:
        return
    session.rollback()
    message = f"{request.method} {request.path} tried to write to the database; its changes were rolled back"
    if app.testing:
        raise WriteInSafeRequest(message)
    app.logger.error(message)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A command's or a job's work: committed when the block ends, rolled back if it raises."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def hold_the_write_lock() -> None:
    """Take the database's write lock now, before reads that the coming writes depend on.

    SQLite only (PostgreSQL locks rows, and needs nothing here). Python's sqlite3 begins a
    transaction at the first INSERT, UPDATE or DELETE, which takes the lock at once or waits for it
    (busy_timeout). A transaction begun by anything else (a SAVEPOINT) is a read transaction first,
    and its first write fails at once with "database is locked" if another process wrote since it
    began. Call this before a SAVEPOINT or a read-then-write that must not fail that way.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _note_flushed_writes(session: Session, context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info["flushed_writes"] = True


def _forget_flushed_writes(session: Session) -> None:
    session.info.pop("flushed_writes", None)


def register_flush_rules() -> None:
    """Attach what every flush does to every session, once (create_app may run many times in tests)."""
    from . import cards, plans, versions
    from .models import AccountReview

    listeners = (
        ("after_flush", _note_flushed_writes),
        ("after_commit", _forget_flushed_writes),
        ("after_rollback", _forget_flushed_writes),
        ("after_flush", plans.note_changed_steps),
        ("after_flush_postexec", plans.store_newest_steps),
        ("after_flush", cards.note_changed_meetings),
        ("after_flush_postexec", cards.bump_meeting_versions),
        ("after_flush", cards.note_changed_sellers),
        ("before_commit", cards.sync_changed_sellers),
        ("after_commit", cards.forget_transaction),
        ("after_rollback", cards.forget_transaction),
        ("after_flush", versions.note_changed_plans),
        ("after_flush_postexec", versions.bump_plan_versions),
        ("after_commit", versions.forget_transaction),
        ("after_rollback", versions.forget_transaction),
    )
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    if not event.contains(AccountReview, "before_insert", cards.card_knows_its_account):
        event.listen(AccountReview, "before_insert", cards.card_knows_its_account)
