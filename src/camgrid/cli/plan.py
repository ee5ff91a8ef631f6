"""``camgrid plan``: where to put cameras on a real street map (the security map)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from camgrid.cli.common import settings_from, setup_logging

log = logging.getLogger(__name__)


def _floats(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}") from None
    if any(v <= 0 for v in values):
        raise click.BadParameter("budgets must be positive")
    return values


def budgets_from(budget: float | None, phases: int | None, per_phase: str | None) -> list[float]:
    """``--budget B`` alone: one phase. ``--phases N --budget-per-phase X``: N phases of X (or a list of N).
    ``--phases N --budget B``: B split evenly over N phases."""
    listed = _floats(per_phase)
    if listed:
        if phases is not None and len(listed) == 1:
            return listed * phases
        if phases is not None and len(listed) != phases:
            raise click.BadParameter(f"--budget-per-phase lists {len(listed)} budgets for {phases} phases")
        return listed
    if budget is None:
        raise click.UsageError("give --budget or --budget-per-phase")
    if budget <= 0:
        raise click.BadParameter("--budget must be positive")
    n = phases or 1
    return [budget / n] * n


def _read_points(path: Path) -> list[Any]:
    from camgrid.planner.instance import OperatorPoint

    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, feat in enumerate(doc.get("features", []), start=1):
        geom, props = feat.get("geometry") or {}, feat.get("properties") or {}
        if geom.get("type") != "Point":
            raise click.ClickException(f"{path}:{i}: operator points must be Point features")
        lon, lat = geom["coordinates"][:2]
        try:
            weight = float(props.get("weight", 0))
        except (TypeError, ValueError):
            raise click.ClickException(f"{path}:{i}: weight must be a number") from None
        if weight <= 0:
            raise click.ClickException(f"{path}:{i}: needs a positive 'weight' property")
        out.append(
            OperatorPoint(
                str(props.get("id") or f"op{i}"),
                float(lat),
                float(lon),
                weight,
                str(props.get("name", "")),
                int(props.get("k", 1)),
            )
        )
    return out


def _read_existing(path: Path) -> list[Any]:
    from camgrid.planner.instance import ExistingCamera
    from camgrid.registry import io as regio

    parsed = regio.parse_camera_file(path)
    if parsed.errors:
        raise click.ClickException("\n".join(parsed.errors))
    return [ExistingCamera(r.id, r.lat, r.lon, r.feeder, r.heading_deg, r.fov_deg, r.range_m) for r in parsed.rows]


def _read_districts(path: Path, city: Any) -> dict[str, Any]:
    from shapely.geometry import shape

    doc = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for i, feat in enumerate(doc.get("features", []), start=1):
        props = feat.get("properties") or {}
        name = str(props.get("district") or props.get("id") or props.get("name") or f"district-{i}")
        geom = shape(feat["geometry"])

        def fwd(c: Any) -> Any:
            import numpy as np

            x, y = city.projection.to_xy(c[:, 1], c[:, 0])
            return np.column_stack([x, y])

        import shapely

        out[name] = shapely.transform(geom, fwd)
    return out


@click.group(invoke_without_command=True)
@click.option(
    "--map",
    "map_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="OSM map (.osm, .osm.xz/.gz/.bz2 or GeoJSON). Default: the shipped Kathmandu extract.",
)
@click.option("--budget", type=float, help="Total budget (camera cost units); split over --phases if given.")
@click.option("--phases", type=click.IntRange(1, 50), help="Number of phases (years).")
@click.option("--budget-per-phase", help="Budget of each phase: one number, or one per phase (comma separated).")
@click.option(
    "--solver",
    type=click.Choice(["greedy", "local", "exact", "all"]),
    default="all",
    show_default=True,
    help="'all' runs the three side by side and keeps the best plan.",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Plan GeoJSON to write (required).")
@click.option(
    "--registry-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the planned cameras as a registry import file (.csv or .geojson).",
)
@click.option("--points", type=click.Path(path_type=Path, exists=True), help="Operator points: GeoJSON with weight.")
@click.option(
    "--existing", type=click.Path(path_type=Path, exists=True), help="Installed cameras (registry CSV/GeoJSON)."
)
@click.option("--districts", type=click.Path(path_type=Path, exists=True), help="District polygons (GeoJSON).")
@click.option("--bbox", help="Plan only inside minlat,minlon,maxlat,maxlon.")
@click.option("--power-aware/--no-power-aware", default=None, help="Weight coverage by power availability.")
@click.option("--time-limit", type=float, help="Exact solver time limit in seconds (default: planner.time_limit_s).")
@click.option("--heuristic-time", type=float, help="Local search time in seconds (default: planner.heuristic_time_s).")
@click.option("--no-views", is_flag=True, help="Leave the visibility polygons out of the GeoJSON.")
@click.pass_context
def plan(
    ctx: click.Context,
    map_path: Path | None,
    budget: float | None,
    phases: int | None,
    budget_per_phase: str | None,
    solver: str,
    out: Path | None,
    registry_out: Path | None,
    points: Path | None,
    existing: Path | None,
    districts: Path | None,
    bbox: str | None,
    power_aware: bool | None,
    time_limit: float | None,
    heuristic_time: float | None,
    no_views: bool,
) -> None:
    """Plan where cameras go on a street map within a budget (and phases), and write the plan as GeoJSON.

    Map data © OpenStreetMap contributors (ODbL); the attribution is written into the GeoJSON. City scale:
    ``camgrid plan city-gen`` and ``camgrid plan city``.
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("Missing option '--out'.")
    from camgrid.geo.osm import ATTRIBUTION, crop_city, load_city
    from camgrid.planner import output
    from camgrid.planner.instance import build_instance
    from camgrid.planner.service import plan_phases
    from camgrid.registry import io as regio

    settings = settings_from(ctx)
    setup_logging(settings, "plan")
    budgets = budgets_from(budget, phases, budget_per_phase)
    cfg = settings.planner
    if power_aware is not None:
        cfg = cfg.model_copy(update={"power_aware": power_aware})
    try:
        city = load_city(map_path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if bbox:
        try:
            box = [float(v) for v in bbox.split(",")]
        except ValueError:
            box = []
        if len(box) != 4:
            raise click.BadParameter("--bbox needs minlat,minlon,maxlat,maxlon")
        city = crop_city(city, *box)
    cache = Path(cfg.cache_dir) if cfg.cache_dir else settings.home / "cache" / "planner"
    pi = build_instance(
        city,
        cfg,
        operator_points=_read_points(points) if points else (),
        existing=_read_existing(existing) if existing else (),
        districts=_read_districts(districts, city) if districts else None,
        cache_dir=cache,
    )
    click.echo(
        f"map {city.source}: {len(pi.points)} points, {len(pi.sites)} sites, {pi.n_poses} poses, "
        f"{pi.instance.coverage.n_pairs} pairs (visibility {pi.visibility_s:.2f}s"
        f"{', cached' if pi.visibility_cached else ''})"
    )
    result = plan_phases(
        pi.instance,
        budgets,
        solver,
        time_limit_s=time_limit if time_limit is not None else cfg.time_limit_s,
        heuristic_time_s=heuristic_time if heuristic_time is not None else cfg.heuristic_time_s,
        rel_gap=cfg.mip_rel_gap,
    )
    for ph in result.phases:
        for name, sol in ph.alternatives.items():
            click.echo(
                f"phase {ph.index} {name:>6}: objective {sol.objective:.2f} bound {sol.bound:.2f} "
                f"gap {sol.gap:.4%} cameras {len(sol.poses)} in {sol.seconds:.1f}s"
            )
        click.echo(
            f"phase {ph.index}: budget {ph.budget:g}, {len(ph.solution.poses)} cameras ({ph.solution.solver}), "
            f"adds {ph.gain:.2f}, total {ph.objective:.2f}"
        )
    doc = output.plan_geojson(pi, result, views=not no_views)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    total = doc["planner"]["coverage"]["total"]
    click.echo(
        f"plan: objective {result.objective:.2f} bound {result.bound:.2f} gap {result.gap:.4%}, "
        f"covered {total['share']:.1%} of the weight -> {out} ({ATTRIBUTION})"
    )
    if registry_out:
        rows = output.registry_rows(pi, result)
        registry_out.parent.mkdir(parents=True, exist_ok=True)
        with registry_out.open("w", encoding="utf-8", newline="") as fh:
            if registry_out.suffix.lower() in (".geojson", ".json"):
                json.dump(regio.to_geojson(rows), fh, indent=1)
                fh.write("\n")
            else:
                regio.write_csv(rows, fh)
        click.echo(f"{len(rows)} planned cameras -> {registry_out} (import with `camgrid cameras import`)")


def _register_city_commands() -> None:
    from camgrid.cli.plan_city import city, city_gen

    plan.add_command(city_gen)
    plan.add_command(city)


_register_city_commands()
