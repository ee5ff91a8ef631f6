"""One tile of a city plan: its visibility on disk, its bound curve, its share of the plan.

A tile owns the demand points and the candidate sites inside its core box (half-open, so each is owned exactly
once). Its file holds every pose whose site lies within one camera range of the core (they can see owned points)
against every point within two ranges (all that those poses can see), with global ids, so the tile needs nobody
else's data. Everything here runs in a worker process and talks through small picklable values and the tile's
``.npz`` (docs/design/planner-city.md).

Bound: each pose's cost is split over the tiles whose owned points it sees, in proportion to the value it sees in
each (``alpha``; the shares of a pose sum to 1). Then for the optimum S*, the shares attributed to tile t sum to a
budget b_t with sum_t b_t <= B, and the value of t's owned points under S* is at most V_t(b_t), the tile's optimum
with that shared-cost budget, which is at most its LP value. The LP value is concave in b, so the LP's value and
budget dual at a few budgets give tangent lines above the whole curve.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.city_power import FixedCamera, owned_value, power_kwargs, power_scale, tile_poses
from camgrid.planner.citymap import Box, CitySource, open_source
from camgrid.planner.exact import build_model, reduce_instance
from camgrid.planner.formulation import Instance, State
from camgrid.planner.service import solve
from camgrid.planner.visibility import Coverage, compute_coverage

BUDGET_FACTORS = (0.7, 1.0, 1.4)
LP_SAFETY = 1e-7  # relative margin added to each LP value (solver tolerances)


@dataclass(frozen=True)
class TileSpec:
    index: int
    ix: int
    iy: int
    core: Box


@dataclass(frozen=True)
class SourceSpec:
    """How a worker process opens the city (sources are rebuilt per process, never pickled)."""

    path: Path | None
    cfg_json: str
    existing: tuple[FixedCamera, ...] = ()  # installed cameras in the source's frame (city_power)

    def open(self) -> tuple[CitySource, PlannerConfig]:
        cfg = PlannerConfig.model_validate_json(self.cfg_json)
        return open_source(self.path, cfg), cfg


@dataclass
class TileCurve:
    """A tile's prepared state: sizes, and tangent lines (b_j, value_j, dual_j) above its LP value curve."""

    index: int
    n_poses: int
    n_owned_poses: int
    n_points: int
    n_owned_points: int
    n_pairs: int
    owned_weight: float
    full_share: float  # shared cost of every useful pose: more budget than this buys nothing
    tangents: list[tuple[float, float, float]] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)  # greedy's successive gains with the tile's own cameras
    seconds: float = 0.0


def grow(b: Box, d: float) -> Box:
    return (b[0] - d, b[1] - d, b[2] + d, b[3] + d)


def tile_path(workdir: Path, index: int) -> Path:
    return workdir / f"tile-{index:05d}.npz"


def prepare_tile(spec: SourceSpec, tile: TileSpec, workdir: Path, nominal_budget: float) -> TileCurve:
    """Visibility of the tile (to disk) and its bound curve."""
    t0 = time.perf_counter()
    source, cfg = spec.open()
    r = cfg.range_m
    lay = source.layout(grow(tile.core, 2 * r + 1.0), grow(tile.core, r + 1.0))
    tp = tile_poses(lay, spec.existing, cfg, tile.core, source.bounds[:2])
    pose_site = tp.pose_site
    cov = compute_coverage(tp.site_xy, pose_site, tp.heading, tp.fov, tp.range_m, lay.point_xy, lay.buildings)
    x0, y0, x1, y1 = tile.core
    owned_pt = (
        (lay.point_xy[:, 0] >= x0) & (lay.point_xy[:, 0] < x1) & (lay.point_xy[:, 1] >= y0) & (lay.point_xy[:, 1] < y1)
    )
    unit = lay.point_weight / lay.point_k
    pv = unit[cov.pair_point]
    v_all = np.bincount(cov.pair_pose, weights=pv, minlength=pose_site.size)
    v_own = np.bincount(cov.pair_pose, weights=pv * owned_pt[cov.pair_point], minlength=pose_site.size)
    alpha = np.divide(v_own, v_all, out=np.zeros_like(v_own), where=v_all > 0)
    alpha[tp.fixed] = 0.0  # installed cameras cost nothing
    d = {
        "pose_gid": tp.gid,
        "pose_owned": tp.owned,
        "pose_fixed": tp.fixed,
        "pose_feeder": tp.feeder,
        "feeder_avail": tp.feeder_avail,
        "pose_xy": tp.site_xy[pose_site],
        "alpha": alpha,
        "point_gid": lay.point_id,
        "point_w": lay.point_weight,
        "point_k": lay.point_k,
        "point_owned": owned_pt,
        "pair_pose": cov.pair_pose,
        "pair_point": cov.pair_point,
    }
    np.savez(tile_path(workdir, tile.index), **d)
    sub = bound_instance(
        alpha, owned_pt, lay.point_weight, lay.point_k, cov.pair_pose, cov.pair_point, cfg, **bound_extras(d, cfg)
    )
    pts = np.flatnonzero(owned_pt)
    full = float(sub.cost.sum())
    curve = TileCurve(
        tile.index,
        int(pose_site.size),
        int(tp.owned.sum()),
        int(lay.point_id.size),
        int(pts.size),
        cov.n_pairs,
        float(lay.point_weight[pts].sum()),
        full,
    )
    curve.tangents = lp_tangents(sub, [min(full, nominal_budget * f) for f in BUDGET_FACTORS] + [full])
    sel = tp.owned[cov.pair_pose]
    curve.gains = greedy_gains(
        lay.point_weight / lay.point_k, cov.pair_pose[sel], cov.pair_point[sel], math.ceil(3 * nominal_budget)
    )
    curve.seconds = time.perf_counter() - t0
    return curve


