"""One plan run's computation: its area of the map, its camera models and weights, solved with progress and a stop.

The planner screen's worker (``planner.run_worker``) calls :func:`execute`. Two planners can run a run:
- the city-scale planner (``planner.city_phases.plan_city_phases``: tiles solved in parallel with a proven global
  bound, the years planned jointly, power-aware when ``planner.power_aware``) for a run over the whole map of at
  least ``plan_runs.city_solver_min_km2`` (the first camera model: it plans no model mixes);
- otherwise today's district planner (``planner.solvers``/``lns``/``exact``), driven here one step at a time so the
  worker can show each step's objective, bound and gap and stop between steps: each year is greedy, then local
  search with LNS, then (solver ``exact``) HiGHS, and a stopped run keeps the best plan of the steps done.
Design note: docs/design/planner-screen.md.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely.geometry import Polygon

from camgrid.config import CITY_TILE_M, CameraModelConfig, PlannerConfig
from camgrid.geo.osm import ATTRIBUTION, City
from camgrid.planner.city_phases import plan_city_phases
from camgrid.planner.exact import solve_exact
from camgrid.planner.formulation import Instance, Solution, State
from camgrid.planner.instance import ExistingCamera, PlanInstance, build_instance, grid_cell
from camgrid.planner.lns import lns_improve
from camgrid.planner.output import plan_geojson
from camgrid.planner.service import Phase, Plan, with_fixed
from camgrid.planner.solvers import lazy_greedy, local_search
from camgrid.vocabulary import PlanAreaKind

if TYPE_CHECKING:
    from camgrid.planner.run_map import RunMap

# on_progress(objective, bound, gap, done, total, phase): the district planner's phase is ``<step>:<year>`` (greedy,
# local, exact) over the run's steps; the city planner's is its own step with done/total within it (city.py)
Progress = Callable[[float, float, float, int, int, str], None]
DISTRICT = "district"
CITY = "city"
# Keys of ``weights`` besides the POI tags (``planner.poi_weights``).
JUNCTION = "junction"
STREET = "street"
MAX_VIEWS = 3000  # a plan with more cameras is written without view polygons (display only; the file stays small)


@dataclass(frozen=True)
class RunSpec:
    """What a planner asked for (already bounded by the service)."""

    area_kind: PlanAreaKind
    districts: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None  # minlat, minlon, maxlat, maxlon
    budgets: tuple[float, ...] = (1.0,)
    models: tuple[CameraModelConfig, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    solver: str = "local"
    existing: tuple[ExistingCamera, ...] = ()  # installed cameras near the area (``planner.installed``)


@dataclass
class RunResult:
    doc: dict[str, Any]  # the plan's GeoJSON (planner.output format)
    objective: float
    bound: float
    gap: float
    cameras: int
    engine: str
    stopped: bool


class NothingToPlan(ValueError):
    """The area holds no street or no important point (or the stop came before any plan)."""


def weighted_config(cfg: PlannerConfig, weights: dict[str, float]) -> PlannerConfig:
    """``planner.*`` with a run's weights: POI tags (``amenity=hospital``), ``junction`` and ``street``."""
    poi = dict(cfg.poi_weights)
    update: dict[str, Any] = {}
    for key, w in weights.items():
        if key == JUNCTION:
            update["junction_weight"] = w
        elif key == STREET:
            update["street_point_weight"] = w
        else:
            poi[key] = w
    update["poi_weights"] = poi
    return cfg.model_copy(update=update)


def merged_instance(
    city: City,
    cfg: PlannerConfig,
    models: Sequence[CameraModelConfig],
    *,
    districts: dict[str, Polygon] | None,
    cache_dir: Path | None,
    existing: Sequence[ExistingCamera] = (),
) -> tuple[PlanInstance, np.ndarray]:
    """One instance whose poses are every site and orientation for every model (points and sites do not depend on
    the model, so the models' coverages stack); returns it with each pose's model index. The installed cameras go
    into the first model's part only (once: they are fixed poses, not a model's choice)."""
    parts = [
        build_instance(
            city,
            cfg.model_copy(update={"fov_deg": m.fov_deg, "range_m": m.range_m, "camera_cost": m.cost}),
            districts=districts,
            cache_dir=cache_dir,
            existing=existing if i == 0 else (),
        )
        for i, m in enumerate(models)
    ]
    first = parts[0]
    if len(parts) == 1:
        return first, np.zeros(first.n_poses, dtype=np.int64)
    offsets = np.cumsum([0] + [p.n_poses for p in parts])
    from camgrid.planner.visibility import Coverage

    coverage = Coverage(
        n_poses=int(offsets[-1]),
        n_points=first.instance.n_points,
        pair_pose=np.concatenate([p.instance.coverage.pair_pose + o for p, o in zip(parts, offsets, strict=False)])
        .astype(np.int32),
        pair_point=np.concatenate([p.instance.coverage.pair_point for p in parts]).astype(np.int32),
    )  # fmt: skip
    power: dict[str, Any] = {}
    if first.instance.pose_feeder is not None:
        power = {
            "pose_feeder": np.concatenate(
                [p.instance.pose_feeder for p in parts if p.instance.pose_feeder is not None]
            ),
            "feeder_availability": first.instance.feeder_availability,
        }
    inst = Instance(
        weights=first.instance.weights,
        cost=np.concatenate([p.instance.cost for p in parts]),
        coverage=coverage,
        k=first.instance.k,
        fixed=first.instance.fixed,  # the first part's offset is 0, so its installed poses keep their indices
        pose_xy=np.concatenate([p.instance.pose_xy for p in parts if p.instance.pose_xy is not None]),
        **power,
    )
    pi = PlanInstance(
        city, first.config, first.points, first.sites,
        np.concatenate([p.pose_site for p in parts]), np.concatenate([p.pose_heading for p in parts]),
        np.concatenate([p.pose_fov for p in parts]), np.concatenate([p.pose_range for p in parts]),
        first.feeders, inst, sum(p.visibility_s for p in parts), all(p.visibility_cached for p in parts),
        first.districts,
    )  # fmt: skip
    model_of = np.repeat(np.arange(len(parts)), [p.n_poses for p in parts])
    return pi, model_of


