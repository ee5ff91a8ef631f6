"""Exact solver: an integer program on HiGHS, reduced before the solver sees it and started from the heuristic.

Reduction (docs/design/planner.md, "Exact solver"), all provably optimum-preserving:
1. points already fully served by installed (fixed) cameras become a constant; points no pose sees are dropped;
2. dominated poses go: ``p`` is dominated by ``q`` when ``cov(p) ⊆ cov(q)``, ``cost(q) <= cost(p)`` (and, with power,
   the same feeder), applied only when every point ``p`` sees asks for one camera (with k-coverage two dominated poses
   may both be needed);
3. points with the same set of covering poses (and the same need) merge into one point with the summed weight.
The model is then ``max sum u_j y_j`` s.t. ``y_j <= sum_{p sees j} x_p``, ``0 <= y_j <= k_j``, ``sum c_p x_p <= B``,
``x`` binary; power-aware (k = 1) points use one variable per covering feeder and per subset of those feeders
(``P(T) = 1 - prod_{f in T} (1 - a_f)``), which is exact because feeders fail independently of each other and all
sites on a feeder fail together. The heuristic plan is the warm start; HiGHS stops at the requested relative gap.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass

import highspy
import numpy as np

from camgrid.planner.formulation import Instance, Solution, State
from camgrid.planner.solvers import local_search

log = logging.getLogger(__name__)
MAX_SUBSET_FEEDERS = 6
# HiGHS's root heuristics that search near the root LP; ``lp_guided_start`` has done that search before HiGHS starts
ROOT_HEURISTICS_DONE_BY_LP_START = (
    "mip_heuristic_run_rens",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_root_reduced_cost",
    "mip_heuristic_run_feasibility_jump",
)


@dataclass
class Reduced:
    """The reduced model's data and the maps back to the instance."""

    poses: np.ndarray  # instance pose ids kept (free, not fixed)
    fixed_poses: np.ndarray  # fixed poses kept as columns (power model only)
    groups: list[np.ndarray]  # per merged point: covering kept poses (indices into ``poses``/``fixed`` space)
    unit: np.ndarray  # objective coefficient per merged point (per unit of y)
    cap: np.ndarray  # upper bound of y per merged point
    constant: float  # value fixed cameras already give
    dominator: dict[int, int]  # removed pose -> a pose that dominates it
    point_members: list[np.ndarray]  # instance points per merged point
    n_points_in: int
    n_poses_in: int


