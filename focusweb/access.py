"""Who may see what: a seller their own things, a manager their own team's. Anything else is 404."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from .extensions import db
from .models import Account, AccountReview, Meeting, User


def can_see_seller(seller: User | None) -> bool:
    """The seller themself, or the seller's manager."""
    if seller is None or not seller.is_seller:
        return False
    return seller.id == current_user.id or seller.manager_id == current_user.id


def seller_or_404(seller_id: int | None) -> User:
    """The seller a page is about: the signed-in seller, or one of the signed-in manager's team."""
    if seller_id is None:
        if not current_user.is_seller:
            abort(404)
        return current_user
    seller = db.session.get(User, seller_id)
    if not can_see_seller(seller):
        abort(404)
    return seller


def managed_seller_or_404(seller_id: int) -> User:
    """One of the signed-in manager's sellers, for the pages only a manager uses (cadence, field topics)."""
    seller = seller_or_404(seller_id)
    if seller.manager_id != current_user.id:
        abort(404)
    return seller


def account_or_404(account_id: int) -> Account:
    """An account the signed-in user may see and change (its owner, or the owner's manager)."""
    account = db.session.get(Account, account_id)
    if account is None or not can_see_seller(account.owner):
        abort(404)
    return account


def is_meetings_manager(meeting: Meeting) -> bool:
    """The signed-in user manages the meeting: its manager, or the seller's manager now."""
    return current_user.id in (meeting.manager_id, meeting.seller.manager_id)


def meeting_or_404(meeting_id: int) -> Meeting:
    """A meeting the signed-in user takes part in: the seller's own, or one they manage."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not (meeting.seller_id == current_user.id or is_meetings_manager(meeting)):
        abort(404)
    return meeting


def review_or_404(meeting: Meeting, review_id: int) -> AccountReview:
    """One account card of this meeting."""
    review = db.session.get(AccountReview, review_id)
    if review is None or review.meeting_id != meeting.id:
        abort(404)
    return review
