"""Years, power and installed cameras in the city planner (docs/design/planner-city.md, "Years" and "Power and
installed cameras"): every bound checked against the monolithic exact optimum on a city small enough for both, the
power-aware value against the district planner's, installed cameras counted once and never bought."""

from __future__ import annotations

import itertools
import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from camgrid.cli.main import cli
from camgrid.config import CameraModelConfig, PlannerConfig
from camgrid.geo.osm import load_city
from camgrid.planner.city import CityPlan, plan_city
from camgrid.planner.city_phases import JointPhases, order_into_years, plan_city_phases, year_by_year
from camgrid.planner.city_power import feeder_names, monolithic, power_scale
from camgrid.planner.exact import solve_exact
from camgrid.planner.formulation import Instance, evaluate, expected_capped
from camgrid.planner.instance import ExistingCamera, build_instance, grid_cell
from camgrid.planner.run_map import open_run_map
from camgrid.planner.run_solve import RunSpec, execute
from camgrid.vocabulary import PlanAreaKind

LAT0, LON0 = 27.70, 85.30
M_LAT, M_LON = 1 / 111_320.0, 1 / (111_320.0 * math.cos(math.radians(LAT0)))


def _ll(x: float, y: float) -> list[float]:
    return [round(LON0 + x * M_LON, 7), round(LAT0 + y * M_LAT, 7)]


def small_map(path: Path, side: float = 240.0, step: float = 60.0) -> Path:
    """A street grid with a building in every other block and a few schools (GeoJSON, real reader and rules)."""
    feats: list[dict[str, Any]] = []
    n = int(side // step)
    for i in range(n + 1):
        for line in ([(i * step, 0.0), (i * step, side)], [(0.0, i * step), (side, i * step)]):
            feats.append(
                {
                    "type": "Feature",
                    "properties": {"highway": "residential"},
                    "geometry": {"type": "LineString", "coordinates": [_ll(*p) for p in line]},
                }
            )
    for i in range(n):
        for j in range(n):
            x0, y0 = i * step + 12, j * step + 12
            if (i + j) % 2 == 0:
                ring = [(x0, y0), (x0 + 36, y0), (x0 + 36, y0 + 36), (x0, y0 + 36), (x0, y0)]
                feats.append(
                    {
                        "type": "Feature",
                        "properties": {"building": "yes"},
                        "geometry": {"type": "Polygon", "coordinates": [[_ll(*p) for p in ring]]},
                    }
                )
            elif (i * 3 + j) % 4 == 1:
                feats.append(
                    {
                        "type": "Feature",
                        "properties": {"amenity": "school"},
                        "geometry": {"type": "Point", "coordinates": _ll(x0 + 18, y0 + 3)},
                    }
                )
    lo, hi = _ll(-1, -1), _ll(side + 1, side + 1)
    doc = {"type": "FeatureCollection", "bbox": [lo[0], lo[1], hi[0], hi[1]], "features": feats}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


CFG = PlannerConfig(orientations=8, site_spacing_m=6.0, street_point_spacing_m=6.0)
POWER = CFG.model_copy(
    update={"power_aware": True, "feeder_cell_m": 130.0, "feeder_availability_by_id": {"feeder-0-0": 0.6}}
)
BUDGETS = (3.0, 2.5, 2.0)  # whole cameras: 3, 2, 2


@pytest.fixture(scope="module")
def map_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_map(tmp_path_factory.mktemp("map") / "grid.geojson")


@pytest.fixture(scope="module")
def joint(map_path: Path) -> tuple[CityPlan, JointPhases]:
    return plan_city_phases(instance_source=map_path, budgets=BUDGETS, cfg=CFG, **_kw())


def _kw() -> dict[str, Any]:
    return {"tile_m": 130.0, "workers": 2, "heuristic_time_s": 0.3, "sweeps": 1}


def _local(gids: np.ndarray, plan_gids: np.ndarray) -> np.ndarray:
    index = {int(g): i for i, g in enumerate(gids.tolist())}
    return np.array([index[int(g)] for g in plan_gids.tolist()], dtype=np.int64)


def test_joint_years_bounds_and_budgets(map_path: Path, joint: tuple[CityPlan, JointPhases]) -> None:
    """Each year within its budget, the years partition the plan, every year's value exact and below its bound, and
    every bound (each year's and the joint one) at least the monolithic exact optimum at that cumulative budget."""
    plan, years = joint
    assert plan.tiles == 4 and len(years.years) == 3
    inst, gids = monolithic(map_path, CFG)
    bought = [y.poses for y in years.years]
    assert [y.poses.size for y in years.years] == [3, 2, 2]
    for y, b in zip(years.years, BUDGETS, strict=True):
        assert y.cost <= b + 1e-9
    assert sum(y.cost for y in years.years) <= sum(BUDGETS)
    assert np.array_equal(np.sort(np.concatenate(bought)), np.sort(plan.poses))
    so_far = np.zeros(0, dtype=np.int64)
    opt_sum = 0.0
    for y in years.years:
        so_far = np.union1d(so_far, y.poses)
        assert y.value == pytest.approx(evaluate(inst, _local(gids, so_far)), abs=1e-6)
        opt = solve_exact(inst, y.cumulative_budget, time_limit_s=60.0, rel_gap=0.0)
        assert opt.status == "Optimal"
        assert y.bound >= opt.objective - 1e-6 and opt.objective >= y.value - 1e-6
        opt_sum += opt.objective
    assert years.years[-1].value == pytest.approx(plan.objective)
    assert years.bound >= opt_sum - 1e-6 and years.objective <= opt_sum + 1e-6
    assert years.gap < 0.1
    rows = years.as_dicts()
    assert [r["phase"] for r in rows] == [1, 2, 3] and rows[0]["adds"] == pytest.approx(rows[0]["objective"])


def test_joint_against_year_by_year(map_path: Path, joint: tuple[CityPlan, JointPhases]) -> None:
    """planner-city.md, Years: the joint plan's sum over years against the myopic plan's (each year planned with
    the earlier ones installed). The final network is planned for the whole budget, so the last years gain; the
    first year can lose to a plan made for that year alone."""
    years = joint[1]
    myopic = year_by_year(instance_source=map_path, budgets=BUDGETS, cfg=CFG, **_kw())
    my_values = [p.objective for p in myopic]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(my_values))
    # the network for the whole budget is not worse at the end, up to the heuristics (planner-city.md, Years: with
    # border windows the myopic last year reached 182 against the joint 181)
    assert years.years[-1].value >= 0.99 * my_values[-1] - 1e-6
    assert years.objective >= 0.99 * sum(my_values)
    assert years.bound >= sum(my_values) - 1e-6  # the joint bound holds for the myopic plan too