def reduce_instance(
    inst: Instance, budget: float, *, dominance: bool = True, keep: np.ndarray | None = None
) -> Reduced:
    """Apply reductions 1-3 (see module docstring). Poses in ``keep`` are never removed (they may still dominate
    others): the city bound keeps its border poses, whose costs change between solves."""
    assert inst.k is not None
    cov = inst.coverage
    fixed_mask = np.zeros(inst.n_poses, dtype=bool)
    fixed_mask[inst.fixed] = True
    power = inst.power
    if power and inst.kmax > 1:
        raise ValueError("the exact solver supports power-aware plans only with k = 1; use the local search")
    # 1. fixed cameras
    fixed_count = np.bincount(cov.pair_point[fixed_mask[cov.pair_pose]], minlength=inst.n_points)
    k = inst.k.astype(np.int64)
    unit = inst.weights / k
    if power:
        cap = np.ones(inst.n_points, dtype=np.int64)
        constant = 0.0
    else:
        served = np.minimum(fixed_count, k)
        constant = float((unit * served).sum())
        cap = k - served
    usable = (inst.cost <= budget + 1e-9) & ~fixed_mask
    pair_ok = usable[cov.pair_pose] & (cap[cov.pair_point] > 0) & (unit[cov.pair_point] > 0)
    pp, pt = cov.pair_pose[pair_ok], cov.pair_point[pair_ok]
    # 2. dominated poses (sets as sorted arrays; pairs are sorted by pose then point)
    pose_ptr = np.searchsorted(pp, np.arange(inst.n_poses + 1))
    order = np.argsort(pt, kind="stable")
    pt_sorted_pose = pp[order]
    pt_ptr = np.searchsorted(pt[order], np.arange(inst.n_points + 1))
    degree = np.diff(pt_ptr)
    feeder = inst.feeder_of(np.arange(inst.n_poses))
    cost = inst.cost
    alive = np.zeros(inst.n_poses, dtype=bool)
    alive[pp] = True
    dominator: dict[int, int] = {}
    # a pose may be removed only when every point it sees asks for one more camera (cap 1)
    multi = np.zeros(inst.n_poses, dtype=bool)
    multi[pp[cap[pt] != 1]] = True
    eligible = alive & ~multi
    if keep is not None:
        eligible[keep] = False
    # 2a. identical sets: group by a random 64-bit XOR hash of the set (and the feeder), verify, keep the cheapest
    rng = np.random.default_rng(20260101)
    salt = rng.integers(1, 2**63 - 1, size=inst.n_points + 1, dtype=np.int64)
    h = np.zeros(inst.n_poses, dtype=np.int64)
    np.bitwise_xor.at(h, pp, salt[pt])
    if power:
        fsalt = rng.integers(1, 2**63 - 1, size=int(feeder.max()) + 1, dtype=np.int64)
        h ^= fsalt[feeder]
    size = np.bincount(pp, minlength=inst.n_poses)
    cand = np.flatnonzero(eligible)
    sc = cand[np.lexsort((cand, cost[cand], size[cand], h[cand]))]
    if sc.size > 1:
        same = (h[sc][1:] == h[sc][:-1]) & (size[sc][1:] == size[sc][:-1])
        starts_flag = np.concatenate([[True], ~same])
        leader = np.maximum.accumulate(np.where(starts_flag, np.arange(sc.size), 0))
        for i in np.flatnonzero(~starts_flag).tolist():
            p, q = int(sc[i]), int(sc[leader[i]])
            same_set = np.array_equal(pt[pose_ptr[p] : pose_ptr[p + 1]], pt[pose_ptr[q] : pose_ptr[q + 1]])
            if same_set and (not power or feeder[p] == feeder[q]):
                dominator[p] = q
                alive[p] = False
    # 2b. strict subsets, all at once (distinct sets make "is a subset of a no-dearer pose" acyclic): candidates are
    # the poses that see p's rarest point; the test runs on bitsets of 64 points per word
    ps = np.flatnonzero(alive & eligible) if dominance else np.zeros(0, dtype=np.int64)
    if ps.size:
        # each pose's rarest point (the first in pair order among equals), by a min over its run of pairs
        seen_from = np.flatnonzero(size > 0)
        rank = degree[pt].astype(np.int64) * max(1, pt.size) + np.arange(pt.size)
        rare_of = np.zeros(inst.n_poses, dtype=np.int64)
        rare_of[seen_from] = pt[np.minimum.reduceat(rank, pose_ptr[seen_from]) % max(1, pt.size)]
        rare = rare_of[ps]
        lens = degree[rare]
        starts = pt_ptr[rare]
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        cp = np.repeat(ps, lens)
        cq = pt_sorted_pose[idx]
        ok = (cq != cp) & alive[cq] & (cost[cq] <= cost[cp]) & (size[cq] >= size[cp])
        if power:
            ok &= feeder[cq] == feeder[cp]
        cp, cq = cp[ok], cq[ok]
        # a 64-bit signature per pose (bit i % 64 of each point it sees) rejects most candidates before the exact test
        sig = np.zeros(inst.n_poses, dtype=np.uint64)
        sig[seen_from] = np.bitwise_or.reduceat(
            np.left_shift(np.uint64(1), (salt[pt] & 63).astype(np.uint64)), pose_ptr[seen_from]
        )
        ok = (sig[cp] & ~sig[cq]) == 0
        cp, cq = cp[ok], cq[ok]
        sub = subset_pairs(pp, pt, inst.n_poses, inst.n_points, cp, cq)
        cp, cq = cp[sub], cq[sub]
        first = np.unique(cp, return_index=True)[1]
        for p, q in zip(cp[first].tolist(), cq[first].tolist(), strict=True):
            dominator[p] = q
        alive[cp] = False
    keep_pair = alive[pp]
    pp, pt = pp[keep_pair], pt[keep_pair]
    poses = np.flatnonzero(alive)
    col_of = np.full(inst.n_poses, -1, dtype=np.int64)
    col_of[poses] = np.arange(poses.size)
    fixed_cols = np.zeros(0, dtype=np.int64)
    if power:
        fixed_cols = inst.fixed
        col_of[fixed_cols] = poses.size + np.arange(fixed_cols.size)
        fm = fixed_mask[cov.pair_pose] & (unit[cov.pair_point] > 0)
        pp = np.concatenate([pp, cov.pair_pose[fm]])
        pt = np.concatenate([pt, cov.pair_point[fm]])
    # 3. merge points with identical covering sets
    order = np.lexsort((pp, pt))
    pp, pt = pp[order], pt[order]
    bounds = np.searchsorted(pt, np.arange(inst.n_points + 1))
    merged: dict[bytes, int] = {}
    groups: list[np.ndarray] = []
    members: list[list[int]] = []
    units: list[float] = []
    caps: list[int] = []
    for i in np.flatnonzero(np.diff(bounds) > 0).tolist():
        cols = col_of[pp[bounds[i] : bounds[i + 1]]]
        key = cols.tobytes() + int(cap[i]).to_bytes(4, "little")
        g = merged.get(key)
        if g is None:
            merged[key] = len(groups)
            groups.append(cols)
            members.append([int(i)])
            units.append(float(unit[i]) if not power else float(inst.weights[i]))
            caps.append(int(cap[i]))
        else:
            members[g].append(int(i))
            units[g] += float(unit[i]) if not power else float(inst.weights[i])
    return Reduced(
        poses=poses,
        fixed_poses=fixed_cols,
        groups=groups,
        unit=np.array(units, dtype=np.float64),
        cap=np.array(caps, dtype=np.int64),
        constant=constant,
        dominator=dominator,
        point_members=[np.array(m, dtype=np.int64) for m in members],
        n_points_in=inst.n_points,
        n_poses_in=inst.n_poses,
    )


