"""The action-plan recap: its PDF, its phone page, who may see it, and its e-mails through the outbox."""

from __future__ import annotations

import email
import re
import shutil
import socket
import subprocess
from datetime import UTC, date, datetime, timedelta
from email import policy
from io import BytesIO

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlalchemy import select

from focusweb import cache, mail, pdf, signals
from focusweb.extensions import db
from focusweb.models import AccountReview, ManagerNote, OutboxMessage
from focusweb.recap import service

HOSTILE = "<script>alert('x')</script> & Söhne Zoë · 東京支店 · שלום עולם · 🚀"
MEETING_AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def squash(text: str) -> str:
    """Text with every run of white space made one space (a PDF wraps lines where it likes)."""
    return " ".join(text.split())


def pdf_text(body: bytes) -> str:
    return squash("\n".join(page.extract_text() for page in PdfReader(BytesIO(body)).pages))


def finish(factory, seller, accounts: list[tuple[str, str]], note_text="Talked it through.", long_notes=False):
    """A finished meeting of ``seller`` over (name, kind) accounts, each with a step from last week."""
    last = factory.meeting(
        seller,
        scheduled_at=MEETING_AT - timedelta(days=7),
        started_at=MEETING_AT - timedelta(days=7),
        finished_at=MEETING_AT - timedelta(days=7, minutes=-30),
    )
    meeting = factory.meeting(
        seller,
        scheduled_at=MEETING_AT,
        started_at=MEETING_AT + timedelta(minutes=2),
        finished_at=MEETING_AT + timedelta(minutes=33),
    )
    for n, (name, kind) in enumerate(accounts):
        account = factory.account(seller, name=name, kind=kind)
        previous = factory.review(
            last, account, next_step=f"Old step {n}", projection_date=date(2026, 2, 27), position=n
        )
        notes = (note_text + " ") * (60 if long_notes else 1)
        factory.review(
            meeting,
            account,
            position=n,
            previous_review=previous,
            outcome="not_done" if n == 1 else "done",
            outcome_at=MEETING_AT + timedelta(minutes=5),
            notes=notes.strip(),
            next_step=f"Next step number {n} for {name}",
            projection_date=date(2026, 3, 20) - timedelta(days=n % 15),
        )
    db.session.refresh(meeting)
    return meeting


def add_note(meeting, position: int, text: str, private: bool):
    review = db.session.scalar(
        select(AccountReview).where(AccountReview.meeting_id == meeting.id, AccountReview.position == position)
    )
    db.session.add(ManagerNote(review=review, author=meeting.manager, text=text, private=private))
    db.session.commit()


@pytest.fixture
def team(factory):
    manager, (seller, other_seller) = factory.team(2)
    seller.name = "Zoë Ødegård"
    seller.timezone = "Europe/Paris"
    db.session.commit()
    return manager, seller, other_seller


@pytest.fixture
def meeting(factory, team):
    manager, seller, _ = team
    meeting = finish(
        factory,
        seller,
        [("Target First Co", "target"), ("Key Alpha", "key"), ("Key Beta", "key"), ("Skipped Co", "target")],
    )
    skipped = meeting.reviews[3]
    skipped.skipped, skipped.next_step, skipped.projection_date = True, "", None
    db.session.commit()
    add_note(meeting, 1, "SHARED-NOTE: ask Ana for the CFO intro", private=False)
    add_note(meeting, 1, "PRIVATE-NOTE: needs coaching on pricing", private=True)
    add_note(meeting, 2, HOSTILE, private=False)
    return meeting


# --- the PDF ---------------------------------------------------------------------------------------