def greedy_gains(unit: np.ndarray, pair_pose: np.ndarray, pair_point: np.ndarray, n: int) -> list[float]:
    """Successive gains of a lazy greedy (k = 1 view: a point counts once) picking ``n`` cameras: the tile's value
    curve, used only to split the budget between tiles (marginal values equalised), never for the bound."""
    import heapq

    if pair_pose.size == 0 or n <= 0:
        return []
    order = np.argsort(pair_pose, kind="stable")
    pp, pt = pair_pose[order], pair_point[order]
    uniq, start = np.unique(pp, return_index=True)
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
    del uniq
    return out


def bound_instance(
    alpha: np.ndarray,
    owned_pt: np.ndarray,
    weight: np.ndarray,
    k: np.ndarray,
    pair_pose: np.ndarray,
    pair_point: np.ndarray,
    cfg: PlannerConfig,
    fixed: np.ndarray | None = None,
    scale: np.ndarray | None = None,
) -> Instance:
    """The tile's owned points and the poses that see one of them, each pose costing its share ``alpha``.
    ``fixed`` (mask over the file's poses): installed cameras, cost 0 and always on; ``scale`` (per file point):
    the power factor of ``city_power.power_scale`` applied to the weights (the bound of the power-aware value)."""
    if scale is not None:
        weight = weight * scale
    keep_pair = owned_pt[pair_point]
    pp, pt = pair_pose[keep_pair], pair_point[keep_pair]
    poses = np.unique(pp)
    pts = np.flatnonzero(owned_pt)
    new_pose = np.full(alpha.size, -1, dtype=np.int64)
    new_pose[poses] = np.arange(poses.size)
    new_pt = np.full(owned_pt.size, -1, dtype=np.int64)
    new_pt[pts] = np.arange(pts.size)
    order = np.lexsort((new_pt[pt], new_pose[pp]))
    local_fixed = np.flatnonzero(fixed[poses]) if fixed is not None else np.zeros(0, dtype=np.int64)
    cost = alpha[poses] * cfg.camera_cost
    cost[local_fixed] = 0.0
    return Instance(
        weights=weight[pts],
        cost=cost,
        coverage=Coverage(
            int(poses.size), int(pts.size), new_pose[pp][order].astype(np.int32), new_pt[pt][order].astype(np.int32)
        ),
        k=k[pts],
        fixed=local_fixed,
    )


def bound_extras(d: dict[str, np.ndarray], cfg: PlannerConfig) -> dict[str, Any]:
    """``bound_instance``'s installed cameras and power factor for a tile file's arrays."""
    return {"fixed": d["pose_fixed"], "scale": power_scale(d, cfg)}


