"""The city-scale planner (docs/design/planner-city.md): the synthetic city generator, the decomposition checked
against the monolithic exact solver on a city small enough for both, and the run's phases, time limit and stop
("Time limit and progress": progress names every step and never goes backwards within one; a tiny time limit still
gives a complete plan with a valid bound and says what it skipped; a stop during the bound steps returns promptly
with a valid bound)."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from camgrid.cli.main import cli
from camgrid.config import PlannerConfig
from camgrid.planner.city import (
    CityPlan,
    monolithic_instance,
    pick_moves,
    plan_city,
    split_budget,
    tile_grid,
)
from camgrid.planner.city_bound import global_bound, lp_term
from camgrid.planner.citymap import SyntheticCity, generate_city, open_source, write_manifest
from camgrid.planner.exact import build_model, reduce_instance, solve_exact
from camgrid.planner.formulation import evaluate
from camgrid.planner.tile_bound import alpha_path, current_alpha, full_share, tangents
from camgrid.planner.tiles import SourceSpec, TileCurve, TileSpec, bound_instance, prepare_tile

SMALL_KM = 0.45
SMALL_BUDGET = 24.0


def test_generator_area_attribution_determinism(tmp_path: Path) -> None:
    cfg = PlannerConfig()
    a, b = generate_city(2.0, cfg), generate_city(2.0, cfg)
    write_manifest(a, tmp_path / "a.json")
    write_manifest(b, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert a["synthetic"] is True and a["km2"] == pytest.approx(4.0)
    assert "OpenStreetMap contributors" in a["attribution"] and "ODbL" in a["license"]
    assert "Synthetic" in a["note"]
    w, h = a["base_size_m"]
    assert a["copies"] == math.ceil(2000 / w) * math.ceil(2000 / h)
    boxes = [f["properties"]["box_m"] for f in a["districts"]["features"]]
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes) == pytest.approx(4e6)
    # the copies mirror the extract: copy (1, 0) is copy (0, 0) flipped about their shared edge
    city = SyntheticCity(a, cfg)
    whole = city.layout((-1.0, -1.0, 1e5, 1e5), (-1.0, -1.0, 1e5, 1e5))
    assert whole.point_xy[:, 0].max() < 2000 and whole.point_xy[:, 1].max() < 2000
    n = city.base.point_xy.shape[0]
    first = whole.point_xy[whole.point_id < n]
    second = whole.point_xy[(whole.point_id >= city.ny * n) & (whole.point_id < (city.ny + 1) * n)]
    assert first.shape == second.shape
    mirrored = np.column_stack([2 * city.copy_w - first[:, 0], first[:, 1]])
    assert np.allclose(np.sort(mirrored, axis=0), np.sort(second, axis=0))
    assert len(set(whole.point_id.tolist())) == whole.point_id.size  # global ids are unique


def test_global_bound_and_budget_split() -> None:
    # two tiles with concave curves given by tangents; the LP takes the best split of the budget
    a = TileCurve(0, 0, 0, 0, 0, 0, 0.0, 10.0, [(0.0, 0.0, 3.0), (2.0, 6.0, 1.0), (10.0, 8.0, 0.0)])
    b = TileCurve(1, 0, 0, 0, 0, 0, 0.0, 10.0, [(0.0, 0.0, 2.0), (3.0, 6.0, 0.5), (10.0, 7.0, 0.0)])
    bound, shares, lam = global_bound([a, b], 5.0)
    assert bound == pytest.approx(12.0) and shares == {0: pytest.approx(2.0), 1: pytest.approx(3.0)}
    assert 0.5 <= lam <= 1.0
    assert split_budget({0: 2.0, 1: 3.0}, 7.0, 1.0) == {0: 3.0, 1: 4.0}


def test_pick_moves_pairs_best_gains_with_cheapest_losses() -> None:
    # tile 0 would gain 5 then 2 from two more cameras; tile 1's cheapest camera loses 1, the next 3
    margins = {0: ([(5.0, 10), (2.0, 11)], [(4.0, 20)]), 1: ([(0.5, 30)], [(1.0, 40), (3.0, 41)])}
    assert pick_moves(margins) == [(0, 10, 1, 40)]  # 2 < 3: the second move would not pay
    assert pick_moves({0: ([], []), 1: ([(1.0, 1)], [(1.0, 2)])}) == []


def test_consensus_shares_sum_to_at_most_one(small_city: tuple[Path, CityPlan, list[Any]], tmp_path: Path) -> None:
    """planner-city.md, Bound: after the consensus rounds every pose's cost shares over the tiles still sum to <= 1
    (each tile computes the same denominator from one price file), so the bound stays valid."""
    path = small_city[0]
    wd = tmp_path / "run"
    plan_city(
        instance_source=path, budget=SMALL_BUDGET, tile_m=225.0, workers=2, heuristic_time_s=0.3, sweeps=1, workdir=wd
    )
    total: dict[int, float] = {}
    changed = 0
    for f in sorted(wd.glob("tile-*.npz")):
        with np.load(f) as z:
            gid, alpha0 = z["pose_gid"], z["alpha"]
        alpha = current_alpha(wd, int(f.stem.split("-")[1]), alpha0)
        changed += int((np.abs(alpha - alpha0) > 1e-6).sum())
        for g, a in zip(gid.tolist(), alpha.tolist(), strict=True):
            total[g] = total.get(g, 0.0) + a
    assert total and max(total.values()) <= 1 + 1e-9
    assert changed > 0  # the rounds did move some border shares


def _cold_lp(inst: Any, budget: float) -> float:
    """The tile's bound LP built from scratch with every reduction (the pre-warm-start way)."""
    import highspy

    red = reduce_instance(inst, float("inf"))
    lp, _, _ = build_model(inst, red, float(budget))
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    return float(h.getInfo().objective_function_value) + red.constant


