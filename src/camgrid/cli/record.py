"""``camgrid record``: record every camera assigned to this node until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.storage.metrics import serve_metrics
from camgrid.storage.recorder import Recorder

log = logging.getLogger("camgrid.record")


def metrics_token(settings_home: object) -> str:
    from pathlib import Path

    path = Path(str(settings_home)) / "run" / "metrics.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def retention_hook(
    settings: Any, engine: Any, factory: Any, clock: Any, *, node_id: str | None = None
) -> Callable[[], None]:
    """Retention every ``retention.interval_s``; each deletion is an audit entry (with the file's SHA-256) written
    before the file goes: if the audit log cannot take it, nothing is deleted this time. ``node_id``: a cluster
    node deletes only what it recorded (its disk, its budget)."""
    from camgrid.access.audit import AuditLog, Entry
    from camgrid.storage.retention import SegInfo, run_retention

    # A cluster node adds entries to the shared log; only the central node signs checkpoints (one key per log).
    audit_log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=node_id is None)
    next_run = [time.monotonic() + 5.0]

    def on_delete(seg: SegInfo, reason: str, path: str, digest: str) -> None:
        audit_log.append(
            Entry(
                who="camgrid-retention",
                action="retention.delete",
                camera=seg.camera_id,
                t_from_ns=seg.start_ns,
                t_to_ns=seg.end_ns,
                details={"reason": reason, "bytes": seg.bytes, "sha256": digest, "file": Path(path).name},
            )
        )

    def hook() -> None:
        if time.monotonic() < next_run[0]:
            return
        next_run[0] = time.monotonic() + settings.retention.interval_s
        for which in ("age", "budget"):  # one unit of work each: the audit log writes between them
            with unit_of_work(factory) as session:
                run_retention(
                    session=session,
                    cfg=settings.retention,
                    now_ns=clock.wall_ns(),
                    on_delete=on_delete,
                    passes=(which,),
                    node_id=node_id,
                )
        if node_id is None:
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
                    **recorder.thread_gauges(),
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
