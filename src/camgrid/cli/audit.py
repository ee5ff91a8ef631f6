"""``camgrid audit``: export the tamper-evident audit log and verify an export offline."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from camgrid.audit.cosign import cosign_newest, parse_peers
from camgrid.audit.log import AuditError, AuditLog
from camgrid.audit.note import NoteError, Verifier
from camgrid.audit.verify import verify_export, verify_witnesses
from camgrid.audit.witness import CosignerKey, WitnessRefusal, WitnessStore, load_or_create_cosigner
from camgrid.audit.witness_http import WitnessServer, fetch_info
from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.vocabulary import WitnessStatus


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
    clock = SystemClock()
    try:
        peers = parse_peers(settings.witness.peers)
        log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=False)
        note = log.checkpoint()
        outcomes = cosign_newest(log, peers, engine=engine, clock=clock, ca=settings.cluster.tls_ca)
    except (AuditError, NoteError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(note, nl=False)
    for o in outcomes:
        if o.status is WitnessStatus.COSIGNED:
            click.echo(o.line)
        else:
            click.echo(f"witness {o.witness} did not cosign: {o.status}: {o.detail}", err=True)
    click.echo(f"key: {log.signer.verifier.text()}", err=True)


@audit.command("verify")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verifier key obtained out of band (default: FOLDER/key.pub, which an attacker could replace).",
)
@click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    help="A witness key expected to cosign (repeatable; default: the keys of witness.peers).",
)
@click.option("--quorum", type=click.IntRange(0, 100), help="Cosignatures needed (default: witness.quorum).")
@click.option("--ask/--no-ask", default=True, help="Ask the witnesses of witness.peers what they cosigned.")
@click.pass_context
def verify(
    ctx: click.Context,
    folder: Path,
    key_file: Path | None,
    witness_keys: tuple[str, ...],
    quorum: int | None,
    ask: bool,
) -> None:
    """Check FOLDER offline; exit 0 only when intact and cosigned by the witnesses' quorum, else exit 1 naming the
    first altered entry and the witnesses that did not cosign or that refuse the log."""
    settings = settings_from(ctx)
    try:
        peers = parse_peers(settings.witness.peers)
        keys = [CosignerKey.parse(k) for k in witness_keys] if witness_keys else [p.key for p in peers]
    except NoteError as exc:
        raise click.ClickException(str(exc)) from None
    result = verify_export(folder, key_text=key_file.read_text() if key_file else None)
    witnesses_ok = True
    if keys:
        info: dict[str, Mapping[str, Any] | str] | None = None
        if ask:
            info = {}
            for p in peers:
                try:
                    info[p.name] = fetch_info(p.url, ca=settings.cluster.tls_ca)
                except WitnessRefusal as exc:
                    info[p.name] = f"{p.url}: {exc.reason}"
        rep = verify_witnesses(folder, keys, quorum=settings.witness.quorum if quorum is None else quorum, info=info)
        witnesses_ok = rep.ok
        for line in rep.lines:
            click.echo(line, err=not rep.ok)
    else:
        click.echo("no witnesses configured (witness.peers): the log is only as safe as the central key", err=True)
    if result.ok and witnesses_ok:
        click.echo(result.message)
        return
    if result.ok:
        click.echo(
            f"NOT WITNESSED: the export is self-consistent ({result.message}), but the witnesses do not vouch for it",
            err=True,
        )
    else:
        click.echo(f"TAMPERED: {result.message}", err=True)
    ctx.exit(1)


@audit.command("witness")
@click.option("--listen", default="127.0.0.1:8790", show_default=True, help="host:port to answer on.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the witness's key and state (default: $CAMGRID_HOME/witness).",
)
@click.option("--name", help="The witness's key name when its key is first made (default camgrid.witness/<hex>).")
@click.option(
    "--log-key",
    "log_keys",
    multiple=True,
    help="A log verifier key to witness (repeatable; default: witness.log_keys, else the first key seen per log).",
)
@click.option("--duration", type=float, help="Stop after this many seconds (tests).")
@click.pass_context
def witness(
    ctx: click.Context,
    listen: str,
    state_dir: Path | None,
    name: str | None,
    log_keys: tuple[str, ...],
    duration: float | None,
) -> None:
    """Run a witness of another machine's audit log (C2SP tlog-witness: POST /add-checkpoint, GET /witness).

    It cosigns a checkpoint only with a valid consistency proof from the last one it cosigned; prints its key,
    which the central node's witness.peers and every verifier need.
    """
    settings = settings_from(ctx)
    setup_logging(settings, "witness")
    folder = state_dir or settings.home / "witness"
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.ClickException(f"--listen must be host:port, not {listen!r}")
    try:
        texts = list(log_keys) or [k for k in settings.witness.log_keys.split(";") if k.strip()]
        trusted = [Verifier.parse(k) for k in texts]
        cosigner = load_or_create_cosigner(folder / "witness.key", name=name)
        store = WitnessStore(folder / "state.json", cosigner=cosigner, log_keys=trusted, pin_first=not trusted)
        server = WitnessServer((host.strip("[]"), int(port)), store=store, clock=SystemClock())
    except (NoteError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    server.start()
    bound = server.server_address
    click.echo(f"witness {cosigner.key.text()} on http://{host}:{bound[1]}")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(duration)
    server.stop()