def subset_pairs(
    pp: np.ndarray, pt: np.ndarray, n_poses: int, n_points: int, cp: np.ndarray, cq: np.ndarray
) -> np.ndarray:
    """``out[j]``: the points of pose ``cp[j]`` are a subset of those of ``cq[j]`` (pairs ``pp``/``pt``).

    Why not whole bitsets: a pose sees a few dozen points, which fall in a few 64-point words, so only the words where
    ``cp[j]`` has a point are compared (comparing every word of a tile's ~200 cost 2.7 s of a 1.5 km tile's 3.2 s
    reduction; PLAN-CPU, planner-city.md)."""
    out = np.zeros(cp.size, dtype=bool)
    if cp.size == 0:
        return out
    n_words = (n_points + 63) // 64
    key = pp.astype(np.int64) * n_words + (pt.astype(np.int64) >> 6)
    bit = np.left_shift(np.uint64(1), (pt & 63).astype(np.uint64))
    if key.size > 1 and not bool(np.all(key[1:] >= key[:-1])):
        order = np.argsort(key, kind="stable")
        key, bit = key[order], bit[order]
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if key.size else np.zeros(0, np.int64)
    ukey = key[first]
    umask = np.bitwise_or.reduceat(bit, first) if first.size else np.zeros(0, dtype=np.uint64)
    uword = ukey % n_words
    wptr = np.searchsorted(ukey // n_words, np.arange(n_poses + 1))  # pose -> its nonzero words
    bits = np.zeros(n_poses * n_words, dtype=np.uint64)
    bits[ukey] = umask
    cnt = wptr[cp + 1] - wptr[cp]
    csum = np.cumsum(cnt)
    lo, chunk = 0, 4_000_000
    while lo < cp.size:
        hi = max(lo + 1, int(np.searchsorted(csum, (csum[lo - 1] if lo else 0) + chunk, side="right")))
        c = cnt[lo:hi]
        rep = np.repeat(np.arange(hi - lo), c)
        e = np.repeat(wptr[cp[lo:hi]] - np.cumsum(c) + c, c) + np.arange(int(c.sum()))
        m = umask[e]
        bad = (bits[cq[lo:hi][rep] * n_words + uword[e]] & m) != m
        out[lo:hi] = np.bincount(rep[bad], minlength=hi - lo) == 0
        lo = hi
    return out


def _lift(red: Reduced, poses: np.ndarray) -> np.ndarray:
    """Map instance poses to kept columns, replacing a removed pose by its (transitive) dominator."""
    col_of = {int(p): c for c, p in enumerate(red.poses)}
    cols = set()
    for p in poses:
        q = int(p)
        seen = 0
        while q in red.dominator and seen < 10_000:
            q = red.dominator[q]
            seen += 1
        if q in col_of:
            cols.add(col_of[q])
    return np.array(sorted(cols), dtype=np.int64)


def _build_plain(inst: Instance, red: Reduced, budget: float) -> highspy.HighsLp:
    """The plain model, vectorised: rows 0..G-1 are ``y_g - sum x <= 0``, row G the budget; columns x then y."""
    n_x, n_g = red.poses.size, len(red.groups)
    lens = np.array([g.size for g in red.groups], dtype=np.int64)
    g_of = np.repeat(np.arange(n_g), lens)
    c_of = np.concatenate(red.groups) if n_g else np.zeros(0, dtype=np.int64)
    order = np.argsort(c_of, kind="stable")
    x_rows = g_of[order]
    x_counts = np.bincount(c_of, minlength=n_x)
    # x column c: its coverage rows (-1), then the budget row (cost)
    x_len = x_counts + 1
    starts = np.zeros(n_x + n_g + 1, dtype=np.int64)
    starts[1 : n_x + 1] = np.cumsum(x_len)
    starts[n_x + 1 :] = starts[n_x] + np.arange(1, n_g + 1)
    nnz = int(starts[-1])
    index = np.empty(nnz, dtype=np.int32)
    coef = np.empty(nnz, dtype=np.float64)
    budget_pos = starts[1 : n_x + 1] - 1
    cov_mask = np.ones(int(starts[n_x]), dtype=bool)
    cov_mask[budget_pos] = False
    index[: starts[n_x]][cov_mask] = x_rows
    coef[: starts[n_x]][cov_mask] = -1.0
    index[budget_pos] = n_g
    coef[budget_pos] = inst.cost[red.poses]
    index[starts[n_x] :] = np.arange(n_g)
    coef[starts[n_x] :] = 1.0
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_g
    lp.num_row_ = n_g + 1
    lp.col_cost_ = np.concatenate([np.zeros(n_x), red.unit])
    lp.col_lower_ = np.zeros(n_x + n_g)
    lp.col_upper_ = np.concatenate([np.ones(n_x), red.cap.astype(np.float64)])
    lp.row_lower_ = np.full(n_g + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_g), [float(budget)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = coef
    lp.a_matrix_.num_col_ = n_x + n_g
    lp.a_matrix_.num_row_ = n_g + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [highspy.HighsVarType.kContinuous] * n_g
    return lp


def _plain_start(red: Reduced, x: np.ndarray) -> np.ndarray:
    """Full start for the plain model: y_g = min(cap, cameras that see g)."""
    y = np.array([min(float(red.cap[g]), float(x[cols].sum())) for g, cols in enumerate(red.groups)])
    return np.concatenate([x, y])


def build_model(inst: Instance, red: Reduced, budget: float) -> tuple[highspy.HighsLp, int, list[tuple[int, int]]]:
    """Column-wise LP: x (kept poses, then fixed columns), then per merged point either y (plain) or u/z (power)."""
    n_x = red.poses.size + red.fixed_poses.size
    if not inst.power:
        return _build_plain(inst, red, budget), n_x, []
    cost = np.concatenate([inst.cost[red.poses], np.zeros(red.fixed_poses.size)])
    # rows: one per coverage link, then the budget row
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    col_entries: list[list[tuple[int, float]]] = [[] for _ in range(n_x)]
    extra_cost: list[float] = []
    extra_hi: list[float] = []
    extra_entries: list[list[tuple[int, float]]] = []
    z_meta: list[tuple[int, int]] = []
    avail = inst.availability()
    feeder = inst.feeder_of(np.arange(inst.n_poses))
    x_feeder = np.concatenate([feeder[red.poses], feeder[red.fixed_poses]])
    for g, cols in enumerate(red.groups):
        if not inst.power:
            r = len(rows_lo)
            rows_lo.append(-highspy.kHighsInf)
            rows_hi.append(0.0)
            extra_cost.append(float(red.unit[g]))
            extra_hi.append(float(red.cap[g]))
            extra_entries.append([(r, 1.0)])
            for c in cols:
                col_entries[int(c)].append((r, -1.0))
            continue
        fs = sorted({int(x_feeder[c]) for c in cols})
        if len(fs) > MAX_SUBSET_FEEDERS:
            raise ValueError(f"a point is seen from {len(fs)} feeders; the exact power model allows 6")
        u_row: dict[int, int] = {}
        u_var: dict[int, int] = {}
        for f in fs:
            r = len(rows_lo)
            rows_lo.append(-highspy.kHighsInf)
            rows_hi.append(0.0)
            u_row[f] = r
            for c in cols:
                if int(x_feeder[c]) == f:
                    col_entries[int(c)].append((r, -1.0))
        for f in fs:  # u_f <= sum x (row u_row[f]); z_T <= u_f (rows below)
            u_var[f] = len(extra_cost)
            extra_cost.append(0.0)
            extra_hi.append(1.0)
            extra_entries.append([(u_row[f], 1.0)])
        one = len(rows_lo)
        rows_lo.append(-highspy.kHighsInf)
        rows_hi.append(1.0)
        for size in range(1, len(fs) + 1):
            for subset in itertools.combinations(fs, size):
                p_up = 1.0 - float(np.prod([1.0 - avail[f] for f in subset]))
                zi = len(extra_cost)
                extra_cost.append(float(red.unit[g]) * p_up)
                extra_hi.append(1.0)
                entries = [(one, 1.0)]
                for f in subset:
                    r = len(rows_lo)
                    rows_lo.append(-highspy.kHighsInf)
                    rows_hi.append(0.0)
                    entries.append((r, 1.0))
                    extra_entries[u_var[f]].append((r, -1.0))
                extra_entries.append(entries)
                z_meta.append((g, zi))
    budget_row = len(rows_lo)
    rows_lo.append(-highspy.kHighsInf)
    rows_hi.append(float(budget))
    for c in range(red.poses.size):
        col_entries[c].append((budget_row, float(cost[c])))
    all_entries = col_entries + extra_entries
    starts = np.zeros(len(all_entries) + 1, dtype=np.int32)
    starts[1:] = np.cumsum([len(e) for e in all_entries])
    index = np.fromiter((r for e in all_entries for r, _ in e), dtype=np.int32, count=int(starts[-1]))
    coef = np.fromiter((v for e in all_entries for _, v in e), dtype=np.float64, count=int(starts[-1]))
    lp = highspy.HighsLp()
    n_col = len(all_entries)
    lp.num_col_ = n_col
    lp.num_row_ = len(rows_lo)
    lp.col_cost_ = np.concatenate([np.zeros(n_x), np.array(extra_cost)])
    lo = np.zeros(n_col)
    lo[red.poses.size : n_x] = 1.0  # installed cameras stay
    lp.col_lower_ = lo
    lp.col_upper_ = np.concatenate([np.ones(n_x), np.array(extra_hi)])
    lp.row_lower_ = np.array(rows_lo)
    lp.row_upper_ = np.array(rows_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = coef
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = len(rows_lo)
    lp.sense_ = highspy.ObjSense.kMaximize
    integrality = [highspy.HighsVarType.kContinuous] * n_col
    for c in range(n_x):
        integrality[c] = highspy.HighsVarType.kInteger
    lp.integrality_ = integrality
    return lp, n_x, z_meta


def textbook_model(inst: Instance, budget: float) -> highspy.HighsLp:
    """The plain model (no reduction): x per pose, y per point, y_i <= sum x, budget; for the baseline."""
    red = Reduced(
        poses=np.flatnonzero(~np.isin(np.arange(inst.n_poses), inst.fixed)),
        fixed_poses=np.zeros(0, dtype=np.int64),
        groups=[],
        unit=np.zeros(0),
        cap=np.zeros(0, dtype=np.int64),
        constant=0.0,
        dominator={},
        point_members=[],
        n_points_in=inst.n_points,
        n_poses_in=inst.n_poses,
    )
    assert inst.k is not None
    cov = inst.coverage
    col_of = np.full(inst.n_poses, -1, dtype=np.int64)
    col_of[red.poses] = np.arange(red.poses.size)
    order = np.argsort(cov.pair_point, kind="stable")
    pts, poses = cov.pair_point[order], cov.pair_pose[order]
    b = np.searchsorted(pts, np.arange(inst.n_points + 1))
    for i in range(inst.n_points):
        cols = col_of[poses[b[i] : b[i + 1]]]
        red.groups.append(cols[cols >= 0])
    red.unit = inst.weights / inst.k
    red.cap = inst.k.copy()
    lp, _, _ = build_model(inst, red, budget)
    return lp


def _run(lp: highspy.HighsLp, *, time_limit_s: float, rel_gap: float | None, threads: int) -> highspy.Highs:
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    if rel_gap is not None:
        h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.passModel(lp)
    return h


def _complete_start(lp: highspy.HighsLp, x: np.ndarray) -> np.ndarray | None:
    """Values of every column for the integer part ``x`` (the first ``x.size`` columns): the model with x fixed is an
    LP; HiGHS does not complete a partial start by itself (it reads missing values as 0, a useless start)."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    idx = np.arange(x.size, dtype=np.int32)
    h.changeColsBounds(x.size, idx, x, x)
    h.changeColsIntegrality(x.size, idx, np.full(x.size, highspy.HighsVarType.kContinuous))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_value)


def _integral_objective(inst: Instance, red: Reduced) -> bool:
    """Every plan's value is an integer: integer weights per merged point, one camera asked per point, no power
    weighting (y is then implied integer) and an integer constant."""
    if inst.power or red.unit.size == 0 or np.any(red.cap > 1):
        return False
    return bool(np.all(red.unit == np.round(red.unit)) and red.constant == round(red.constant))


def lp_guided_start(
    lp: highspy.HighsLp, n_free: int, x: np.ndarray, *, time_limit_s: float, threads: int = 1
) -> np.ndarray | None:
    """A better start from the LP relaxation (RENS, kept to the poses the LP or the start uses): solve the LP, then the
    integer program on the poses with a positive LP value or in the start, every other pose forbidden.

    Why: on the district benchmark the heuristic ends a few cameras below the optimum, and HiGHS's own root
    heuristics found better plans only after 25-30 s; the LP's support (~400 of 8,865 kept poses) holds an optimal
    plan there, and the small integer program finds it in about a second. A better start also lets HiGHS fix more
    columns by reduced cost. Returns every column's value, or None when nothing was found in time."""
    t0 = time.perf_counter()
    h = _run(lp, time_limit_s=time_limit_s, rel_gap=None, threads=threads)
    h.changeColsIntegrality(
        lp.num_col_, np.arange(lp.num_col_, dtype=np.int32), np.full(lp.num_col_, highspy.HighsVarType.kContinuous)
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x_lp = np.asarray(h.getSolution().col_value)[:n_free]
    banned = np.flatnonzero((x_lp <= 1e-6) & (x[:n_free] < 0.5)).astype(np.int32)
    left = time_limit_s - (time.perf_counter() - t0)
    if left <= 0:
        return None
    sub = _run(lp, time_limit_s=left, rel_gap=1e-6, threads=threads)
    sub.changeColsBounds(banned.size, banned, np.zeros(banned.size), np.zeros(banned.size))
    sub.run()
    if not sub.getInfo().primal_solution_status:
        return None
    return np.asarray(sub.getSolution().col_value)[: x.size].round()


def solve_textbook(inst: Instance, budget: float, *, time_limit_s: float = 900.0) -> Solution:
    """Plain HiGHS on the textbook model: default settings, one thread (the benchmark's baseline)."""
    t0 = time.perf_counter()
    lp = textbook_model(inst, budget)
    h = _run(lp, time_limit_s=time_limit_s, rel_gap=None, threads=1)
    h.run()
    info = h.getInfo()
    free = np.flatnonzero(~np.isin(np.arange(inst.n_poses), inst.fixed))
    col = np.asarray(h.getSolution().col_value) if info.primal_solution_status else np.zeros(lp.num_col_)
    chosen = free[col[: free.size] > 0.5] if col.size else np.zeros(0, dtype=np.int64)
    obj = State(inst, np.union1d(chosen, inst.fixed)).value()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else float("inf")
    return Solution(
        "highs-textbook",
        chosen.astype(np.int64),
        obj,
        max(bound, obj),
        time.perf_counter() - t0,
        h.modelStatusToString(h.getModelStatus()),
        {"mip_gap": float(info.mip_gap), "nodes": int(info.mip_node_count)},
    )


def solve_exact(
    inst: Instance,
    budget: float,
    *,
    time_limit_s: float = 60.0,
    rel_gap: float = 1e-3,
    start: Solution | None = None,
    threads: int = 1,
    dominance: bool = True,
    options: dict[str, bool | int | float | str] | None = None,
    lp_start: bool = True,
) -> Solution:
    """Reduce, warm-start from ``start`` (default: greedy + local search), solve on HiGHS to ``rel_gap`` or the time
    limit. The reported bound is HiGHS's proven dual bound (plus the constant), never below the objective, rounded
    down when the objective is integral. ``lp_start``: first improve the start from the LP relaxation's support
    (``lp_guided_start``; off for the neighbourhood search's small sub-problems, where it costs more than it finds)."""
    t0 = time.perf_counter()
    if start is None:
        start = local_search(inst, budget, time_limit_s=max(1.0, time_limit_s / 6))
    t_red = time.perf_counter()
    red = reduce_instance(inst, budget, dominance=dominance)
    lp, n_x, _ = build_model(inst, red, budget)
    t_model = time.perf_counter()
    # warm start: the heuristic plan, mapped onto kept columns, with its continuous part completed
    cols = _lift(red, start.poses)
    x = np.zeros(n_x)
    x[cols] = 1.0
    x[red.poses.size : n_x] = 1.0
    guided = {"lp_start_s": 0.0, "lp_start_gain": 0.0}
    if lp_start and red.poses.size:
        left = time_limit_s - (time.perf_counter() - t0)
        better = lp_guided_start(lp, red.poses.size, x, time_limit_s=max(0.05, min(10.0, left / 5)), threads=threads)
        if better is not None:
            x_sel = red.poses[better[: red.poses.size] > 0.5]
            gain = State(inst, np.union1d(x_sel, inst.fixed)).value() - start.objective
            if gain > 1e-9:
                x = better
                guided["lp_start_gain"] = gain
        guided["lp_start_s"] = round(time.perf_counter() - t_model, 3)
    start_value = State(inst, np.union1d(red.poses[x[: red.poses.size] > 0.5], inst.fixed)).value()
    h = _run(lp, time_limit_s=max(0.1, time_limit_s - (time.perf_counter() - t0)), rel_gap=rel_gap, threads=threads)
    integral = _integral_objective(inst, red)
    if integral:
        # the objective takes integer values, so floor(bound) is a bound too: stop once floor(bound) is within the
        # gap of the start's value (a lower bound of the incumbent's), not when the fractional bound is
        h.setOptionValue("mip_abs_gap", math.floor(rel_gap * max(0.0, start_value) + 1e-9) + 1.0 - 1e-5)
    if lp_start:
        for key in ROOT_HEURISTICS_DONE_BY_LP_START:
            h.setOptionValue(key, False)
    for key, val in (options or {}).items():
        h.setOptionValue(key, val)
    full = _complete_start(lp, x) if inst.power else _plain_start(red, x)
    if full is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(full)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    chosen = start.poses
    if info.primal_solution_status:
        col = np.asarray(h.getSolution().col_value)
        cand = red.poses[col[: red.poses.size] > 0.5]
        if State(inst, np.union1d(cand, inst.fixed)).value() >= start.objective - 1e-9:
            chosen = cand
    obj = State(inst, np.union1d(chosen, inst.fixed)).value()
    bound = float(info.mip_dual_bound) + red.constant if np.isfinite(info.mip_dual_bound) else start.bound
    if integral and np.isfinite(bound):
        bound = float(math.floor(bound + 1e-6))
    bound = max(obj, min(bound, start.bound))
    return Solution(
        "exact",
        np.sort(chosen).astype(np.int64),
        obj,
        bound,
        time.perf_counter() - t0,
        status,
        {
            "poses_in": red.n_poses_in,
            "poses_kept": int(red.poses.size),
            "points_in": red.n_points_in,
            "points_merged": len(red.groups),
            "reduce_s": round(t_model - t_red, 3),
            "highs_s": round(time.perf_counter() - t_model, 3),
            "heuristic_objective": start.objective,
            "nodes": int(info.mip_node_count),
            **guided,
        },
    )
