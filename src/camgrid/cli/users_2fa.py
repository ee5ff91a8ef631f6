"""``camgrid users 2fa``: enrol a user's second factor (shown once) or reset it (docs/design/sign-in.md)."""

from __future__ import annotations

import click

from camgrid.access import service as access
from camgrid.access import totp
from camgrid.auditing import cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work


@click.group("2fa")
def two_factor() -> None:
    """Two-factor sign-in (TOTP codes and recovery codes)."""


@two_factor.command("enrol")
@click.argument("name")
@click.pass_context
def enrol(ctx: click.Context, name: str) -> None:
    """Give NAME a TOTP secret and 10 recovery codes, printed this once (only a sealed secret and hashes are kept)."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    actor = cli_actor()
    try:
        box = totp.SecretBox.open(settings.home)
        with refusals(), unit_of_work(factory) as session:
            made = totp.enrol(
                session=session,
                audit=log,
                actor=actor,
                user=access.user_for(session=session, actor=actor, username=name),
                box=box,
                now_ns=SystemClock().wall_ns(),
                confirmed=True,
            )
    except access.AccessError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"otpauth URI (add it to an authenticator app): {made.uri}")
    click.echo(f"secret: {made.secret}")
    click.echo("recovery codes (each works once; keep them safe):")
    for code in made.recovery_codes:
        click.echo(f"  {code}")


@two_factor.command("reset")
@click.argument("name")
@click.pass_context
def reset(ctx: click.Context, name: str) -> None:
    """Forget NAME's second factor (a lost phone): they enrol again at their next login, if their role needs it."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        done = totp.reset(session=session, audit=log, actor=cli_actor(), username=name)
    click.echo(f"second factor of {name} reset" if done else f"{name} had no second factor")