def lagrangian_bound(inst: Instance, lam: float, time_limit_s: float) -> float:
    """An upper bound on ``max_x f(x) - lam * cost(x)`` (no budget) for the tile: HiGHS's proven dual bound of that
    integer program. With the same ``lam`` in every tile, ``lam * B + sum_t`` of these bounds the city's optimum
    (Lagrangian relaxation of the budget over the shared costs), and it is never weaker than the LP at ``lam``."""
    if inst.n_poses == 0 or inst.n_points == 0:
        return 0.0
    red = reduce_instance(inst, float("inf"))
    lp, _, _ = build_model(inst, red, float(inst.cost.sum()) + 1.0)
    cost = np.asarray(lp.col_cost_, dtype=np.float64)
    cost[: red.poses.size] = -lam * inst.cost[red.poses]
    lp.col_cost_ = cost
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(max(0.5, time_limit_s)))
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.passModel(lp)
    h.run()
    dual = float(h.getInfo().mip_dual_bound)
    if not math.isfinite(dual):  # no bound proven in time: the LP-free trivial bound
        return float((red.unit * red.cap).sum()) + red.constant
    return (dual + red.constant) * (1 + LP_SAFETY) + LP_SAFETY


def lp_tangents(inst: Instance, budgets: list[float]) -> list[tuple[float, float, float]]:
    """(b, LP value at b, budget dual at b) for each budget: ``V(b') <= value + dual * (b' - b)`` for every b'
    (the LP value function is concave in its right-hand side; the dual is a supergradient). The reduction is
    LP-preserving: a dominated pose can be replaced by its dominator in any fractional plan too."""
    if inst.n_poses == 0 or inst.n_points == 0:
        return [(0.0, 0.0, 0.0)]
    red = reduce_instance(inst, float("inf"))
    big = float(inst.cost.sum()) + 1.0
    lp, _, _ = build_model(inst, red, big)
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    row = lp.num_row_ - 1
    out: list[tuple[float, float, float]] = []
    for b in sorted({round(max(0.0, x), 9) for x in budgets}):
        h.changeRowBounds(row, -highspy.kHighsInf, float(b))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            continue
        info = h.getInfo()
        value = float(info.objective_function_value) + red.constant
        dual = abs(float(h.getSolution().row_dual[row]))
        out.append((float(b), value * (1 + LP_SAFETY) + LP_SAFETY, dual))
    if not out:  # no LP solved: the total weight is always an upper bound
        out.append((0.0, float(inst.weights.sum()), 0.0))
    return out


@dataclass
class TileResult:
    index: int
    poses: np.ndarray  # global pose ids chosen (owned by the tile)
    owned_value: float  # value of the owned points given what is known of the plan (a lower bound)
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    lagrangian: float = math.nan  # this tile's term of the Lagrangian bound (nan: not computed)
    tangents: list[tuple[float, float, float]] = field(default_factory=list)  # extra LP tangents


def view_instance(
    d: dict[str, np.ndarray], fixed_gids: np.ndarray, cfg: PlannerConfig
) -> tuple[Instance, np.ndarray, np.ndarray]:
    """The tile's own poses (real cost) and the other tiles' chosen poses in its file (installed, cost 0) over every
    point the own poses see and every owned point. Returns (instance, file pose index, file point index)."""
    gid = d["pose_gid"]
    fixed_mask = (np.isin(gid, fixed_gids) & ~d["pose_owned"]) | d["pose_fixed"]
    own_mask = d["pose_owned"]
    pp, pt = d["pair_pose"], d["pair_point"]
    seen = np.zeros(d["point_gid"].size, dtype=bool)
    seen[pt[own_mask[pp]]] = True
    seen |= d["point_owned"]
    keep_pose = own_mask | fixed_mask
    keep = keep_pose[pp] & seen[pt]
    poses = np.flatnonzero(keep_pose)
    pts = np.flatnonzero(seen)
    new_pose = np.full(gid.size, -1, dtype=np.int64)
    new_pose[poses] = np.arange(poses.size)
    new_pt = np.full(seen.size, -1, dtype=np.int64)
    new_pt[pts] = np.arange(pts.size)
    a, b = new_pose[pp[keep]], new_pt[pt[keep]]
    order = np.lexsort((b, a))
    cost = np.full(poses.size, cfg.camera_cost)
    fixed_local = np.flatnonzero(fixed_mask[poses])
    cost[fixed_local] = 0.0
    inst = Instance(
        weights=d["point_w"][pts],
        cost=cost,
        coverage=Coverage(int(poses.size), int(pts.size), a[order].astype(np.int32), b[order].astype(np.int32)),
        k=d["point_k"][pts],
        fixed=fixed_local,
        pose_xy=d["pose_xy"][poses],
        **power_kwargs(d, poses, cfg),
    )
    return inst, poses, pts


