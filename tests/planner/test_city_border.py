"""Border windows of the city planner (docs/design/planner-city.md, "Border windows"): they cover every tile
border with disjoint cores, windows of one colour never share a pose or a point, and re-choosing the cameras in
them changes the city's value by exactly what the windows predict, never for the worse and within the budget."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from camgrid.config import PlannerConfig
from camgrid.planner.city import CityPlan, monolithic_instance, plan_city, tile_grid
from camgrid.planner.city_border import border_windows, box_distance, grid_windows, improve_borders
from camgrid.planner.citymap import generate_city, open_source, write_manifest
from camgrid.planner.formulation import evaluate
from camgrid.planner.tile_bound import tile_path
from camgrid.planner.tiles import SourceSpec, evaluate_tile


def _inside(b: tuple[float, float, float, float], x: float, y: float) -> bool:
    return b[0] <= x < b[2] and b[1] <= y < b[3]


@pytest.mark.parametrize(
    ("w", "h", "tile_m"), [(1000.0, 1000.0, 500.0), (2300.0, 1700.0, 500.0), (2000.0, 2000.0, 1500.0)]
)
def test_windows_cover_every_border_once_and_colours_never_conflict(w: float, h: float, tile_m: float) -> None:
    bounds = (100.0, 200.0, 100.0 + w, 200.0 + h)
    tiles = tile_grid(bounds, tile_m)
    wins = border_windows(tiles, bounds, tile_m, 150.0, range_m=60.0)
    nx, ny = max(t.ix for t in tiles) + 1, max(t.iy for t in tiles) + 1
    assert len(wins) == (nx - 1) * ny + (ny - 1) * nx + (nx - 1) * (ny - 1)
    # every point of every shared border (and a little either side of it) lies in exactly one window core
    xs = [bounds[0] + i * tile_m for i in range(1, nx)]
    ys = [bounds[1] + j * tile_m for j in range(1, ny)]
    along_y = np.linspace(bounds[1] - 50, bounds[3] + 50, 97)
    along_x = np.linspace(bounds[0] - 50, bounds[2] + 50, 97)
    probes = [(xb + dx, y) for xb in xs for y in along_y for dx in (-74.0, 0.0, 74.0)]
    probes += [(x, yb + dy) for yb in ys for x in along_x for dy in (-74.0, 0.0, 74.0)]
    for x, y in probes:
        assert sum(_inside(win.core, x, y) for win in wins) == 1, (x, y)
    # a window's owners are the tiles whose cores it meets; colours: > 2R apart (no shared pose or point)
    for a in wins:
        assert a.owners and all(any(t.index == i for t in tiles) for i, _ in a.owners)
        for b in wins:
            if a.index < b.index:
                assert not _overlap(a.core, b.core)
                if a.colour == b.colour:
                    assert box_distance(a.core, b.core) > 2 * 60.0
    assert max(win.colour for win in wins) < 4
    with pytest.raises(ValueError):
        border_windows(tiles, bounds, tile_m, tile_m, range_m=60.0)


@pytest.mark.parametrize(("w", "h", "side"), [(1000.0, 1000.0, 500.0), (2300.0, 1700.0, 750.0), (900.0, 400.0, 1000.0)])
def test_grid_windows_cover_the_whole_city_once_and_colours_never_conflict(w: float, h: float, side: float) -> None:
    """planner-city.md, "Border windows": the city-wide windows' cores partition the plane (the outer ones reach out
    as the outer tiles do, so no site is left out), none is larger than asked, their indices follow the border
    windows', their owners are the tiles they meet, and windows of one colour are more than 2R apart."""
    bounds = (100.0, 200.0, 100.0 + w, 200.0 + h)
    tiles = tile_grid(bounds, 500.0)
    wins = grid_windows(tiles, bounds, side, range_m=60.0, first_index=7)
    assert [win.index for win in wins] == list(range(7, 7 + len(wins)))
    rng = np.random.default_rng(3)
    probes = rng.uniform((bounds[0] - 300, bounds[1] - 300), (bounds[2] + 300, bounds[3] + 300), size=(2000, 2))
    for x, y in probes.tolist():
        assert sum(_inside(win.core, x, y) for win in wins) == 1, (x, y)
    for win in wins:
        inner = (
            max(win.core[0], bounds[0]),
            max(win.core[1], bounds[1]),
            min(win.core[2], bounds[2]),
            min(win.core[3], bounds[3]),
        )
        assert inner[2] - inner[0] <= side + 1e-6 and inner[3] - inner[1] <= side + 1e-6
        assert {i for i, _ in win.owners} == {t.index for t in tiles if _overlap(win.core, t.core)}
        for other in wins:
            if other.index > win.index and other.colour == win.colour:
                assert box_distance(win.core, other.core) > 2 * 60.0
    assert max(win.colour for win in wins) < 4


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


