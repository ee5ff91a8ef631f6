"""``camgrid record``: record every camera assigned to this node until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.runtime import backfill_runner, build, retention_hook
from camgrid.vocabulary import ProcessRole

log = logging.getLogger("camgrid.record")


@click.command()
@click.option("--node", help="Recorder node id (default: recorder.node_id).")
@click.option("--duration", type=float, help="Stop after this many seconds (benchmarks, tests).")
@click.pass_context
def record(ctx: click.Context, node: str | None, duration: float | None) -> None:
    """Record the registered cameras: fMP4 segments on disk, an index and honest gaps in the database."""
    settings = settings_from(ctx)
    if node:
        settings.recorder.node_id = node
    setup_logging(settings, f"record[{settings.recorder.node_id}]")
    engine, factory = open_db(settings)
    process = build(
        settings,
        role=ProcessRole.SINGLE,
        engine=engine,
        factory=factory,
        clock=SystemClock(),
        api=False,
        retention=retention_hook,
        backfill=backfill_runner,
    )
    try:
        process.start()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(duration)
    log.info("stopping")
    process.stop()
