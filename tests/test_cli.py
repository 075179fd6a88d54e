"""Command-line tools: create-user and seed-demo."""

from sqlalchemy import func, select

from focusweb.extensions import db
from focusweb.models import Account, Meeting, User


def test_create_manager_then_seller_on_the_team(runner):
    result = runner.invoke(
        args=["create-user", "--email", "Boss@Example.test", "--name", "Boss", "--role", "manager", "--admin"],
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "rep@example.test",
            "--name",
            "Rep",
            "--role",
            "seller",
            "--manager",
            "boss@example.test",
            "--timezone",
            "Europe/Paris",
            "--password",
            "long enough pw",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "on Boss's team" in result.output
    rep = db.session.scalar(select(User).where(User.email == "rep@example.test"))
    assert (rep.manager.email, rep.timezone, rep.check_password("long enough pw")) == (
        "boss@example.test",
        "Europe/Paris",
        True,
    )
    assert db.session.scalar(select(User).where(User.email == "boss@example.test")).is_admin


def test_create_user_refuses_bad_input(runner, factory):
    factory.user("seller", email="taken@example.test")
    cases = [
        (["--email", "taken@example.test", "--role", "seller"], "already exists"),
        (["--email", "new@example.test", "--role", "seller", "--manager", "taken@example.test"], "is not a manager"),
        (["--email", "new@example.test", "--role", "seller", "--timezone", "Mars/Base"], "unknown time zone"),
        (["--email", "nope", "--role", "seller"], "not an e-mail address"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["create-user", "--name", "X", "--password", "long enough pw", *args])
        assert result.exit_code != 0
        assert message in result.output
    short = runner.invoke(
        args=["create-user", "--name", "X", "--email", "a@b.c", "--role", "seller", "--password", "short"]
    )
    assert "at least 10 characters" in short.output


def test_seed_demo_is_idempotent_and_gives_each_seller_a_meeting_today(runner, client, auth):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert "demo data present" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 3
    for email in ("seller@demo.test", "seller2@demo.test"):
        seller = db.session.scalar(select(User).where(User.email == email))
        kinds = db.session.execute(
            select(Account.kind, func.count()).where(Account.owner_id == seller.id).group_by(Account.kind)
        ).all()
        assert all(count >= 4 for _, count in kinds) and len(kinds) == 2
        open_meetings = db.session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(Meeting.seller_id == seller.id, Meeting.finished_at.is_(None))
        )
        assert open_meetings == 1
    for email in ("manager@demo.test", "seller@demo.test", "seller2@demo.test"):
        assert auth.login(email, "focus-demo").status_code == 303
        auth.logout()


def test_seed_demo_refuses_production(runner, app):
    app.config["FOCUSWEB_ENV"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "refuses to run in production" in result.output