def solve_tile(
    workdir: Path,
    index: int,
    budget: float,
    fixed_gids: np.ndarray,
    cfg_json: str,
    heuristic_time_s: float,
    exact_time_s: float,
    lam: float = -1.0,
    bound_time_s: float = 30.0,
    tangent_at: float = -1.0,
    previous: np.ndarray | None = None,
) -> TileResult:
    """Choose the tile's own cameras for ``budget``, with the neighbours' cameras already chosen counted as
    installed (they watch border points, so the tile does not pay twice for them)."""
    t0 = time.perf_counter()
    cfg = PlannerConfig.model_validate_json(cfg_json)
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in z.files}
    gid = d["pose_gid"]
    own_mask = d["pose_owned"]
    inst, poses, pts = view_instance(d, fixed_gids, cfg)
    chosen = np.zeros(0, dtype=np.int64)
    info: dict[str, Any] = {}
    if budget >= cfg.camera_cost and inst.n_points:
        # the exact power model takes k = 1 only (planner.md); the heuristics take every case
        solver = "exact" if exact_time_s > 0 and (not inst.power or inst.kmax == 1) else "local"
        sols = solve(
            inst,
            float(budget),
            solver,
            time_limit_s=exact_time_s,
            heuristic_time_s=heuristic_time_s,
            rel_gap=cfg.mip_rel_gap,
        )
        best = max(sols.values(), key=lambda s: s.objective)
        chosen = best.poses
        info = {"solver": best.solver, "objective": best.objective, "local_bound": best.bound}
        if previous is not None and previous.size:  # a later sweep keeps the earlier choice unless it improves
            local = np.full(gid.size, -1, dtype=np.int64)
            local[poses] = np.arange(poses.size)
            prev = local[np.flatnonzero(np.isin(gid, previous) & own_mask)]
            prev = prev[prev >= 0]
            if State(inst, np.union1d(prev, inst.fixed)).value() >= best.objective - 1e-9:
                chosen = prev
    lagr = math.nan
    tangents: list[tuple[float, float, float]] = []
    if lam >= 0 or tangent_at >= 0:
        sub = bound_instance(
            d["alpha"], d["point_owned"], d["point_w"], d["point_k"], d["pair_pose"], d["pair_point"], cfg,
            **bound_extras(d, cfg),
        )  # fmt: skip
        if lam >= 0:
            lagr = lagrangian_bound(sub, lam, bound_time_s)
        if tangent_at >= 0:  # one more tangent where the bound LP put this tile: tightens the global bound
            tangents = lp_tangents(sub, [tangent_at])
    state = State(inst, np.union1d(chosen, inst.fixed))
    owned_local = d["point_owned"][pts]
    values = state.point_values(np.arange(inst.n_points), state.counts)
    return TileResult(
        index,
        gid[poses[chosen]].astype(np.int64),
        float(values[owned_local].sum()),
        time.perf_counter() - t0,
        info,
        lagr,
        tangents,
    )


def evaluate_tile(workdir: Path, index: int, chosen_gids: np.ndarray, cfg_json: str | None = None) -> tuple[float, int]:
    """Exact value of the tile's owned points under the whole plan (installed cameras always on; power-aware when
    the config says so), and how many of them are covered. Every point is owned by exactly one tile, so the sum
    over tiles is the plan's value, each point counted once."""
    cfg = PlannerConfig.model_validate_json(cfg_json) if cfg_json else PlannerConfig()
    keys = ("pose_gid", "pose_fixed", "pose_feeder", "feeder_avail", "pair_pose", "pair_point")
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in (*keys, "point_w", "point_k", "point_owned")}
    return owned_value(d, np.isin(d["pose_gid"], chosen_gids) | d["pose_fixed"], cfg)


