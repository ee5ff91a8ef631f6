"""``camgrid audit``: export the tamper-evident audit log and verify an export offline."""

from __future__ import annotations

from pathlib import Path

import click

from camgrid.audit.log import AuditError, AuditLog
from camgrid.audit.note import NoteError
from camgrid.audit.verify import verify_export
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock


@click.group()
def audit() -> None:
    """Audit log: export and verify (see docs/design/audit-log.md)."""


@audit.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, folder: Path) -> None:
    """Write FOLDER/entries.jsonl, checkpoints.txt, leaf_hashes.bin and key.pub (after a fresh checkpoint)."""
    settings = settings_from(ctx)
    engine, _ = open_db(settings)
    try:
        log = AuditLog.open(engine, home=settings.home, clock=SystemClock(), auto_checkpoint=False)
        summary = log.export(folder)
    except (AuditError, NoteError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{folder}: {summary.size} entries, {summary.checkpoints} checkpoints, key {summary.key}")


@audit.command("checkpoint")
@click.pass_context
def checkpoint(ctx: click.Context) -> None:
    """Print a signed checkpoint of the log now (issued if entries arrived since the last), and the verifier key.

    Publish both out of band (a notice board, the oversight body): a later export must be consistent with them.
    """
    settings = settings_from(ctx)
    engine, _ = open_db(settings)
    try:
        log = AuditLog.open(engine, home=settings.home, clock=SystemClock(), auto_checkpoint=False)
        note = log.checkpoint()
    except (AuditError, NoteError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(note, nl=False)
    click.echo(f"key: {log.signer.verifier.text()}", err=True)


@audit.command("verify")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verifier key obtained out of band (default: FOLDER/key.pub, which an attacker could replace).",
)
@click.pass_context
def verify(ctx: click.Context, folder: Path, key_file: Path | None) -> None:
    """Check FOLDER offline; exit 0 only when intact, else exit 1 naming the first altered entry."""
    result = verify_export(folder, key_text=key_file.read_text() if key_file else None)
    if result.ok:
        click.echo(result.message)
        return
    click.echo(f"TAMPERED: {result.message}", err=True)
    ctx.exit(1)