def test_warm_bound_lp_equals_cold_lp_under_any_shares(
    small_city: tuple[Path, CityPlan, list[Any]], tmp_path: Path
) -> None:
    """planner-city.md, Bound: the tile's share-independent LP (border poses never reduced away), re-solved warm
    under new shares, has the value of the LP built cold with every reduction under those shares."""
    path = small_city[0]
    cfg = PlannerConfig()
    cfg_json = cfg.model_dump_json()
    tile = tile_grid(open_source(path, cfg).bounds, 225.0)[3]
    curve = prepare_tile(SourceSpec(path, cfg_json), tile, tmp_path, 6.0)
    with np.load(tmp_path / f"tile-{tile.index:05d}.npz") as z:
        d = {k: z[k] for k in z.files}
    rng = np.random.default_rng(7)
    for trial in range(3):
        if trial:  # new shares for the border poses (in [0, 1], some 0 in the last trial); interior poses keep 1
            border = d["alpha"] < 1 - 1e-12
            alpha = np.where(border, rng.uniform(0, 1, border.size) * (rng.random(border.size) > 0.2 * trial), 1.0)
            np.save(alpha_path(tmp_path, tile.index), alpha)
        else:
            alpha = d["alpha"]
        sub = bound_instance(alpha, d["point_owned"], d["point_w"], d["point_k"], d["pair_pose"], d["pair_point"], cfg)
        for b in (2.0, 5.0, 9.0):
            warm = tangents(tmp_path, tile.index, cfg_json, [b])[0][1]
            assert warm == pytest.approx(_cold_lp(sub, b), rel=1e-6), (trial, b)
        # at the full share every pose is bought: the closed form (no solve) is the LP's value, with dual 0
        full = full_share(tmp_path, tile.index, cfg)
        (b_full, v_full, d_full), *_ = tangents(tmp_path, tile.index, cfg_json, [full + 1.0])
        assert b_full == pytest.approx(full) and d_full == 0.0
        assert v_full == pytest.approx(_cold_lp(sub, full), rel=1e-6), trial
    assert curve.tangents and curve.n_owned_points > 0


