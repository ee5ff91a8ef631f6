"""``camgrid users``: accounts and script tokens."""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from camgrid.access import service as access
from camgrid.access.models import User
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
    _, factory = open_db(settings_from(ctx))
    try:
        with unit_of_work(factory) as session:
            access.create_user(
                session=session,
                username=name,
                password=password,
                role=role,
                districts=list(districts),
                now_ns=SystemClock().wall_ns(),
            )
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} ({role}) created")


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
@click.pass_context
def token(ctx: click.Context, name: str, days: float) -> None:
    """Print a bearer token for scripts acting as NAME (shown once; only its hash is kept)."""
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            raise click.ClickException(f"no user {name!r}")
        click.echo(
            access.issue(
                session=session, user=user, kind="token", ttl_s=days * 86400, now_ns=SystemClock().wall_ns(), name="cli"
            )
        )
