"""``camgrid users``: accounts, their whole life, and script tokens. Every change is audited as ``cli:<login>`` by
the service (docs/design/users-life.md): add, set-role, set-districts, reset-password, disable, enable, delete,
token, revoke."""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy.orm import Session

from camgrid.access import service as access
from camgrid.auditing import AuditWriter, cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.config import Settings
from camgrid.db.engine import unit_of_work

T = TypeVar("T")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$")
_UNIT_S = {"d": 86400.0, "h": 3600.0, "m": 60.0, "": 86400.0}


def parse_ttl(text: str) -> float:
    """``30d``, ``12h``, ``90m`` or a plain number of days, in seconds."""
    m = _DURATION.match(text)
    if m is None:
        raise click.BadParameter(f"{text!r}: give days (30, 30d), hours (12h) or minutes (90m)")
    return float(m.group(1)) * _UNIT_S[m.group(2)]


def _act(ctx: click.Context, call: Callable[[Session, AuditWriter, Settings], T]) -> T:
    """Run one audited service call in its own unit of work; a refusal ends the command with its message."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with refusals(), unit_of_work(factory) as session:
            return call(session, log, settings)
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None


def _new_password(name: str, password: str | None) -> str:
    return password or getpass.getpass(f"password for {name}: ")


@click.group()
def users() -> None:
    """Users, roles, districts, passwords and tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(access.ROLES), required=True, help="What the user may do.")
@click.option("--district", "districts", multiple=True, help="Limit the user to these districts (repeat).")
@click.option("--password", envvar="CAMGRID_NEW_PASSWORD", help="Password (else asked; env CAMGRID_NEW_PASSWORD).")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, districts: tuple[str, ...], password: str | None) -> None:
    """Create user NAME with a role (and optionally districts)."""
    password = _new_password(name, password)
    _act(
        ctx,
        lambda s, log, _: access.create_user(
            session=s,
            audit=log,
            actor=cli_actor(),
            username=name,
            password=password,
            role=role,
            districts=list(districts),
            now_ns=SystemClock().wall_ns(),
        ),
    )
    click.echo(f"user {name} ({role}) created")


def _update(ctx: click.Context, name: str, role: str | None, districts: tuple[str, ...], all_districts: bool) -> None:
    user = _act(
        ctx,
        lambda s, log, _: access.update_user(
            session=s,
            audit=log,
            actor=cli_actor(),
            username=name,
            role=role,
            districts=list(districts),
            all_districts=all_districts,
        ),
    )
    click.echo(f"user {name}: {user.role}, districts {user.districts} (their sessions and tokens ended)")


@users.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(access.ROLES), help="New role.")
@click.option("--district", "districts", multiple=True, help="New districts (repeat; replaces the old ones).")
@click.option("--all-districts", is_flag=True, help="Lift the district limit.")
@click.pass_context
def set_user(ctx: click.Context, name: str, role: str | None, districts: tuple[str, ...], all_districts: bool) -> None:
    """Change NAME's role or districts (their sessions and tokens end: new rights apply from the next login)."""
    _update(ctx, name, role, districts, all_districts)


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(access.ROLES))
@click.pass_context
def set_role(ctx: click.Context, name: str, role: str) -> None:
    """Give NAME another ROLE (their sessions, tokens and open connections end)."""
    _update(ctx, name, role, (), False)


@users.command("set-districts")
@click.argument("name")
@click.argument("districts", nargs=-1)
@click.option("--all", "all_districts", is_flag=True, help="Lift the district limit (every district).")
@click.pass_context
def set_districts(ctx: click.Context, name: str, districts: tuple[str, ...], all_districts: bool) -> None:
    """Limit NAME to DISTRICTS (replacing the old ones), or --all (their sessions, tokens and connections end)."""
    if not districts and not all_districts:
        raise click.UsageError("name the districts, or --all")
    _update(ctx, name, None, districts, all_districts)


