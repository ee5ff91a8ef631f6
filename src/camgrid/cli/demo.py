"""``camgrid demo``: a simulated city, the recorder and the control room on this machine, until Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from camgrid.access import service as access
from camgrid.auditing import AuditWriter, cli_actor
from camgrid.cli.acting import audit_log
from camgrid.cli.common import box_of, open_db, settings_from
from camgrid.cli.demo_story import CoveredNowAndThen, UplinkCut, mask_line
from camgrid.cli.discover import demo_discovery
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.registry import io as regio
from camgrid.registry import service as registry
from camgrid.storage.models import Gap, Segment


@click.command()
@click.option("--count", type=click.IntRange(1, 500), default=24, show_default=True, help="Simulated cameras.")
@click.option("--duration", type=float, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option(
    "--outage-after",
    type=click.FloatRange(0, 3600),
    default=45,
    show_default=True,
    help="Seconds before the uplink cut.",
)
@click.option(
    "--outage-seconds",
    type=click.FloatRange(0, 3600),
    default=60,
    show_default=True,
    help="How long one uplink is cut (its gap then fills from the cameras' SD cards); 0: no cut.",
)
@click.pass_context
def demo(ctx: click.Context, count: int, duration: float | None, outage_after: float, outage_seconds: float) -> None:
    """Start the simulated Kathmandu city, record it and serve the control room; print the login."""
    settings = settings_from(ctx)
    home = settings.home
    registry_file = home / "demo-cameras.csv"
    env = dict(os.environ, CAMGRID_HOME=str(home))
    me = [sys.executable, "-m", "camgrid.cli.main"]
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    click.echo(f"camgrid demo: home {home.resolve()}")
    click.echo(f"  encoding {count} camera clips once (cached in {home / 'cache'}) and starting the simulator ...")
    sim = subprocess.Popen(
        # cam-0001's picture carries a private area (top-right quarter); the demo masks it. cam-0003 is a scene
        # camera (a still picture): the demo covers it now and then (docs/design/tamper.md).
        [
            *me,
            "sim",
            "--count",
            str(count),
            "--out",
            str(registry_file),
            "--pattern-camera",
            "cam-0001",
            "--scenes",
            "cam-0003",
        ],
        env=env,
        stdout=(logs / "sim.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    rec: subprocess.Popen[bytes] | None = None
    try:
        while b"ready" not in (logs / "sim.log").read_bytes():
            if sim.poll() is not None:
                raise click.ClickException("the simulator stopped:\n" + (logs / "sim.log").read_text()[-2000:])
            time.sleep(0.5)
        parsed = regio.parse_camera_file(registry_file)
        if parsed.errors:
            raise click.ClickException("\n".join(parsed.errors))
        engine, factory = open_db(settings)
        log = audit_log(settings, engine)
        with unit_of_work(factory) as session:
            summary = registry.import_cameras(
                session=session,
                audit=log,
                actor=cli_actor(),
                rows=parsed.rows,
                now_ns=SystemClock().wall_ns(),
                box=box_of(settings),
            )
        click.echo(f"  registry: {summary.total} cameras ({summary.added} new) from {registry_file}")
        if settings.sim.onvif:
            click.echo(demo_discovery(port=settings.sim.discovery_port, factory=factory))
        user, password = _demo_login(settings.home, factory, log)
        _demo_mask(factory, log)
        rec = subprocess.Popen(
            [*me, "serve"], env=env, stdout=(logs / "serve.log").open("wb"), stderr=subprocess.STDOUT
        )
        click.echo(
            f"  simulator: rtsp://{settings.sim.host}:{settings.sim.port}/  faults: camgrid sim fault KIND SUBJECT"
        )
        click.echo(f"  recorder: recordings in {settings.recordings_dir}, logs in {logs}")
        click.echo(
            f"  metrics: http://{settings.recorder.metrics_host}:{settings.recorder.metrics_port}/metrics "
            f"(bearer token in {home / 'run' / 'metrics.token'})"
        )
        click.echo(f"  control room: http://{settings.server.host}:{settings.server.port}/  login: {user} / {password}")
        click.echo(
            "  the same password also opens: supervisor (approves exports), admin (users, masks), auditor (audit log,"
            " reports), planner (the planner screen), viewer-d01 (live video of district D-01 only)"
        )
        click.echo(
            "  cam-0001 is masked (its private area is burnt out before storage and live view: by the camera itself"
            " once camgrid has checked its pictures)"
        )
        click.echo("  press Ctrl-C to stop")
        stop = [False]
        signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))
        signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
        started = time.monotonic()
        next_status = started + 10
        next_story = started + 2
        mask_told = False
        cut = (
            UplinkCut(
                factory=factory,
                control_url=f"http://{settings.sim.host}:{settings.sim.control_port}",
                camera_id="cam-0005",
                after_s=outage_after,
                seconds=outage_seconds,
            )
            if outage_seconds > 0 and settings.sim.control_port
            else None
        )
        # the simulator's `cover` fault needs a scene camera: cam-0003 is one (--scenes above)
        covered = (
            CoveredNowAndThen(
                factory=factory,
                control_url=f"http://{settings.sim.host}:{settings.sim.control_port}",
                camera_id="cam-0003",
                # never while the uplink cut is on: a camera the cut takes away cannot show a cover
                hold=lambda: cut is not None and cut.stage == "cut",
            )
            if settings.sim.control_port and settings.tamper.enabled
            else None
        )
        while not stop[0] and (duration is None or time.monotonic() - started < duration):
            if rec.poll() is not None:
                raise click.ClickException("the server stopped:\n" + (logs / "serve.log").read_text()[-2000:])
            if time.monotonic() >= next_story:
                next_story += 2
                if not mask_told and (line := mask_line(factory, "cam-0001")) is not None:
                    mask_told = True
                    click.echo(line)
                if cut is not None and (line := cut.tick()) is not None:
                    click.echo(line)
                if covered is not None and (line := covered.tick()) is not None:
                    click.echo(line)
            if time.monotonic() >= next_status:
                next_status += 10
                with unit_of_work(factory) as session:
                    segs = session.scalar(select(func.count()).select_from(Segment)) or 0
                    open_gaps = session.scalar(select(func.count()).select_from(Gap).where(Gap.end_ns.is_(None))) or 0
                click.echo(f"  {segs} segments recorded; {open_gaps} cameras not recording right now")
            time.sleep(0.5)
    finally:
        for proc in (rec, sim):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        click.echo("camgrid demo stopped")


def _demo_login(home: Path, factory: Any, log: AuditWriter) -> tuple[str, str]:
    """The demo operator's login, created once and kept in <home>/demo-login.txt (mode 600)."""
    path = home / "demo-login.txt"
    if path.exists():
        user, _, password = path.read_text().strip().partition(" ")
        return user, password
    password = secrets.token_urlsafe(12)
    for name, role, districts in (
        ("operator", "operator", None),
        ("supervisor", "supervisor", None),
        ("admin", "admin", None),
        ("auditor", "auditor", None),
        ("planner", "planner", None),
        ("viewer-d01", "viewer", ["D-01"]),
    ):
        with unit_of_work(factory) as session:  # one audited action per unit of work (SQLite's write lock)
            try:
                access.create_user(
                    session=session,
                    audit=log,
                    actor=cli_actor(),
                    username=name,
                    password=password,
                    role=role,
                    districts=districts,
                    now_ns=SystemClock().wall_ns(),
                )
            except access.AccessError:
                pass
    path.write_text(f"operator {password}\n")
    path.chmod(0o600)
    return "operator", password


def _demo_mask(factory: Any, log: AuditWriter) -> None:
    """Mask cam-0001's private area (once; an admin can change it in the control room)."""
    from camgrid.privacy import service as masks

    with unit_of_work(factory) as session:
        if masks.get_mask(session=session, camera_id="cam-0001") is None:
            masks.set_mask(
                session=session,
                audit=log,
                actor=cli_actor(),
                camera_id="cam-0001",
                polygons=[[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]],
                now_ns=SystemClock().wall_ns(),
            )
