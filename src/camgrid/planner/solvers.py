"""Heuristic solvers: lazy greedy (cost-effective, with the best-single-item rule) and a swap local search.

Both work on any :class:`~camgrid.planner.formulation.Instance` (k-coverage and power-aware objectives included) through
:class:`~camgrid.planner.formulation.State`'s marginal gains. Bounds: every heuristic reports the submodular bound
``f(S) + sum of the largest marginal gains w.r.t. S that fit in the budget`` (a valid upper bound on the optimum for a
monotone submodular objective; for unit costs this is Nemhauser-Wolsey's bound), unless a better bound is given.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from camgrid.planner.formulation import Instance, Solution, State

EPS = 1e-9


def submodular_bound(inst: Instance, state: State, budget: float) -> float:
    """f(S) + the best fractional knapsack of marginal gains w.r.t. S with capacity ``budget`` (an upper bound on
    max f(T) over |cost(T)| <= budget, by submodularity: f(T) <= f(S) + sum_{p in T} gain(p | S))."""
    gains = state.all_gains()
    gains[state.chosen] = 0.0
    cost = inst.cost
    free = (cost <= 0) & (gains > 0)
    bound = state.value() + float(gains[free].sum())
    pos = (cost > 0) & (gains > EPS)
    if not pos.any():
        return bound
    ratio = gains[pos] / cost[pos]
    order = np.argsort(-ratio, kind="stable")
    g, c = gains[pos][order], cost[pos][order]
    cum = np.cumsum(c)
    full = cum <= budget + EPS
    bound += float(g[full].sum())
    nxt = int(full.sum())
    if nxt < g.size:
        left = budget - (float(cum[nxt - 1]) if nxt > 0 else 0.0)
        bound += float(g[nxt]) * max(0.0, left) / float(c[nxt])
    return bound


def lazy_greedy(inst: Instance, budget: float, *, with_bound: bool = True) -> Solution:
    """Minoux's lazy greedy on gain/cost, plus the best single pose; returns the better (Khuller, Moss & Naor:
    within (1 - 1/e) of the optimum for unit costs, (1 - 1/e)/2 in general)."""
    t0 = time.perf_counter()
    state = State(inst, inst.fixed)
    base = state.value()
    gains = state.all_gains()
    avail = np.ones(inst.n_poses, dtype=bool)
    avail[inst.fixed] = False
    avail &= inst.cost <= budget + EPS
    # best single pose
    single_val = np.where(avail, gains, -1.0)
    best_single = int(np.argmax(single_val)) if avail.any() else -1
    # lazy greedy: heap of (-upper bound on ratio, pose)
    cost = np.maximum(inst.cost, EPS)
    heap = [(-gains[p] / cost[p], int(p)) for p in np.flatnonzero(avail & (gains > EPS))]
    heapq.heapify(heap)
    chosen: list[int] = []
    spent = 0.0
    evals = 0
    while heap:
        _neg, p = heapq.heappop(heap)
        if spent + inst.cost[p] > budget + EPS:
            continue  # never fits again: the budget only shrinks
        g = state.gain(p)
        evals += 1
        if g <= EPS:
            continue
        r = g / cost[p]
        if heap and r < -heap[0][0] - EPS:
            heapq.heappush(heap, (-r, p))
            continue
        state.add(p)
        chosen.append(p)
        spent += float(inst.cost[p])
    value = state.value()
    poses = np.array(chosen, dtype=np.int64)
    if best_single >= 0:
        single = State(inst, np.append(inst.fixed, best_single)).value()
        if single > value + EPS:
            poses, value = np.array([best_single], dtype=np.int64), single
            state = State(inst, np.append(inst.fixed, poses))
    bound = submodular_bound(inst, state, budget) if with_bound else float("inf")
    bound = max(bound, value)
    return Solution(
        "greedy",
        np.sort(poses),
        value,
        bound,
        time.perf_counter() - t0,
        "heuristic",
        {"evaluations": evals, "fixed_value": base},
    )


class _Incremental:
    """A :class:`State` plus every pose's marginal gain, updated locally on each add/remove (only pairs that touch
    the changed pose's points move)."""

    def __init__(self, inst: Instance, poses: np.ndarray, budget: float) -> None:
        self.inst = inst
        self.state = State(inst, np.union1d(inst.fixed, poses))
        self.fixed = np.zeros(inst.n_poses, dtype=bool)
        self.fixed[inst.fixed] = True
        self.gains = self.state.all_gains()
        self.budget = budget
        self.spent = float(inst.cost[np.asarray(poses, dtype=np.int64)].sum())
        self.value = self.state.value()
        self.inv_cost = 1.0 / np.maximum(inst.cost, EPS)

    def _apply(self, p: int, add: bool) -> None:
        pts = self.inst.points_of(p)
        poses_b, g_b = self.state.gains_for_points(pts)
        before = float(self.state.point_values(pts, self.state.counts[pts]).sum())
        if add:
            self.state.add(p)
            self.spent += float(self.inst.cost[p])
        else:
            self.state.remove(p)
            self.spent -= float(self.inst.cost[p])
        _, g_a = self.state.gains_for_points(pts)
        after = float(self.state.point_values(pts, self.state.counts[pts]).sum())
        np.add.at(self.gains, poses_b, g_a - g_b)
        self.value += after - before

    def add(self, p: int) -> None:
        self._apply(p, True)

    def remove(self, p: int) -> None:
        self._apply(p, False)

    def best_addition(self, exclude: int = -1) -> int:
        """The affordable unchosen pose with the best gain per cost, or -1."""
        room = self.budget - self.spent
        ratio = self.gains * self.inv_cost
        ratio[self.state.chosen] = -1.0
        if exclude >= 0:
            ratio[exclude] = -1.0
        ratio[self.inst.cost > room + EPS] = -1.0
        p = int(np.argmax(ratio))
        return p if ratio[p] > EPS else -1

    def fill(self) -> list[int]:
        added: list[int] = []
        while True:
            p = self.best_addition()
            if p < 0:
                return added
            self.add(p)
            added.append(p)

    def free_chosen(self) -> np.ndarray:
        return np.flatnonzero(self.state.chosen & ~self.fixed)