def test_tile_grid_covers_the_city_once() -> None:
    tiles = tile_grid((0.0, 0.0, 950.0, 420.0), 300.0)
    assert len(tiles) == 4 * 2
    rng = np.random.default_rng(3)
    pts = rng.uniform([-5, -5], [955, 425], size=(2000, 2))
    owners = np.zeros(len(pts), dtype=int)
    for t in tiles:
        x0, y0, x1, y1 = t.core
        owners += (pts[:, 0] >= x0) & (pts[:, 0] < x1) & (pts[:, 1] >= y0) & (pts[:, 1] < y1)
    assert np.all(owners == 1)


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityPlan, list[Any]]:
    tmp = tmp_path_factory.mktemp("city")
    path = tmp / "city.json"
    cfg = PlannerConfig()
    write_manifest(generate_city(SMALL_KM, cfg), path)
    seen: list[Any] = []
    plan = plan_city(
        instance_source=path,
        budget=SMALL_BUDGET,
        cfg=cfg,
        tile_m=225.0,
        workers=2,
        heuristic_time_s=1.0,
        exact_time_s=10.0,
        bound_time_s=2.0,  # the integer Lagrangian bound too: the test below checks it stays above the optimum
        progress=lambda *a: seen.append(a),
    )
    return path, plan, seen


_OPT: dict[Path, float] = {}


def small_optimum(path: Path) -> float:
    """The small city's proven optimum (the monolithic exact solver; computed once per module)."""
    if path not in _OPT:
        inst, _ = monolithic_instance(path, PlannerConfig())
        exact = solve_exact(inst, SMALL_BUDGET, time_limit_s=120.0, rel_gap=0.0)
        assert exact.status == "Optimal"
        _OPT[path] = exact.objective
    return _OPT[path]


def test_decomposition_matches_the_monolithic_optimum(small_city: tuple[Path, CityPlan, list[Any]]) -> None:
    path, plan, seen = small_city
    assert plan.status == "complete" and plan.tiles == 4
    assert plan.spent <= SMALL_BUDGET
    inst, gids = monolithic_instance(path, PlannerConfig())
    opt = small_optimum(path)
    # the city plan, read in the monolithic instance, has the value the tiles reported (each point counted once)
    index = {int(g): i for i, g in enumerate(gids.tolist())}
    chosen = np.array([index[int(g)] for g in plan.poses], dtype=np.int64)
    assert plan.objective == pytest.approx(evaluate(inst, chosen), abs=1e-6)
    assert plan.n_points == inst.n_points
    # the bound (LP tangents, Kelley, consensus rounds, integer Lagrangian) is valid: never below the true optimum
    assert "lagrangian_s" in plan.timings and "consensus_s" in plan.timings
    assert plan.bound >= opt - 1e-6
    assert plan.objective <= opt + 1e-6
    assert (opt - plan.objective) / opt <= plan.gap + 1e-9
    assert plan.gap < 0.05
    # progress: preparation steps without a bound, then the bound, ending with the final value
    assert seen[0][1] == math.inf and seen[0][5] == "prepare" and seen[-1][3:] == (1, 1, "done")
    assert seen[-1][0] == pytest.approx(plan.objective) and seen[-1][1] == pytest.approx(plan.bound)


def test_stop_flag_ends_the_run_early(small_city: tuple[Path, CityPlan, list[Any]]) -> None:
    path = small_city[0]
    stop = threading.Event()

    def progress(obj: float, bound: float, gap: float, done: int, total: int, phase: str) -> None:
        if math.isfinite(bound):
            stop.set()  # stop as soon as the bound is known

    plan = plan_city(
        instance_source=path,
        budget=SMALL_BUDGET,
        tile_m=225.0,
        workers=1,
        heuristic_time_s=0.5,
        progress=progress,
        stop=stop,
    )
    assert plan.status == "stopped"
    assert math.isfinite(plan.bound) and plan.objective <= plan.bound


