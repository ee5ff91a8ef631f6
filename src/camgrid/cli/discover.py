"""``camgrid cameras discover``: find ONVIF cameras and write them as proposed registry rows (docs/design/onvif.md).

The rows are in the camera-file format with an informational ``notes`` column; the admin completes the position,
site, feeder, uplink, district and password, then imports them with ``camgrid cameras import`` (atomic, audited).
The password given for the discovery is used on the network only (audited as ``camera.discover``), never printed or
written; its file is read, not echoed.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy.orm import Session, sessionmaker

from camgrid.auditing import cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work

MAX_PASSWORD_FILE = 4096


def _password(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_PASSWORD_FILE + 1)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--password-file") from None
    if len(data) > MAX_PASSWORD_FILE:
        raise click.BadParameter(f"{path} is not a password file (too long)", param_hint="--password-file")
    lines = data.decode("utf-8", errors="strict").splitlines()
    return lines[0] if lines else ""


@click.command("discover")
@click.option(
    "--address",
    "addresses",
    multiple=True,
    help="Probe this address or CIDR range (repeatable; at most 4096 addresses). None: multicast on the local network.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=3702, show_default=True, help="WS-Discovery port.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 30.0),
    default=3.0,
    show_default=True,
    help="Seconds to wait for answers to the probe.",
)
@click.option(
    "--call-timeout", type=click.IntRange(1, 30), default=5, show_default=True, help="Seconds per ONVIF call."
)
@click.option("--username", default="", help="The cameras' ONVIF login (as for their RTSP).")
@click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file whose first line is the password (never printed, never written to the rows).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the proposed rows here (default: stdout, the summary to stderr).",
)
@click.pass_context
def cameras_discover(
    ctx: click.Context,
    addresses: tuple[str, ...],
    port: int,
    timeout: float,
    call_timeout: int,
    username: str,
    password_file: Path | None,
    out: Path | None,
) -> None:
    """Find ONVIF cameras and propose registry rows for those the registry does not have yet.

    Complete each row's lat, lon, district, site, feeder, uplink and password, then run `camgrid cameras import`.
    Exits 1 when no new camera was found."""
    from camgrid.onvif import discovery, proposals
    from camgrid.onvif.connect import OnvifError
    from camgrid.onvif.service import start_discovery

    settings = settings_from(ctx)
    request = discovery.DiscoveryRequest(
        addresses=addresses,
        port=port,
        timeout_s=timeout,
        describe_timeout_s=call_timeout,
        username=username,
        password=_password(password_file),
    )
    engine, factory = open_db(settings)
    actor = cli_actor()
    with refusals():
        try:
            start_discovery(audit=audit_log(settings, engine), actor=actor, request=request)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    try:
        probed, found = discovery.run(request, clock=SystemClock())
    except OnvifError as exc:
        raise click.ClickException(str(exc)) from None
    with unit_of_work(factory) as session:
        new, known, failed = proposals.propose(session=session, actor=actor, discovered=found, username=username)
    stream: TextIO = out.open("w", encoding="utf-8", newline="") if out is not None else sys.stdout
    try:
        writer = csv.DictWriter(stream, fieldnames=proposals.PROPOSAL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(proposals.csv_rows(new))
    finally:
        if out is not None:
            stream.close()
    say = click.echo if out is not None else (lambda text: click.echo(text, err=True))
    where = f"{probed} address(es)" if probed else "the local network (multicast)"
    say(f"probed {where}: {len(found)} camera(s) answered, {len(new)} new, {len(known)} known, {len(failed)} failed")
    for p in new:
        say(f"  new     {p.id:<28} {p.notes}")
    for p in known:
        say(f"  skipped {p.onvif_url}: already in the registry" + (f" as {p.known_as}" if p.known_as else ""))
    for p in failed:
        say(f"  failed  {p.onvif_url}: {p.error}")
    if out is not None and new:
        say(f"{out}: {len(new)} row(s); complete lat, lon, district, site, feeder, uplink and password, then "
            f"`camgrid cameras import {out}`")  # fmt: skip
    if not new:
        ctx.exit(1)


def demo_discovery(*, port: int, factory: sessionmaker[Session], timeout_s: float = 2.0) -> str:
    """One line for ``camgrid demo``: the simulated cameras WS-Discovery finds on this host and how many of them the
    registry knows by their ONVIF address (a probe only: no login is sent, so nothing to audit)."""
    from sqlalchemy import select

    from camgrid.onvif import discovery, proposals
    from camgrid.onvif.connect import OnvifError
    from camgrid.registry.models import Camera

    try:
        found = discovery.probe(["127.0.0.1"], clock=SystemClock(), port=port, timeout_s=timeout_s)
    except (OnvifError, OSError) as exc:
        return f"  discovery: no WS-Discovery answer on 127.0.0.1:{port} ({exc})"
    with unit_of_work(factory) as session:
        known = {proposals.normalise(u) for u in session.scalars(select(Camera.onvif_url)) if u}
    registered = sum(1 for f in found if proposals.normalise(f.xaddr) in known)
    return (
        f"  discovery: {len(found)} ONVIF cameras answered WS-Discovery on 127.0.0.1:{port}, {registered} of them "
        "in the registry (admins: Cameras > Discover cameras, or `camgrid cameras discover --address ...`)"
    )
