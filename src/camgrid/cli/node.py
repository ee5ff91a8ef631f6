"""``camgrid node``: run a recorder node of a cluster (shared PostgreSQL, NATS JetStream) until SIGTERM/SIGINT."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from pathlib import Path

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.cluster.certs import issue_node_cert
from camgrid.cluster.media import node_credential as node_credential_of
from camgrid.runtime import build
from camgrid.vocabulary import ProcessRole

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
    # Every node needs a copy of the central node's secrets key file; a node never makes one of its own.
    engine, factory = open_db(settings, create_key=False, **kwargs)
    from camgrid.runtime import backfill_runner, retention_hook

    # Retention of what this node recorded, on its own disk (the other nodes look after theirs).
    process = build(
        settings,
        role=ProcessRole.NODE,
        engine=engine,
        factory=factory,
        clock=SystemClock(),
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


@click.command("node-credential")
@click.argument("node_id")
@click.option(
    "--certs",
    "certs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also issue the node a TLS certificate from the cluster CA into this folder (<node>.pem, <node>.key).",
)
@click.option("--host", "hosts", multiple=True, help="Host name or IP address of the node's cluster.address.")
@click.pass_context
def node_credential(ctx: click.Context, node_id: str, certs_dir: Path | None, hosts: tuple[str, ...]) -> None:
    """On the central node: print NODE_ID's media credential (its cluster.media_token), derived from this node's
    cluster.media_secret, and with --certs its TLS certificate (the central node checks it with cluster.tls_ca)."""
    settings = settings_from(ctx)
    secret = settings.cluster.media_secret
    if not secret:
        raise click.ClickException(
            "cluster.media_secret is not set on this (central) node: set one of 32 characters or more first"
        )
    click.echo(node_credential_of(secret, node_id))
    if certs_dir is not None:
        if not hosts:
            raise click.ClickException("--certs needs --host (the host of the node's cluster.address)")
        cert, key = issue_node_cert(
            settings.home, node_id=node_id, hosts=list(hosts), out=certs_dir, now=dt.datetime.now(dt.UTC)
        )
        ca = settings.home / "keys" / "cluster-ca.pem"
        click.echo(f"certificate {cert}, key {key}; central cluster.tls_ca = {ca}", err=True)
