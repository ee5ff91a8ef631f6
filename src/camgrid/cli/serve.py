"""``camgrid serve``: the control room (API + front end) and, on a single machine, the recorder in one process."""

from __future__ import annotations

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.vocabulary import ProcessRole


@click.command()
@click.option("--host", help="Address (default server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default server.port).")
@click.option("--record/--no-record", default=True, show_default=True, help="Also record this node's cameras.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, record: bool) -> None:
    """Serve the control room on one port; with --record (default) the live view shares the recorder's connections.

    With --no-record and a bus (bus.url) this is a cluster's central node: the recorder nodes record."""
    import uvicorn

    from camgrid.api.app import create_app
    from camgrid.runtime import build, retention_hook

    settings = settings_from(ctx)
    setup_logging(settings, "serve")
    engine, factory = open_db(settings)
    process = build(
        settings,
        role=ProcessRole.SINGLE if record else ProcessRole.CENTRAL,
        engine=engine,
        factory=factory,
        clock=SystemClock(),
        retention=retention_hook,
    )
    try:
        process.start()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        uvicorn.run(
            create_app(process.app_context()),
            host=host or settings.server.host,
            port=port or settings.server.port,
            log_level="warning",
            ws_max_size=1 << 20,
            proxy_headers=False,  # X-Forwarded-For only from api.trusted_proxies (camgrid.api.proxies)
            timeout_graceful_shutdown=5,
        )
    finally:
        process.stop()