_STEP_NAMES = ("greedy", "local", "exact")  # the district planner's steps, in order (the progress's phase)


def _steps(solver: str) -> int:
    return {"greedy": 1, "local": 2, "exact": 3}[solver]


def solve_district(
    pi: PlanInstance,
    spec: RunSpec,
    *,
    heuristic_time_s: float,
    time_limit_s: float,
    rel_gap: float,
    progress: Progress,
    stop: threading.Event,
) -> tuple[Plan, bool]:
    """Today's planner, one step at a time (greedy, local search + LNS, exact), each year fixing the earlier ones;
    reports after every step and stops between steps (the stopped year keeps its best step). Returns the plan and
    whether it was stopped."""
    t0 = time.perf_counter()
    inst = pi.instance
    base = State(inst, inst.fixed).value()
    steps = _steps(spec.solver)
    total = steps * len(spec.budgets)
    done = 0
    phases: list[Phase] = []
    installed = np.zeros(0, dtype=np.int64)
    before = base
    stopped = False
    for i, budget in enumerate(spec.budgets, start=1):
        if stop.is_set():
            stopped = True
            break
        cur = with_fixed(inst, installed) if installed.size else inst
        best: Solution | None = None
        alternatives: dict[str, Solution] = {}
        for step in range(steps):
            if step and stop.is_set():
                stopped = True
                break
            if step == 0:
                sol = lazy_greedy(cur, float(budget))
            elif step == 1:
                assert best is not None
                ls = local_search(cur, float(budget), best, time_limit_s=heuristic_time_s * 0.15)
                left = max(0.0, heuristic_time_s - ls.seconds)
                sol = lns_improve(cur, float(budget), ls, time_limit_s=left) if left > 0 else ls
                sol.bound = min(sol.bound, best.bound)
            else:
                assert best is not None
                sol = solve_exact(cur, float(budget), time_limit_s=time_limit_s, rel_gap=rel_gap, start=best)
            if best is not None:
                sol.bound = max(sol.objective, min(sol.bound, best.bound))  # every step's bound holds for all
            if best is None or sol.objective >= best.objective:
                best = sol
            else:
                best.bound = max(best.objective, min(best.bound, sol.bound))
            alternatives[sol.solver] = sol
            done += 1
            progress(best.objective, best.bound, best.gap, done, total, f"{_STEP_NAMES[step]}:{i}")
        assert best is not None
        installed = np.union1d(installed, best.poses)
        phases.append(Phase(i, float(budget), best, best.objective, best.objective - before, alternatives))
        before = best.objective
        if stopped:
            break
    return Plan(phases, base, time.perf_counter() - t0), stopped


