"""City-scale plans: tiles with overlapping borders, solved in parallel processes, with a proven global bound.

Why: one integer program for a capital (millions of poses) takes days and hundreds of GB. Cameras see 60 m, so the
city splits into tiles that interact only along their borders and through the shared budget
(docs/design/planner-city.md). The run, in three passes over the tiles:

1. *prepare* (parallel): each tile computes its visibility (to its own ``.npz``, never the whole city in memory)
   and tangent lines above its LP value curve under shared pose costs;
2. *bound and budget*: a small LP over the tiles' curves gives a valid upper bound on the city's optimum and the
   budget each tile gets;
3. *solve* (parallel, four colours so that no two neighbouring tiles run at once), in ``sweeps`` sweeps: each tile
   chooses its own cameras with the other tiles' chosen cameras counted as installed; after each sweep every tile
   evaluates its owned points under the whole plan (each point counted once) and the best sweep's plan is kept.

Progress is reported as ``progress(objective, bound, gap, done, total, phase)``: ``phase`` names the step that runs
(``prepare``, ``sweep:1``, ``kelley:k``, ``consensus:k``, ``lagrangian``, ``evaluate:s``, ``moves:k``, ``sweep:2``,
``years``, ``done``) and ``done``/``total`` count its tile tasks, so the figures move after every tile's work;
``objective`` is a lower bound on the final value while running and ``bound`` is ``inf`` until pass 2 and always a
proven bound after. Setting ``stop`` ends the run after the tile tasks in progress (the bound steps included); the
plan then holds what was solved, with its value and the best bound proven. A time limit skips the steps after the
first sweep that it cannot cover (docs/design/planner-city.md, "Time limit and progress").
"""

from __future__ import annotations

import functools
import logging
import math
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camgrid.config import CITY_TILE_M, PlannerConfig
from camgrid.planner.city_border import border_windows as windows_for
from camgrid.planner.city_border import grid_windows, improve_borders
from camgrid.planner.city_bound import Steps, Tally, consensus_rounds_run, global_bound, kelley, lagrangian_step
from camgrid.planner.city_power import existing_in_frame
from camgrid.planner.citymap import Box, open_source
from camgrid.planner.instance import ExistingCamera
from camgrid.planner.tiles import (
    SourceSpec,
    TileCurve,
    TileSpec,
    evaluate_tile,
    prepare_tile,
    solve_tile,
    tile_margins,
)

log = logging.getLogger(__name__)
# progress(objective, bound, gap, done, total, phase): done/total count the phase's tile tasks
Progress = Callable[[float, float, float, int, int, str], None]
# finish(pool, workdir, tiles, curves, cfg_json, plan poses, bound, stopped): a caller's last pass over the tiles
# while their files and workers are alive (city_phases orders the plan into years); its answer is CityPlan.extra
Finish = Callable[
    [ProcessPoolExecutor, Path, list[TileSpec], dict[int, TileCurve], str, np.ndarray, float, bool], dict[str, Any]
]


@dataclass
class CityPlan:
    """A city plan: chosen poses (global ids: site id x orientations + orientation), value, proven bound, gap."""

    poses: np.ndarray
    objective: float
    bound: float
    status: str  # "complete" or "stopped"
    budget: float
    spent: float
    tiles: int
    km2: float
    n_poses: int  # poses in the tiles (a pose near a border is counted by each tile that holds it)
    n_points: int  # demand points, each owned by one tile
    n_pairs: int
    covered_points: int
    seconds: float
    orientations: int
    timings: dict[str, float] = field(default_factory=dict)
    allocation: dict[int, float] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # the ``finish`` hook's answer (e.g. the years)

    @property
    def gap(self) -> float:
        """(bound - objective) / bound; 1 when no bound is known."""
        if not math.isfinite(self.bound):
            return 1.0
        return max(0.0, (self.bound - self.objective) / self.bound) if self.bound > 0 else 0.0

    def cameras(self, cfg: PlannerConfig, source_path: Path | None) -> list[dict[str, Any]]:
        """The chosen cameras with position (lat/lon), heading, field of view and range."""
        source = open_source(source_path, cfg)
        sites, orient = np.divmod(self.poses, self.orientations)
        xy = source.site_xy(sites)
        lat, lon = source.projection.to_latlon(xy[:, 0], xy[:, 1])
        return [
            {
                "id": f"city-{int(p)}",
                "lat": round(float(a), 7),
                "lon": round(float(o), 7),
                "heading_deg": float(k) * 360.0 / self.orientations,
                "fov_deg": cfg.fov_deg,
                "range_m": cfg.range_m,
            }
            for p, a, o, k in zip(self.poses.tolist(), lat.tolist(), lon.tolist(), orient.tolist(), strict=True)
        ]


