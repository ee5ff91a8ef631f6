"""``camgrid node``: run a recorder node of a cluster (shared PostgreSQL, NATS JetStream) until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading

import click

from camgrid.bus import make_bus
from camgrid.cli.common import settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.cluster.media import serve_recordings
from camgrid.cluster.node import RecorderNode
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.storage.recorder import Recorder

log = logging.getLogger("camgrid.node")


@click.command()
@click.option("--node", "node_id", help="Node id (default: recorder.node_id); unique in the cluster.")
@click.option("--capacity", type=click.IntRange(1, 100_000), help="Cameras this node takes at most.")
@click.option(
    "--capacity-mbps",
    type=click.FloatRange(0, 1_000_000),
    help="Mbit/s this node takes at most (cameras counted at their measured bitrate).",
)
@click.option("--districts", help="Comma-separated district ids this node prefers.")
@click.option("--duration", type=float, help="Stop after this many seconds (benchmarks, tests).")
@click.pass_context
def node(
    ctx: click.Context,
    node_id: str | None,
    capacity: int | None,
    capacity_mbps: float | None,
    districts: str | None,
    duration: float | None,
) -> None:
    """Record the cameras this node holds leases on; take free ones up to its share; give them back on exit.

    The database (database.url) must be shared by every node: PostgreSQL. The bus (bus.url) carries camera state.
    """
    settings = settings_from(ctx)
    if node_id:
        settings.recorder.node_id = node_id
    if capacity:
        settings.cluster.capacity = capacity
    if capacity_mbps is not None:
        settings.cluster.capacity_mbps = capacity_mbps
    if districts is not None:
        settings.cluster.districts = districts
    setup_logging(settings, f"node[{settings.recorder.node_id}]")
    if settings.database_url.startswith("sqlite"):
        log.warning("node on SQLite: fine for one machine, but nodes on other machines cannot share it")
    kwargs = {"connect_args": {"connect_timeout": 3}} if settings.database_url.startswith("postgresql") else {}
    engine = make_engine(settings.database_url, **kwargs)
    upgrade(engine)
    factory = session_factory(engine)
    clock = SystemClock()
    recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock)
    from camgrid.privacy.wiring import MaskSync

    masks = MaskSync(recorder, factory)
    masks.sync()
    recorder.hooks.append(masks.sync)
    from camgrid.cli.record import retention_hook

    # Retention of what this node recorded, on its own disk (the other nodes look after theirs).
    recorder.hooks.append(retention_hook(settings, engine, factory, clock, node_id=settings.recorder.node_id))
    member = RecorderNode(
        recorder=recorder,
        factory=factory,
        bus=make_bus(settings.bus, spool=settings.home / "outbox" / "events.jsonl"),
        clock=clock,
        cfg=settings.cluster,
    )
    try:
        member.start()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    # The central API fetches this node's segments here (cluster.address, cluster.media_token).
    recordings = serve_recordings(
        factory=factory, node_id=settings.recorder.node_id, recordings=settings.recordings_dir, cfg=settings.cluster
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(duration)
    log.info("stopping")
    member.stop()
    if recordings is not None:
        recordings.stop()