@users.command("reset-password")
@click.argument("name")
@click.option("--password", envvar="CAMGRID_NEW_PASSWORD", help="New password (else asked; env CAMGRID_NEW_PASSWORD).")
@click.pass_context
def reset_password(ctx: click.Context, name: str, password: str | None) -> None:
    """Set a new password for NAME; every session and token of theirs ends."""
    password = _new_password(name, password)
    _act(
        ctx,
        lambda s, log, _: access.reset_password(
            session=s, audit=log, actor=cli_actor(), username=name, password=password
        ),
    )
    click.echo(f"user {name}: password set, sessions and tokens ended")


@users.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: no more logins; their sessions, tokens and open connections end now."""
    _act(ctx, lambda s, log, _: access.disable_user(session=s, audit=log, actor=cli_actor(), username=name))
    click.echo(f"user {name} disabled")


@users.command("enable")
@click.argument("name")
@click.pass_context
def enable(ctx: click.Context, name: str) -> None:
    """Let a disabled NAME log in again (no old session or token comes back)."""
    _act(ctx, lambda s, log, _: access.enable_user(session=s, audit=log, actor=cli_actor(), username=name))
    click.echo(f"user {name} enabled")


@users.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
@click.pass_context
def delete(ctx: click.Context, name: str, yes: bool) -> None:
    """Delete NAME: their credentials end, they are no longer listed; the audit log keeps naming them and the name
    is never given again."""
    if not yes:
        click.confirm(f"delete user {name}?", abort=True)
    _act(
        ctx,
        lambda s, log, _: access.delete_user(
            session=s, audit=log, actor=cli_actor(), username=name, now_ns=SystemClock().wall_ns()
        ),
    )
    click.echo(f"user {name} deleted")


@users.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """List users (never their passwords)."""
    _, factory = open_db(settings_from(ctx))
    with unit_of_work(factory) as session:
        for u in access.list_users(session=session, actor=cli_actor()):
            click.echo(f"{u.username:<20} {u.role:<11} {u.districts}{'  (disabled)' if u.disabled else ''}")


@users.command("token")
@click.argument("name")
@click.option(
    "--ttl",
    "--days",
    "ttl",
    help="Valid for: days (30, 30d), hours (12h) or minutes (90m); default access.token_days, at most "
    "access.token_max_days.",
)
@click.option("--label", default="cli", show_default=True, help="Name of the token (to revoke it by).")
@click.pass_context
def token(ctx: click.Context, name: str, ttl: str | None, label: str) -> None:
    """Print a bearer token for scripts acting as NAME (shown once; only its hash is kept)."""

    def issue(s: Session, log: AuditWriter, settings: Settings) -> str:
        cfg = settings.access
        return access.issue_token(
            session=s,
            audit=log,
            actor=cli_actor(),
            username=name,
            ttl_s=parse_ttl(ttl) if ttl else cfg.token_days * access.DAY_S,
            now_ns=SystemClock().wall_ns(),
            name=label,
            max_ttl_s=cfg.token_max_days * access.DAY_S,
        )

    click.echo(_act(ctx, issue))


@users.command("revoke")
@click.argument("name")
@click.option("--label", help="Only the script tokens of this name (default: every session and token of NAME).")
@click.pass_context
def revoke(ctx: click.Context, name: str, label: str | None) -> None:
    """End NAME's sessions and tokens now (open connections close within a second); they may log in again."""
    if label is not None:
        n = _act(
            ctx,
            lambda s, log, _: access.revoke_tokens(session=s, audit=log, actor=cli_actor(), username=name, name=label),
        )
        click.echo(f"{n} token(s) of {name} revoked")
        return
    n = _act(ctx, lambda s, log, _: access.revoke_access(session=s, audit=log, actor=cli_actor(), username=name))
    click.echo(f"{n} session(s) and token(s) of {name} revoked")