def test_order_into_years_is_greedy_and_exact() -> None:
    # one tile, three points (weights 5, 3, 1), poses 10 (sees 0, 1), 11 (sees 1, 2), 12 (sees 2); an installed
    # camera (-1) sees point 2
    part = {
        "gid": np.array([-1, 10, 11, 12]),
        "fixed": np.array([True, False, False, False]),
        "feeder": np.zeros(0, dtype=np.int64),
        "avail": np.zeros(0),
        "w": np.array([5.0, 3.0, 1.0]),
        "k": np.array([1, 1, 1]),
        "pair_pose": np.array([0, 1, 1, 2, 2, 3]),
        "pair_point": np.array([2, 0, 1, 1, 2, 2]),
    }
    years, values, base = order_into_years([part], np.array([10, 11, 12]), [1, 1, 1], power=False)
    assert base == pytest.approx(1.0)
    assert [y.tolist() for y in years] == [[10], [11], [12]]  # 12 and 11 add nothing after 10: order by id
    assert values == pytest.approx([9.0, 9.0, 9.0])


def test_power_scale_bounds_every_plan_and_the_best_feeder_would_not() -> None:
    """city_power.power_scale: w s min(n, k) / k is at least the power-aware value of every plan; scaling by the
    best single feeder's availability would not bound a point seen from two feeders."""
    rng = np.random.default_rng(5)
    n_poses, n_pts, nf = 9, 6, 3
    pairs = [(p, i) for p in range(n_poses) for i in range(n_pts) if rng.random() < 0.5]
    d = {
        "pose_gid": np.arange(n_poses),
        "pose_feeder": rng.integers(0, nf, n_poses),
        "feeder_avail": np.array([0.85, 0.6, 0.9]),
        "point_w": rng.integers(1, 5, n_pts).astype(float),
        "point_k": rng.integers(1, 3, n_pts),
        "point_owned": np.ones(n_pts, dtype=bool),
        "pair_pose": np.array([p for p, _ in pairs]),
        "pair_point": np.array([i for _, i in pairs]),
    }
    scale = power_scale(d, POWER)
    assert scale is not None and np.all(scale <= 1.0)
    for mask in range(1, 1 << n_poses):
        on = np.array([bool(mask >> p & 1) for p in range(n_poses)])
        counts = np.zeros((n_pts, nf), dtype=np.int64)
        for p, i in pairs:
            counts[i, d["pose_feeder"][p]] += on[p]
        true = d["point_w"] * expected_capped(counts, d["feeder_avail"], d["point_k"])
        n = counts.sum(axis=1)
        assert np.all(true <= d["point_w"] * scale * np.minimum(n, d["point_k"]) / d["point_k"] + 1e-9)
    two = expected_capped(np.array([[1, 1]]), np.array([0.85, 0.9]), np.array([1]))[0]
    assert two > 0.9  # so max availability (0.9) is below the value of two cameras on two feeders


