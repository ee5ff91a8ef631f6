"""Large-neighbourhood search: re-plan one neighbourhood at a time exactly, keeping the rest of the plan.

Why: greedy and 1-for-1 exchanges stop 1-3% below the optimum on real streets, because good plans differ from them
by several cameras at once in a neighbourhood. Cameras only see ~60 m, so re-choosing every camera within a disc
(a few hundred poses, the rest of the plan fixed) is a small integer program HiGHS solves in a fraction of a second,
and it can only improve the plan. Sweeping discs over the map until none improves gives plans within a few tenths of
a percent of the optimum on the benchmark (docs/design/planner.md, "Heuristics").
"""

from __future__ import annotations

import time

import numpy as np

from camgrid.planner.exact import solve_exact
from camgrid.planner.formulation import Instance, Solution, State
from camgrid.planner.solvers import EPS, submodular_bound
from camgrid.planner.visibility import Coverage


def sub_instance(inst: Instance, region: np.ndarray, chosen: np.ndarray) -> tuple[Instance, np.ndarray, np.ndarray]:
    """The instance restricted to ``region`` (a pose mask) and the points its poses see; chosen poses outside the
    region that see those points become fixed. Returns (sub-instance, sub pose -> pose, sub start poses)."""
    cov = inst.coverage
    in_region = region[cov.pair_pose]
    pts_mask = np.zeros(inst.n_points, dtype=bool)
    pts_mask[cov.pair_point[in_region]] = True
    chosen_mask = np.zeros(inst.n_poses, dtype=bool)
    chosen_mask[chosen] = True
    chosen_mask[inst.fixed] = True
    outside = chosen_mask & ~region
    touch = np.zeros(inst.n_poses, dtype=bool)
    touch_pairs = outside[cov.pair_pose] & pts_mask[cov.pair_point]
    touch[cov.pair_pose[touch_pairs]] = True
    keep_pose = region | touch
    keep_pair = keep_pose[cov.pair_pose] & pts_mask[cov.pair_point]
    pose_map = np.flatnonzero(keep_pose)
    point_map = np.flatnonzero(pts_mask)
    new_pose = np.full(inst.n_poses, -1, dtype=np.int64)
    new_pose[pose_map] = np.arange(pose_map.size)
    new_point = np.full(inst.n_points, -1, dtype=np.int64)
    new_point[point_map] = np.arange(point_map.size)
    sub_cov = Coverage(
        int(pose_map.size),
        int(point_map.size),
        new_pose[cov.pair_pose[keep_pair]].astype(np.int32),
        new_point[cov.pair_point[keep_pair]].astype(np.int32),
    )
    assert inst.k is not None
    sub = Instance(
        weights=inst.weights[point_map],
        cost=inst.cost[pose_map],
        coverage=sub_cov,
        k=inst.k[point_map],
        pose_feeder=None if inst.pose_feeder is None else inst.pose_feeder[pose_map],
        feeder_availability=inst.feeder_availability,
        fixed=new_pose[np.flatnonzero(touch & ~region)],
    )
    start = new_pose[np.flatnonzero(chosen_mask & region & ~_fixed_mask(inst))]
    return sub, pose_map, start


def camera_losses(inst: Instance, chosen: np.ndarray) -> np.ndarray:
    """What the plan loses without each chosen camera (the others and the fixed ones stay)."""
    state = State(inst, np.union1d(inst.fixed, chosen))
    out = np.zeros(chosen.size)
    for i, r in enumerate(chosen.tolist()):
        pts = inst.points_of(r)
        before = state.point_values(pts, state.counts[pts]).sum()
        state.remove(r)
        out[i] = before - state.point_values(pts, state.counts[pts]).sum()
        state.add(r)
    return out


def _fixed_mask(inst: Instance) -> np.ndarray:
    m = np.zeros(inst.n_poses, dtype=bool)
    m[inst.fixed] = True
    return m


def lns_improve(
    inst: Instance,
    budget: float,
    start: Solution,
    *,
    time_limit_s: float = 8.0,
    radius_m: float = 130.0,
    sub_time_s: float = 0.5,
    seed: int = 0,
    max_rounds: int = 10,
    dominance: bool = True,
    sub_options: dict[str, bool | int | float | str] | None = None,
    free_weakest: int = 2,
    stall: int = 0,
) -> Solution:
    """Sweep discs centred on the plan's cameras (random order); re-plan each disc exactly with its share of the
    budget plus what the ``free_weakest`` least useful cameras elsewhere cost (so budget can move where it pays);
    stop when a whole round improves nothing, after ``stall`` sub-problems in a row that improve nothing (0: no such
    limit; a converged tile returns early instead of spending its time), or at the time limit. Needs ``inst.pose_xy``.
    Sub-problems
    are small, so HiGHS runs them without presolve by default (measured faster on the benchmark)."""
    if sub_options is None:
        sub_options = {"presolve": "off"}
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    xy = inst.pose_xy
    if xy is None or start.poses.size == 0:
        return start
    rng = np.random.default_rng(seed)
    chosen = np.asarray(start.poses, dtype=np.int64)
    fixed = _fixed_mask(inst)
    spent = float(inst.cost[chosen].sum())
    subs = improvements = rounds = since = 0
    improved = True
    while improved and rounds < max_rounds and time.perf_counter() < deadline and not (0 < stall <= since):
        improved = False
        rounds += 1
        centres = xy[chosen[rng.permutation(chosen.size)]]
        for cx, cy in centres:
            if time.perf_counter() > deadline or 0 < stall <= since:
                break
            region = (np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) <= radius_m) & ~fixed
            if free_weakest > 0:
                # let budget move between neighbourhoods: the weakest cameras elsewhere may go too
                outside = chosen[~region[chosen]]
                loss = camera_losses(inst, chosen)[~region[chosen]]
                for r in outside[np.argsort(loss, kind="stable")[:free_weakest]]:
                    region |= np.all(xy == xy[r], axis=1) & ~fixed
            sub, pose_map, sub_start = sub_instance(inst, region, chosen)
            sub_budget = budget - spent + float(inst.cost[pose_map[sub_start]].sum())
            st = State(sub, np.union1d(sub.fixed, sub_start))
            here = Solution("start", sub_start, st.value(), float("inf"), 0.0)
            left = deadline - time.perf_counter()
            res = solve_exact(
                sub,
                sub_budget,
                start=here,
                time_limit_s=max(0.05, min(sub_time_s, left)),
                rel_gap=1e-6,
                dominance=dominance,
                options=sub_options,
                lp_start=False,
            )
            subs += 1
            since += 1
            if res.objective > here.objective + EPS * max(1.0, here.objective):
                since = 0
                in_region = np.zeros(inst.n_poses, dtype=bool)
                in_region[pose_map[sub_start]] = True
                chosen = np.union1d(chosen[~in_region[chosen]], pose_map[res.poses])
                spent = float(inst.cost[chosen].sum())
                improvements += 1
                improved = True
    value = State(inst, np.union1d(inst.fixed, chosen)).value()
    if value < start.objective - EPS:
        chosen, value = start.poses, start.objective
    bound = max(value, min(start.bound, submodular_bound(inst, State(inst, np.union1d(inst.fixed, chosen)), budget)))
    return Solution(
        "local",
        np.sort(chosen),
        value,
        bound,
        start.seconds + time.perf_counter() - t0,
        "heuristic",
        {**start.info, "lns_subproblems": subs, "lns_improvements": improvements, "lns_rounds": rounds},
    )
