"""The recap page on a phone, in real Chromium."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import Account, AccountReview, ManagerNote, Meeting, User, utcnow

from .conftest import sideways_overflow, sign_in

LONG_WORD = "Supercalifragilisticexpialidocious" * 4


def finished_meeting(app) -> int:
    """A finished meeting of the demo seller with long unbroken text, made in the live server's database."""
    with app.app_context():
        seller = db.session.scalar(select(User).where(User.email == "seller@demo.test"))
        accounts = db.session.scalars(select(Account).where(Account.owner_id == seller.id)).all()
        started = utcnow() - timedelta(days=30, minutes=45)
        meeting = Meeting(
            seller=seller,
            manager=seller.manager,
            scheduled_at=started,
            planned_minutes=30,
            started_at=started,
            finished_at=started + timedelta(minutes=31),
        )
        db.session.add(meeting)
        for position, account in enumerate(accounts[:4]):
            review = AccountReview(
                account=account,
                position=position,
                notes=f"Notes with a long word {LONG_WORD} and <b>markup</b> & 東京",
                next_step=f"Phone recap step {position} {LONG_WORD}",
                projection_date=date.today() + timedelta(days=position),
            )
            review.manager_notes.append(ManagerNote(author=seller.manager, text="Shared phone note"))
            meeting.reviews.append(review)
        db.session.commit()
        meeting_id = meeting.id
        db.session.remove()
    return meeting_id


def test_recap_page_reads_on_a_phone_without_sideways_scroll(phone, live_server):
    meeting_id = finished_meeting(live_server.app)
    sign_in(phone, "seller@demo.test")
    phone.goto(f"/meetings/{meeting_id}/recap")
    expect(phone.get_by_role("heading", name="Action plan")).to_be_visible()
    expect(phone.get_by_role("heading", name="The plan")).to_be_visible()
    expect(phone.get_by_text("Phone recap step 0").first).to_be_visible()
    expect(phone.get_by_text("<b>markup</b>", exact=False).first).to_be_visible()
    download_link = phone.get_by_role("link", name="Download PDF")
    expect(download_link).to_have_attribute("href", f"/meetings/{meeting_id}/recap.pdf")
    expect(phone.get_by_role("button", name="Send again")).to_be_visible()
    assert sideways_overflow(phone) == 0
    with phone.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.startswith("focus-recap-sam-seller-")
