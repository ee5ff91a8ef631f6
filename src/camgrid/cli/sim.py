"""``camgrid sim``: the simulated city and its fault injector."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import urllib.error
import urllib.request
from pathlib import Path

import click

from camgrid.cli.common import settings_from, setup_logging
from camgrid.sim import layout
from camgrid.sim.faults import FAULTS
from camgrid.sim.quirks import QUIRKS, QuirkError, assign
from camgrid.sim.scene_director import ScriptEntry, load_script
from camgrid.sim.scenes import CELLS, MOTION, SCENE_FAULTS, TAMPERS, cells_of_region, motion_variant


@click.group(invoke_without_command=True)
@click.option("--count", type=click.IntRange(1, 5000), default=8, show_default=True, help="Cameras to simulate.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the registry CSV here.")
@click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve the cameras of this registry file instead of laying out a new city.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Layout seed.")
@click.option("--port", type=click.IntRange(1, 65535), help="RTSP port (default: sim.port).")
@click.option(
    "--control-port", type=click.IntRange(0, 65535), help="Fault-injector HTTP port (default: sim.control_port)."
)
@click.option(
    "--onvif-port", type=click.IntRange(0, 65535), help="ONVIF HTTP port, 0 = ephemeral (default: sim.onvif_port)."
)
@click.option(
    "--discovery-port",
    type=click.IntRange(0, 65535),
    help="WS-Discovery UDP port, 0 = ephemeral (default: sim.discovery_port).",
)
@click.option("--truth", type=click.Path(path_type=Path, dir_okay=False), help="Ground-truth JSONL of faults.")
@click.option("--pattern-camera", multiple=True, help="Camera ids whose picture carries the privacy test pattern.")
@click.option(
    "--quirk",
    "quirk_args",
    multiple=True,
    help="Misbehave like a real camera: NAME for every camera or CAMERA=NAME for one (see `camgrid sim quirks`).",
)
@click.option("--shared-clip", is_flag=True, help="Every camera sends the same clip (default: sim.shared_clip).")
@click.option("--record-pictures", is_flag=True, help="Keep each picture sent for GET /truth/<camera> (all cameras).")
@click.option(
    "--scenes",
    "scenes_arg",
    help="Scene cameras (a still picture with motion and tamper faults): the first N, `all`, or ids separated by "
    "commas (default: the first sim.scene_cameras).",
)
@click.option(
    "--scene-script",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help='JSON list of {"at_s", "kind", "camera", "region"?, "cell"?, "seconds"?} applied from the start.',
)
@click.option("--layout-only", is_flag=True, help="Write the registry file and exit.")
@click.pass_context
def sim(
    ctx: click.Context,
    count: int,
    out: Path | None,
    registry: Path | None,
    seed: int,
    port: int | None,
    control_port: int | None,
    onvif_port: int | None,
    discovery_port: int | None,
    truth: Path | None,
    pattern_camera: tuple[str, ...],
    quirk_args: tuple[str, ...],
    shared_clip: bool,
    record_pictures: bool,
    scenes_arg: str | None,
    scene_script: Path | None,
    layout_only: bool,
) -> None:
    """Serve N simulated RTSP cameras on one port (and write their registry file with --out)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx)
    setup_logging(settings, "sim")
    cfg = settings.sim
    port = port or cfg.port
    control_port = cfg.control_port if control_port is None else control_port
    onvif_port = cfg.onvif_port if onvif_port is None else onvif_port
    discovery_port = cfg.discovery_port if discovery_port is None else discovery_port
    if registry:
        specs = layout.read_registry(registry)
    else:
        specs = layout.make_city(count, seed=seed, h265_every=cfg.h265_every)
    try:
        per_camera = assign([s.id for s in specs], quirk_args)
    except QuirkError as exc:
        raise click.BadParameter(str(exc), param_hint="--quirk") from None
    chosen = _scene_cameras(scenes_arg, cfg.scene_cameras, [s.id for s in specs])
    if chosen & set(pattern_camera):
        raise click.BadParameter("a scene camera cannot carry the privacy pattern", param_hint="--scenes")
    specs = [dataclasses.replace(s, quirks=per_camera[s.id], scene=s.id in chosen) for s in specs]
    script = _script(scene_script, specs) if scene_script else None
    if out:
        layout.write_registry(specs, out, cfg.host, port, onvif_port if cfg.onvif else 0)
        click.echo(f"wrote {len(specs)} cameras to {out}", err=True)
    if layout_only:
        return
    from camgrid.sim.service import prepare, serve

    try:
        cameras = prepare(
            specs,
            cache_dir=Path(cfg.cache_dir) if cfg.cache_dir else settings.home / "cache" / "clips",
            width=cfg.width,
            height=cfg.height,
            fps=cfg.fps,
            bitrate_kbps=cfg.bitrate_kbps,
            gop_seconds=cfg.gop_seconds,
            clip_seconds=cfg.clip_seconds,
            pattern_cameras=frozenset(pattern_camera),
            shared_clip=shared_clip or cfg.shared_clip,
            record_truth=record_pictures,
            scene_variants=_script_variants(script or []),
        )
    except QuirkError as exc:
        raise click.BadParameter(str(exc), param_hint="--quirk") from None
    truth_path = truth or settings.home / "sim-truth.jsonl"

    def served_onvif(real_port: int) -> None:
        if out and real_port != onvif_port:  # the configured port was busy: the registry names the real one
            layout.write_registry(specs, out, cfg.host, port, real_port)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                cameras,
                host=cfg.host,
                port=port,
                control_port=control_port,
                fps=cfg.fps,
                truth_path=truth_path,
                tick_s=cfg.tick_ms / 1000,
                onvif_port=onvif_port if cfg.onvif else None,
                discovery_port=discovery_port if cfg.onvif else None,
                on_onvif_port=served_onvif,
                replay_max_rate=cfg.replay_max_rate,
                scene_script=script,
            )
        )


