"""The data model. docs/data-model.md explains the choices; SPEC.md names the things.

Timestamps are stored in UTC (naive in the database, aware in Python, see UTCDateTime).
Rows edited from two places carry a ``version`` used for optimistic locking.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .rules import is_slipped, local_day

ROLES = ("seller", "manager")
KINDS = ("key", "target")
KIND_LABELS = {"key": "Key account", "target": "Target account"}
OUTCOMES = ("done", "not_done")
PAPER_SIZES = ("A4", "Letter")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; FocusWeb stores aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class User(UserMixin, db.Model):
    """A seller or a manager; ``is_admin`` may be set on either."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('seller', 'manager')", name="ck_users_role"),
        CheckConstraint("paper_size IN ('A4', 'Letter')", name="ck_users_paper_size"),
        CheckConstraint("role = 'seller' OR manager_id IS NULL", name="ck_users_only_sellers_have_manager"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    paper_size: Mapped[str] = mapped_column(String(6), default="A4")
    remind_prep: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_due: Mapped[bool] = mapped_column(Boolean, default=True)
    remind_overdue: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # Flask-Login's alternative id: changing it ends every session of this user.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # Goes up with every change to the seller's accounts, cards and meetings (focusweb.versions).
    plan_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    manager: Mapped[User | None] = relationship(remote_side=[id], back_populates="sellers")
    sellers: Mapped[list[User]] = relationship(back_populates="manager", order_by="User.name")

    def get_id(self) -> str:
        return self.session_token

    def set_password(self, password: str) -> None:
        # Tests lower the scrypt cost through PASSWORD_HASH_METHOD; production keeps werkzeug's default.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every signed-in session of this user (sign-out, password change)."""
        self.session_token = new_token()

    @property
    def is_seller(self) -> bool:
        return self.role == "seller"

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Account(db.Model):
    """A seller's Key account (best customer) or Target account (best prospect)."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("owner_id", "name_key", name="uq_accounts_owner_name"),
        CheckConstraint("kind IN ('key', 'target')", name="ck_accounts_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, space-folded name: what "unique per owner, ignoring case" compares.
    name_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    notes: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The id of the account's newest step (an AccountReview, focusweb.plans), kept on every flush that
    # finishes a meeting or changes a finished meeting's cards, so open steps are read through it rather
    # than found by ranking the account's whole history. Derived, so plans.keep_newest_steps() can always
    # rebuild it; no foreign key, which would make accounts and account_reviews refer to each other.
    last_step_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()

    @staticmethod
    def key_for(name: str) -> str:
        return " ".join(name.split()).casefold()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


class Cadence(db.Model):
    """How often a seller meets their manager; meetings are created from it."""

    __tablename__ = "cadences"
    __table_args__ = (
        CheckConstraint("every_weeks IN (1, 2)", name="ck_cadences_every_weeks"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_cadences_weekday"),
        CheckConstraint("minutes IN (30, 45)", name="ck_cadences_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0, as datetime.weekday()
    local_time: Mapped[time] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    minutes: Mapped[int] = mapped_column(Integer, default=30)
    starts_on: Mapped[date] = mapped_column(Date)

    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])


class Meeting(db.Model):
    """One individual focus meeting between a seller and their manager."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("seller_id", "scheduled_at", name="uq_meetings_seller_scheduled"),
        CheckConstraint("planned_minutes IN (30, 45)", name="ck_meetings_planned_minutes"),
        CheckConstraint("finished_at IS NULL OR started_at IS NOT NULL", name="ck_meetings_finish_after_start"),
        Index("ix_meetings_seller_scheduled", "seller_id", "scheduled_at"),
        Index("ix_meetings_manager_scheduled", "manager_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_minutes: Mapped[int] = mapped_column(Integer, default=30)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The card the seller has open, for the manager's read-along highlight.
    current_review_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_reviews.id", ondelete="SET NULL", use_alter=True, name="fk_meetings_current_review")
    )
    # Up once per transaction that changes what the read-along shows (focusweb.cards), so a poll can
    # answer "nothing new" cheaply.
    version: Mapped[int] = mapped_column(Integer, default=1)

    seller: Mapped[User] = relationship(foreign_keys=[seller_id])
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    reviews: Mapped[list[AccountReview]] = relationship(
        back_populates="meeting",
        foreign_keys="AccountReview.meeting_id",
        order_by="AccountReview.position",
        cascade="all, delete-orphan",
    )
    reschedules: Mapped[list[Reschedule]] = relationship(
        back_populates="meeting", order_by="Reschedule.created_at", cascade="all, delete-orphan"
    )

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def is_running(self) -> bool:
        return self.started_at is not None and self.finished_at is None


class Reschedule(db.Model):
    """A move of a meeting to another time; counted because "never reschedule" is a habit."""

    __tablename__ = "reschedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    from_at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="reschedules")
    by: Mapped[User | None] = relationship()


class AccountReview(db.Model):
    """One account discussed in one meeting: the two answers, and the outcome of last time's step."""

    __tablename__ = "account_reviews"
    __table_args__ = (
        UniqueConstraint("meeting_id", "account_id", name="uq_reviews_meeting_account"),
        CheckConstraint("outcome IS NULL OR outcome IN ('done', 'not_done')", name="ck_reviews_outcome"),
        CheckConstraint("kind IN ('key', 'target')", name="ck_reviews_kind"),
        CheckConstraint("length(next_step) <= 500", name="ck_reviews_next_step_length"),
        Index("ix_reviews_account_meeting", "account_id", "meeting_id"),
        # The team view's steps due in the last 90 days, read per account whatever the history's length.
        Index("ix_reviews_account_projection", "account_id", "projection_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The account's kind and name as this meeting knows them: the account's until the meeting starts,
    # frozen from then on (focusweb.cards), so the record and every screen of it agree.
    kind: Mapped[str] = mapped_column(String(10))
    account_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    # The review whose next step this one looks back on ("Last time").
    previous_review_id: Mapped[int | None] = mapped_column(
        ForeignKey("account_reviews.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(10))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    projection_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="reviews", foreign_keys=[meeting_id])
    account: Mapped[Account] = relationship()
    previous_review: Mapped[AccountReview | None] = relationship(remote_side=[id])
    manager_notes: Mapped[list[ManagerNote]] = relationship(
        back_populates="review", order_by="ManagerNote.id", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_slipped(self) -> bool:
        """Last time's step was recorded not done after its projection date (focusweb.rules defines it)."""
        previous = self.previous_review
        if previous is None or self.outcome_at is None:
            return False
        recorded_on = local_day(self.outcome_at, self.meeting.seller.timezone)
        return is_slipped(self.outcome, previous.projection_date, recorded_on)


class ManagerNote(db.Model):
    """A manager's note on one account review: shared (in the recap) or private (manager only)."""

    __tablename__ = "manager_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("account_reviews.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    review: Mapped[AccountReview] = relationship(back_populates="manager_notes")
    author: Mapped[User] = relationship()


class FieldTopic(db.Model):
    """A coaching topic parked for a ride-along, kept out of the meeting and the recap."""

    __tablename__ = "field_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(db.Model):
    """An e-mail queued in the same transaction as what caused it; delivered outside the request."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    # Makes every reminder and recap e-mail at-most-once: e.g. "recap:42:manager@x".
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the latest attempt began: shown with its result, and a lease so two senders never send one row twice.
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
