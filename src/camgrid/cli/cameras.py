"""``camgrid cameras``: import (audited as ``cli:<login>`` by the registry service), list, export.

Nothing here prints a password or a credential URL: lists and exports show redacted URLs; only ``export
--with-secrets`` writes the real ones, audited by the registry service (docs/design/secrets-at-rest.md)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

import click

from camgrid.auditing import cli_actor
from camgrid.cli.acting import audit_log, refusals
from camgrid.cli.common import box_of, open_db, settings_from
from camgrid.clock import SystemClock
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretsKeyError
from camgrid.ingest import probe as camprobe
from camgrid.ingest import service as ingest
from camgrid.registry import io as regio
from camgrid.registry import service


@click.group()
def cameras() -> None:
    """Cameras in the registry."""


@cameras.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--status",
    type=click.Choice(["active", "planned", "disabled"]),
    default="active",
    show_default=True,
    help="planned: cameras from `camgrid plan --registry-out` (shown on the map, never recorded).",
)
@click.pass_context
def cameras_import(ctx: click.Context, file: Path, status: str) -> None:
    """Import FILE (CSV or GeoJSON). Atomic: any bad row imports nothing and exits 2."""
    settings = settings_from(ctx)
    parsed = regio.parse_camera_file(file)
    if parsed.errors:
        for err in parsed.errors:
            click.echo(err, err=True)
        click.echo(f"{file}: {len(parsed.errors)} bad row(s); nothing imported", err=True)
        ctx.exit(2)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        summary = service.import_cameras(
            session=session,
            audit=log,
            actor=cli_actor(),
            rows=parsed.rows,
            now_ns=SystemClock().wall_ns(),
            box=box_of(settings),
            status=status,
        )
    click.echo(
        f"{file}: {summary.total} cameras: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


@cameras.command("status")
@click.argument("camera_id")
@click.argument("status", type=click.Choice(["active", "planned", "disabled"]))
@click.pass_context
def cameras_status(ctx: click.Context, camera_id: str, status: str) -> None:
    """Set CAMERA_ID's status: active (recorded), disabled (not recorded) or planned (on the map only)."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        cam = service.set_camera_status(
            session=session,
            audit=log,
            actor=cli_actor(),
            camera_id=camera_id,
            status=status,
            now_ns=SystemClock().wall_ns(),
        )
        click.echo(f"{cam.id}: {cam.status} (revision {cam.revision})")


