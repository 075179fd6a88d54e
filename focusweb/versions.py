"""The seller's plan version: one number that moves whenever anything a plan page shows changes.

``users.plan_version`` goes up, in SQL, once per transaction for every seller whose accounts, cards
(their next steps, dates, outcomes), meetings, reschedules or cadence it changed. It is a flush rule
(registered in focusweb.transactions), like the meeting's version of focusweb.cards, so no writer has
to remember it. A page may then keep what it worked out from the seller's rows under
(seller, plan_version, day) and skip the work while the number stands (focusweb.cache): the number
comes with the signed-in user's row, which every request loads anyway.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from .models import Account, AccountReview, Cadence, Meeting, Reschedule, User


def note_changed_plans(session: Session, _context) -> None:
    """After a flush: the sellers (or the meetings, whose seller the database knows) it changed."""
    sellers = session.info.setdefault("plans_changed_sellers", set())
    meetings = session.info.setdefault("plans_changed_meetings", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if item in session.dirty and not session.is_modified(item):
            continue
        if isinstance(item, Account):
            sellers.add(item.owner_id)
        elif isinstance(item, Meeting | Cadence):
            sellers.add(item.seller_id)
        elif isinstance(item, AccountReview | Reschedule):
            meetings.add(item.meeting_id)


def bump_plan_versions(session: Session, _context) -> None:
    """After a flush's statements: each noted seller's plan version up by one, once per transaction."""
    sellers = session.info.pop("plans_changed_sellers", set()) - {None}
    meetings = session.info.pop("plans_changed_meetings", set()) - {None}
    done = session.info.setdefault("plans_bumped", set())
    if meetings:
        rows = session.connection().execute(select(Meeting.seller_id).where(Meeting.id.in_(sorted(meetings))))
        sellers |= {seller_id for (seller_id,) in rows}
    pending = sellers - done
    if not pending:
        return
    users = User.__table__
    session.connection().execute(
        update(users).where(users.c.id.in_(sorted(pending))).values(plan_version=users.c.plan_version + 1)
    )
    done.update(pending)
    for seller_id in pending:
        user = session.identity_map.get(identity_key(User, seller_id))
        if user is not None:
            session.expire(user, ["plan_version"])


def forget_transaction(session: Session, *_args) -> None:
    for key in ("plans_changed_sellers", "plans_changed_meetings", "plans_bumped"):
        session.info.pop(key, None)
