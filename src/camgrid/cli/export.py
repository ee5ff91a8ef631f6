"""``camgrid export``: check an exported clip offline."""

from __future__ import annotations

from pathlib import Path

import click

from camgrid.playback.export import verify


@click.group()
def export() -> None:
    """Exports."""


@export.command("verify")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
def verify_cmd(folder: Path) -> None:
    """Check every file of an export against its manifest; exit 1 and say what differs."""
    problems = verify(folder)
    if problems:
        for p in problems:
            click.echo(f"{folder}: {p}", err=True)
        raise SystemExit(1)
    click.echo(f"{folder}: intact")
