"""The cards of a meeting, read one way for every screen that shows them. No request objects in here.

The seller's card page and its account list, the manager's board, the summary, the finish check,
the recap page, its PDF and its e-mail all read a meeting's cards through ``load``; nothing else
orders them.

- **Order**: Key accounts first, then Target accounts, each by ``position`` (the seller's order),
  then id (``KEY_FIRST``). ``_renumber`` keeps positions in that same order, so a card's position
  is its place in the meeting.
- **Kind and name**: a card carries its account's kind and name (``AccountReview.kind``,
  ``account_name``). They follow the account while the meeting has not started (that is prep) and
  are frozen from the start: a meeting is a record of what was discussed. Changing an account from
  Key to Target, renaming it or archiving it mid-meeting changes neither the running meeting's
  screens nor its recap; the next meeting picks the change up.
- **Which cards**: every meeting not yet started has a card for each active account of its seller,
  pointed at the account's newest earlier step ("Last time"); an account added while the meeting
  runs joins it (at the end of its kind), and no card leaves a started meeting. That is kept by a
  rule that runs before every commit that changed a seller's accounts or meetings
  (``sync_changed_sellers``, registered in focusweb.transactions), so pages only read, and no
  writer has to remember it.
- **The board's version**: ``meetings.version`` goes up once in every transaction that changes the
  meeting, its cards or its manager notes (``bump_meeting_versions``); the read-along polls it.
- **Taking the meeting**: a change to a running meeting first ``claim``s it, which locks the meeting's
  row (PostgreSQL) or the database (SQLite) until the request commits, and is refused once the meeting
  is finished: a save that loses the race with *Finish meeting* is refused, never applied to a
  finished meeting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from .extensions import db
from .models import Account, AccountReview, ManagerNote, Meeting
from .plans import is_step
from .rules import outcome_status


def meeting_day(meeting: Meeting) -> date:
    """The meeting's day where the seller lives: projection dates may not be earlier."""
    return meeting.scheduled_at.astimezone(ZoneInfo(meeting.seller.timezone)).date()


# Meeting order: Key accounts, then Target accounts, each by position (the seller's order), then id.
KEY_FIRST = case((AccountReview.kind == "key", 0), else_=1)


def meeting_order(card: AccountReview) -> tuple:
    """The same order in Python, for cards already loaded (new cards, without an id yet, last)."""
    return (card.kind != "key", card.position, card.id is None, card.id or 0)


@dataclass
class MeetingCards:
    """A meeting's cards in meeting order, with what every screen shows beside them."""

    meeting: Meeting
    cards: list[AccountReview]
    day: date
    shared_notes: dict[int, list[ManagerNote]] = field(default_factory=dict)  # card id -> shared notes

    def __iter__(self):
        return iter(self.cards)

    def __len__(self) -> int:
        return len(self.cards)

    def get(self, card_id: int | None) -> AccountReview | None:
        return next((card for card in self.cards if card.id == card_id), None)

    def position_of(self, card: AccountReview) -> int:
        """1-based place of a card ("3 of 9 accounts")."""
        return self.cards.index(card) + 1

    @property
    def current(self) -> AccountReview | None:
        """The card the seller has open, as recorded for the read-along."""
        return self.get(self.meeting.current_review_id)

    @property
    def current_index(self) -> int | None:
        current = self.current
        return None if current is None else self.position_of(current)

    def opened(self, card_id: int | None) -> AccountReview | None:
        """The card a page shows: the one asked for, else the seller's current one, else the first."""
        return self.get(card_id) or self.current or (self.cards[0] if self.cards else None)

    def neighbour(self, card: AccountReview, step: int) -> AccountReview | None:
        """The card ``step`` places after (or before, when negative) ``card``."""
        index = self.cards.index(card) + step
        return self.cards[index] if 0 <= index < len(self.cards) else None

    @property
    def discussed(self) -> list[AccountReview]:
        return [card for card in self.cards if not card.skipped]

    @property
    def skipped(self) -> list[AccountReview]:
        return [card for card in self.cards if card.skipped]

    def notes_for(self, card: AccountReview) -> list[ManagerNote]:
        """The shared manager notes on a card (never private ones)."""
        return self.shared_notes.get(card.id, [])

    def missing_answers(self) -> list[tuple[AccountReview, list[str]]]:
        """Cards not skipped that lack the next step or the projection date."""
        missing = []
        for card in self.discussed:
            answers = (("next step", card.next_step), ("projection date", card.projection_date))
            lacks = [name for name, value in answers if not value]
            if lacks:
                missing.append((card, lacks))
        return missing


