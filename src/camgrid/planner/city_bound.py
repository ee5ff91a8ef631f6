"""The city's bound (docs/design/planner-city.md, Bound): the bound LP over the tiles' tangents and its refinement
steps: Kelley's cutting planes, consensus rounds on the border poses' cost shares, the integer Lagrangian step.

Why a module of its own: these steps only ever add valid tangents (or switch to other valid shares and keep the
smaller bound), so ``city.plan_city`` can call, time and stop them without knowing their inside. Every step runs
its tile tasks through :class:`Steps`, which reports ``(phase, done, total)`` after each task, and stops between
tasks when the run's stop flag is set or its deadline passes; what is kept then is always a valid bound (Kelley's
tangents so far; a consensus round half done is undone; a Lagrangian step takes the LP's term for the tiles it did
not reach). A step is skipped when the time it is estimated to take (the last similar step's seconds per tile task)
exceeds the time left (planner-city.md, "Time limit and progress").
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# report(phase, done, total): the run's progress within the phase (tile tasks done of tile tasks to do)
Report = Callable[[str, int, int], None]


@dataclass
class Tally:
    """One phase's progress: tile tasks done of those to do so far (a step may add tasks as it goes)."""

    phase: str
    done: int = 0
    total: int = 0


@dataclass
class Steps:
    """What the bound steps share with the run: the pool and its files, the stop flag, the deadline (a
    ``time.perf_counter`` value; None = no time limit), the progress reporter, the measured wall seconds per tile
    task of each kind (``solve``, ``tangent``, ``prices``, ``alpha``, ``consensus``, ``lagrangian``, ...), and the
    steps skipped or cut short for time."""

    pool: ProcessPoolExecutor
    wd: Path
    tiles: list[TileSpec]
    curves: dict[int, TileCurve]
    budget: float
    cfg_json: str
    stop: threading.Event
    deadline: float | None = None
    report: Report = lambda phase, done, total: None
    workers: int = 1
    bound: float = math.inf  # the best proven bound so far (what progress shows)
    per_task: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)

    def left(self) -> float:
        """Seconds until the deadline (inf without a time limit)."""
        return math.inf if self.deadline is None else self.deadline - time.perf_counter()

    def halted(self) -> bool:
        """Stopped by the user, or out of time: no new tile task may start."""
        return self.stop.is_set() or self.left() <= 0

    def fits(self, phase: str, estimate: float | None) -> bool:
        """May a step estimated at ``estimate`` seconds (None: not known yet) start? A step that may not is recorded
        as skipped for time (unless the run was stopped)."""
        if self.stop.is_set():
            return False
        left = self.left()
        if left <= 0 or (estimate is not None and estimate > left):
            self.skipped.append(phase)
            log.info("%s skipped for time (estimated %s s, %.0f s left)", phase, estimate, left)
            return False
        return True

    def estimate(self, kind: str, tasks: int, fallback: float | None = None) -> float | None:
        """Seconds for ``tasks`` tile tasks of ``kind``: the last measured seconds per task, else ``fallback`` per
        task (None when neither is known)."""
        per = self.per_task.get(kind, fallback)
        return None if per is None else per * tasks

    def cut_short(self, phase: str) -> None:
        """Record ``phase`` as cut short by the deadline (a stop is the user's, not the time limit's)."""
        if not self.stop.is_set() and phase not in self.cut:
            self.cut.append(phase)

    def lp(self) -> tuple[float, dict[int, float], float]:
        return global_bound([self.curves[t.index] for t in self.tiles], self.budget)

    def run(
        self,
        kind: str,
        tally: Tally,
        fn: Callable[..., Any],
        calls: dict[int, tuple[Any, ...]],
        *,
        interruptible: bool,
        timed: bool = True,
    ) -> tuple[dict[int, Any], bool]:
        """Run ``fn(*args)`` for every tile in the pool, reporting each task done. An interruptible step stops
        between tasks after a stop (and, when ``timed``, after the deadline): pending tasks are cancelled and running
        ones awaited (a task is never abandoned half-written). Returns (results of the tasks done, whether all were
        done); records the wall seconds per task of ``kind``."""
        t0 = time.perf_counter()
        if interruptible and calls and (self.halted() if timed else self.stop.is_set()):
            self.cut_short(tally.phase)
            return {}, False
        tally.total += len(calls)
        self.report(tally.phase, tally.done, tally.total)
        futs: dict[Future[Any], int] = {self.pool.submit(fn, *args): i for i, args in calls.items()}
        out: dict[int, Any] = {}
        complete = True
        for fut in as_completed(futs):
            if fut.cancelled():
                continue
            out[futs[fut]] = fut.result()
            tally.done += 1
            self.report(tally.phase, tally.done, tally.total)
            halted = self.halted() if timed else self.stop.is_set()
            if interruptible and complete and halted and len(out) < len(futs):
                complete = False
                for f in futs:
                    f.cancel()
        if out:
            self.per_task[kind] = (time.perf_counter() - t0) / len(out)
        complete = len(out) == len(futs)  # tasks already handed to a worker cannot be cancelled: they ran
        if not complete:
            self.cut_short(tally.phase)
            log.info("%s: stopped after %d of %d tile tasks", tally.phase, len(out), len(futs))
        return out, complete