def test_cli_city_gen_and_city(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    res = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "plan", "city-gen", "--km", "0.3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["km2"] == pytest.approx(0.09)
    bad = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "plan", "city-gen", "--km", "1", "--out", "x.osm"])
    assert bad.exit_code != 0 and "json" in bad.output
    plan_out = tmp_path / "plan.json"
    args = ["--home", str(tmp_path / "h"), "plan", "city", "--city", str(out), "--budget", "5", "--workers", "1"]
    args += ["--heuristic-time", "0.5", "--exact-time", "0", "--out", str(plan_out)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(plan_out.read_text())
    assert len(doc["cameras"]) <= 5 and doc["gap"] <= 1 and doc["source"]["synthetic"] is True
    assert all(27 < c["lat"] < 28.5 and 85 < c["lon"] < 86 for c in doc["cameras"])


KW: dict[str, Any] = {"budget": SMALL_BUDGET, "tile_m": 225.0, "workers": 2, "heuristic_time_s": 0.3}
ORDER = ["prepare", "sweep:1", "evaluate:1", "moves:1", "kelley", "consensus", "lagrangian", "sweep:2", "evaluate:2"]


def _runs(seen: list[tuple[Any, ...]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The progress as contiguous runs of one phase: (phase, [(done, total), ...])."""
    out: list[tuple[str, list[tuple[int, int]]]] = []
    for a in seen:
        if not out or out[-1][0] != a[5]:
            out.append((a[5], []))
        out[-1][1].append((a[3], a[4]))
    return out


def test_progress_names_every_phase_in_order_and_never_goes_back(small_city: tuple[Path, CityPlan, list[Any]]) -> None:
    seen = small_city[2]
    runs = _runs(seen)
    names = [p for p, _ in runs]
    assert len(names) == len(set(names)), names  # every phase runs once, in one piece
    kinds = [p.split(":")[0] if p.startswith(("kelley", "consensus")) else p for p in names]
    expected = [k for k in ORDER if k in kinds]
    assert [k for i, k in enumerate(kinds) if k in ORDER and (i == 0 or kinds[i - 1] != k)] == expected
    assert {"prepare", "sweep:1", "lagrangian", "evaluate:1", "sweep:2", "evaluate:2"} <= set(kinds), names
    assert any(k in ("kelley", "consensus") for k in kinds), names
    assert names[-1] == "done"
    for phase, steps in runs:
        dones = [d for d, _ in steps]
        assert dones == sorted(dones), phase  # never backwards within a phase
        assert all(0 <= d <= t for d, t in steps), phase
        assert steps[-1][0] == steps[-1][1], phase  # each phase reported to its end
    # one report per tile task: the preparation and each sweep count the four tiles
    assert dict(runs)["prepare"][-1] == (4, 4) and dict(runs)["sweep:1"][-1] == (4, 4)
    # the bound shown is valid once known and never rises
    bounds = [a[1] for a in seen if math.isfinite(a[1])]
    assert bounds == sorted(bounds, reverse=True)


def test_a_tiny_time_limit_still_plans_with_a_valid_bound(small_city: tuple[Path, CityPlan, list[Any]]) -> None:
    path = small_city[0]
    seen: list[tuple[Any, ...]] = []
    plan = plan_city(instance_source=path, **KW, time_limit_s=0.01, progress=lambda *a: seen.append(a))
    assert plan.status == "complete" and plan.poses.size > 0 and plan.spent <= SMALL_BUDGET
    skipped = plan.extra["skipped_for_time"]
    assert "sweep:2" in skipped and "moves:1" in skipped and "consensus:1" in skipped, skipped
    assert not {"prepare", "sweep:1"} & set(skipped)
    phases = {a[5] for a in seen}
    assert {"prepare", "sweep:1", "evaluate:1", "done"} <= phases and "sweep:2" not in phases
    opt = small_optimum(path)
    assert plan.bound >= opt - 1e-6 and opt >= plan.objective - 1e-6
    assert plan.bound <= small_city[1].bound * 1.05  # the first sweep's tangents are in it: not the trivial bound


def test_stop_during_the_bound_steps_returns_promptly_with_a_valid_bound(
    small_city: tuple[Path, CityPlan, list[Any]], tmp_path: Path
) -> None:
    path = small_city[0]
    stop = threading.Event()
    stopped_at: list[float] = []
    before: list[float] = []

    def progress(obj: float, bound: float, gap: float, done: int, total: int, phase: str) -> None:
        if phase.startswith("consensus") and done >= 1 and not stop.is_set():
            before.append(bound)
            stopped_at.append(time.perf_counter())
            stop.set()  # mid-round: some tiles have new shares, others not yet

    wd = tmp_path / "run"
    plan = plan_city(instance_source=path, **KW, sweeps=2, workdir=wd, progress=progress, stop=stop)
    returned = time.perf_counter()
    assert stopped_at, "the run reached the consensus rounds"
    assert plan.status == "stopped" and plan.poses.size > 0
    assert returned - stopped_at[0] < 60.0  # one tile task, then the evaluation: no more rounds, no second sweep
    assert plan.bound >= small_optimum(path) - 1e-6
    assert plan.bound == pytest.approx(before[0], rel=1e-12)  # the half-done round was undone: its bound is kept
    assert "consensus:1" not in plan.extra["cut_for_time"]  # a stop is not a time cut
    # the shares of the undone round are restored: every pose's shares still sum to at most 1
    total: dict[int, float] = {}
    for f in sorted(wd.glob("tile-*.npz")):
        with np.load(f) as z:
            gid, alpha0 = z["pose_gid"], z["alpha"]
        for g, a in zip(gid.tolist(), current_alpha(wd, int(f.stem.split("-")[1]), alpha0).tolist(), strict=True):
            total[g] = total.get(g, 0.0) + a
    assert total and max(total.values()) <= 1 + 1e-9


def test_lp_term_is_the_tangent_curves_lagrangian_maximum() -> None:
    curve = TileCurve(0, 0, 0, 0, 0, 0, 0.0, 10.0, [(0.0, 0.0, 3.0), (2.0, 6.0, 1.0), (10.0, 8.0, 0.0)])
    grid = np.linspace(0.0, 10.0, 100_001)
    u = np.min([v + d * (grid - b) for b, v, d in curve.tangents], axis=0)
    for lam in (0.0, 0.5, 1.0, 2.0, 5.0):
        assert lp_term(curve, lam) == pytest.approx(float((u - lam * grid).max()), abs=1e-6), lam


def test_steps_skip_by_estimate_and_cut_between_tasks_at_the_deadline(tmp_path: Path) -> None:
    """city_bound.Steps: a step whose estimate exceeds the time left is skipped; a timed step stops between tile
    tasks once the deadline passes (the tasks already running finish); a stop is not recorded as a time cut."""
    from concurrent.futures import ThreadPoolExecutor

    from camgrid.planner.city_bound import Steps, Tally

    with ThreadPoolExecutor(max_workers=1) as pool:
        st = Steps(pool, tmp_path, [], {}, 1.0, "{}", threading.Event(), time.perf_counter() + 3600.0)  # type: ignore[arg-type]
        assert st.fits("kelley:1", None) and st.fits("kelley:1", 10.0)
        st.per_task["tangent"] = 100.0
        assert not st.fits("kelley:2", st.estimate("tangent", 40)) and st.skipped == ["kelley:2"]

        def task(i: int) -> int:
            if i == 2:
                st.deadline = time.perf_counter() - 1.0  # the deadline passes during the third task
            elif i > 2 and math.isfinite(st.left()):
                threading.Event().wait(0.5)  # a tile's work: the run cancels the tasks still queued meanwhile
            return i

        tally = Tally("consensus:1")
        got, complete = st.run("prices", tally, task, {i: (i,) for i in range(20)}, interruptible=True)
        assert not complete and 3 <= len(got) < 20 and st.cut == ["consensus:1"]
        assert tally.done == len(got) and tally.total == 20
        # the first sweep is never cut by the deadline, only by a stop
        five = {i: (i,) for i in range(5)}
        got, complete = st.run("solve", Tally("sweep:1"), task, five, interruptible=True, timed=False)
        assert complete and len(got) == 5
        st.stop.set()
        five = {i: (i,) for i in range(5)}
        got, complete = st.run("solve", Tally("sweep:1"), task, five, interruptible=True, timed=False)
        assert not complete and got == {} and st.cut == ["consensus:1"]


def test_moves_cut_by_the_deadline_keep_the_plan_they_were_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """planner-city.md, "Time limit and progress": a camera-move trial whose evaluation the deadline cuts is dropped
    (a partial sum of the tiles' values is no plan's value), and no later trial or round starts. The tile tasks are
    injected so that the deadline passes during the first trial's evaluation (a fault injector for the clock)."""
    from concurrent.futures import ThreadPoolExecutor

    import camgrid.planner.city as city
    from camgrid.planner.city_bound import Steps, Tally

    tiles = [TileSpec(i, i, 0, (i * 100.0, 0.0, i * 100.0 + 100.0, 100.0)) for i in range(4)]
    chosen = {0: np.array([1, 2]), 1: np.array([3]), 2: np.array([4]), 3: np.array([5])}
    best = (10.0, np.array([1, 2, 3, 4, 5]), 7)
    evaluated: list[int] = []

    def margins(wd: Path, index: int, plan: np.ndarray, cfg_json: str, m: int) -> Any:
        # tile 3 would gain 5 by one more camera; tile 0 loses 1 by giving one up: a move worth trying
        return ([(5.0, 100 + index)], [(1.0, 1)] if index == 0 else [(4.0, int(chosen[index][0]))])

    def evaluate(wd: Path, index: int, poses: np.ndarray, cfg_json: str) -> tuple[float, int]:
        evaluated.append(index)
        if len(evaluated) == 2:
            st.deadline = time.perf_counter() - 1.0  # the deadline passes during the trial's evaluation
        else:
            threading.Event().wait(0.2)  # a tile's work: the tasks still queued are cancelled meanwhile
        return 100.0, 10  # far better than the plan: a partial sum would still look like a gain

    monkeypatch.setattr(city, "tile_margins", margins)
    monkeypatch.setattr(city, "evaluate_tile", evaluate)
    with ThreadPoolExecutor(max_workers=1) as pool:
        st = Steps(pool, tmp_path, tiles, {}, 5.0, "{}", threading.Event(), time.perf_counter() + 3600.0)  # type: ignore[arg-type]
        before = {k: v.copy() for k, v in chosen.items()}
        got = city.rebalance(pool, tmp_path, tiles, chosen, best, "{}", 1.25, st, Tally("moves:1"))  # type: ignore[arg-type]
    assert got is best  # the cut trial is not kept
    assert {k: v.tolist() for k, v in chosen.items()} == {k: v.tolist() for k, v in before.items()}
    assert len(evaluated) < len(tiles) + 1 and st.cut == ["moves:1"]


PARENT = """
import os, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from camgrid.planner.city import watch_parent

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=watch_parent, initargs=(os.getpid(), 0.1))
    pid = pool.submit(os.getpid).result()
    pool.submit(time.sleep, 600)  # a long tile task, then a queue that never empties
    print(pid, flush=True)
    time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie left for the reaper."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_tile_workers_exit_when_the_planning_process_is_killed(tmp_path: Path) -> None:
    """city.watch_parent: a planning process killed with -9 (a server, a bench) leaves no tile worker behind to go
    on computing or waiting (two such workers had taken half the machine from the next run)."""
    import signal
    import subprocess
    import sys

    from tests.backends import wait_for

    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert _running(worker)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    wait_for(lambda: not _running(worker), 60, 0.1, "the orphaned tile worker to exit")
