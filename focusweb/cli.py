"""Command-line tools: flask --app wsgi <command>."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask, current_app
from sqlalchemy import select

from . import backup as backups
from . import mail
from .accounts import service as accounts
from .extensions import db
from .models import ROLES, User, utcnow
from .reminders import service as reminders
from .schedule import service as schedule
from .transactions import unit_of_work


def init_app(app: Flask) -> None:
    for command in (backup, create_user, import_accounts, seed_demo, seed_scale, send_outbox, send_reminders):
        app.cli.add_command(command)


def _user_or_fail(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().casefold()))
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


@click.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail (unique).")
@click.option("--name", required=True, help="Name shown to others.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--manager", "manager_email", help="A seller's manager (their e-mail).")
@click.option("--admin", is_flag=True, help="May create users and teams.")
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA name, e.g. Europe/Paris.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
def create_user(email, name, role, manager_email, admin, tz, password):
    """Create a seller or manager; put a seller on a manager's team."""
    email = email.strip().casefold()
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="--email")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {tz!r}", param_hint="--timezone") from None
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException(f"a user with e-mail {email} already exists")
    manager = None
    if manager_email:
        if role != "seller":
            raise click.BadParameter("only a seller has a manager", param_hint="--manager")
        manager = _user_or_fail(manager_email)
        if not manager.is_manager:
            raise click.BadParameter(f"{manager.email} is not a manager", param_hint="--manager")
    user = User(email=email, name=name.strip(), role=role, is_admin=admin, manager=manager, timezone=tz)
    user.set_password(password)
    with unit_of_work():
        db.session.add(user)
    team = f" on {manager.name}'s team" if manager else ""
    click.echo(f"created {role} {email}{team}")


@click.command("import-accounts")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--owner", "owner_email", required=True, help="The seller who owns the accounts.")
def import_accounts(csv_file: Path, owner_email: str):
    """Import a CRM export (columns name, kind[, notes]): every row or none."""
    owner = _user_or_fail(owner_email)
    if not owner.is_seller:
        raise click.ClickException(f"{owner.email} is not a seller")
    with unit_of_work():
        result = accounts.import_csv(owner.id, csv_file.read_bytes())
    if result.problem:
        raise click.ClickException(f"nothing imported: {result.problem}")
    for line, message in result.errors:
        click.echo(f"line {line}: {message}", err=True)
    for line, message in result.duplicates:
        click.echo(f"line {line}: {message}")
    if result.errors:
        raise click.ClickException(f"nothing imported: {len(result.errors)} bad row(s)")
    click.echo(f"imported {len(result.created)} account(s) for {owner.email}")


@click.command("seed-demo")
def seed_demo():
    """Demo users, accounts and a meeting due today (development only; idempotent)."""
    if current_app.config["FOCUSWEB_ENV"] == "production":
        click.echo("seed-demo refuses to run in production (FOCUSWEB_ENV=production)", err=True)
        sys.exit(1)
    from .demo import seed

    with unit_of_work():
        report = seed()
    click.echo(report)


@click.command("send-outbox")
@click.option("--limit", default=200, show_default=True, help="At most this many e-mails per run.")
def send_outbox(limit: int):
    """Deliver queued e-mails (recaps, reminders); failed ones are tried again later (cron)."""
    click.echo(f"outbox: {mail.deliver_pending(limit=limit)}")


@click.command("send-reminders")
def send_reminders():
    """Queue the reminders due now (each once), then deliver the outbox. Meant for cron every 15 minutes."""
    with unit_of_work():
        schedule.top_up(None)  # the schedule never runs dry, even for a team nobody signs in to
        queued = reminders.queue_reminders(utcnow())
    click.echo(f"reminders: {len(queued)} queued")
    click.echo(f"outbox: {mail.deliver_pending()}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path):
    """Write a consistent copy of the database to PATH (a new file) while the app keeps running."""
    try:
        source = backups.backup(db.engine.url, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {source} to {path} ({path.stat().st_size} bytes)")


@click.command("seed-scale")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--managers", type=click.IntRange(1), default=20, show_default=True)
@click.option("--sellers-per-manager", type=click.IntRange(1), default=10, show_default=True)
@click.option(
    "--accounts", type=click.IntRange(1), default=25, show_default=True, help="Key and Target accounts per seller."
)
@click.option("--weeks", type=click.IntRange(0), default=104, show_default=True, help="Weeks of finished meetings.")
def seed_scale(seed_value, managers, sellers_per_manager, accounts, weeks):
    """A company for benchmarks: managers, sellers, accounts and weekly meetings (not in production)."""
    if current_app.config["FOCUSWEB_ENV"] == "production":
        click.echo("seed-scale refuses to run in production (FOCUSWEB_ENV=production)", err=True)
        sys.exit(1)
    from .scale import EMAIL_DOMAIN, SCALE_PASSWORD, ScaleSize, seed

    size = ScaleSize(managers, sellers_per_manager, accounts, weeks)
    try:
        report = seed(size, seed_value)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    counts = ", ".join(f"{count} {table}" for table, count in report["counts"].items())
    click.echo(f"seed-scale (seed {seed_value}): {counts} in {report['seconds']:.1f} s")
    click.echo(
        f"users manager1..{managers}@{EMAIL_DOMAIN} and seller1..{size.sellers}@{EMAIL_DOMAIN}, "
        f"password {SCALE_PASSWORD}"
    )