def load(meeting: Meeting, *, shared_notes: bool = False, fresh: bool = False) -> MeetingCards:
    """The meeting's cards with last time's step joined in: one query (two with the shared notes).

    ``fresh``: read past what this session has loaded already (after ``claim``, the rows as stored now).
    """
    query = (
        select(AccountReview)
        .where(AccountReview.meeting_id == meeting.id)
        .options(joinedload(AccountReview.previous_review))
        .order_by(KEY_FIRST, AccountReview.position, AccountReview.id)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    cards = list(db.session.scalars(query))
    notes = shared_notes_by_card([card.id for card in cards]) if shared_notes else {}
    return MeetingCards(meeting=meeting, cards=cards, day=meeting_day(meeting), shared_notes=notes)


def shared_notes_by_card(card_ids: list[int]) -> dict[int, list[ManagerNote]]:
    """Shared, non-empty manager notes of many cards in one query. Private notes are filtered here, in SQL."""
    if not card_ids:
        return {}
    notes = db.session.scalars(
        select(ManagerNote)
        .where(ManagerNote.review_id.in_(card_ids), ManagerNote.private.is_(False), ManagerNote.text != "")
        .options(joinedload(ManagerNote.author))
        .order_by(ManagerNote.id)
    )
    grouped: dict[int, list[ManagerNote]] = {}
    for note in notes:
        grouped.setdefault(note.review_id, []).append(note)
    return grouped


def last_time_status(card: AccountReview) -> str:
    """What became of last time's step: done, not done, slipped or not marked (macros.outcome_badge)."""
    previous = card.previous_review
    recorded_on = None
    if card.outcome_at is not None:
        recorded_on = card.outcome_at.astimezone(ZoneInfo(card.meeting.seller.timezone)).date()
    return outcome_status(card.outcome, previous.projection_date if previous else None, recorded_on)


def card_knows_its_account(_mapper, connection, card: AccountReview) -> None:
    """Before a card is inserted: its kind and name are its account's unless the writer gave them."""
    if card.kind is None or card.account_name is None:
        kind, name = connection.execute(select(Account.kind, Account.name).where(Account.id == card.account_id)).one()
        card.kind = card.kind or kind
        card.account_name = card.account_name or name


# -- taking the meeting for a change -----------------------------------------------------------------------


def claim(meeting: Meeting) -> bool:
    """Lock the meeting for this transaction; False once it is finished.

    A conditional UPDATE that changes nothing (``version = version``): on PostgreSQL it holds the
    meeting's row until the request commits, on SQLite it starts the write transaction, so a save and
    *Finish meeting* never interleave. The version moves only if the change that follows stores
    something (``bump_meeting_versions``): a refused save leaves the board as it was.
    """
    claimed = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.finished_at.is_(None))
        .values(version=Meeting.version)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(meeting, ["version", "finished_at"])
    return claimed == 1


# -- the board's version follows the meeting, its cards and notes (flush rules) -----------------------------


def _bumped(session: Session) -> set[int]:
    return session.info.setdefault("bumped_meetings", set())


def note_changed_meetings(session: Session, _context) -> None:
    """After a flush: the meetings whose board it changed (their cards, notes, or own state)."""
    changed = session.info.setdefault("meetings_to_bump", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if isinstance(item, AccountReview) and (item in session.new or session.is_modified(item)):
            changed.add(item.meeting_id)
        elif isinstance(item, ManagerNote):
            card = session.get(AccountReview, item.review_id)
            if card is not None:
                changed.add(card.meeting_id)
        elif isinstance(item, Meeting) and item not in session.new and _changed_besides_version(item):
            changed.add(item.id)


def bump_meeting_versions(session: Session, _context) -> None:
    """After a flush's statements: one version step per meeting and transaction, in SQL (never lost in a race)."""
    pending = session.info.pop("meetings_to_bump", set()) - _bumped(session) - {None}
    if not pending:
        return
    session.connection().execute(
        update(Meeting.__table__)
        .where(Meeting.__table__.c.id.in_(sorted(pending)))
        .values(version=Meeting.__table__.c.version + 1)
    )
    _bumped(session).update(pending)
    for meeting_id in pending:
        meeting = session.identity_map.get(identity_key(Meeting, meeting_id))
        if meeting is not None:
            session.expire(meeting, ["version"])


def _changed_besides_version(meeting: Meeting) -> bool:
    state = inspect(meeting)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in ("version", "reviews"))


def forget_transaction(session: Session, *_args) -> None:
    """A new transaction bumps each meeting again."""
    for key in ("bumped_meetings", "meetings_to_bump", "sellers_to_sync"):
        session.info.pop(key, None)


# -- every meeting not yet started has its cards (a rule run before commit) ---------------------------------


SYNC_ACCOUNT_FIELDS = ("kind", "name", "archived_at", "owner_id")
SYNC_MEETING_FIELDS = ("scheduled_at", "started_at", "finished_at", "seller_id")


