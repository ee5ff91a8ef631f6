"""The city's bound (docs/design/planner-city.md, Bound): the bound LP over the tiles' tangents and its refinement
steps: Kelley's cutting planes, consensus rounds on the border poses' cost shares, the integer Lagrangian step.

Why a module of its own: these steps only ever add valid tangents (or switch to other valid shares and keep the
smaller bound), so ``city.plan_city`` can call, time and stop them without knowing their inside.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import highspy
import numpy as np

from camgrid.planner.tile_bound import alpha_path, lagrangian, prices, set_alpha_by_prices, tangents
from camgrid.planner.tiles import TileCurve, TileSpec

log = logging.getLogger(__name__)


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