KM = 0.45
BUDGET = 24.0
TILE_M = 225.0
RUN = {"budget": BUDGET, "tile_m": TILE_M, "workers": 2, "heuristic_time_s": 0.0, "sweeps": 1, "consensus_rounds": 0}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityPlan, Path]:
    """A small city planned without windows (its tile files kept). No time-boxed search in the tiles (greedy +
    exchanges to convergence), so a run with windows reaches the same plan before its windows."""
    tmp = tmp_path_factory.mktemp("border")
    path = tmp / "city.json"
    write_manifest(generate_city(KM, PlannerConfig()), path)
    plan = plan_city(instance_source=path, border_windows=False, workdir=tmp / "wd", **RUN)  # type: ignore[arg-type]
    return path, plan, tmp / "wd"


def test_plan_with_windows_is_no_worse_and_the_bound_is_unaffected(base: tuple[Path, CityPlan, Path]) -> None:
    city, without, _ = base
    with_w = plan_city(instance_source=city, border_time_s=0.5, **RUN)  # type: ignore[arg-type]
    assert "border_s" in with_w.timings and "border_s" not in without.timings
    assert with_w.bound == pytest.approx(without.bound, rel=1e-9)
    assert with_w.objective >= without.objective - 1e-9
    assert with_w.spent <= BUDGET
    inst, gids = monolithic_instance(city, PlannerConfig())
    index = {int(g): i for i, g in enumerate(gids.tolist())}
    assert with_w.objective == pytest.approx(evaluate(inst, np.array([index[int(g)] for g in with_w.poses])), abs=1e-6)


@pytest.mark.parametrize("kind", ["border", "grid"])
def test_windows_gain_exactly_what_they_predict(base: tuple[Path, CityPlan, Path], kind: str) -> None:
    """Drop every camera standing in a window core (border windows; the first colour of the city-wide windows): the
    windows re-place them (the run's leftover budget); the whole plan's exact value rises by the sum of the windows'
    own gains, and the city spends no more than its budget."""
    city, plan, wd = base
    cfg = PlannerConfig()
    source = open_source(city, cfg)
    tiles = tile_grid(source.bounds, TILE_M)
    if kind == "border":
        wins = border_windows(tiles, source.bounds, TILE_M, 150.0, range_m=cfg.range_m)
        emptied = wins
    else:  # other indices than the border windows': their files share the run's folder
        wins = grid_windows(tiles, source.bounds, 150.0, range_m=cfg.range_m, first_index=1000)
        emptied = [w for w in wins if w.colour == 0]
    xy = source.site_xy(plan.poses // cfg.orientations)
    in_win = np.array([any(_inside(w.core, float(x), float(y)) for w in emptied) for x, y in xy])
    assert 0 < in_win.sum() < plan.poses.size
    kept = plan.poses[~in_win]
    chosen = {}
    for t in tiles:
        with np.load(tile_path(wd, t.index)) as z:
            chosen[t.index] = kept[np.isin(kept, z["pose_gid"][z["pose_owned"]])]
    cfg_json = cfg.model_dump_json()
    spec = SourceSpec(city, cfg_json)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = [pool.submit(evaluate_tile, wd, t.index, kept, cfg_json).result() for t in tiles]
        start = (sum(v for v, _ in parts), np.unique(kept), sum(c for _, c in parts))
        new, best, stats = improve_borders(
            pool, wd, tiles, chosen, start, cfg_json, spec=spec, windows=wins, budget=BUDGET, time_s=0.5
        )
    assert stats["changed"] > 0 and best[0] > start[0]
    assert best[0] - start[0] == pytest.approx(stats["predicted_gain"], abs=1e-6)
    poses = np.unique(np.concatenate(list(new.values())))
    assert np.array_equal(poses, best[1]) and poses.size * cfg.camera_cost <= BUDGET
    inst, gids = monolithic_instance(city, cfg)
    index = {int(g): i for i, g in enumerate(gids.tolist())}
    assert best[0] == pytest.approx(evaluate(inst, np.array([index[int(g)] for g in poses])), abs=1e-6)
    # every camera is listed under the tile that owns its site
    for t in tiles:
        with np.load(tile_path(wd, t.index)) as z:
            assert np.isin(new[t.index], z["pose_gid"][z["pose_owned"]]).all()
