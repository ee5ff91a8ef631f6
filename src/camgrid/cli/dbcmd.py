"""``camgrid db``: migrations."""

from __future__ import annotations

import click

from camgrid.cli.common import open_db, settings_from


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the database to the newest schema (also done by every command that needs it)."""
    settings = settings_from(ctx)
    open_db(settings)
    click.echo(f"database at newest schema: {settings.database_url.split('@')[-1]}")