def note_changed_sellers(session: Session, _context) -> None:
    """After a flush: sellers whose accounts or meetings changed, so their coming meetings' cards may have to."""
    sellers = session.info.setdefault("sellers_to_sync", set())
    for item in (*session.new, *session.dirty):
        if isinstance(item, Account) and (item in session.new or _changed(item, SYNC_ACCOUNT_FIELDS)):
            sellers.add(item.owner_id)
        elif isinstance(item, Meeting) and (item in session.new or _changed(item, SYNC_MEETING_FIELDS)):
            sellers.add(item.seller_id)


def sync_changed_sellers(session: Session) -> None:
    """Before commit: bring the cards of the noted sellers' meetings not yet started up to date."""
    session.flush()
    sellers = session.info.pop("sellers_to_sync", set()) - {None}
    if sellers:
        sync_sellers(sellers)
        session.flush()


def sync_sellers(seller_ids: set[int]) -> None:
    """Bring the cards of these sellers' unfinished meetings up to date (see the module's docstring)."""
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.seller_id.in_(sorted(seller_ids)), Meeting.finished_at.is_(None))
        .order_by(Meeting.seller_id, Meeting.scheduled_at)
    ).all()
    if not meetings:
        return
    accounts_of: dict[int, list[Account]] = {}
    for account in db.session.scalars(
        select(Account)
        .where(Account.owner_id.in_(sorted(seller_ids)), Account.archived_at.is_(None))
        .order_by(Account.name_key)
    ):
        accounts_of.setdefault(account.owner_id, []).append(account)
    for meeting in meetings:
        _sync_meeting(meeting, accounts_of.get(meeting.seller_id, []))


def sync_for_start(meeting: Meeting) -> None:
    """At the start: the cards as they are then, their kinds and names frozen from now on."""
    accounts = db.session.scalars(
        select(Account)
        .where(Account.owner_id == meeting.seller_id, Account.archived_at.is_(None))
        .order_by(Account.name_key)
    ).all()
    _sync_meeting(meeting, accounts)


def _sync_meeting(meeting: Meeting, accounts: list[Account]) -> None:
    """Prep (not started): the cards follow the accounts. Running: only an account new to it joins."""
    running = meeting.started_at is not None
    by_account = {card.account_id: card for card in meeting.reviews}
    active = {account.id for account in accounts}
    if not running:
        for card in list(meeting.reviews):
            if card.account_id not in active and not _has_answers(card):
                meeting.reviews.remove(card)  # archived (or handed over) before the meeting: it leaves the meeting
    joined = []
    for account in accounts:
        card = by_account.get(account.id)
        if card is None:
            card = AccountReview(account_id=account.id, kind=account.kind, account_name=account.name, position=10**6)
            meeting.reviews.append(card)
            joined.append(card)
        elif not running:
            if card.kind != account.kind:
                card.kind = account.kind
            if card.account_name != account.name:
                card.account_name = account.name
    if running and not joined:
        return
    _renumber(meeting)
    _link_previous(meeting, joined if running else meeting.reviews)


def _renumber(meeting: Meeting) -> None:
    """Key accounts first, then Target accounts, keeping the seller's order within each; new cards last."""
    ordered = sorted(meeting.reviews, key=meeting_order)
    for position, card in enumerate(ordered):
        if card.position != position:
            card.position = position


def _link_previous(meeting: Meeting, cards: list[AccountReview]) -> None:
    """Each of these cards not yet answered for last time looks back on its account's newest earlier step."""
    rows = db.session.execute(
        select(Account.id, Account.last_step_id, Meeting.scheduled_at)
        .join(AccountReview, AccountReview.id == Account.last_step_id)
        .join(Meeting, Meeting.id == AccountReview.meeting_id)
        .where(Account.owner_id == meeting.seller_id)
    ).all()
    newest = {account_id: step_id for account_id, step_id, at in rows if at < meeting.scheduled_at}
    later = [account_id for account_id, _, at in rows if at >= meeting.scheduled_at]
    if later:
        # A meeting older than the account's newest step (opened late, or rescheduled back): its own history.
        earlier_steps = db.session.execute(
            select(AccountReview.account_id, AccountReview.id)
            .join(Meeting, Meeting.id == AccountReview.meeting_id)
            .where(
                AccountReview.account_id.in_(later),
                Meeting.seller_id == meeting.seller_id,
                Meeting.id != meeting.id,
                Meeting.scheduled_at < meeting.scheduled_at,
                is_step(),
            )
            .order_by(Meeting.scheduled_at, AccountReview.id)
        )
        newest.update(earlier_steps.all())  # later rows win: the newest commitment per account
    for card in cards:
        previous_id = newest.get(card.account_id)
        if card.outcome is None and card.previous_review_id != previous_id:
            card.previous_review_id = previous_id


def _has_answers(card: AccountReview) -> bool:
    return bool(card.notes or card.next_step or card.projection_date or card.outcome)


def _changed(item, names: tuple[str, ...]) -> bool:
    state = inspect(item)
    return any(state.attrs[name].history.has_changes() for name in names)