def _swaps(inc: _Incremental, deadline: float) -> int:
    """Best-improvement 1-for-1 exchanges (with a greedy refill when a cheaper pose frees budget) until none helps."""
    total = 0
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for r in inc.free_chosen():
            if time.perf_counter() > deadline:
                break
            r = int(r)
            if not inc.state.chosen[r]:
                continue
            old = inc.value
            inc.remove(r)
            q = inc.best_addition(exclude=r)
            added: list[int] = []
            if q >= 0:
                inc.add(q)
                added = [q, *inc.fill()]
            if inc.value > old + EPS * max(1.0, old):
                total += 1
                improved = True
                continue
            for p in reversed(added):
                inc.remove(p)
            inc.add(r)
    return total


def local_search(
    inst: Instance,
    budget: float,
    start: Solution | None = None,
    *,
    time_limit_s: float = 8.0,
    max_iters: int = 100_000,
    stall_iters: int = 3000,
    ruin_radius_m: float = 40.0,
    seed: int = 0,
) -> Solution:
    """Improve a plan: best-improvement 1-for-1 exchanges, then ruin-and-recreate (remove the chosen poses around a
    random chosen pose, refill greedily, keep the result unless it is worse), then exchanges again. Stops at the time
    limit, after ``max_iters`` rebuilds, or after ``stall_iters`` rebuilds without a strict improvement. Never worse
    than its start; deterministic for a given seed (up to the time limit)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    if start is None:
        start = lazy_greedy(inst, budget, with_bound=False)
    inc = _Incremental(inst, start.poses, budget)
    rng = np.random.default_rng(seed)
    swaps = _swaps(inc, deadline)
    best_val, best = inc.value, inc.free_chosen()
    iters = stall = 0
    xy = inst.pose_xy
    while iters < max_iters and stall < stall_iters and time.perf_counter() < deadline:
        chosen = inc.free_chosen()
        if chosen.size == 0:
            break
        iters += 1
        centre = int(chosen[rng.integers(chosen.size)])
        if xy is not None:
            d = np.hypot(*(xy[chosen] - xy[centre]).T)
            ruined = chosen[d <= ruin_radius_m * (0.5 + rng.random())]
            if ruined.size > 8:
                ruined = rng.choice(ruined, 8, replace=False)
        else:
            ruined = rng.choice(chosen, min(chosen.size, int(rng.integers(1, 4))), replace=False)
        before = inc.value
        for p in ruined:
            inc.remove(int(p))
        added = inc.fill()
        if inc.value + EPS * max(1.0, before) < before:
            for p in reversed(added):
                inc.remove(p)
            for p in ruined:
                inc.add(int(p))
            stall += 1
            continue
        if inc.value > best_val + EPS * max(1.0, best_val):
            best_val, best = inc.value, inc.free_chosen()
            stall = 0
        else:
            stall += 1
    inc = _Incremental(inst, best, budget)
    swaps += _swaps(inc, max(deadline, time.perf_counter() + 1.0))
    poses = inc.free_chosen()
    value = State(inst, np.union1d(inst.fixed, poses)).value()
    if value < start.objective - EPS:  # cannot happen; keep the promise anyway
        poses, value = start.poses, start.objective
    final = State(inst, np.union1d(inst.fixed, poses))
    bound = max(value, min(start.bound, submodular_bound(inst, final, budget)))
    return Solution(
        "local",
        np.sort(poses).astype(np.int64),
        value,
        bound,
        time.perf_counter() - t0 + (start.seconds if start.solver == "greedy" else 0.0),
        "heuristic",
        {"swaps": swaps, "rebuilds": iters, "start_objective": start.objective},
    )


def brute_force(inst: Instance, budget: float, max_poses: int = 20) -> Solution:
    """Every subset of poses within the budget (tests only; at most ``max_poses`` poses)."""
    import itertools

    t0 = time.perf_counter()
    free = [p for p in range(inst.n_poses) if p not in set(inst.fixed.tolist())]
    if len(free) > max_poses:
        raise ValueError("too many poses for brute force")
    best_val, best = State(inst, inst.fixed).value(), np.zeros(0, dtype=np.int64)
    for r in range(1, len(free) + 1):
        for combo in itertools.combinations(free, r):
            if float(inst.cost[list(combo)].sum()) > budget + EPS:
                continue
            v = State(inst, np.append(inst.fixed, combo)).value()
            if v > best_val + EPS:
                best_val, best = v, np.array(combo, dtype=np.int64)
    return Solution("brute", best, best_val, best_val, time.perf_counter() - t0, "optimal")