def test_power_aware_city_plan_matches_the_district_planner(tmp_path: Path) -> None:
    """The tiles' power-aware value of the plan equals the district planner's (build_instance with the same feeders,
    formulation.evaluate) on the same camera set, and the bound stays above the exact power-aware optimum (a
    smaller map and budget: the exact power model is slow to prove)."""
    map_path = small_map(tmp_path / "small.geojson", side=180.0)
    budget = 2.0
    plan = plan_city(instance_source=map_path, budget=budget, cfg=POWER, **_kw())
    assert plan.status == "complete" and plan.poses.size == 2 and plan.tiles == 4
    pi = build_instance(load_city(map_path), POWER)
    assert pi.instance.power
    # the city source's sites are the district planner's sites (same rules), pose = site x orientations + o
    assert plan.objective == pytest.approx(evaluate(pi.instance, plan.poses), abs=1e-6)
    xy = np.array([(s.x, s.y) for s in pi.sites])
    b = load_city(map_path).bounds.bounds
    origin = (float(b[0]), float(b[1]))
    names = feeder_names(xy, origin, POWER.feeder_cell_m)
    assert names.tolist() == [s.feeder for s in pi.sites]
    assert names.tolist()[0] == grid_cell("feeder", xy[0, 0], xy[0, 1], POWER.feeder_cell_m, origin)
    best = best_pair_with_power(pi.instance)
    assert plan.bound >= best - 1e-6 and best >= plan.objective - 1e-6  # the windows may reach the optimum itself
    plain = plan_city(instance_source=map_path, budget=budget, cfg=CFG, **_kw())
    assert plan.bound < plain.bound  # the power factor tightens the no-power bound


def best_pair_with_power(inst: Instance) -> float:
    """The power-aware optimum for two cameras (k = 1), by enumerating every pair of poses (HiGHS's power model
    takes ~40 s to prove it here): value(p, q) = g_p + g_q - overlap, where a shared feeder fails both together."""
    assert inst.pose_feeder is not None and inst.feeder_availability is not None
    a = inst.feeder_availability[inst.pose_feeder]
    cov = inst.coverage
    big = np.zeros((inst.n_poses, inst.n_points))
    big[cov.pair_pose, cov.pair_point] = a[cov.pair_pose]
    g = big @ inst.weights
    both = (big * inst.weights) @ big.T  # sum_i w_i A_pi A_qi
    same = inst.pose_feeder[:, None] == inst.pose_feeder[None, :]
    overlap = np.where(same, both / np.maximum(a[:, None], 1e-12), both)
    value = g[:, None] + g[None, :] - overlap
    p, q = np.unravel_index(int(np.argmax(value)), value.shape)
    assert float(value[p, q]) == pytest.approx(evaluate(inst, np.unique([p, q])))
    return float(value.max())


def test_installed_cameras_counted_once_never_bought(map_path: Path) -> None:
    """--existing: fixed in every tile holding them (cost 0), never in the plan, their points counted once (by the
    owner), and the bound still holds with them installed."""
    src = load_city(map_path)
    existing = []
    for j, (x, y) in enumerate([(60.0, 60.0), (118.0, 131.0), (180.0, 60.0)]):  # near tile corners and borders
        lat, lon = src.projection.to_latlon(x, y)
        heading = None if j == 0 else 90.0 * j
        existing.append(ExistingCamera(f"cam-{j}", float(lat), float(lon), "", heading, 90.0, 50.0))
    plan = plan_city(instance_source=map_path, budget=4.0, cfg=CFG, existing=existing, **_kw())
    assert plan.poses.size == 4 and np.all(plan.poses >= 0)
    inst, gids = monolithic(map_path, CFG, existing)
    assert inst.fixed.size == 3 and np.all(gids[inst.fixed] < 0) and np.all(inst.cost[inst.fixed] == 0)
    assert plan.objective == pytest.approx(evaluate(inst, _local(gids, plan.poses)), abs=1e-6)
    alone = evaluate(inst, np.zeros(0, dtype=np.int64))
    assert alone > 0
    exact = solve_exact(inst, 4.0, time_limit_s=60.0, rel_gap=0.0)
    assert plan.bound >= exact.objective - 1e-6 and exact.objective >= plan.objective - 1e-6
    _, years = plan_city_phases(instance_source=map_path, budgets=(2.0, 2.0), cfg=CFG, existing=existing, **_kw())
    assert years.base_value == pytest.approx(alone, abs=1e-6)
    assert all(np.all(y.poses >= 0) for y in years.years)