def test_pdf_has_every_step_date_and_shared_note_and_no_private_note(client, auth, team, meeting):
    manager, seller, _ = team
    auth.login(seller)
    response = client.get(f"/meetings/{meeting.id}/recap.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=focus-recap-zoe-degard-2026-03-02.pdf"
    text = pdf_text(response.data)
    for review in meeting.reviews:
        if not review.skipped:
            assert squash(review.next_step) in text
            assert f"{review.projection_date:%a %-d %b %Y}" in text
    assert "SHARED-NOTE: ask Ana for the CFO intro" in text
    assert "PRIVATE-NOTE" not in text
    assert "Zoë Ødegård" in text and manager.name in text
    assert "Skipped this time: Skipped Co" in text
    assert "Old step 1" in text and "slipped" in text
    assert re.search(r"page 1 of \d", text)
    # Key accounts first, then Target; the plan sorts by projection date.
    assert text.index("Key Alpha") < text.index("Key Beta") < text.index("Target First Co")
    plan = text[text.index("The plan") :]
    assert plan.index("Next step number 2") < plan.index("Next step number 1") < plan.index("Next step number 0")


def test_hostile_text_prints_as_text(client, auth, team, meeting):
    auth.login(team[0])
    text = pdf_text(client.get(f"/meetings/{meeting.id}/recap.pdf").data)
    for part in ("<script>alert('x')</script>", "& Söhne Zoë", "東京支店", "שלום"):
        assert part in text


def installed_font_families() -> str:
    """Fontconfig's families (what the PDF can print with), or "" without fc-list."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ""
    return subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, check=False).stdout  # noqa: S603


def embedded_fonts(body: bytes) -> set[str]:
    """The base names of the fonts a PDF embeds, without their subset prefix ('ABCDEF+')."""
    names = set()
    for page in PdfReader(BytesIO(body)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


@pytest.mark.skipif(
    not all(family in installed_font_families() for family in ("Noto Sans CJK", "Noto Color Emoji")),
    reason="the CJK and emoji fonts are not installed (scripts/system-deps.sh installs them)",
)
def test_cjk_and_emoji_print_in_their_fonts_and_latin_in_dejavu(client, auth, team, meeting):
    """Glyphs, not empty boxes: the notes' Chinese and emoji come from the Noto fonts, the rest from DejaVu."""
    auth.login(team[0])
    fonts = embedded_fonts(client.get(f"/meetings/{meeting.id}/recap.pdf").data)
    assert "DejaVu-Sans" in fonts
    assert any(name.startswith("Noto-Sans-CJK") for name in fonts), fonts
    assert any(name.startswith("Noto-Color-Emoji") for name in fonts), fonts


def test_a_second_download_is_kept_and_any_change_to_what_it_shows_makes_a_new_one(client, auth, team, meeting):
    """The PDF is made once per meeting version, names, zone and paper (focusweb.cache), never served stale."""
    manager, seller, _ = team
    auth.login(seller)
    url = f"/meetings/{meeting.id}/recap.pdf"
    first = client.get(url).data
    made = cache.pdfs.misses
    assert client.get(url).data == first
    assert (cache.pdfs.misses, cache.pdfs.hits) == (made, 1)

    add_note(meeting, 2, "LATE-NOTE: the buyer called back", private=False)  # the meeting's version moves
    assert "LATE-NOTE: the buyer called back" in pdf_text(client.get(url).data)
    manager.name = "Renamed Manager"
    db.session.commit()
    assert "Renamed Manager" in pdf_text(client.get(url).data)
    client.post("/settings", data={"timezone": "Asia/Tokyo", "paper_size": "Letter", "remind_due": "y"})
    page = PdfReader(BytesIO(client.get(url).data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
    assert cache.pdfs.hits == 1


@pytest.mark.parametrize(("paper", "size"), [("A4", (595, 842)), ("Letter", (612, 792))])
def test_page_size_follows_the_readers_setting(client, auth, team, meeting, paper, size):
    manager = team[0]
    manager.paper_size = paper
    db.session.commit()
    auth.login(manager)
    reader = PdfReader(BytesIO(client.get(f"/meetings/{meeting.id}/recap.pdf").data))
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size


def test_thirty_accounts_with_long_notes_render_across_pages(app, factory, team):
    _, seller, _ = team
    accounts = [(f"Account {n:02d}", "key" if n % 2 else "target") for n in range(30)]
    meeting = finish(factory, seller, accounts, note_text="Long discussion about the rollout plan.", long_notes=True)
    body = service.render_pdf(service.build(meeting, seller), "Letter")
    reader = PdfReader(BytesIO(body))
    assert len(reader.pages) > 5
    text = pdf_text(body)
    for n in range(30):
        assert f"Next step number {n} for Account {n:02d}" in text
    assert f"page {len(reader.pages)} of {len(reader.pages)}" in text


def test_fetcher_refuses_local_files_and_the_network_but_serves_static(app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    html = (
        '<link rel="attachment" href="file:///etc/hostname">'
        '<link rel="attachment" href="../focusweb/config.py">'
        '<link rel="attachment" href="css/print.css">'
        f'<img src="http://127.0.0.1:{port}/x.png"><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
        "<p>hello</p>"
    )
    body = pdf.html_to_pdf(html)
    assert set(PdfReader(BytesIO(body)).attachments) == {"print.css"}
    with pytest.raises(TimeoutError):
        listener.accept()  # nothing tried to connect
    listener.close()


def test_fetcher_answers_data_urls_and_refuses_other_files(app):
    fetcher = pdf.StaticOnlyFetcher(app.static_folder)
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    for url in ("file:///etc/hostname", "https://example.test/x.css", "ftp://example.test/x"):
        with pytest.raises(OSError):
            fetcher.fetch(url)


# --- the phone page and who may see the recap --------------------------------------------------------


def test_recap_page_shows_the_plan_as_text_without_private_notes(client, auth, team, meeting):
    auth.login(team[1])
    page = client.get(f"/meetings/{meeting.id}/recap").get_data(as_text=True)
    assert "Next step number 0 for Target First Co" in page
    assert "SHARED-NOTE: ask Ana for the CFO intro" in page
    assert "PRIVATE-NOTE" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Söhne" in page
    assert "<script>alert" not in page
    assert f'href="/meetings/{meeting.id}/recap.pdf"' in page


@pytest.mark.parametrize("path", ["/meetings/{id}/recap.pdf", "/meetings/{id}/recap"])
@pytest.mark.parametrize("who", ["other seller", "other manager", "other team's seller"])
def test_nobody_else_sees_the_recap(client, auth, factory, team, meeting, path, who):
    others = {
        "other seller": lambda: team[2],
        "other manager": lambda: factory.user("manager"),
        "other team's seller": lambda: factory.team(1)[1][0],
    }
    auth.login(others[who]())
    assert client.get(path.format(id=meeting.id)).status_code == 404
    assert client.post(f"/meetings/{meeting.id}/recap/send").status_code == 404


@pytest.mark.parametrize("path", ["/meetings/{id}/recap.pdf", "/meetings/{id}/recap"])
def test_a_meeting_not_finished_has_no_recap_yet(client, auth, factory, team, path):
    _, seller, _ = team
    running = factory.meeting(seller, started_at=MEETING_AT)
    auth.login(seller)
    response = client.get(path.format(id=running.id))
    assert response.status_code == 404
    assert "No recap yet" in response.get_data(as_text=True)


def test_settings_link_and_page_size_choice(client, auth, team):
    auth.login(team[1])
    page = client.get("/").get_data(as_text=True)
    assert 'href="/settings"' in page


# --- e-mail through the outbox ------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port(app):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    return port


@pytest.fixture
def start_smtp(smtp_port):
    controllers = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


def finished_signal(meeting):
    """What the meetings service does when the seller presses Finish meeting."""
    signals.meeting_finished.send(meeting)
    db.session.commit()


def recap_rows(meeting):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.meeting_id == meeting.id)).all()


def test_finishing_queues_one_recap_per_person_once(app, team, meeting):
    manager, seller, _ = team
    finished_signal(meeting)
    finished_signal(meeting)
    rows = recap_rows(meeting)
    assert sorted(row.recipient for row in rows) == sorted([seller.email, manager.email])
    keys = {f"recap:{meeting.id}:{seller.email}", f"recap:{meeting.id}:{manager.email}"}
    assert {row.dedupe_key for row in rows} == keys
    assert all(row.sent_at is None and row.attempts == 0 and row.attachment is None for row in rows)
    assert "Next step number 2 for Key Beta" in rows[0].body
    assert "PRIVATE-NOTE" not in rows[0].body


def test_recap_is_mailed_to_both_with_the_pdf_and_the_plan(app, team, meeting, start_smtp):
    manager, seller, _ = team
    inbox = start_smtp()
    finished_signal(meeting)
    report = mail.deliver_pending()
    assert sorted(report.sent) == sorted([seller.email, manager.email])
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == sorted([seller.email, manager.email])
    for _, message in inbox.messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "THE PLAN" in body
        assert "Next step number 0 for Target First Co" in body
        assert "http://localhost/meetings/" in body
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == "focus-recap-zoe-degard-2026-03-02.pdf"
        text = pdf_text(attachment.get_content())
        assert "SHARED-NOTE" in text and "PRIVATE-NOTE" not in text
    rows = recap_rows(meeting)
    assert all(row.sent_at is not None and row.attempts == 1 and row.last_error is None for row in rows)
    assert mail.deliver_pending().sent == []  # nothing is sent twice


def test_without_a_mail_server_the_page_says_so_and_offers_send_again(client, auth, team, meeting):
    finished_signal(meeting)
    auth.login(team[1])
    page = client.get(f"/meetings/{meeting.id}/recap").get_data(as_text=True)
    assert "Not sent" in page and "No mail server is configured" in page
    assert f'action="/meetings/{meeting.id}/recap/send"' in page and "Send again" in page
    response = client.post(f"/meetings/{meeting.id}/recap/send", follow_redirects=True)
    assert "The recap was not sent: No mail server is configured" in response.get_data(as_text=True)
    assert all(row.attempts == 0 and row.sent_at is None for row in recap_rows(meeting))


def test_a_failed_send_is_shown_and_send_again_works_once_the_server_is_up(
    client, auth, team, meeting, smtp_port, start_smtp
):
    manager, seller, _ = team
    finished_signal(meeting)
    report = mail.deliver_pending()
    assert len(report.failed) == 2
    rows = recap_rows(meeting)
    assert all(row.sent_at is None and row.attempts == 1 and row.last_error for row in rows)
    auth.login(seller)
    recap_url = f"/meetings/{meeting.id}/recap"
    page = client.get(recap_url).get_data(as_text=True)
    assert "Not sent" in page and "refused the connection" in page and "Send again" in page

    inbox = start_smtp()
    response = client.post(f"{recap_url}/send")
    assert response.status_code == 303 and response.headers["Location"] == recap_url
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == sorted([seller.email, manager.email])
    page = client.get(recap_url).get_data(as_text=True)
    assert page.count("Sent</span> to") == 2
    assert "Send again" not in page
    assert all(row.sent_at is not None and row.attempts == 2 and row.last_error is None for row in recap_rows(meeting))


def test_send_again_queues_a_recap_that_was_never_queued(client, auth, team, meeting, start_smtp):
    inbox = start_smtp()
    auth.login(team[0])
    client.post(f"/meetings/{meeting.id}/recap/send")
    assert len(inbox.messages) == 2
    assert len(recap_rows(meeting)) == 2


def test_two_deliverers_never_send_one_message_twice(app, team, meeting, start_smtp):
    finished_signal(meeting)
    row = recap_rows(meeting)[0]
    now = datetime.now(UTC)
    assert mail._claim(row.id, 0, now) is True
    assert mail._claim(row.id, 0, now) is False  # the second deliverer saw the same row and lost
    db.session.expire_all()
    assert mail.is_in_progress(db.session.get(OutboxMessage, row.id))
    inbox = start_smtp()
    mail.deliver_pending()
    assert [rcpt for rcpt, _ in inbox.messages] == [[recap_rows(meeting)[1].recipient]]
    # A claim left behind by a process that died is tried again later.
    mail.deliver_pending(now=now + mail.RETRY_AFTER + timedelta(seconds=1))
    assert len(inbox.messages) == 2


def test_send_outbox_command(app, runner, team, meeting, start_smtp):
    inbox = start_smtp()
    finished_signal(meeting)
    result = runner.invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 0 failed" in result.output
    assert len(inbox.messages) == 2


def test_a_request_that_queued_mail_delivers_it_after_the_response(app, team, meeting, start_smtp):
    import time

    from flask import g

    inbox = start_smtp()
    app.config["OUTBOX_SEND_AFTER_RESPONSE"] = True
    finished_signal(meeting)  # the rows are committed before the response goes
    with app.test_request_context("/meetings/finish"):
        g.outbox_queued = True
        response = app.process_response(app.response_class("finished"))
    response.close()  # the server has sent the response: the delivery thread starts
    deadline = time.monotonic() + 20
    while "e-mailed to" not in service.mail_summary(meeting) and time.monotonic() < deadline:
        time.sleep(0.05)
        db.session.rollback()  # a fresh transaction sees the thread's commits
    assert "e-mailed to" in service.mail_summary(meeting)
    assert len(inbox.messages) == 2


@pytest.mark.parametrize(
    ("server", "expected"), [(False, "No mail server is configured"), (True, "The recap e-mail is on its way.")]
)
def test_mail_summary_before_sending(app, meeting, server, expected):
    app.config["MAIL_SERVER"] = "127.0.0.1" if server else ""
    finished_signal(meeting)
    assert expected in service.mail_summary(meeting)
