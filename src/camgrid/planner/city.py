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

Progress is reported as ``progress(objective, bound, gap, done_tiles, total_tiles)`` where the steps are the tiles'
preparations and then their solves in each sweep (``total_tiles`` = (1 + sweeps) x tiles); ``objective`` is a lower
bound on the final value while running and ``bound`` is ``inf`` until pass 2. Setting ``stop`` ends the run after
the tiles in progress; the plan then holds what was solved, with its value and the bound (if computed).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.city_border import border_windows as windows_for
from camgrid.planner.city_border import improve_borders
from camgrid.planner.city_power import existing_in_frame
from camgrid.planner.citymap import Box, open_source
from camgrid.planner.instance import ExistingCamera
from camgrid.planner.tile_bound import alpha_path, lagrangian, prices, set_alpha_by_prices, tangents
from camgrid.planner.tiles import (
    SourceSpec,
    TileCurve,
    TileResult,
    TileSpec,
    evaluate_tile,
    prepare_tile,
    solve_tile,
    tile_margins,
)

log = logging.getLogger(__name__)
Progress = Callable[[float, float, float, int, int], None]
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


def global_bound(curves: list[TileCurve], budget: float) -> tuple[float, dict[int, float], float]:
    """max sum_t z_t  s.t.  z_t <= v_tj + d_tj (b_t - b_tj) for every tangent, sum_t b_t <= B, 0 <= b_t <= full_t.
    Every tile's true (integer) value curve lies below its tangents, and the optimum's shared costs split the budget,
    so this LP's value bounds the city's optimum. Returns (bound, shared budget per tile, the budget's dual price)."""
    n = len(curves)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    inf = highspy.kHighsInf
    # columns: b_0..b_{n-1}, z_0..z_{n-1}
    h.addVars(2 * n, np.zeros(2 * n), np.concatenate([[c.full_share for c in curves], np.full(n, inf)]))
    h.changeColsBounds(n, np.arange(n, 2 * n, dtype=np.int32), np.full(n, -inf), np.full(n, inf))
    h.changeColsCost(2 * n, np.arange(2 * n, dtype=np.int32), np.concatenate([np.zeros(n), np.ones(n)]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for t, c in enumerate(curves):
        for b, v, d in c.tangents:
            h.addRow(-inf, v - d * b, 2, np.array([n + t, t], dtype=np.int32), np.array([1.0, -d]))
    h.addRow(-inf, float(budget), n, np.arange(n, dtype=np.int32), np.ones(n))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return math.inf, {}, 0.0
    sol = h.getSolution()
    col = np.asarray(sol.col_value)
    lam = abs(float(sol.row_dual[h.getNumRow() - 1]))
    return float(h.getInfo().objective_function_value), {c.index: float(col[t]) for t, c in enumerate(curves)}, lam


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
    tile_m: float = 1000.0,
    workers: int = 2,
    heuristic_time_s: float = 6.0,
    exact_time_s: float = 0.0,
    bound_time_s: float = 0.0,
    sweeps: int = 2,
    kelley_rounds: int = 4,
    consensus_rounds: int = 4,
    consensus_step: float = 1.0,
    border_windows: bool = True,
    border_width_m: float = 0.0,
    border_time_s: float = 2.0,
    workdir: Path | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    existing: Sequence[ExistingCamera] = (),
    finish: Finish | None = None,
) -> CityPlan:
    """Plan a city (a ``city-gen`` manifest or a map file; ``None`` = the shipped extract) within ``budget``.
    ``exact_time_s > 0`` also runs the exact solver per tile (else greedy + exchanges + neighbourhood search).
    ``existing``: installed cameras (cost 0, always on, never bought); ``planner.power_aware`` values power
    (``city_power``); ``finish`` runs last over the tiles (``city_phases``)."""
    if budget <= 0 or not math.isfinite(budget):
        raise ValueError("budget must be positive")
    if not 100.0 <= tile_m <= 20_000.0:
        raise ValueError("tile_m must be between 100 and 20000 metres")
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
    done = 0

    def report(obj: float, bound: float) -> None:
        if progress is not None:
            gap = max(0.0, (bound - obj) / bound) if math.isfinite(bound) and bound > 0 else 1.0
            progress(obj, bound, gap, done, (1 + sweeps) * n)

    def plan(
        poses: np.ndarray, obj: float, bound: float, status: str, covered: int, alloc: dict[int, float]
    ) -> CityPlan:
        return CityPlan(
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

    curves: dict[int, TileCurve] = {}
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) as pool:
            # 1. prepare
            t1 = time.perf_counter()
            futs: dict[Future[TileCurve], TileSpec] = {}
            for tile in tiles:
                c0, c1 = max(tile.core[0], x0), min(tile.core[2], x1)
                d0, d1 = max(tile.core[1], y0), min(tile.core[3], y1)
                nominal = budget * max(0.0, (c1 - c0) * (d1 - d0)) / area if area > 0 else budget / n
                futs[pool.submit(prepare_tile, spec, tile, wd, nominal)] = tile
            for fut in as_completed(futs):
                if stop.is_set():
                    pool.shutdown(wait=True, cancel_futures=True)
                    timings["prepare_s"] = time.perf_counter() - t1
                    return plan(np.zeros(0, dtype=np.int64), 0.0, math.inf, "stopped", 0, {})
                c = fut.result()
                curves[c.index] = c
                done += 1
                report(0.0, math.inf)
            timings["prepare_s"] = time.perf_counter() - t1
            # 2. bound and budget
            ordered = [curves[t.index] for t in tiles]
            bound, shares, _ = global_bound(ordered, budget)
            alloc = allocate_by_gains(ordered, budget, cfg.camera_cost) or split_budget(shares, budget, cfg.camera_cost)
            log.info("city bound %.2f over %d tiles (prepare %.1fs)", bound, n, timings["prepare_s"])
            report(0.0, bound)
            # 3. solve by colour, neighbours' cameras fixed; later sweeps re-plan each tile with all others fixed
            t2 = time.perf_counter()
            chosen: dict[int, np.ndarray] = {}
            leftover = 0.0
            stopped = False
            best: tuple[float, np.ndarray, int] | None = None
            for sweep in range(sweeps):
                owned_values: dict[int, float] = {}
                for colour in range(4):
                    group = [t for t in tiles if (t.ix % 2) + 2 * (t.iy % 2) == colour]
                    if not group or stopped:
                        continue
                    share = sum(alloc.get(t.index, 0.0) for t in group)
                    sfuts: dict[Future[TileResult], TileSpec] = {}
                    given: dict[int, float] = {}
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
                        sfuts[
                            pool.submit(
                                solve_tile,
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
                        ] = t
                    leftover_now = 0.0
                    for sfut in as_completed(sfuts):
                        if stop.is_set() and not stopped:
                            stopped = True
                            for f in sfuts:
                                f.cancel()
                        if sfut.cancelled():
                            continue
                        r = sfut.result()
                        chosen[r.index] = r.poses
                        owned_values[r.index] = r.owned_value
                        if sweep == 0:
                            curves[r.index].tangents.extend(r.tangents)
                        leftover_now += max(0.0, given[r.index] - r.poses.size * cfg.camera_cost)
                        done += 1
                        # first sweep: a lower bound (later tiles only add cameras); then the last exact value
                        report(sum(owned_values.values()) if best is None else best[0], bound)
                    leftover = leftover_now
                if sweep == 0 and not stopped:  # Kelley's steps: tangents at the allocation tighten the same LP
                    t5 = time.perf_counter()
                    bound = kelley(pool, wd, tiles, curves, budget, spec.cfg_json, bound, kelley_rounds)
                    timings["kelley_s"] = time.perf_counter() - t5
                    t6 = time.perf_counter()
                    bound = consensus_rounds_run(
                        pool, wd, tiles, curves, budget, spec.cfg_json, bound, consensus_rounds, consensus_step
                    )
                    timings["consensus_s"] = time.perf_counter() - t6
                    if bound_time_s > 0:
                        t7 = time.perf_counter()
                        bound = lagrangian_step(pool, wd, tiles, curves, budget, spec.cfg_json, bound, bound_time_s)
                        timings["lagrangian_s"] = time.perf_counter() - t7
                # evaluate: each point once, by its owner; keep the best plan of the sweeps
                t3 = time.perf_counter()
                poses = np.unique(np.concatenate(list(chosen.values()))) if chosen else np.zeros(0, dtype=np.int64)
                results = [
                    f.result() for f in [pool.submit(evaluate_tile, wd, t.index, poses, spec.cfg_json) for t in tiles]
                ]
                value = float(sum(v for v, _ in results))
                timings["evaluate_s"] = timings.get("evaluate_s", 0.0) + time.perf_counter() - t3
                if best is None or value > best[0]:
                    best = (value, poses, int(sum(c for _, c in results)))
                if stopped:
                    break
                # move cameras from the tiles where they are worth least to where they gain most (budget split)
                t4 = time.perf_counter()
                best = rebalance(pool, wd, tiles, chosen, best, spec.cfg_json, budget / cfg.camera_cost / n)
                timings["rebalance_s"] = timings.get("rebalance_s", 0.0) + time.perf_counter() - t4
                if border_windows and n > 1:  # re-choose the cameras along the tile borders (city_border)
                    t8 = time.perf_counter()
                    width = border_width_m or min(6 * cfg.range_m, 0.6 * tile_m)
                    wins = windows_for(tiles, source.bounds, tile_m, width, range_m=cfg.range_m)
                    chosen, best, _ = improve_borders(
                        pool,
                        wd,
                        tiles,
                        chosen,
                        best,
                        spec.cfg_json,
                        spec=spec,
                        windows=wins,
                        budget=budget,
                        time_s=border_time_s,
                        exact_time_s=exact_time_s,
                        stop=stop,
                    )
                    timings["border_s"] = timings.get("border_s", 0.0) + time.perf_counter() - t8
            timings["solve_s"] = time.perf_counter() - t2
            assert best is not None
            objective, poses, covered = best
            answer = finish(pool, wd, tiles, curves, spec.cfg_json, poses, bound, stopped) if finish else {}
        out = plan(poses, objective, bound, "stopped" if stopped else "complete", covered, alloc)
        out.extra = answer
        report(objective, bound)
        return out
    finally:
        if own_dir:
            shutil.rmtree(wd, ignore_errors=True)


def kelley(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    curves: dict[int, TileCurve],
    budget: float,
    cfg_json: str,
    bound: float,
    rounds: int,
) -> float:
    """Kelley's cutting planes on the bound LP: each round adds every tile's tangent at the budget the LP gives it
    (the same concave curves, so every round's value is still a valid bound and never weaker)."""
    for _ in range(rounds + 1):
        refined, shares, _ = global_bound([curves[t.index] for t in tiles], budget)
        if refined >= bound * (1 - 1e-4):  # converged to 0.01%: each round costs an LP per tile
            return min(bound, refined)
        bound = refined
        todo = {i: b for i, b in shares.items() if needs_tangent(curves[i], b)}
        if not todo:  # every share sits on a tangent already solved: another round cannot change the LP
            return bound
        futs = {i: pool.submit(tangents, wd, i, cfg_json, [b]) for i, b in todo.items()}
        for i, f in futs.items():
            curves[i].tangents.extend(f.result())
    return bound


def needs_tangent(curve: TileCurve, b: float) -> bool:
    """False when the tile already has a tangent at ``b`` (or ``b`` is its full share, where the curve is flat
    beyond): solving its LP there again would add the same line."""
    tol = 1e-6 * max(1.0, abs(b))
    if b >= curve.full_share - tol and any(d <= 1e-12 for _, _, d in curve.tangents):
        return False
    return not any(abs(bj - b) <= tol for bj, _, _ in curve.tangents)


def consensus_rounds_run(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    curves: dict[int, TileCurve],
    budget: float,
    cfg_json: str,
    bound: float,
    rounds: int,
    step: float,
) -> float:
    """Up to ``rounds`` consensus rounds with a monotone step rule: a round that lowers the bound is kept (and the
    rounds stop once one gains < 0.01%); one that does not is undone (shares and curves restored) and the step
    halved, down to 1/8. Every round's shares are valid, so the smallest bound seen is returned."""
    mix = step
    for _ in range(max(0, rounds)):
        saved = {t.index: (curves[t.index].full_share, list(curves[t.index].tangents)) for t in tiles}
        backup = _save_alphas(wd, tiles)
        new = consensus(pool, wd, tiles, curves, budget, cfg_json, mix)
        if new < bound * (1 - 1e-7):
            gained = (bound - new) / bound
            bound = new
            if gained < 1e-4:
                break
            continue
        _restore_alphas(wd, tiles, backup)
        for i, (full, tang) in saved.items():
            curves[i].full_share, curves[i].tangents = full, tang
        mix /= 2
        if mix < 0.125:
            break
    return bound


def _save_alphas(wd: Path, tiles: list[TileSpec]) -> dict[int, np.ndarray | None]:
    out: dict[int, np.ndarray | None] = {}
    for t in tiles:
        p = alpha_path(wd, t.index)
        out[t.index] = np.load(p) if p.exists() else None
    return out


def _restore_alphas(wd: Path, tiles: list[TileSpec], backup: dict[int, np.ndarray | None]) -> None:
    for t in tiles:
        p, a = alpha_path(wd, t.index), backup[t.index]
        if a is None:
            p.unlink(missing_ok=True)
        else:
            np.save(p, a)


def consensus(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    curves: dict[int, TileCurve],
    budget: float,
    cfg_json: str,
    mix: float,
) -> float:
    """One consensus round on the border poses' cost shares (planner-city.md, Bound): every tile's bound LP at its
    share of the budget prices its owned points; the shares are re-split by priced value (mixed with the old ones by
    ``mix``); the curves are rebuilt under the new shares and the bound LP solved again (its new value)."""
    bound, shares, _ = global_bound([curves[t.index] for t in tiles], budget)
    if not shares:
        return bound
    futs = {i: pool.submit(prices, wd, i, cfg_json, b) for i, b in shares.items()}
    got = [f.result() for f in futs.values()]
    gid = np.concatenate([g for g, _ in got]) if got else np.zeros(0, dtype=np.int64)
    price = np.concatenate([p for _, p in got]) if got else np.zeros(0)
    order = np.argsort(gid, kind="stable")
    price_file = wd / "prices.npz"
    np.savez(price_file, gid=gid[order], price=price[order])
    budgets = {i: [b * f for f in (0.7, 1.0, 1.4)] for i, b in shares.items()}
    cfuts = {i: pool.submit(set_alpha_by_prices, wd, i, cfg_json, price_file, mix, budgets[i]) for i in shares}
    for i, f in cfuts.items():
        full, tang = f.result()
        curves[i].full_share = full
        curves[i].tangents = tang
    new = kelley(pool, wd, tiles, curves, budget, cfg_json, math.inf, 2)
    log.info("consensus (mix %.3f): bound %.2f -> %.2f", mix, bound, new)
    return new


def lagrangian_step(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    curves: dict[int, TileCurve],
    budget: float,
    cfg_json: str,
    bound: float,
    time_s: float,
) -> float:
    """Weak Lagrangian duality over the current shares: for the bound LP's budget price λ, ``λB + Σ_t UB_t`` bounds
    the optimum, where UB_t is a proven bound on the tile's integer ``max f_t(x) - λ alpha·c(x)``; never weaker than the
    LP at λ up to the MIP's time limit (it closes part of the LP's integrality gap). Returns the smaller bound."""
    _, _, lam = global_bound([curves[t.index] for t in tiles], budget)
    futs = [pool.submit(lagrangian, wd, t.index, cfg_json, lam, time_s) for t in tiles]
    terms = [f.result() for f in futs]
    new = lam * budget + sum(terms)
    log.info("lagrangian at %.4f: bound %.2f -> %.2f", lam, bound, new)
    return min(bound, new) if math.isfinite(new) else bound


def rebalance(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    chosen: dict[int, np.ndarray],
    best: tuple[float, np.ndarray, int],
    cfg_json: str,
    per_tile: float,
    rounds: int = 3,
) -> tuple[float, np.ndarray, int]:
    """Move cameras between tiles while the whole plan's exact value improves (``chosen`` is updated in place).
    Greedy gains and single-removal losses only estimate a move's worth, so fewer moves are tried when all of
    them together do not pay; nothing is kept that does not raise the evaluated value."""
    m = max(4, math.ceil(0.15 * per_tile))
    for _ in range(rounds):
        plan_ids = np.unique(np.concatenate(list(chosen.values()))) if chosen else np.zeros(0, dtype=np.int64)
        if not np.array_equal(plan_ids, best[1]):
            return best  # the best plan is an earlier sweep's: leave it
        futs = {t.index: pool.submit(tile_margins, wd, t.index, plan_ids, cfg_json, m) for t in tiles}
        moves = pick_moves({i: f.result() for i, f in futs.items()})
        improved = False
        k = len(moves)
        while k > 0:
            add = np.array([p for _, p, _, _ in moves[:k]], dtype=np.int64)
            rem = np.array([q for _, _, _, q in moves[:k]], dtype=np.int64)
            cand = np.union1d(np.setdiff1d(plan_ids, rem), add)
            results = [f.result() for f in [pool.submit(evaluate_tile, wd, t.index, cand, cfg_json) for t in tiles]]
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
