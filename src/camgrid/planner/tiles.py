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

import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.city_power import FixedCamera, owned_value, power_kwargs, power_scale, tile_poses
from camgrid.planner.citymap import Box, CitySource, open_source
from camgrid.planner.formulation import Instance, State
from camgrid.planner.service import solve
from camgrid.planner.tile_bound import build_structure, full_share, load_tile, remember_tile, tangents, tile_path
from camgrid.planner.visibility import Coverage, compute_coverage

BUDGET_FACTORS = (0.7, 1.0, 1.4)
# a tile's neighbourhood search stops after this many sub-problems in a row without a gain (converged tiles return
# early; a dense 1.5 km tile still gains on ~1 in 3 after 8 s, so it never stops there: PLAN-CPU, planner-city.md)
LNS_STALL = 40


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
    remember_tile(workdir, tile.index, d)  # build_structure reads it next
    build_structure(workdir, tile.index, cfg)
    pts = np.flatnonzero(owned_pt)
    full = full_share(workdir, tile.index, cfg)
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
    at = [min(full, nominal_budget * f) for f in BUDGET_FACTORS] + [full]
    curve.tangents = tangents(workdir, tile.index, spec.cfg_json, at)
    sel = tp.owned[cov.pair_pose]
    curve.gains = greedy_gains(
        lay.point_weight / lay.point_k, cov.pair_pose[sel], cov.pair_point[sel], math.ceil(3 * nominal_budget)
    )
    curve.seconds = time.perf_counter() - t0
    return curve


def greedy_gains(unit: np.ndarray, pair_pose: np.ndarray, pair_point: np.ndarray, n: int) -> list[float]:
    """Successive gains of a lazy greedy (k = 1 view: a point counts once) picking ``n`` cameras: the tile's value
    curve, used only to split the budget between tiles (marginal values equalised), never for the bound.

    Same gains as evaluating every pop (PLAN-CPU, planner-city.md): a pose with no uncovered valued point left is
    dropped unevaluated (its gain is exactly 0), the loop stops once every valued point is covered, and when every
    unit value is a multiple of 1/1024 (the defaults are integers) each pose's gain is kept up to date by
    subtraction, which is exact in that case, instead of re-summing its points at each pop."""
    import heapq

    if pair_pose.size == 0 or n <= 0:
        return []
    order = np.argsort(pair_pose, kind="stable")
    pp, pt = pair_pose[order], pair_point[order]
    uniq, start = np.unique(pp, return_index=True)
    stop = np.append(start[1:], pp.size)
    covered = np.zeros(unit.size, dtype=bool)
    gain0 = np.add.reduceat(unit[pt], start)
    valued = unit[pt] > 0
    local = np.repeat(np.arange(uniq.size), stop - start)
    left = np.bincount(local[valued], minlength=uniq.size)  # uncovered valued points per pose
    by_point = np.argsort(pt, kind="stable")
    point_ptr = np.searchsorted(pt[by_point], np.arange(unit.size + 1))
    seers = local[by_point]  # poses seeing each point, by point
    open_points = int(np.count_nonzero(np.bincount(pt[valued], minlength=unit.size)))
    scaled = unit * 1024.0
    exact = bool(np.all(scaled == np.floor(scaled))) and float(np.abs(scaled).sum()) < 2.0**50
    cur = gain0.copy()
    heap = [(-float(g), i) for i, g in enumerate(gain0.tolist()) if g > 0]
    heapq.heapify(heap)
    out: list[float] = []
    while heap and len(out) < n and open_points > 0:
        _neg, i = heapq.heappop(heap)
        if left[i] == 0:
            continue  # every valued point it sees is covered: gain 0, dropped as before
        pts = pt[start[i] : stop[i]]
        g = float(cur[i]) if exact else float(unit[pts][~covered[pts]].sum())
        if g <= 1e-12:
            continue
        if heap and g < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g, i))
            continue
        new = np.unique(pts[~covered[pts] & (unit[pts] > 0)])
        covered[pts] = True
        out.append(g)
        if new.size:
            open_points -= int(new.size)
            lens = point_ptr[new + 1] - point_ptr[new]
            idx = np.repeat(point_ptr[new] - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
            np.subtract.at(left, seers[idx], 1)
            if exact:
                np.subtract.at(cur, seers[idx], np.repeat(unit[new], lens))
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


@dataclass
class TileResult:
    index: int
    poses: np.ndarray  # global pose ids chosen (owned by the tile)
    owned_value: float  # value of the owned points given what is known of the plan (a lower bound)
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
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
    tangent_at: float = -1.0,
    previous: np.ndarray | None = None,
) -> TileResult:
    """Choose the tile's own cameras for ``budget``, with the neighbours' cameras already chosen counted as
    installed (they watch border points, so the tile does not pay twice for them)."""
    t0 = time.perf_counter()
    cfg = PlannerConfig.model_validate_json(cfg_json)
    d = load_tile(workdir, index)
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
            lns_stall=LNS_STALL,
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
    more: list[tuple[float, float, float]] = []
    if tangent_at >= 0:  # one more tangent where the bound LP put this tile: tightens the global bound
        more = tangents(workdir, index, cfg_json, [tangent_at])
    state = State(inst, np.union1d(chosen, inst.fixed))
    owned_local = d["point_owned"][pts]
    values = state.point_values(np.arange(inst.n_points), state.counts)
    return TileResult(
        index,
        gid[poses[chosen]].astype(np.int64),
        float(values[owned_local].sum()),
        time.perf_counter() - t0,
        info,
        more,
    )


def evaluate_tile(workdir: Path, index: int, chosen_gids: np.ndarray, cfg_json: str | None = None) -> tuple[float, int]:
    """Exact value of the tile's owned points under the whole plan (installed cameras always on; power-aware when
    the config says so), and how many of them are covered. Every point is owned by exactly one tile, so the sum
    over tiles is the plan's value, each point counted once."""
    cfg = PlannerConfig.model_validate_json(cfg_json) if cfg_json else PlannerConfig()
    d = load_tile(workdir, index)
    return owned_value(d, np.isin(d["pose_gid"], chosen_gids) | d["pose_fixed"], cfg)


def tile_margins(
    workdir: Path, index: int, plan_gids: np.ndarray, cfg_json: str, m: int
) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """The tile's marginal values under the whole plan, for moving cameras between tiles: the gains of up to ``m``
    cameras a greedy would add at its own sites (in order), and the loss of removing each own chosen camera alone
    (smallest first, up to ``m``), each as (value, global pose id). Heuristic only: the plan is re-evaluated."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    d = load_tile(workdir, index)
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
    """More tangents of the tile's LP value curve under its current shares (the warm LP of ``tile_bound``)."""
    return tangents(workdir, index, cfg_json, budgets)
