"""Accounts: create, change, archive, and import a CRM export. No request objects in here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from ..csvsafe import FORMULA_STARTS
from ..extensions import db
from ..models import Account, utcnow

MAX_IMPORT_ROWS = 5000
NAME_MAX = 200
NOTES_MAX = 5000
KIND_WORDS = {"key": "key", "key account": "key", "target": "target", "target account": "target"}


def name_problem(name: str) -> str | None:
    """Why a name cannot be used, or None."""
    cleaned = " ".join(name.split())
    if not cleaned:
        return "Give the account a name."
    # The case-folded key can be longer than the name ("ß" folds to "ss"); both must fit the column.
    if len(cleaned) > NAME_MAX or len(cleaned.casefold()) > NAME_MAX:
        return f"A name can be at most {NAME_MAX} characters."
    if cleaned.startswith(FORMULA_STARTS):
        return "A name cannot start with =, +, - or @ (spreadsheets would run it as a formula)."
    if "\x00" in cleaned:
        return "A name cannot contain a NUL character."
    return None


def find_same_name(owner_id: int, name: str, exclude_id: int | None = None) -> Account | None:
    """The owner's account with this name, ignoring case and spacing."""
    query = select(Account).where(Account.owner_id == owner_id, Account.name_key == Account.key_for(name))
    if exclude_id is not None:
        query = query.where(Account.id != exclude_id)
    return db.session.scalar(query)


def owner_accounts(owner_id: int) -> dict[str, list[Account]]:
    """The owner's accounts: active Key, active Target, and archived, each by name."""
    accounts = db.session.scalars(select(Account).where(Account.owner_id == owner_id).order_by(Account.name_key)).all()
    groups: dict[str, list[Account]] = {"key": [], "target": [], "archived": []}
    for account in accounts:
        groups["archived" if account.archived_at else account.kind].append(account)
    return groups


def create(owner_id: int, name: str, kind: str, notes: str = "") -> Account:
    """Add an account to a seller's book."""
    name = " ".join(name.split())
    account = Account(owner_id=owner_id, name=name, name_key=Account.key_for(name), kind=kind, notes=notes.strip())
    db.session.add(account)
    db.session.flush()
    return account


def update(account: Account, name: str, kind: str, notes: str) -> None:
    """Change an account's name, kind or notes."""
    account.name = " ".join(name.split())
    account.name_key = Account.key_for(name)
    account.kind = kind
    account.notes = notes.strip()


def set_archived(account: Account, archived: bool) -> None:
    """Archive an account (it leaves meetings) or restore it."""
    account.archived_at = utcnow() if archived else None


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    problem: str | None = None  # the file as a whole could not be read

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.errors


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def import_csv(owner_id: int, data: bytes) -> ImportResult:
    """Import a CRM export: all rows or none. Existing names are reported, not doubled."""
    result = ImportResult()
    text = _decode(data)
    if text is None:
        result.problem = "This is not a UTF-8 CSV text file. Export it from your CRM as “CSV UTF-8” and try again."
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        result.problem = f"The file could not be read as CSV: {error}."
        return result
    columns = [column.strip().casefold() for column in header or []]
    missing = [name for name in ("name", "kind") if name not in columns]
    if missing:
        result.problem = "The first line must name the columns, with at least “name” and “kind” (missing: {}).".format(
            ", ".join(missing)
        )
        return result
    index = {name: columns.index(name) for name in ("name", "kind", "notes") if name in columns}

    existing = {
        account.name_key: account for account in db.session.scalars(select(Account).where(Account.owner_id == owner_id))
    }
    seen: dict[str, int] = {}
    to_create: list[Account] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(seen) + len(result.duplicates) + len(result.errors) >= MAX_IMPORT_ROWS:
                result.problem = f"The file has more than {MAX_IMPORT_ROWS} rows; import it in parts."
                return result
            account = _row_account(owner_id, row, index, line, existing, seen, result)
            if account is not None:
                to_create.append(account)
    except csv.Error as error:
        result.problem = f"Line {reader.line_num} could not be read as CSV: {error}."
        return result
    if result.errors:
        return result
    db.session.add_all(to_create)
    db.session.flush()
    result.created = [account.name for account in to_create]
    return result


def _row_account(owner_id, row, index, line, existing, seen, result) -> Account | None:
    """Check one row; record why it is refused or a duplicate, else return the new account."""

    def cell(name: str) -> str:
        position = index.get(name)
        return row[position].strip() if position is not None and position < len(row) else ""

    name = " ".join(cell("name").split())
    kind_word = " ".join(cell("kind").split()).casefold()
    notes = cell("notes")
    problem = name_problem(name)
    if problem:
        result.errors.append((line, problem))
        return None
    kind = KIND_WORDS.get(kind_word)
    if kind is None:
        shown = cell("kind")[:40] or "empty"
        result.errors.append((line, f"kind must be “key” or “target”, not “{shown}”."))
        return None
    if len(notes) > NOTES_MAX:
        result.errors.append((line, f"notes can be at most {NOTES_MAX} characters."))
        return None
    key = Account.key_for(name)
    if key in seen:
        result.errors.append((line, f"“{name}” is already on line {seen[key]} of this file."))
        return None
    seen[key] = line
    if key in existing:
        state = " (archived)" if existing[key].archived_at else ""
        result.duplicates.append((line, f"“{existing[key].name}” already exists{state}; left as it is."))
        return None
    return Account(owner_id=owner_id, name=name, name_key=key, kind=kind, notes=notes)