def _scene_cameras(arg: str | None, default: int, ids: list[str]) -> set[str]:
    """``--scenes``: the first N cameras, ``all``, or camera ids separated by commas."""
    if arg is None:
        return set(ids[:default])
    if arg == "all":
        return set(ids)
    if arg.isdigit():
        return set(ids[: int(arg)])
    chosen = {a.strip() for a in arg.split(",") if a.strip()}
    unknown = sorted(chosen - set(ids))
    if not chosen or unknown:
        raise click.BadParameter(f"a number, `all` or camera ids (unknown: {unknown[:5]})", param_hint="--scenes")
    return chosen


def _script(path: Path, specs: list[layout.SimCameraSpec]) -> list[ScriptEntry]:
    """The scene script, checked against the city: every camera exists, scene faults only on scene cameras."""
    try:
        entries = load_script(path, sorted(FAULTS))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scene-script") from None
    by_id = {s.id: s for s in specs}
    for e in entries:
        spec = by_id.get(e.camera)
        if FAULTS[e.kind][0] == "camera" and spec is None:
            raise click.BadParameter(f"no camera {e.camera!r}", param_hint="--scene-script")
        if e.kind in SCENE_FAULTS and (spec is None or not spec.scene):
            raise click.BadParameter(f"{e.camera!r} is not a scene camera (--scenes)", param_hint="--scene-script")
    return entries


def _script_variants(entries: list[ScriptEntry]) -> set[str]:
    """The variants a script will ask for (encoded before the city starts, not while it runs)."""
    out = set()
    for e in entries:
        if e.kind in TAMPERS:
            out.add(e.kind)
        elif e.kind == MOTION:
            cells = (e.cell,) if e.cell is not None else cells_of_region(e.region or (0.0, 0.0, 1.0, 1.0))
            out.add(motion_variant(c for c in cells if c is not None))
    return out


@sim.command("fault")
@click.argument("kind", type=click.Choice(sorted(FAULTS)))
@click.argument("subject")
@click.option(
    "--seconds",
    type=float,
    help="For clock_jump: how far the RTP clock jumps; for camera_clock_offset: how far the camera's clock is "
    "off; for camera_motion and motion: how long the motion lasts.",
)
@click.option("--region", help="For motion: x0,y0,x1,y1 (normalised, y down), snapped to the 4x4 grid's cells.")
@click.option("--cell", type=click.IntRange(0, CELLS - 1), help="For motion: one cell of the 4x4 grid (row by row).")
@click.option("--control", default=None, help="Control URL (default http://<sim.host>:<sim.control_port>).")
@click.pass_context
def fault(
    ctx: click.Context,
    kind: str,
    subject: str,
    seconds: float | None,
    region: str | None,
    cell: int | None,
    control: str | None,
) -> None:
    """Inject a fault into a running simulator: KIND on SUBJECT (feeder, site, uplink or camera id)."""
    settings = settings_from(ctx)
    url = control or f"http://{settings.sim.host}:{settings.sim.control_port}"
    fields: dict[str, object] = {"kind": kind, "subject": subject, "seconds": seconds}
    if region is not None:
        try:
            box = [float(v) for v in region.split(",")]
            cells_of_region(box)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--region") from None
        fields["region"] = box
    if cell is not None:
        fields["cell"] = cell
    body = json.dumps(fields).encode()
    req = urllib.request.Request(url + "/fault", data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            click.echo(resp.read().decode())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(exc.read().decode()) from None
    except urllib.error.URLError as exc:
        raise click.ClickException(f"simulator not reachable at {url}: {exc.reason}") from None


@sim.command("faults")
def faults_list() -> None:
    """List the fault kinds."""
    for kind, (what, desc) in sorted(FAULTS.items()):
        click.echo(f"{kind:<15} {what:<7} {desc}")


@sim.command("quirks")
def quirks_list() -> None:
    """List the quirks a simulated camera can have, with who does it and the source."""
    for name, desc in QUIRKS.items():
        click.echo(f"{name:<23} {desc}")
