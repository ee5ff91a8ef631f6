"""``camgrid record``: record every camera assigned to this node until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.storage.metrics import serve_metrics
from camgrid.storage.recorder import Recorder

log = logging.getLogger("camgrid.record")


def metrics_token(settings_home: object) -> str:
    path = Path(str(settings_home)) / "run" / "metrics.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def retention_hook(
    settings: Any, engine: Any, factory: Any, clock: Any, *, node_id: str | None = None
) -> Callable[[], None]:
    """The recorder's retention (``storage.retention.RetentionRunner``, audited as camgrid itself) every
    ``retention.interval_s``. ``node_id``: a cluster node deletes only what it recorded (its disk, its budget)."""
    from camgrid.access.audit import AuditLog
    from camgrid.auditing import SYSTEM
    from camgrid.storage.retention import RetentionRunner

    # A cluster node adds entries to the shared log; only the central node signs checkpoints (one key per log).
    audit_log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=node_id is None)
    runner = RetentionRunner(
        factory=factory, cfg=settings.retention, audit=audit_log, actor=SYSTEM, clock=clock, node_id=node_id
    )

    def hook() -> None:
        if runner.tick() is not None and node_id is None:
            audit_log.maybe_checkpoint(clock.wall_ns())

    return hook


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
    recorder.hooks.append(retention_hook(settings, engine, factory, clock))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(duration)
    log.info("stopping")
    recorder.stop()
