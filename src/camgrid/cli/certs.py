"""``camgrid certs``: a self-signed certificate and key for ``camgrid serve`` over HTTPS, into the home."""

from __future__ import annotations

import click

from camgrid.cli.common import settings_from
from camgrid.clock import SystemClock

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


@click.command()
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Host name or IP address browsers use to reach the server (repeat). Default: localhost, 127.0.0.1, ::1.",
)
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True, help="Validity in days.")
@click.option("--force", is_flag=True, help="Replace an existing pair.")
@click.pass_context
def certs(ctx: click.Context, names: tuple[str, ...], days: int, force: bool) -> None:
    """Write tls/cert.pem and tls/key.pem (mode 0600) in the home and print the config that uses them.

    Browsers warn about a self-signed certificate until it is trusted; a city deployment should use one from its
    own certificate authority (set server.tls_cert and server.tls_key to those files instead)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from camgrid.api.transport import CERT_NAME, KEY_NAME, TransportError, make_self_signed

    settings = settings_from(ctx)
    cert, key = settings.home / CERT_NAME, settings.home / KEY_NAME
    if (cert.exists() or key.exists()) and not force:
        raise click.ClickException(f"{cert} or {key} exists: pass --force to replace them")
    try:
        make_self_signed(
            cert_path=cert, key_path=key, names=list(names or DEFAULT_NAMES), days=days, now_ns=SystemClock().wall_ns()
        )
    except (TransportError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    fingerprint = x509.load_pem_x509_certificate(cert.read_bytes()).fingerprint(hashes.SHA256()).hex(":")
    click.echo(f"certificate: {cert}\nkey: {key} (mode 0600)\nSHA-256 fingerprint: {fingerprint.upper()}")
    click.echo(f'add to {settings.home / "camgrid.toml"}:\n[server]\ntls_cert = "{CERT_NAME}"\ntls_key = "{KEY_NAME}"')