def _call_city(
    city: City, cfg: PlannerConfig, spec: RunSpec, *, map_path: Path | None, workers: int, tile_m: float,
    heuristic_time_s: float, time_limit_s: float | None, progress: Progress, stop: threading.Event,
) -> RunResult:  # fmt: skip
    """The whole map with the city planner (tiles solved in parallel, a proven global bound), the years planned
    jointly (the final network for their sum, ordered into years; planner-city.md), the first camera model."""
    model = spec.models[0]
    cfg = cfg.model_copy(update={"fov_deg": model.fov_deg, "range_m": model.range_m, "camera_cost": model.cost})
    budget = float(sum(spec.budgets))
    plan, years = plan_city_phases(
        instance_source=map_path, budgets=spec.budgets, cfg=cfg, workers=workers, tile_m=tile_m,
        heuristic_time_s=heuristic_time_s,
        time_limit_s=time_limit_s, progress=progress, stop=stop, existing=spec.existing,
    )  # fmt: skip
    objective, bound, gap = float(plan.objective), float(plan.bound), float(plan.gap)
    phase_of = years.phase_of()
    origin = city.bounds.bounds[:2]
    features = []
    for cam in plan.cameras(cfg, map_path):
        x, y = city.projection.to_xy(cam["lat"], cam["lon"])
        fx, fy = float(x), float(y)
        phase = phase_of.get(int(str(cam["id"]).rsplit("-", 1)[1]), len(spec.budgets))
        props = {
            "kind": "camera", "id": f"plan-{cam['id']}", "status": "planned", "phase": phase,
            "site": f"site-{cam['id']}", "feeder": grid_cell("feeder", fx, fy, cfg.feeder_cell_m, origin),
            "district": grid_cell("D", fx, fy, cfg.district_cell_m, origin), "heading_deg": cam["heading_deg"],
            "fov_deg": cam["fov_deg"], "range_m": cam["range_m"], "cost": model.cost, "model": model.name,
        }  # fmt: skip
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [cam["lon"], cam["lat"]]},
                "properties": props,
            }
        )
    joint = {"objective": years.objective, "bound": years.bound if math.isfinite(years.bound) else None,
             "gap": years.gap, "budget": budget}  # fmt: skip
    doc = {
        "type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features,
        "planner": {
            "objective": objective, "bound": bound, "gap": gap, "phases": years.as_dicts(), "joint": joint,
            "existing_value": years.base_value, "installed": len(spec.existing), "coverage": {}, "engine": CITY,
            "models": [model.model_dump()],
            "instance": {
                **{k: getattr(plan, k, None) for k in ("n_points", "n_poses", "n_pairs", "tiles", "km2")},
                "power_aware": cfg.power_aware,
            },
            "status": plan.status, "timings": {k: round(v, 2) for k, v in plan.timings.items()},
            "skipped_for_time": plan.extra.get("skipped_for_time", []),
            "cut_for_time": plan.extra.get("cut_for_time", []),
        },
    }  # fmt: skip
    return RunResult(doc, objective, bound, gap, len(features), CITY, stop.is_set())


def execute(
    run_map: RunMap,
    cfg: PlannerConfig,
    spec: RunSpec,
    *,
    heuristic_time_s: float,
    time_limit_s: float,
    city_workers: int = 2,
    city_tile_m: float = CITY_TILE_M,
    city_min_km2: float = math.inf,
    city_time_limit_s: float | None = None,
    max_area_km2: float = math.inf,
    cache_dir: Path | None = None,
    progress: Progress,
    stop: threading.Event,
) -> RunResult:
    """Plan ``spec`` on ``run_map`` (an OSM map or a city-gen manifest, ``planner.run_map``): a whole-map run goes
    to the city planner when the map asks for it (a manifest always; ``run_map.path`` is what its workers read),
    any other run is cut to its area (at most ``max_area_km2``), built for its models and weights and solved with
    progress and the stop flag; returns the plan's GeoJSON with its figures."""
    cfg = run_map.planner_config(weighted_config(cfg, spec.weights))
    if spec.area_kind == PlanAreaKind.CITY and run_map.uses_city_planner(city_min_km2):
        return _call_city(
            run_map.frame(),
            cfg,
            spec,
            map_path=run_map.path,
            workers=city_workers,
            tile_m=city_tile_m,
            heuristic_time_s=heuristic_time_s,
            time_limit_s=city_time_limit_s,
            progress=progress,
            stop=stop,
        )
    area, districts = run_map.area(spec, max_km2=max_area_km2)
    if not area.streets:
        raise NothingToPlan("no street in this area")
    pi, model_of = merged_instance(
        area, cfg, spec.models, districts=districts, cache_dir=cache_dir, existing=spec.existing
    )
    if pi.instance.n_points == 0 or pi.n_poses == 0:
        raise NothingToPlan("no important point or camera site in this area")
    plan, stopped = solve_district(
        pi, spec, heuristic_time_s=heuristic_time_s, time_limit_s=time_limit_s, rel_gap=cfg.mip_rel_gap,
        progress=progress, stop=stop,
    )  # fmt: skip
    if not plan.phases:
        raise NothingToPlan("stopped before the first plan")
    n_cams = int(plan.poses.size)
    doc = plan_geojson(pi, plan, views=n_cams <= MAX_VIEWS)
    names = [m.name for m in spec.models]
    for f in doc["features"]:
        props = f["properties"]
        if props.get("kind") == "camera" and props.get("status") == "planned":
            pose = int(str(props["id"]).rsplit("-", 1)[1])
            props["model"] = names[int(model_of[pose])]
    doc["planner"]["models"] = [m.model_dump() for m in spec.models]
    doc["planner"]["installed"] = int(pi.instance.fixed.size)
    return RunResult(doc, plan.objective, plan.bound, plan.gap, n_cams, DISTRICT, stopped)