def tile_grid(bounds: Box, tile_m: float) -> list[TileSpec]:
    """Core boxes covering the city; the outer tiles reach far out so that no point or site is left without an owner."""
    x0, y0, x1, y1 = bounds
    nx, ny = max(1, math.ceil((x1 - x0) / tile_m - 1e-9)), max(1, math.ceil((y1 - y0) / tile_m - 1e-9))
    out: list[TileSpec] = []
    for ix in range(nx):
        for iy in range(ny):
            a = x0 + ix * tile_m if ix else x0 - 1e7
            b = y0 + iy * tile_m if iy else y0 - 1e7
            c = x0 + (ix + 1) * tile_m if ix < nx - 1 else x1 + 1e7
            d = y0 + (iy + 1) * tile_m if iy < ny - 1 else y1 + 1e7
            out.append(TileSpec(len(out), ix, iy, (a, b, c, d)))
    return out


def allocate_by_gains(curves: list[TileCurve], budget: float, unit: float) -> dict[int, float]:
    """Whole cameras per tile by equal marginal value: the ``budget / unit`` best greedy gains over all tiles
    (each tile's gains are non-increasing, so taking the largest overall is the greedy split of the budget).
    Empty when the tiles' curves are too short to spend the budget (the bound's shares are used then)."""
    cams = int(budget // unit)
    gains = [(g, c.index) for c in curves for g in c.gains]
    if len(gains) < cams:
        return {}
    gains.sort(key=lambda x: -x[0])
    out = {c.index: 0.0 for c in curves}
    for _, t in gains[:cams]:
        out[t] += unit
    return out


def pick_moves(
    margins: dict[int, tuple[list[tuple[float, int]], list[tuple[float, int]]]],
) -> list[tuple[int, int, int, int]]:
    """Cameras to move between tiles: the best additions over all tiles against the cheapest removals, paired while
    an addition gains more than a removal loses. Returns (add tile, add pose, remove tile, remove pose), best first."""
    adds = sorted(((g, p, t) for t, (a, _) in margins.items() for g, p in a), key=lambda x: -x[0])
    losses = sorted(((g, p, t) for t, (_, r) in margins.items() for g, p in r), key=lambda x: x[0])
    out: list[tuple[int, int, int, int]] = []
    for (g, p, t), (loss, q, u) in zip(adds, losses, strict=False):
        if g <= loss + 1e-9:
            break
        out.append((t, p, u, q))
    return out


def split_budget(shares: dict[int, float], budget: float, unit: float) -> dict[int, float]:
    """Whole cameras per tile in proportion to the bound's shared budgets (largest remainder)."""
    total = sum(shares.values())
    if total <= 0:
        return dict.fromkeys(shares, 0.0)
    cams = budget // unit
    raw = {t: cams * s / total for t, s in shares.items()}
    out = {t: math.floor(v) for t, v in raw.items()}
    left = int(cams - sum(out.values()))
    for t in sorted(raw, key=lambda t: (out[t] - raw[t], t))[: max(0, left)]:
        out[t] += 1
    return {t: v * unit for t, v in out.items()}


def plan_city(
    *,
    instance_source: Path | None,
    budget: float,
    cfg: PlannerConfig | None = None,
    tile_m: float = CITY_TILE_M,
    workers: int = 2,
    heuristic_time_s: float = 6.0,
    exact_time_s: float = 0.0,
    bound_time_s: float = 0.0,
    sweeps: int = 2,
    kelley_rounds: int = 4,
    consensus_rounds: int = 2,  # later rounds gained <= 0.02% each (planner-city.md, PLAN-GAP2)
    consensus_step: float = 1.0,
    time_limit_s: float | None = None,
    border_windows: bool = True,
    border_width_m: float = 0.0,
    border_time_s: float = 2.0,
    grid_windows_on: bool = True,
    grid_window_m: float = 0.0,
    window_passes: int = 3,
    workdir: Path | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    existing: Sequence[ExistingCamera] = (),
    finish: Finish | None = None,
) -> CityPlan:
    """Plan a city (a ``city-gen`` manifest or a map file; ``None`` = the shipped extract) within ``budget``.
    ``exact_time_s > 0`` also runs the exact solver per tile (else greedy + exchanges + neighbourhood search).
    ``existing``: installed cameras (cost 0, always on, never bought); ``planner.power_aware`` values power
    (``city_power``); ``finish`` runs last over the tiles (``city_phases``). ``time_limit_s`` (None = none): the
    steps after the first sweep are skipped, or cut between tile tasks, when the time left cannot cover them; the
    preparation and the first sweep always complete (``extra["skipped_for_time"]``, ``extra["cut_for_time"]``)."""
    if budget <= 0 or not math.isfinite(budget):
        raise ValueError("budget must be positive")
    if not 100.0 <= tile_m <= 20_000.0:
        raise ValueError("tile_m must be between 100 and 20000 metres")
    if time_limit_s is not None and not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise ValueError("time_limit_s must be positive (None = no limit)")
    cfg = cfg or PlannerConfig()
    t0 = time.perf_counter()
    stop = stop or threading.Event()
    source = open_source(instance_source, cfg)
    spec = SourceSpec(instance_source, cfg.model_dump_json(), existing_in_frame(source, existing, cfg))
    x0, y0, x1, y1 = source.bounds
    area = (x1 - x0) * (y1 - y0)
    tiles = tile_grid(source.bounds, tile_m)
    n = len(tiles)
    own_dir = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="camgrid-city-")) if workdir is None else workdir
    wd.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    shown = [0.0]  # the objective progress shows: a lower bound on the final value while running

    def report(phase: str, done: int, total: int) -> None:
        if progress is not None:
            obj, bound = shown[0], st.bound
            gap = max(0.0, (bound - obj) / bound) if math.isfinite(bound) and bound > 0 else 1.0
            progress(obj, bound, gap, done, total, phase)

    def plan(
        poses: np.ndarray, obj: float, bound: float, status: str, covered: int, alloc: dict[int, float]
    ) -> CityPlan:
        out = CityPlan(
            np.sort(poses.astype(np.int64)),
            obj,
            bound,
            status,
            budget,
            float(poses.size * cfg.camera_cost),
            n,
            area / 1e6,
            sum(c.n_poses for c in curves.values()),
            sum(c.n_owned_points for c in curves.values()),
            sum(c.n_pairs for c in curves.values()),
            covered,
            time.perf_counter() - t0,
            cfg.orientations,
            timings,
            alloc,
            source.describe(),
        )
        out.extra = {"skipped_for_time": list(st.skipped), "cut_for_time": list(st.cut)}
        return out

    curves: dict[int, TileCurve] = {}
    chosen: dict[int, np.ndarray] = {}
    best: tuple[float, np.ndarray, int] | None = None
    ctx = multiprocessing.get_context("spawn")
    width = border_width_m or min(6 * cfg.range_m, 0.6 * tile_m)

    def grid_pass(k: int, first: int) -> float:
        """City-wide windows, pass ``k`` (cuts shifted by half a window on even passes): the relative gain, or 0
        when skipped for time or stopped. Window files are per index: the shifted windows' follow the others'."""
        nonlocal chosen, best
        assert best is not None
        side = grid_window_m or tile_m / 2
        plain = grid_windows(tiles, source.bounds, side, range_m=cfg.range_m, first_index=first)
        grid = plain
        if k % 2 == 0:
            grid = grid_windows(
                tiles, source.bounds, side, range_m=cfg.range_m, first_index=first + len(plain), shifted=True
            )
        phase = f"windows:{k}"
        guess = (border_time_s + 2.0) / max(1, workers)
        if stop.is_set() or not st.fits(phase, st.estimate("grid", len(grid), guess)):
            return 0.0
        report(phase, 0, len(grid))
        t9 = time.perf_counter()
        before = best[0]
        chosen, best, _ = improve_borders(
            st.pool, wd, tiles, chosen, best, spec.cfg_json, spec=spec, windows=grid, budget=budget,
            time_s=border_time_s, exact_time_s=exact_time_s, stop=stop, halted=st.halted,
            report=functools.partial(report, phase),
        )  # fmt: skip
        timings["grid_s"] = timings.get("grid_s", 0.0) + time.perf_counter() - t9
        st.per_task["grid"] = (time.perf_counter() - t9) / max(1, len(grid))
        shown[0] = best[0]
        report(phase, len(grid), len(grid))
        return (best[0] - before) / before if before > 0 else 0.0

    try:
        with ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=ctx, initializer=watch_parent, initargs=(os.getpid(),)
        ) as pool:
            deadline = None if time_limit_s is None else t0 + time_limit_s
            st = Steps(pool, wd, tiles, curves, budget, spec.cfg_json, stop, deadline, report, max(1, workers))
            # 1. prepare (always whole: there is no bound without every tile's curve)
            t1 = time.perf_counter()
            calls: dict[int, tuple[Any, ...]] = {
                t.index: (spec, t, wd, _nominal(t, source.bounds, budget, n)) for t in tiles
            }
            got, _ = st.run("prepare", Tally("prepare"), prepare_tile, calls, interruptible=True, timed=False)
            timings["prepare_s"] = time.perf_counter() - t1
            if stop.is_set():
                return plan(np.zeros(0, dtype=np.int64), 0.0, math.inf, "stopped", 0, {})
            curves.update({c.index: c for c in got.values()})
            # 2. bound and budget
            ordered = [curves[t.index] for t in tiles]
            st.bound, shares, _ = global_bound(ordered, budget)
            alloc = allocate_by_gains(ordered, budget, cfg.camera_cost) or split_budget(shares, budget, cfg.camera_cost)
            log.info("city bound %.2f over %d tiles (prepare %.1fs)", st.bound, n, timings["prepare_s"])
            # 3. solve by colour, neighbours' cameras fixed; later sweeps re-plan each tile with all others fixed
            t2 = time.perf_counter()
            chosen = {}
            leftover = 0.0
            gained = 0.0
            stopped = False
            best = None
            for sweep in range(sweeps):
                name = f"sweep:{sweep + 1}"
                if sweep and not st.fits(name, st.estimate("solve", n)):
                    break
                t5 = time.perf_counter()
                owned_values: dict[int, float] = {}
                tally = Tally(name, 0, n)
                for colour in range(4):
                    group = [t for t in tiles if (t.ix % 2) + 2 * (t.iy % 2) == colour]
                    if not group or stopped:
                        continue
                    if sweep and st.halted():  # out of time between colours: the tiles re-planned so far stay
                        st.cut_short(name)
                        continue
                    share = sum(alloc.get(t.index, 0.0) for t in group)
                    given: dict[int, float] = {}
                    calls = {}
                    for t in group:
                        if sweep == 0:
                            extra = leftover * alloc.get(t.index, 0.0) / share if share > 0 else 0.0
                            given[t.index] = alloc.get(t.index, 0.0) + extra
                        else:
                            given[t.index] = chosen.get(t.index, np.zeros(0)).size * cfg.camera_cost
                        others = [v for k, v in chosen.items() if k != t.index]
                        fixed = np.concatenate(others) if others else np.zeros(0, dtype=np.int64)
                        b = math.floor(given[t.index] / cfg.camera_cost + 1e-9) * cfg.camera_cost
                        first = sweep == 0
                        calls[t.index] = (
                            wd,
                            t.index,
                            b,
                            fixed,
                            spec.cfg_json,
                            heuristic_time_s,
                            exact_time_s,
                            shares.get(t.index, -1.0) if first else -1.0,
                            chosen.get(t.index, np.zeros(0, dtype=np.int64)),
                        )
                    tally.total -= len(calls)  # the sweep's total is every tile from the start
                    # the first sweep is cut only by a stop; later sweeps also by the deadline
                    results, complete = st.run("solve", tally, solve_tile, calls, interruptible=True, timed=sweep > 0)
                    stopped = stopped or (not complete and stop.is_set())
                    leftover_now = 0.0
                    for r in results.values():
                        chosen[r.index] = r.poses
                        owned_values[r.index] = r.owned_value
                        if sweep == 0:
                            curves[r.index].tangents.extend(r.tangents)
                        leftover_now += max(0.0, given[r.index] - r.poses.size * cfg.camera_cost)
                    # first sweep: a lower bound (later tiles only add cameras); then the last exact value
                    shown[0] = sum(owned_values.values()) if best is None else best[0]
                    report(name, tally.done, tally.total)
                    leftover = leftover_now
                timings[f"sweep{sweep + 1}_s"] = time.perf_counter() - t5
                # evaluate: each point once, by its owner; keep the best plan of the sweeps
                t3 = time.perf_counter()
                poses = np.unique(np.concatenate(list(chosen.values()))) if chosen else np.zeros(0, dtype=np.int64)
                calls = {t.index: (wd, t.index, poses, spec.cfg_json) for t in tiles}
                evals, _ = st.run("evaluate", Tally(f"evaluate:{sweep + 1}"), evaluate_tile, calls, interruptible=False)
                value = float(sum(v for v, _ in evals.values()))
                timings["evaluate_s"] = timings.get("evaluate_s", 0.0) + time.perf_counter() - t3
                if best is None or value > best[0]:
                    best = (value, poses, int(sum(c for _, c in evals.values())))
                shown[0] = best[0]
                if stopped:
                    break
                # move cameras from the tiles where they are worth least to where they gain most (budget split)
                moves = f"moves:{sweep + 1}"
                moves_guess = _fallback(st.per_task.get("evaluate"), 8.0)  # margins and up to three trial evaluations
                if not stop.is_set() and st.fits(moves, st.estimate("moves", n, moves_guess)):
                    t4 = time.perf_counter()
                    per = budget / cfg.camera_cost / n
                    best = rebalance(pool, wd, tiles, chosen, best, spec.cfg_json, per, st, Tally(moves))
                    timings["rebalance_s"] = timings.get("rebalance_s", 0.0) + time.perf_counter() - t4
                    st.per_task["moves"] = (time.perf_counter() - t4) / max(1, n)
                    shown[0] = best[0]
                # then the steps by gain per second (planner-city.md, "Time limit and progress"): the border windows
                # (+0.7% of plan at 100 km² for 7% of the time), the city-wide windows, Kelley (its first round
                # ~0.1% of bound), consensus (0.065% of bound for 40% of the time), then the next sweep. The moves
                # (cheap) come first: the windows never lose what they are given, so windows after moves are never
                # worse than moves alone (moves after the windows found nothing in the runs measured)
                wins = windows_for(tiles, source.bounds, tile_m, width, range_m=cfg.range_m) if n > 1 else []
                if border_windows and n > 1 and not stop.is_set():  # re-choose the cameras along the tile borders
                    guess = (border_time_s + 3.0) / max(1, workers)  # a window's search and, the first time, its file
                    if st.fits(f"border:{sweep + 1}", st.estimate("border", len(wins), guess)):
                        report(f"border:{sweep + 1}", 0, len(wins))
                        t8 = time.perf_counter()
                        chosen, best, _ = improve_borders(
                            pool, wd, tiles, chosen, best, spec.cfg_json, spec=spec, windows=wins, budget=budget,
                            time_s=border_time_s, exact_time_s=exact_time_s, stop=stop, halted=st.halted,
                            report=functools.partial(report, f"border:{sweep + 1}"),
                        )  # fmt: skip
                        timings["border_s"] = timings.get("border_s", 0.0) + time.perf_counter() - t8
                        st.per_task["border"] = (time.perf_counter() - t8) / max(1, len(wins))
                        shown[0] = best[0]
                        report(f"border:{sweep + 1}", len(wins), len(wins))
                    # then windows over the whole city (tile interiors too): a city-wide neighbourhood search
                    if sweep == 0 and grid_windows_on:
                        gained = grid_pass(1, len(wins))  # 0 when skipped: then no later pass either
                if sweep == 0 and not stop.is_set():  # Kelley's steps: tangents at the allocation tighten the same LP
                    t5 = time.perf_counter()
                    st.bound = kelley(st, st.bound, kelley_rounds)
                    timings["kelley_s"] = time.perf_counter() - t5
                    # more city-wide passes, each with its cuts shifted by half a window, while a pass gains 0.02%
                    k = 2
                    while k <= window_passes and gained >= 2e-4:
                        gained = grid_pass(k, len(wins))
                        k += 1
                    t6 = time.perf_counter()
                    st.bound = consensus_rounds_run(st, st.bound, consensus_rounds, consensus_step)
                    timings["consensus_s"] = time.perf_counter() - t6
                    if bound_time_s > 0:
                        t7 = time.perf_counter()
                        st.bound = lagrangian_step(st, st.bound, bound_time_s)
                        timings["lagrangian_s"] = time.perf_counter() - t7
                stopped = stop.is_set()
                if stopped:
                    break
            timings["solve_s"] = time.perf_counter() - t2
            assert best is not None
            objective, poses, covered = best
            answer: dict[str, Any] = {}
            if finish:
                # the years' bounds refine Kelley at more budgets: a run out of time keeps the run's bound for each
                late = st.left() < (st.estimate("tangent", 2 * n) or 0.0)
                if late and not stopped:
                    st.skipped.append("years")
                report("years", 0, 1)
                answer = finish(pool, wd, tiles, curves, spec.cfg_json, poses, st.bound, stopped or late)
                report("years", 1, 1)
        out = plan(poses, objective, st.bound, "stopped" if stopped else "complete", covered, alloc)
        out.extra.update(answer)
        report("done", 1, 1)
        return out
    finally:
        if own_dir:
            shutil.rmtree(wd, ignore_errors=True)