def kelley(st: Steps, bound: float, rounds: int, tally: Tally | None = None) -> float:
    """Kelley's cutting planes on the bound LP: each round adds every tile's tangent at the budget the LP gives it
    (the same concave curves, so every round's value is still a valid bound and never weaker). Rounds report as
    ``kelley:k`` (or into ``tally``: the rounds inside a consensus round); a round cut short keeps the tangents it
    got and the LP is solved once more over them."""
    for k in range(rounds + 1):
        refined, shares, _ = st.lp()
        if refined >= bound * (1 - 1e-4):  # converged to 0.01%: each round costs an LP per tile
            return min(bound, refined)
        bound = refined
        if tally is None:
            st.bound = min(st.bound, bound)
        todo = {i: b for i, b in shares.items() if needs_tangent(st.curves[i], b)}
        if not todo:  # every share sits on a tangent already solved: another round cannot change the LP
            return bound
        phase = tally or Tally(f"kelley:{k + 1}")
        if tally is None and not st.fits(phase.phase, st.estimate("tangent", len(todo))):
            return bound
        if st.halted():
            return bound
        calls = {i: (st.wd, i, st.cfg_json, [b]) for i, b in todo.items()}
        got, complete = st.run("tangent", phase, tangents, calls, interruptible=True)
        for i, tang in got.items():
            st.curves[i].tangents.extend(tang)
        if not complete:
            return min(bound, st.lp()[0])
    return bound


def needs_tangent(curve: TileCurve, b: float) -> bool:
    """False when the tile already has a tangent at ``b`` (or ``b`` is its full share, where the curve is flat
    beyond): solving its LP there again would add the same line."""
    tol = 1e-6 * max(1.0, abs(b))
    if b >= curve.full_share - tol and any(d <= 1e-12 for _, _, d in curve.tangents):
        return False
    return not any(abs(bj - b) <= tol for bj, _, _ in curve.tangents)


def consensus_rounds_run(st: Steps, bound: float, rounds: int, step: float) -> float:
    """Up to ``rounds`` consensus rounds with a monotone step rule: a round that lowers the bound is kept (and the
    rounds stop once one gains < 0.01%); one that does not is undone (shares and curves restored) and the step
    halved, down to 1/8. Every round's shares are valid, so the smallest bound seen is returned. A round cut short
    by a stop or the deadline before its new shares are all written is undone (mixed shares would not sum to 1)."""
    mix = step
    n = len(st.tiles)
    for r in range(max(0, rounds)):
        tally = Tally(f"consensus:{r + 1}")
        t = st.per_task.get("tangent")
        # before a round has run its cost is borrowed from the tangents': at 100 km² a round took 13.5 s per tile
        # against 1.0 s per Kelley tangent (the new shares' LPs start far from their bases), and two runs' rounds
        # were cut by the deadline and undone, so 2.5x the sum: a round cut short gains nothing and overruns
        fallback = None if t is None else 2.5 * (st.per_task.get("prices", t) + st.per_task.get("alpha", 3 * t) + 2 * t)
        if not st.fits(tally.phase, st.estimate("consensus", n, fallback)):
            break
        t0 = time.perf_counter()
        saved = {t.index: (st.curves[t.index].full_share, list(st.curves[t.index].tangents)) for t in st.tiles}
        backup = _save_alphas(st.wd, st.tiles)
        new = consensus(st, mix, tally)
        if new is not None:
            st.per_task["consensus"] = (time.perf_counter() - t0) / max(1, n)
        if new is not None and new < bound * (1 - 1e-7):
            gained = (bound - new) / bound
            bound = new
            st.bound = min(st.bound, bound)
            if gained < 1e-4 or st.halted():
                break
            continue
        _restore_alphas(st.wd, st.tiles, backup)
        for i, (full, tang) in saved.items():
            st.curves[i].full_share, st.curves[i].tangents = full, tang
        if new is None or st.halted():
            break
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


