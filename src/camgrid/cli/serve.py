"""``camgrid serve``: the control room (API + front end) and, on a single machine, the recorder in one process."""

from __future__ import annotations

import logging

import click

from camgrid.cli.common import open_db, settings_from, setup_logging
from camgrid.clock import SystemClock
from camgrid.vocabulary import ProcessRole


@click.command()
@click.option("--host", help="Address (default server.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default server.port).")
@click.option("--record/--no-record", default=True, show_default=True, help="Also record this node's cameras.")
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Serve plain HTTP on an address beyond loopback (server.insecure_http); without TLS this is refused.",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, record: bool, insecure_http: bool) -> None:
    """Serve the control room on one port; with --record (default) the live view shares the recorder's connections.

    HTTPS with server.tls_cert and server.tls_key (``camgrid certs`` makes a self-signed pair); plain HTTP only on
    loopback unless --insecure-http. With --no-record and a bus (bus.url) this is a cluster's central node: the
    recorder nodes record."""
    import uvicorn

    from camgrid.api.app import create_app
    from camgrid.api.transport import TransportError, is_loopback, listen_plan
    from camgrid.runtime import backfill_runner, build, retention_hook

    settings = settings_from(ctx)
    setup_logging(settings, "serve")
    try:
        where = listen_plan(settings, host=host, port=port, insecure_http=insecure_http)
    except TransportError as exc:
        raise click.ClickException(str(exc)) from None
    if not where.tls and not is_loopback(where.host):
        logging.getLogger("camgrid.serve").warning(
            "serving plain HTTP on %s (--insecure-http): sessions and video cross the network in clear", where.host
        )
    engine, factory = open_db(settings)
    process = build(
        settings,
        role=ProcessRole.SINGLE if record else ProcessRole.CENTRAL,
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
    try:
        uvicorn.run(
            create_app(process.app_context()),
            host=where.host,
            port=where.port,
            ssl_certfile=str(where.certfile) if where.certfile else None,
            ssl_keyfile=str(where.keyfile) if where.keyfile else None,
            log_level="warning",
            ws_max_size=1 << 20,
            proxy_headers=False,  # X-Forwarded-For only from api.trusted_proxies (camgrid.api.proxies)
            timeout_graceful_shutdown=5,
        )
    finally:
        process.stop()