def tile_margins(
    workdir: Path, index: int, plan_gids: np.ndarray, cfg_json: str, m: int
) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """The tile's marginal values under the whole plan, for moving cameras between tiles: the gains of up to ``m``
    cameras a greedy would add at its own sites (in order), and the loss of removing each own chosen camera alone
    (smallest first, up to ``m``), each as (value, global pose id). Heuristic only: the plan is re-evaluated."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in z.files}
    gid = d["pose_gid"]
    own = d["pose_owned"]
    inst, poses, _ = view_instance(d, plan_gids, cfg)
    mine = np.flatnonzero(own[poses] & np.isin(gid[poses], plan_gids))
    state = State(inst, np.union1d(mine, inst.fixed))
    losses: list[tuple[float, int]] = []
    for p in mine.tolist():
        state.remove(p)
        losses.append((state.gain(p), int(gid[poses[p]])))
        state.add(p)
    losses.sort()
    free = own[poses].copy()
    free[mine] = False
    adds: list[tuple[float, int]] = []
    for _ in range(max(0, m)):
        g = np.where(free, state.all_gains(), -1.0)
        p = int(np.argmax(g)) if g.size else -1
        if p < 0 or g[p] <= 1e-12:
            break
        adds.append((float(g[p]), int(gid[poses[p]])))
        state.add(p)
        free[p] = False
    return adds, losses[: max(0, m)]


def tile_tangents(workdir: Path, index: int, cfg_json: str, budgets: list[float]) -> list[tuple[float, float, float]]:
    """More tangents of the tile's LP value curve (same shares, so they bound the same concave function)."""
    sub, _ = _bound_sub(workdir, index, PlannerConfig.model_validate_json(cfg_json))
    return lp_tangents(sub, budgets)


def _alpha(workdir: Path, index: int, d: dict[str, np.ndarray]) -> np.ndarray:
    """The tile's current cost shares: the price-based ones of the last consensus round, else value-proportional."""
    p = workdir / f"alpha-{index:05d}.npy"
    return np.load(p) if p.exists() else d["alpha"]


def _bound_sub(workdir: Path, index: int, cfg: PlannerConfig) -> tuple[Instance, dict[str, np.ndarray]]:
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in z.files if k not in ("pose_xy",)}
    a = _alpha(workdir, index, d)
    sub = bound_instance(
        a, d["point_owned"], d["point_w"], d["point_k"], d["pair_pose"], d["pair_point"], cfg, **bound_extras(d, cfg)
    )
    return sub, d


def tile_prices(workdir: Path, index: int, cfg_json: str, budget: float) -> tuple[np.ndarray, np.ndarray]:
    """Dual prices of the tile's owned points in its bound LP at ``budget``: (global point ids, price per point).
    A merged point's price is split over its members by their unit values."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    sub, d = _bound_sub(workdir, index, cfg)
    gids = d["point_gid"][np.flatnonzero(d["point_owned"])]
    price = np.zeros(gids.size)
    if sub.n_poses == 0 or sub.n_points == 0:
        return gids, price
    red = reduce_instance(sub, float("inf"))
    lp, _, _ = build_model(sub, red, float(budget))
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return gids, price
    duals = np.abs(np.asarray(h.getSolution().row_dual))
    assert sub.k is not None
    unit = sub.weights / sub.k
    for g, members in enumerate(red.point_members):
        u = unit[members]
        if u.sum() > 0:
            price[members] = duals[g] * u / u.sum()
    return gids, price


def set_alpha_by_prices(
    workdir: Path, index: int, cfg_json: str, price_file: Path, mix: float, budgets: list[float]
) -> tuple[float, list[tuple[float, float, float]]]:
    """Consensus step for the bound: split each pose's cost over the tiles in proportion to the priced value it sees
    in each (prices from every tile's bound LP, one global file, so every tile holding a pose computes the same
    denominator and the shares still sum to 1), mixed with the previous shares. Returns (full share, tangents) of
    the new curve; any shares summing to at most 1 per pose give a valid bound."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in ("alpha", "point_owned", "point_gid", "pair_pose", "pair_point")}
    with np.load(price_file) as z:
        g_all, p_all = z["gid"], z["price"]
    pos = np.searchsorted(g_all, d["point_gid"])
    pos = np.minimum(pos, max(0, g_all.size - 1))
    price = np.where((g_all.size > 0) & (g_all[pos] == d["point_gid"]), p_all[pos] if g_all.size else 0.0, 0.0)
    old = _alpha(workdir, index, d)
    pv = price[d["pair_point"]]
    v_all = np.bincount(d["pair_pose"], weights=pv, minlength=old.size)
    v_own = np.bincount(d["pair_pose"], weights=pv * d["point_owned"][d["pair_point"]], minlength=old.size)
    new = np.where(v_all > 0, v_own / np.where(v_all > 0, v_all, 1.0), old)
    np.save(workdir / f"alpha-{index:05d}.npy", (1 - mix) * old + mix * new)
    sub, _ = _bound_sub(workdir, index, cfg)
    full = float(sub.cost.sum())
    return full, lp_tangents(sub, [min(full, b) for b in budgets] + [full])
