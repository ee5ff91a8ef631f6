"""``camgrid serve``: the control room (API + front end) and, on a single machine, the recorder in one process."""

from __future__ import annotations

import logging

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work

log = logging.getLogger("camgrid.serve")


@click.command()
@click.option("--host", help="Address (default server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default server.port).")
@click.option("--record/--no-record", default=True, show_default=True, help="Also record this node's cameras.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, record: bool) -> None:
    """Serve the control room on one port; with --record (default) the live view shares the recorder's connections."""
    import uvicorn

    from camgrid.api.app import create_app
    from camgrid.api.context import AppContext
    from camgrid.cli.record import metrics_token
    from camgrid.storage.metrics import serve_metrics
    from camgrid.storage.recorder import Recorder

    settings = settings_from(ctx)
    setup_logging(settings, "serve")
    engine, factory = open_db(settings)
    clock = SystemClock()
    recorder = None
    masks: object = None
    if not record and settings.bus.url:
        # A cluster's central node records nothing (the nodes do); a recorder restricted to no camera opens the
        # live view of a camera on demand, straight from the camera, with its privacy masks burnt in.
        recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock)
        recorder.only = set()
        from camgrid.privacy.wiring import MaskSync

        masks = MaskSync(recorder, factory)
        masks.sync()
        recorder.hooks.append(masks.sync)
        try:
            recorder.start()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    if record:
        recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock)
        from camgrid.privacy.wiring import MaskSync

        masks = MaskSync(recorder, factory)
        masks.sync()  # masks are installed before the first picture arrives
        recorder.hooks.append(masks.sync)
        from camgrid.cli.record import retention_hook

        recorder.hooks.append(retention_hook(settings, engine, factory, clock))
        try:
            recorder.start()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        if settings.recorder.metrics_port:
            try:
                serve_metrics(
                    settings.recorder.metrics_host,
                    settings.recorder.metrics_port,
                    recorder.metrics,
                    lambda: {},
                    metrics_token(settings.home),
                )
            except OSError as exc:
                log.warning("metrics endpoint disabled: %s", exc)
    from camgrid.health.wiring import LiveIncidents

    feed = None
    horizon = None
    if settings.bus.url:  # a cluster's central node: camera states arrive from the recorder nodes over the bus
        from camgrid.bus import make_bus
        from camgrid.cluster.control import StateFeed, Watermarks

        feed = StateFeed(make_bus(settings.bus), [])
        feed.watermarks = Watermarks(
            factory=factory,
            clock=clock,
            ttl_s=settings.cluster.lease_ttl_s,
            max_lag_s=settings.cluster.max_event_lag_s,
        )
        horizon = feed.watermarks.horizon
    incidents = (
        LiveIncidents(factory=factory, clock=clock, config=settings.health, horizon=horizon)
        if recorder is not None or feed is not None
        else None
    )
    if feed is not None and incidents is not None:
        from camgrid.cluster.control import incident_publisher

        incidents.feed.listeners.append(incident_publisher(feed.bus, node_id=settings.recorder.node_id, clock=clock))
    app_ctx = AppContext(
        settings=settings, factory=factory, clock=clock, recorder=recorder, incidents=incidents, feed=feed
    )
    app_ctx.masks = masks
    with unit_of_work(factory) as session:
        app_ctx.states.load(session, clock.wall_ns())
    app = create_app(app_ctx)
    if incidents is not None:
        incidents.start()
    try:
        uvicorn.run(
            app,
            host=host or settings.server.host,
            port=port or settings.server.port,
            log_level="warning",
            ws_max_size=1 << 20,
            timeout_graceful_shutdown=5,
        )
    finally:
        if feed is not None:
            feed.close()
        if incidents is not None:
            incidents.stop()
        if recorder is not None:
            recorder.stop()
