"""PLAN-CPU rewrites give the same answers as the code they replace (docs/design/planner-city.md, "Measured").

The reduction's subset test and rarest-point choice were vectorised; these tests hold them to a plain-Python
reference of the same rule (same dominator for every removed pose, not just a valid one)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.planner.exact import reduce_instance, subset_pairs
from camgrid.planner.formulation import Instance
from camgrid.planner.visibility import Coverage


def _random_sets(seed: int, n_poses: int, n_points: int, density: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = rng.random((n_poses, n_points)) < density
    for _ in range(n_poses // 2):  # nested sets, so that many candidates are real subsets
        a, b = rng.integers(0, n_poses, 2)
        m[a] |= m[b] & (rng.random(n_points) < 0.9)
    pp, pt = np.nonzero(m)
    return pp.astype(np.int64), pt.astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_poses=st.integers(1, 40),
    n_points=st.integers(1, 300),
    density=st.floats(0.0, 0.4),
)
def test_subset_pairs_is_the_set_inclusion(seed: int, n_poses: int, n_points: int, density: float) -> None:
    pp, pt = _random_sets(seed, n_poses, n_points, density)
    sets = [set(pt[pp == p].tolist()) for p in range(n_poses)]
    rng = np.random.default_rng(seed + 1)
    cp, cq = rng.integers(0, n_poses, 500), rng.integers(0, n_poses, 500)
    got = subset_pairs(pp, pt, n_poses, n_points, cp, cq)
    want = np.array([sets[p] <= sets[q] for p, q in zip(cp.tolist(), cq.tolist(), strict=True)], dtype=bool)
    assert np.array_equal(got, want)
    # unsorted pairs give the same answer
    perm = rng.permutation(pp.size)
    assert np.array_equal(subset_pairs(pp[perm], pt[perm], n_poses, n_points, cp, cq), want)


def _reference_strict(inst: Instance, keep: np.ndarray | None) -> dict[int, int]:
    """The strict-subset rule of ``reduce_instance`` in plain Python (k = 1, no fixed cameras, every pose
    eligible unless kept, unit weights > 0): after identical sets, each remaining pose p is removed for the first
    pose q (in pose order) that sees p's rarest point (first in p's pair order among the rarest), is still alive
    after identical sets, costs no more and sees a superset. All removals use the aliveness before 2b."""
    cov = inst.coverage
    n = inst.n_poses
    pts = [cov.pair_point[cov.pair_pose == p].tolist() for p in range(n)]
    degree = np.bincount(cov.pair_point, minlength=inst.n_points)
    seers: dict[int, list[int]] = {}
    for p in range(n):
        for i in pts[p]:
            seers.setdefault(i, []).append(p)
    red = reduce_instance(inst, math.inf, dominance=False, keep=keep)  # identical sets only
    alive = np.zeros(n, dtype=bool)
    alive[red.poses] = True
    kept = set() if keep is None else set(keep.tolist())
    out: dict[int, int] = {}
    for p in range(n):
        if not alive[p] or p in kept or not pts[p]:
            continue
        rare = min(pts[p], key=lambda i: int(degree[i]))  # min() keeps the first of equals
        for q in seers[rare]:
            if q != p and alive[q] and inst.cost[q] <= inst.cost[p] and set(pts[p]) <= set(pts[q]):
                out[p] = q
                break
    return {**red.dominator, **out}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_poses=st.integers(2, 40), n_points=st.integers(1, 120), kept=st.booleans())
def test_reduce_instance_removes_the_same_poses_for_the_same_dominators(
    seed: int, n_poses: int, n_points: int, kept: bool
) -> None:
    pp, pt = _random_sets(seed, n_poses, n_points, 0.15)
    rng = np.random.default_rng(seed)
    inst = Instance(
        weights=rng.integers(1, 5, n_points).astype(float),
        cost=rng.choice([1.0, 0.5, 2.0], n_poses),
        coverage=Coverage(n_poses, n_points, pp.astype(np.int32), pt.astype(np.int32)),
        k=np.ones(n_points, dtype=np.int64),
    )
    keep = np.flatnonzero(rng.random(n_poses) < 0.2) if kept else None
    red = reduce_instance(inst, math.inf, keep=keep)
    assert red.dominator == _reference_strict(inst, keep)
    assert np.array_equal(
        red.poses,
        np.setdiff1d(
            np.arange(n_poses)[np.bincount(pp, minlength=n_poses) > 0], np.array(sorted(red.dominator), dtype=np.int64)
        ),
    )


def _reference_greedy_gains(unit: np.ndarray, pair_pose: np.ndarray, pair_point: np.ndarray, n: int) -> list[float]:
    """``tiles.greedy_gains`` before PLAN-CPU: every pop re-sums the pose's uncovered points."""
    import heapq

    if pair_pose.size == 0 or n <= 0:
        return []
    order = np.argsort(pair_pose, kind="stable")
    pp, pt = pair_pose[order], pair_point[order]
    _, start = np.unique(pp, return_index=True)
    stop = np.append(start[1:], pp.size)
    covered = np.zeros(unit.size, dtype=bool)
    gain0 = np.add.reduceat(unit[pt], start)
    heap = [(-float(g), i) for i, g in enumerate(gain0.tolist()) if g > 0]
    heapq.heapify(heap)
    out: list[float] = []
    while heap and len(out) < n:
        _neg, i = heapq.heappop(heap)
        pts = pt[start[i] : stop[i]]
        g = float(unit[pts][~covered[pts]].sum())
        if g <= 1e-12:
            continue
        if heap and g < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g, i))
            continue
        covered[pts] = True
        out.append(g)
    return out


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_poses=st.integers(1, 80),
    n_points=st.integers(1, 300),
    units=st.sampled_from(["integer", "dyadic", "any"]),
    n=st.sampled_from([1, 7, 40, 1000]),
)
def test_greedy_gains_equal_the_plain_lazy_greedy(seed: int, n_poses: int, n_points: int, units: str, n: int) -> None:
    from camgrid.planner.tiles import greedy_gains

    rng = np.random.default_rng(seed)
    m = rng.random((n_poses, n_points)) < rng.uniform(0.005, 0.2)
    pp, pt = np.nonzero(m)
    choices = {
        "integer": [0.0, 1.0, 2.0, 4.0, 7.0],
        "dyadic": [0.0, 0.5, 1.25, 3.0],
        "any": [0.0, 0.1, 1 / 3, 2.5, 7.0],
    }
    unit = rng.choice(choices[units], n_points)
    perm = rng.permutation(pp.size)
    assert greedy_gains(unit, pp[perm], pt[perm], n) == _reference_greedy_gains(unit, pp[perm], pt[perm], n)


