"""``camgrid record``: record every camera assigned to this node until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import threading
import time

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.storage.metrics import serve_metrics
from camgrid.storage.recorder import Recorder
from camgrid.storage.retention import run_retention

log = logging.getLogger("camgrid.record")


def metrics_token(settings_home: object) -> str:
    from pathlib import Path

    path = Path(str(settings_home)) / "run" / "metrics.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


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
    clock = SystemClock()
    recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock)
    from camgrid.privacy.wiring import MaskSync

    masks = MaskSync(recorder, factory)
    masks.sync()  # masks are installed before the first picture arrives
    recorder.hooks.append(masks.sync)
    try:
        recorder.start()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    cfg = settings.recorder
    if cfg.metrics_port:
        try:
            serve_metrics(
                cfg.metrics_host,
                cfg.metrics_port,
                recorder.metrics,
                lambda: {
                    "camgrid_recorder_disk_free_bytes": float(shutil.disk_usage(recorder.root).free),
                    "camgrid_recorder_paused": 1.0 if recorder.paused else 0.0,
                    "camgrid_recorder_index_pending": float(recorder.index.pending()),
                    "camgrid_recorder_write_backlog_bytes": float(recorder.writer.backlog_bytes),
                },
                metrics_token(settings.home),
            )
        except OSError as exc:
            log.warning(
                "metrics endpoint disabled: cannot listen on %s:%d (%s)", cfg.metrics_host, cfg.metrics_port, exc
            )
    next_retention = [time.monotonic() + 5.0]

    def retention_hook() -> None:
        if time.monotonic() < next_retention[0]:
            return
        next_retention[0] = time.monotonic() + settings.retention.interval_s
        with unit_of_work(factory) as session:
            run_retention(session=session, cfg=settings.retention, now_ns=clock.wall_ns())

    recorder.hooks.append(retention_hook)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(duration)
    log.info("stopping")
    recorder.stop()