def test_run_solve_city_path_fills_the_years(map_path: Path) -> None:
    """run_solve: a whole-map run at city scale plans the years jointly; the plan's phases are the years."""
    model = CameraModelConfig(name="dome-90", fov_deg=90.0, range_m=60.0, cost=1.0)
    spec = RunSpec(PlanAreaKind.CITY, budgets=(2.0, 2.0, 1.0), models=(model,), solver="local")
    seen: list[tuple[float, ...]] = []
    res = execute(
        open_run_map(map_path, POWER),
        POWER,
        spec,
        heuristic_time_s=0.3,
        time_limit_s=5.0,
        city_workers=2,
        city_min_km2=0.0,
        progress=lambda *a: seen.append(a),
        stop=threading.Event(),
    )
    planner = res.doc["planner"]
    assert res.engine == "city" and res.cameras == 5
    assert [p["cameras"] for p in planner["phases"]] == [2, 2, 1]
    cams = [f["properties"] for f in res.doc["features"] if f["properties"].get("kind") == "camera"]
    assert sorted(c["phase"] for c in cams) == [1, 1, 2, 2, 3]
    assert planner["instance"]["power_aware"] is True
    assert planner["joint"]["bound"] >= planner["joint"]["objective"] > 0
    assert planner["phases"][-1]["objective"] == pytest.approx(res.objective)
    assert seen and math.isfinite(seen[-1][1])
    phases = [a[5] for a in seen]  # the worker stores each step's name (plan_runs.phase)
    assert phases[0] == "prepare" and phases[-1] == "done" and "years" in phases
    assert planner["skipped_for_time"] == [] and "prepare_s" in planner["timings"]


def test_cli_city_years_and_existing(map_path: Path, tmp_path: Path) -> None:
    """``camgrid plan city --budget B1 --budget B2 --existing cams.csv``: years in the plan, installed cameras never
    in it."""
    src = load_city(map_path)
    lat, lon = src.projection.to_latlon(120.0, 60.0)
    cams = tmp_path / "cams.csv"
    cams.write_text(
        "id,name,lat,lon,district,site,feeder,uplink,rtsp_url\n"
        f"cam-1,Cam 1,{float(lat):.7f},{float(lon):.7f},D-0-0,s1,feeder-0-0,u1,rtsp://cam.invalid/1\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan.json"
    args = ["--home", str(tmp_path / "h"), "plan", "city", "--city", str(map_path), "--budget", "2", "--budget", "1"]
    args += ["--existing", str(cams), "--tile-m", "130", "--workers", "1", "--heuristic-time", "0.2", "--out", str(out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert [y["cameras"] for y in doc["years"]] == [2, 1]
    assert sorted(c["phase"] for c in doc["cameras"]) == [1, 1, 2]
    assert doc["existing_value"] > 0 and doc["joint"]["bound"] >= doc["joint"]["objective"]


def test_swaps_between_years_fix_the_greedy_first_year() -> None:
    """Six points of weight 1; C sees 1, 2, 4, 5; A sees 1, 2, 3; B sees 4, 5, 6. Greedy takes C then A (5) for a
    two-camera first year; swapping C (year 1) with B (year 2) gives A + B = 6, the final network unchanged."""
    part = {
        "gid": np.array([1, 2, 3]),  # A, B, C
        "fixed": np.zeros(3, dtype=bool),
        "feeder": np.zeros(0, dtype=np.int64),
        "avail": np.zeros(0),
        "w": np.ones(6),
        "k": np.ones(6, dtype=np.int64),
        "pair_pose": np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2]),
        "pair_point": np.array([0, 1, 2, 3, 4, 5, 0, 1, 3, 4]),
    }
    years, values, _ = order_into_years([part], np.array([1, 2, 3]), [2, 1], power=False)
    assert [y.tolist() for y in years] == [[1, 2], [3]]
    assert values == pytest.approx([6.0, 6.0])


def test_stopped_run_still_orders_its_plan_into_years(map_path: Path) -> None:
    """The planner screen's Stop: a run stopped during its sweep keeps its plan, split into years within their
    budgets, each year's bound the run's own (valid for every cumulative budget below the whole)."""
    stop = threading.Event()

    def progress(obj: float, bound: float, gap: float, done: int, total: int, phase: str) -> None:
        if math.isfinite(bound) and phase == "sweep:1" and done > total // 2:
            stop.set()

    kw = {**_kw(), "workers": 1, "progress": progress, "stop": stop}
    plan, years = plan_city_phases(instance_source=map_path, budgets=BUDGETS, cfg=CFG, **kw)
    assert plan.status == "stopped"
    assert np.array_equal(np.sort(np.concatenate([y.poses for y in years.years])), np.sort(plan.poses))
    for y, n in zip(years.years, (3, 2, 2), strict=True):
        assert y.poses.size <= n and y.bound == pytest.approx(plan.bound) and y.value <= y.bound
