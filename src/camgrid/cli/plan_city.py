"""``camgrid plan city-gen`` and ``camgrid plan city``: the city-scale planner (docs/design/planner-city.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from camgrid.cli.common import settings_from, setup_logging
from camgrid.config import CITY_TILE_M


@click.command("city-gen")
@click.option("--km", type=click.FloatRange(0.05, 100.0), required=True, help="Side of the square city in km.")
@click.option("--km-y", type=click.FloatRange(0.05, 100.0), help="North-south side in km (default: --km).")
@click.option(
    "--base-map",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Extract to tile (default: the shipped Kathmandu extract).",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="City manifest (.json).")
@click.pass_context
def city_gen(ctx: click.Context, km: float, km_y: float | None, base_map: Path | None, out: Path) -> None:
    """Build a synthetic city by mirroring and shifting a real extract (its streets, buildings and POIs are kept;
    districts and feeders are synthetic grid cells). Map data © OpenStreetMap contributors (ODbL)."""
    from camgrid.planner.citymap import generate_city, write_manifest

    settings = settings_from(ctx)
    if not out.name.lower().endswith(".json"):
        raise click.BadParameter("the city manifest is JSON: give --out a .json name", param_hint="--out")
    try:
        # an absolute base path: the manifest is read by the server (plan_runs.map_path) from another directory
        doc = generate_city(km, settings.planner, base_map=base_map.resolve() if base_map else None, km_y=km_y)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    write_manifest(doc, out)
    click.echo(
        f"synthetic city {doc['km2']} km² ({doc['copies']} copies of {doc['base_map']}, "
        f"{len(doc['districts']['features'])} districts) -> {out}  [{doc['attribution']}]"
    )


@click.command("city")
@click.option(
    "--city",
    "city_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A city-gen manifest or a map (.osm, .osm.xz, .osm.pbf, GeoJSON). Default: the shipped extract.",
)
@click.option(
    "--budget",
    "budgets",
    type=click.FloatRange(min=0.0, min_open=True),
    required=True,
    multiple=True,
    help="Budget (camera cost); repeat it for yearly phases planned jointly (one per year, at most 10).",
)
@click.option(
    "--existing", type=click.Path(path_type=Path, exists=True), help="Installed cameras (registry CSV/GeoJSON)."
)
@click.option("--tile-m", type=click.FloatRange(100.0, 20_000.0), default=CITY_TILE_M, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--heuristic-time", type=click.FloatRange(0.1, 3600.0), default=8.0, show_default=True)
@click.option("--exact-time", type=click.FloatRange(0.0, 3600.0), default=0.0, show_default=True)
@click.option(
    "--time-limit",
    type=click.FloatRange(0.0, 7 * 86_400.0),
    default=0.0,
    show_default=True,
    help="Seconds; steps after the first sweep are skipped when the time left cannot cover them (0 = none).",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Plan JSON to write.")
@click.pass_context
def city(
    ctx: click.Context,
    city_path: Path | None,
    budgets: tuple[float, ...],
    existing: Path | None,
    tile_m: float,
    workers: int,
    heuristic_time: float,
    exact_time: float,
    time_limit: float,
    out: Path,
) -> None:
    """Plan a whole city in tiles, in parallel, and report the plan's proven gap (per year with several budgets)."""
    from camgrid.cli.plan import _read_existing
    from camgrid.planner.city_phases import plan_city_phases

    settings = settings_from(ctx)
    setup_logging(settings, "plan")

    def progress(obj: float, bound: float, gap: float, done: int, total: int, phase: str) -> None:
        shown = f"{bound:.1f}" if math.isfinite(bound) else "-"
        click.echo(f"{phase} {done}/{total} objective {obj:.1f} bound {shown} gap {gap:.4%}")

    try:
        result, years = plan_city_phases(
            instance_source=city_path,
            budgets=budgets,
            existing=_read_existing(existing) if existing else (),
            cfg=settings.planner,
            tile_m=tile_m,
            workers=workers,
            heuristic_time_s=heuristic_time,
            exact_time_s=exact_time,
            time_limit_s=time_limit or None,
            progress=progress,
        )
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    doc = {
        "objective": result.objective,
        "bound": result.bound if math.isfinite(result.bound) else None,
        "gap": result.gap,
        "status": result.status,
        "budget": result.budget,
        "spent": result.spent,
        "tiles": result.tiles,
        "km2": result.km2,
        "points": result.n_points,
        "covered_points": result.covered_points,
        "existing_value": years.base_value,
        "years": years.as_dicts(),
        "joint": {
            "objective": years.objective,
            "bound": years.bound if math.isfinite(years.bound) else None,
            "gap": years.gap,
        },
        "seconds": round(result.seconds, 2),
        "timings": result.timings,
        "skipped_for_time": result.extra.get("skipped_for_time", []),
        "cut_for_time": result.extra.get("cut_for_time", []),
        "source": result.source,
    }
    phase_of = years.phase_of()
    cameras = result.cameras(settings.planner, city_path)
    for cam in cameras:
        cam["phase"] = phase_of.get(int(str(cam["id"]).rsplit("-", 1)[1]), len(budgets))
    doc["cameras"] = cameras
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    click.echo(
        f"city plan: objective {result.objective:.2f} bound {result.bound:.2f} gap {result.gap:.4%}, "
        f"{result.poses.size} cameras -> {out}"
    )