@cameras.command("audio")
@click.argument("camera_id")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_context
def cameras_audio(ctx: click.Context, camera_id: str, state: str) -> None:
    """Record CAMERA_ID's sound too (on) or stop (off). Off by default: many cities forbid recording sound.
    Audited; the recorder picks the change up within seconds."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        cam = service.set_camera_audio(
            session=session,
            audit=log,
            actor=cli_actor(),
            camera_id=camera_id,
            enabled=state == "on",
            now_ns=SystemClock().wall_ns(),
        )
        click.echo(f"{cam.id}: audio {'on' if cam.audio_enabled else 'off'} (revision {cam.revision})")


@cameras.command("maintenance")
@click.argument("camera_id")
@click.option("--on/--off", "on", required=True, help="Take the camera out of service for repair, or put it back.")
@click.option("--note", default="", help="Why, for the next shift (at most 500 characters).")
@click.pass_context
def cameras_maintenance(ctx: click.Context, camera_id: str, on: bool, note: str) -> None:
    """Put CAMERA_ID in maintenance (its outages open no incident) or back in service. Audited; exits 1 when the
    camera already is in the state asked for."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        try:
            window = service.set_maintenance(
                session=session,
                audit=log,
                actor=cli_actor(),
                camera_id=camera_id,
                on=on,
                note=note,
                now_ns=SystemClock().wall_ns(),
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        state = "in maintenance" if window.end_ns is None else "back in service"
        click.echo(f"{window.camera_id}: {state}")


@cameras.command("probe")
@click.argument("camera_id")
@click.option(
    "--seconds",
    type=click.FloatRange(camprobe.PROBE_MIN_S, camprobe.PROBE_MAX_S),
    default=camprobe.PROBE_DEFAULT_S,
    show_default=True,
    help="How long to measure the camera's media.",
)
@click.option("--json", "as_json", is_flag=True, help="The whole result as JSON (SDP included).")
@click.pass_context
def cameras_probe(ctx: click.Context, camera_id: str, seconds: float, as_json: bool) -> None:
    """Show what CAMERA_ID really sends: codecs, resolution, measured fps and bitrate, keyframe interval, RTP clock
    drift, loss, quirks, the server's methods. A short session of its own, with the registry's credentials
    (audited as camera.probe; the password is never shown). Exits 1 when the camera could not be probed."""
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    with refusals(), unit_of_work(factory) as session:
        try:
            source = ingest.open_probe(
                session=session, audit=log, actor=cli_actor(), box=box_of(settings), camera_id=camera_id,
                seconds=seconds,
            )  # fmt: skip
        except SecretsKeyError as exc:
            raise click.ClickException(str(exc)) from None
    result = camprobe.probe(source, seconds=seconds, clock=SystemClock(), config=settings.recorder)
    if as_json:
        click.echo(result.model_dump_json(indent=1))
    else:
        for key, value in probe_rows(result):
            click.echo(f"{key:<16} {value}")
    if result.error is not None:
        ctx.exit(1)


TRANSPORT_TEXT = {"tcp": "RTP in the RTSP connection (TCP interleaved)", "udp": "RTP over UDP"}


def _num(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _track(t: camprobe.Track) -> str:
    return "/".join(str(x) for x in (t.codec or "?", t.clock_rate, t.channels) if x)


def probe_rows(r: camprobe.ProbeResult) -> list[tuple[str, str]]:
    """The probe as a two-column table (what the camera panel shows too)."""
    audio = [_track(t) for t in r.tracks if t.kind == "audio"]
    rows = [
        ("camera", r.camera),
        ("url", r.url),
        ("result", "ok" if r.error is None else f"FAILED: {r.error.reason}: {r.error.detail}"),
        ("server", r.server or "-"),
        ("methods", ", ".join(r.public) or "-"),
        ("transport", TRANSPORT_TEXT.get(r.transport, r.transport) + (", RTSP over TLS" if r.tls else "")),
        ("keepalive", r.keepalive or "-"),
        ("video", f"{r.codec or '-'} {r.codec_string}".strip()),
        ("audio", ", ".join(audio) or "none"),
        ("resolution", f"{r.width}x{r.height}" if r.width and r.height else "-"),
        (
            "fps",
            f"{_num(r.fps, digits=2)} (arrival {_num(r.fps_arrival, digits=2)}"
            + (f", declared {r.declared_fps:g})" if r.declared_fps else ")"),
        ),
        ("bitrate", _num(r.bitrate_kbps, " kbit/s")),
        (
            "keyframes",
            f"every {r.gop_pictures} pictures ({_num(r.gop_seconds, ' s', 2)})"
            if r.gop_pictures
            else f"{r.keyframes} seen: too few to measure the interval",
        ),
        ("clock drift", _num(r.drift_ppm, " ppm", 0) + f" over {r.measured_s:.1f} s"),
        (
            "pictures",
            f"{r.pictures} ({r.keyframes} keyframes), parameter sets in-band: " + ("yes" if r.params_in_band else "no"),
        ),
        (
            "rtp loss",
            f"{r.rtp_lost} of {r.rtp_packets + r.rtp_lost} packets ({r.rtp_reordered} reordered, "
            f"{r.rtp_dropped} of another source or type dropped)",
        ),
        ("quirks", ", ".join(r.quirks) or "none seen"),
    ]
    return rows


@cameras.command("list")
@click.option("--district", help="Only this district.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_context
def cameras_list(ctx: click.Context, district: str | None, as_json: bool) -> None:
    """List cameras (never their passwords)."""
    settings = settings_from(ctx)
    _, factory = open_db(settings)
    with unit_of_work(factory) as session:
        cams = [service.camera_out(c) for c in service.list_cameras(session=session, district=district)]
    for cam in cams:
        if as_json:
            click.echo(cam.model_dump_json())
        else:
            click.echo(f"{cam.id:<16} {cam.district_id:<10} {cam.feeder_id:<10} {cam.status:<8} {cam.name}")


@cameras.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="File to write (default stdout).")
@click.option(
    "--with-secrets",
    is_flag=True,
    help="Also write passwords and the real URLs (audited; needs --out, written with mode 0600).",
)
@click.pass_context
def cameras_export(ctx: click.Context, fmt: str, out: Path | None, with_secrets: bool) -> None:
    """Export cameras in the import format, without passwords and with redacted URLs (unless --with-secrets)."""
    if with_secrets and out is None:
        raise click.UsageError("--with-secrets writes to a file only: give --out")
    settings = settings_from(ctx)
    engine, factory = open_db(settings)
    with refusals(), unit_of_work(factory) as session:
        if with_secrets:
            rows = service.export_rows_with_secrets(
                session=session, audit=audit_log(settings, engine), actor=cli_actor(), box=box_of(settings)
            )
        else:
            rows = service.export_rows(service.list_cameras(session=session))
    stream: TextIO
    if out is not None:
        if with_secrets:  # made 0600 before the first secret is written, whatever the umask
            out.unlink(missing_ok=True)
            os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        stream = out.open("w", encoding="utf-8", newline="")
    else:
        stream = sys.stdout
    try:
        if fmt == "csv":
            regio.write_csv(rows, stream, with_secrets=with_secrets)
        else:
            json.dump(regio.to_geojson(rows, with_secrets=with_secrets), stream, indent=1)
            stream.write("\n")
    finally:
        if out:
            stream.close()


from camgrid.cli.discover import cameras_discover  # noqa: E402  (its module needs no name from this one)

cameras.add_command(cameras_discover)