def consensus(st: Steps, mix: float, tally: Tally) -> float | None:
    """One consensus round on the border poses' cost shares (planner-city.md, Bound): every tile's bound LP at its
    share of the budget prices its owned points; the shares are re-split by priced value (mixed with the old ones by
    ``mix``); the curves are rebuilt under the new shares and the bound LP solved again (its new value). None when
    the round was cut short before every tile's new shares were written (the caller undoes it)."""
    bound, shares, _ = st.lp()
    if not shares:
        return bound
    calls: dict[int, tuple[Any, ...]] = {i: (st.wd, i, st.cfg_json, b) for i, b in shares.items()}
    got, complete = st.run("prices", tally, prices, calls, interruptible=True)
    if not complete:
        return None
    gid = np.concatenate([got[i][0] for i in shares]) if got else np.zeros(0, dtype=np.int64)
    price = np.concatenate([got[i][1] for i in shares]) if got else np.zeros(0)
    order = np.argsort(gid, kind="stable")
    price_file = st.wd / "prices.npz"
    np.savez(price_file, gid=gid[order], price=price[order])
    budgets = {i: [b * f for f in (0.7, 1.0, 1.4)] for i, b in shares.items()}
    calls = {i: (st.wd, i, st.cfg_json, price_file, mix, budgets[i]) for i in shares}
    rebuilt, complete = st.run("alpha", tally, set_alpha_by_prices, calls, interruptible=True)
    if not complete:
        return None
    for i, (full, tang) in rebuilt.items():
        st.curves[i].full_share = full
        st.curves[i].tangents = tang
    new = kelley(st, math.inf, 2, tally)  # valid under the new shares even if cut short
    log.info("consensus (mix %.3f): bound %.2f -> %.2f", mix, bound, new)
    return new


def lp_term(curve: TileCurve, lam: float) -> float:
    """``max_b U_t(b) - lam b`` over ``0 <= b <= full_t`` for the tile's tangent curve ``U_t``: the tile's term of
    the bound LP's Lagrangian at price ``lam``, an upper bound on its integer Lagrangian subproblem too. ``U_t`` is
    concave and piecewise linear, so the maximum is at 0, at the full share or where two tangents cross."""
    lines = curve.tangents
    full = max(0.0, curve.full_share)
    cand = {0.0, full}
    for i, (b1, v1, d1) in enumerate(lines):
        for b2, v2, d2 in lines[i + 1 :]:
            if abs(d1 - d2) > 1e-12:  # v1 + d1 (b - b1) = v2 + d2 (b - b2)
                cand.add(((v2 - d2 * b2) - (v1 - d1 * b1)) / (d1 - d2))
    best = -math.inf
    for b in cand:
        if 0.0 <= b <= full:
            best = max(best, min(v + d * (b - bj) for bj, v, d in lines) - lam * b)
    return best


def lagrangian_step(st: Steps, bound: float, time_s: float) -> float:
    """Weak Lagrangian duality over the current shares: for the bound LP's budget price λ, ``λB + Σ_t UB_t`` bounds
    the optimum, where UB_t is the smaller of a proven bound on the tile's integer ``max f_t(x) - λ alpha·c(x)`` and
    the LP's own term (:func:`lp_term`), so it is never weaker than the LP (it closes part of the LP's integrality
    gap). A tile not reached before a stop or the deadline takes the LP's term. Returns the smaller bound."""
    _, _, lam = st.lp()
    n = len(st.tiles)
    tally = Tally("lagrangian")
    guess = max(0.5, time_s) * 1.2 / max(1, st.workers)
    if not st.fits(tally.phase, st.estimate("lagrangian", n, guess)):
        return bound
    calls = {t.index: (st.wd, t.index, st.cfg_json, lam, time_s) for t in st.tiles}
    got, _ = st.run("lagrangian", tally, lagrangian, calls, interruptible=True)
    terms = [min(got.get(t.index, math.inf), lp_term(st.curves[t.index], lam)) for t in st.tiles]
    new = lam * st.budget + sum(terms)
    log.info("lagrangian at %.4f: bound %.2f -> %.2f (%d of %d tiles)", lam, bound, new, len(got), n)
    out = min(bound, new) if math.isfinite(new) else bound
    st.bound = min(st.bound, out)
    return out
