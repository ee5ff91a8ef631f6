"""``camgrid users``: accounts and script tokens. Every change is audited as ``cli:<login>`` by the service."""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from camgrid.access import service as access
from camgrid.access.models import User
from camgrid.auditing import cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work


@click.group()
def users() -> None:
    """Users, roles and tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(access.ROLES), required=True, help="What the user may do.")
@click.option("--district", "districts", multiple=True, help="Limit the user to these districts (repeat).")
@click.option("--password", envvar="CAMGRID_NEW_PASSWORD", help="Password (else asked; env CAMGRID_NEW_PASSWORD).")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, districts: tuple[str, ...], password: str | None) -> None:
    """Create user NAME with a role (and optionally districts)."""
    if not password:
        password = getpass.getpass(f"password for {name}: ")
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with refusals(), unit_of_work(factory) as session:
            access.create_user(
                session=session,
                audit=log,
                actor=cli_actor(),
                username=name,
                password=password,
                role=role,
                districts=list(districts),
                now_ns=SystemClock().wall_ns(),
            )
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} ({role}) created")


@users.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(access.ROLES), help="New role.")
@click.option("--district", "districts", multiple=True, help="New districts (repeat; replaces the old ones).")
@click.option("--all-districts", is_flag=True, help="Lift the district limit.")
@click.pass_context
def set_user(ctx: click.Context, name: str, role: str | None, districts: tuple[str, ...], all_districts: bool) -> None:
    """Change NAME's role or districts (their sessions and tokens end: new rights apply from the next login)."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with refusals(), unit_of_work(factory) as session:
            user = access.update_user(
                session=session,
                audit=log,
                actor=cli_actor(),
                username=name,
                role=role,
                districts=list(districts),
                all_districts=all_districts,
            )
            click.echo(f"user {name}: {user.role}, districts {user.districts}")
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None


@users.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: no more logins; their sessions and tokens end now."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        access.disable_user(session=session, audit=log, actor=cli_actor(), username=name)
    click.echo(f"user {name} disabled")


@users.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """List users (never their passwords)."""
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        for u in session.scalars(select(User).order_by(User.username)):
            click.echo(f"{u.username:<20} {u.role:<11} {u.districts}{'  (disabled)' if u.disabled else ''}")


@users.command("token")
@click.argument("name")
@click.option("--days", type=click.FloatRange(0.01, 365), default=30, show_default=True, help="Valid for.")
@click.option("--label", default="cli", show_default=True, help="Name of the token (to revoke it by).")
@click.pass_context
def token(ctx: click.Context, name: str, days: float, label: str) -> None:
    """Print a bearer token for scripts acting as NAME (shown once; only its hash is kept)."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with refusals(), unit_of_work(factory) as session:
            secret = access.issue_token(
                session=session,
                audit=log,
                actor=cli_actor(),
                username=name,
                ttl_s=days * 86400,
                now_ns=SystemClock().wall_ns(),
                name=label,
            )
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(secret)


@users.command("revoke")
@click.argument("name")
@click.option("--label", help="Only the tokens of this name (default: all of NAME's tokens).")
@click.pass_context
def revoke(ctx: click.Context, name: str, label: str | None) -> None:
    """End NAME's script tokens."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        n = access.revoke_tokens(session=session, audit=log, actor=cli_actor(), username=name, name=label)
    click.echo(f"{n} token(s) of {name} revoked")


def _two_factor() -> None:
    from camgrid.cli.users_2fa import two_factor

    users.add_command(two_factor)


_two_factor()