def watch_parent(parent: int, every_s: float = 2.0) -> None:
    """A tile worker's initializer: exit when the planning process is gone. A worker whose parent was killed (a
    server killed with -9, a bench stopped by hand) otherwise finishes its queued tile tasks and then waits for ever;
    two such workers had taken half the machine from the next run."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os.kill(os.getpid(), signal.SIGTERM)  # from a thread: the default handler ends the whole process

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _nominal(tile: TileSpec, bounds: Box, budget: float, n: int) -> float:
    """The tile's share of the budget by the area of its core inside the city."""
    x0, y0, x1, y1 = bounds
    area = (x1 - x0) * (y1 - y0)
    c0, c1 = max(tile.core[0], x0), min(tile.core[2], x1)
    d0, d1 = max(tile.core[1], y0), min(tile.core[3], y1)
    return budget * max(0.0, (c1 - c0) * (d1 - d0)) / area if area > 0 else budget / n


def _fallback(per_task: float | None, factor: float) -> float | None:
    return None if per_task is None else per_task * factor


def rebalance(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    chosen: dict[int, np.ndarray],
    best: tuple[float, np.ndarray, int],
    cfg_json: str,
    per_tile: float,
    st: Steps | None = None,
    tally: Tally | None = None,
    rounds: int = 3,
) -> tuple[float, np.ndarray, int]:
    """Move cameras between tiles while the whole plan's exact value improves (``chosen`` is updated in place).
    Greedy gains and single-removal losses only estimate a move's worth, so fewer moves are tried when all of
    them together do not pay; nothing is kept that does not raise the evaluated value. With ``st``: progress into
    ``tally`` and no new round or trial after a stop or the deadline (the best plan so far is kept)."""
    m = max(4, math.ceil(0.15 * per_tile))
    tally = tally or Tally("moves")

    def each(fn: Callable[..., Any], calls: dict[int, tuple[Any, ...]]) -> dict[int, Any] | None:
        """Every tile's answer, or None when the deadline or a stop cut the step (a partial sum means nothing)."""
        if st is None:
            return {i: f.result() for i, f in {i: pool.submit(fn, *a) for i, a in calls.items()}.items()}
        got, complete = st.run("moves_task", tally, fn, calls, interruptible=True)
        return got if complete else None

    for _ in range(rounds):
        if st is not None and st.halted():
            break
        plan_ids = np.unique(np.concatenate(list(chosen.values()))) if chosen else np.zeros(0, dtype=np.int64)
        if not np.array_equal(plan_ids, best[1]):
            return best  # the best plan is an earlier sweep's: leave it
        margins = each(tile_margins, {t.index: (wd, t.index, plan_ids, cfg_json, m) for t in tiles})
        if margins is None:
            break
        moves = pick_moves(margins)
        improved = False
        k = len(moves)
        while k > 0 and not (st is not None and st.halted()):
            add = np.array([p for _, p, _, _ in moves[:k]], dtype=np.int64)
            rem = np.array([q for _, _, _, q in moves[:k]], dtype=np.int64)
            cand = np.union1d(np.setdiff1d(plan_ids, rem), add)
            got = each(evaluate_tile, {t.index: (wd, t.index, cand, cfg_json) for t in tiles})
            if got is None:
                return best
            results = list(got.values())
            value = float(sum(v for v, _ in results))
            if value > best[0] + 1e-9:
                for t, p, u, q in moves[:k]:
                    chosen[u] = chosen[u][chosen[u] != q]
                    chosen[t] = np.append(chosen.get(t, np.zeros(0, dtype=np.int64)), p)
                log.info("rebalance: %d cameras moved, %.2f -> %.2f", k, best[0], value)
                best = (value, cand, int(sum(c for _, c in results)))
                improved = True
                break
            k //= 2
        if not improved:
            break
    return best


def monolithic_instance(source_path: Path | None, cfg: PlannerConfig) -> tuple[Any, np.ndarray]:
    """The whole city as one instance (for checking the decomposition on small cities) and its global pose ids."""
    from camgrid.planner.formulation import Instance
    from camgrid.planner.visibility import compute_coverage

    source = open_source(source_path, cfg)
    big = (-1e9, -1e9, 1e9, 1e9)
    lay = source.layout(big, big)
    n_or = cfg.orientations
    pose_site = np.repeat(np.arange(lay.site_id.size), n_or)
    pose_o = np.tile(np.arange(n_or), lay.site_id.size)
    cov = compute_coverage(
        lay.site_xy,
        pose_site,
        pose_o * (360.0 / n_or),
        np.full(pose_site.size, cfg.fov_deg),
        np.full(pose_site.size, cfg.range_m),
        lay.point_xy,
        lay.buildings,
    )
    inst = Instance(
        weights=lay.point_weight,
        cost=np.full(pose_site.size, cfg.camera_cost),
        coverage=cov,
        k=lay.point_k,
        pose_xy=lay.site_xy[pose_site],
    )
    return inst, lay.site_id[pose_site] * n_or + pose_o