def test_load_tile_keeps_an_unchanged_file_and_rereads_a_rewritten_one(tmp_path: Path) -> None:
    import os

    from camgrid.planner.tile_bound import load_tile, tile_path

    np.savez(tile_path(tmp_path, 3), a=np.arange(4))
    first = load_tile(tmp_path, 3)
    assert load_tile(tmp_path, 3) is first  # served from memory
    assert not first["a"].flags.writeable  # callers share it: no one may change it
    np.savez(tile_path(tmp_path, 3), a=np.arange(5))
    st = tile_path(tmp_path, 3).stat()
    os.utime(tile_path(tmp_path, 3), ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert load_tile(tmp_path, 3)["a"].size == 5


def test_neighbourhood_search_stops_after_stall_subproblems_without_gain() -> None:
    from planner_helpers import random_instance

    from camgrid.planner.lns import lns_improve
    from camgrid.planner.solvers import local_search

    inst = random_instance(5, n_poses=60, n_points=90, density=0.08)
    start = local_search(inst, 6.0, time_limit_s=1.0)
    res = lns_improve(inst, 6.0, start, time_limit_s=60.0, stall=1, max_rounds=50)
    assert res.objective >= start.objective
    assert res.info["lns_subproblems"] <= res.info["lns_improvements"] + 1  # one miss in a row ends it
    full = lns_improve(inst, 6.0, start, time_limit_s=60.0, stall=0, max_rounds=50)
    assert full.info["lns_subproblems"] >= res.info["lns_subproblems"]
