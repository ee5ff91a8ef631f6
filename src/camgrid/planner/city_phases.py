"""Years planned jointly at city scale: the final network for the cumulative budget, ordered into years.

Objective (issue 18: "phases over four years planned jointly"): with per-year budgets B_1..B_T and networks
N_1 ⊆ N_2 ⊆ … ⊆ N_T (year t buys N_t minus N_(t-1) within B_t), maximise Σ_t v(N_t): the value the city has in each
year. Design (docs/design/planner-city.md, "Years"):

1. plan the final network for the cumulative budget with ``plan_city`` (tiles, proven bound);
2. order its cameras into years by lazy greedy on marginal value per camera, each year buying the cameras its own
   budget pays for (whole cameras; a year's remainder below one camera's cost is not carried over). Gains are exact:
   every tile returns the chosen and installed poses that see its owned points, and the parent keeps one small
   ``State`` per tile (each point owned once, feeders local to the tile), so a camera's gain is the sum over the
   tiles whose points it sees, power included;
3. bound: year t's network costs at most C_t = (cameras of years ≤ t) x cost, so v(N_t) ≤ OPT(C_t) ≤ U(C_t), where U
   is the city's bound LP over the tiles' tangents (``city.global_bound``), refined at C_t by Kelley's tangents
   there; the joint objective's bound is Σ_t U(C_t) (the last year's also takes ``plan_city``'s own bound).

Every year's value, bound and gap is reported with the joint ones. ``year_by_year`` plans myopically (each year with
the earlier ones installed) for comparison.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.city import CityPlan, plan_city
from camgrid.planner.city_bound import global_bound
from camgrid.planner.citymap import open_source
from camgrid.planner.formulation import Instance, State
from camgrid.planner.instance import ExistingCamera
from camgrid.planner.tile_bound import tile_path
from camgrid.planner.tiles import TileCurve, TileSpec, tile_tangents
from camgrid.planner.visibility import Coverage


@dataclass
class Year:
    index: int  # 1-based
    budget: float
    poses: np.ndarray  # global pose ids bought this year
    cost: float
    value: float  # value of the network after this year (installed cameras included)
    bound: float  # proven upper bound on any network of cumulative cost <= this year's
    cumulative_budget: float

    @property
    def gap(self) -> float:
        if not math.isfinite(self.bound):
            return 1.0
        return max(0.0, (self.bound - self.value) / self.bound) if self.bound > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.index,
            "budget": self.budget,
            "cameras": int(self.poses.size),
            "cost": self.cost,
            "objective": round(self.value, 6),
            "bound": round(self.bound, 6) if math.isfinite(self.bound) else None,
            "cumulative_budget": self.cumulative_budget,
            "gap": round(self.gap, 6),
        }


@dataclass
class JointPhases:
    years: list[Year]
    base_value: float  # installed cameras alone
    info: dict[str, float] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        return sum(y.value for y in self.years)

    @property
    def bound(self) -> float:
        return sum(y.bound for y in self.years)

    @property
    def gap(self) -> float:
        b = self.bound
        if not math.isfinite(b):
            return 1.0
        return max(0.0, (b - self.objective) / b) if b > 0 else 0.0

    def phase_of(self) -> dict[int, int]:
        return {int(p): y.index for y in self.years for p in y.poses.tolist()}

    def as_dicts(self) -> list[dict[str, Any]]:
        out, before = [], self.base_value
        for y in self.years:
            d = y.as_dict()
            d["adds"] = round(y.value - before, 6)
            before = y.value
            out.append(d)
        return out


def cameras_per_year(budgets: Sequence[float], cost: float) -> list[int]:
    """Whole cameras each year's own budget pays for."""
    return [max(0, math.floor(float(b) / cost + 1e-9)) for b in budgets]


def tile_part(workdir: Path, index: int, plan_gids: np.ndarray, cfg_json: str) -> dict[str, np.ndarray]:
    """The tile's owned points seen by the plan's poses or installed cameras, with those pairs and the poses'
    feeders: enough for the parent to value any subset of the plan exactly (each point owned by one tile)."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    with np.load(tile_path(workdir, index)) as z:
        d = {k: z[k] for k in z.files if k in _PART_KEYS}
    on = np.isin(d["pose_gid"], plan_gids) | d["pose_fixed"]
    pp, pt = d["pair_pose"], d["pair_point"]
    sel = on[pp] & d["point_owned"][pt]
    pts, pt_local = np.unique(pt[sel], return_inverse=True)
    poses, pose_local = np.unique(pp[sel], return_inverse=True)
    feeders, f_local = np.unique(d["pose_feeder"][poses], return_inverse=True)
    return {
        "gid": d["pose_gid"][poses],
        "fixed": d["pose_fixed"][poses],
        "feeder": f_local.astype(np.int64) if cfg.power_aware else np.zeros(0, dtype=np.int64),
        "avail": d["feeder_avail"][feeders] if cfg.power_aware else np.zeros(0),
        "w": d["point_w"][pts],
        "k": d["point_k"][pts],
        "pair_pose": pose_local.astype(np.int64),
        "pair_point": pt_local.astype(np.int64),
    }


_PART_KEYS = {"pose_gid", "pose_fixed", "pose_feeder", "feeder_avail", "pair_pose", "pair_point", "point_w"}
_PART_KEYS |= {"point_k", "point_owned"}


def part_state(part: dict[str, np.ndarray], power: bool) -> State:
    """One tile's owned points as a small instance over the plan's poses; installed cameras already on."""
    order = np.lexsort((part["pair_point"], part["pair_pose"]))
    n_poses = int(part["gid"].size)
    kw: dict[str, Any] = {}
    if power and n_poses:
        kw = {"pose_feeder": part["feeder"], "feeder_availability": part["avail"]}
    inst = Instance(
        weights=part["w"],
        cost=np.ones(n_poses),
        coverage=Coverage(
            n_poses,
            int(part["w"].size),
            part["pair_pose"][order].astype(np.int32),
            part["pair_point"][order].astype(np.int32),
        ),
        k=part["k"],
        fixed=np.flatnonzero(part["fixed"]),
        **kw,
    )
    return State(inst, inst.fixed)


def order_into_years(
    parts: list[dict[str, np.ndarray]], plan_gids: np.ndarray, per_year: list[int], power: bool
) -> tuple[list[np.ndarray], list[float], float]:
    """Lazy greedy over the plan's cameras (gains only shrink, the value being submodular): year t takes the best
    ``per_year[t]`` remaining. Returns each year's poses, the value after each year, and the installed cameras'
    value."""
    states = [part_state(p, power) for p in parts]
    where: dict[int, list[tuple[int, int]]] = {}
    for s, p in enumerate(parts):
        for local, (g, fx) in enumerate(zip(p["gid"].tolist(), p["fixed"].tolist(), strict=True)):
            if not fx:
                where.setdefault(int(g), []).append((s, local))

    def gain(g: int) -> float:
        return sum(states[s].gain(i) for s, i in where.get(g, []))

    base = sum(st.value() for st in states)
    heap = [(-gain(int(g)), int(g)) for g in plan_gids.tolist()]
    heapq.heapify(heap)
    years: list[np.ndarray] = []
    values: list[float] = []
    value = base
    for n in per_year:
        bought: list[int] = []
        while heap and len(bought) < n:
            _neg, g = heapq.heappop(heap)
            cur = gain(g)
            if heap and cur < -heap[0][0] - 1e-12:
                heapq.heappush(heap, (-cur, g))
                continue
            for s, i in where.get(g, []):
                states[s].add(i)
            value += cur
            bought.append(g)
        years.append(np.array(sorted(bought), dtype=np.int64))
        values.append(sum(st.value() for st in states))  # exact, not the sum of gains
    years = swap_between_years(parts, years, power)
    values = [value_of(parts, np.concatenate(years[: t + 1]), power) for t in range(len(years))]
    return years, values, base


def value_of(parts: list[dict[str, np.ndarray]], gids: np.ndarray, power: bool) -> float:
    """Exact value of the installed cameras plus ``gids`` (plan poses), summed over the tiles' owned points."""
    total = 0.0
    for p in parts:
        st = part_state(p, power)
        for i in np.flatnonzero(np.isin(p["gid"], gids) & ~p["fixed"]).tolist():
            st.add(i)
        total += st.value()
    return total


SWAP_TRIES = 8  # cheapest-loss cameras of year t tried against each camera of year t+1


def swap_between_years(parts: list[dict[str, np.ndarray]], years: list[np.ndarray], power: bool) -> list[np.ndarray]:
    """Improve the greedy order: swapping camera p of year t with camera q of year t+1 changes only the network
    after year t (N_(t+1) keeps both), by exactly gain(q | N_t - p) - loss(p); each camera of year t+1 (largest
    gain first) is tried against the ``SWAP_TRIES`` cheapest of year t, a swap kept only when that change is > 0.
    Budgets are unchanged (uniform camera cost)."""
    years = [y.copy() for y in years]
    where: dict[int, list[tuple[int, int]]] = {}
    for s, p in enumerate(parts):
        for local, (g, fx) in enumerate(zip(p["gid"].tolist(), p["fixed"].tolist(), strict=True)):
            if not fx:
                where.setdefault(int(g), []).append((s, local))
    states: list[State] = []

    def gain(g: int) -> float:
        return sum(states[s].gain(i) for s, i in where.get(g, []))

    def move(g: int, on: bool) -> None:
        for s, i in where.get(g, []):
            (states[s].add if on else states[s].remove)(i)

    for t in range(len(years) - 1):
        if years[t].size == 0 or years[t + 1].size == 0:
            continue
        states[:] = [part_state(p, power) for p in parts]
        for g in np.concatenate(years[: t + 1]).tolist():
            move(int(g), True)
        losses = []
        for g in years[t].tolist():
            move(g, False)
            losses.append((gain(g), g))
            move(g, True)
        gains = sorted(((gain(g), g) for g in years[t + 1].tolist()), reverse=True)
        losses.sort()
        cur_t, nxt = set(years[t].tolist()), set(years[t + 1].tolist())
        for _g, q in gains:  # each later camera against the cheapest few of this year
            tried = 0
            for _loss, p in losses:
                if p not in cur_t:
                    continue
                tried += 1
                if tried > SWAP_TRIES:
                    break
                move(p, False)
                delta = gain(q) - gain(p)  # both measured without p: the exact change of v(N_t)
                if delta > 1e-9:
                    move(q, True)
                    cur_t.discard(p)
                    cur_t.add(q)
                    nxt.discard(q)
                    nxt.add(p)
                    break
                move(p, True)
        years[t] = np.array(sorted(cur_t), dtype=np.int64)
        years[t + 1] = np.array(sorted(nxt), dtype=np.int64)
    return years


def kelley_at(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    curves: dict[int, TileCurve],
    budgets: list[float],
    cfg_json: str,
    rounds: int,
) -> dict[float, float]:
    """The bound LP at several budgets, each refined by Kelley's tangents where the LP puts each tile (the same
    concave curves, so every tangent is valid for every budget); one task per tile and round for all budgets."""
    order = [t.index for t in tiles]
    bounds = dict.fromkeys(budgets, math.inf)
    active = list(budgets)
    for _ in range(rounds + 1):
        asks: dict[int, list[float]] = {}
        still = []
        for b in active:
            refined, shares, _ = global_bound([curves[i] for i in order], b)
            if refined >= bounds[b] * (1 - 1e-4):  # converged to 0.01%
                bounds[b] = min(bounds[b], refined)
                continue
            bounds[b] = refined
            still.append(b)
            for i, share in shares.items():
                asks.setdefault(i, []).append(share)
        active = still
        if not asks:
            break
        futs = {i: pool.submit(tile_tangents, wd, i, cfg_json, bl) for i, bl in asks.items()}
        for i, f in futs.items():
            curves[i].tangents.extend(f.result())
    for b in budgets:  # the last tangents may lower every budget's LP
        bounds[b] = min(bounds[b], global_bound([curves[i] for i in order], b)[0])
    return bounds


def make_finish(budgets: Sequence[float], cost: float, kelley_rounds: int = 4) -> Any:
    """The ``plan_city`` hook that orders the plan into years and bounds each year."""
    per_year = cameras_per_year(budgets, cost)

    def finish(
        pool: ProcessPoolExecutor,
        wd: Path,
        tiles: list[TileSpec],
        curves: dict[int, TileCurve],
        cfg_json: str,
        poses: np.ndarray,
        bound: float,
        stopped: bool,
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        cfg = PlannerConfig.model_validate_json(cfg_json)
        parts = [f.result() for f in [pool.submit(tile_part, wd, t.index, poses, cfg_json) for t in tiles]]
        years_poses, values, base = order_into_years(parts, poses, per_year, cfg.power_aware)
        cumulative = np.cumsum([p.size for p in years_poses]) * cost
        t1 = time.perf_counter()
        budgets_c = sorted(set(cumulative.tolist()))
        if stopped:
            bounds = dict.fromkeys(budgets_c, math.inf)
        else:
            bounds = kelley_at(pool, wd, tiles, curves, budgets_c, cfg_json, kelley_rounds)
        years = []
        for i, (ps, v, c) in enumerate(zip(years_poses, values, cumulative.tolist(), strict=True)):
            # plan_city's bound holds for the whole budget, so for every cumulative budget below it too
            b = min(bounds[c], bound)
            years.append(Year(i + 1, float(budgets[i]), ps, float(ps.size * cost), v, b, float(c)))
        info = {"order_s": t1 - t0, "year_bounds_s": time.perf_counter() - t1}
        return {"phases": JointPhases(years, base, info)}

    return finish


def plan_city_phases(
    *,
    instance_source: Path | None,
    budgets: Sequence[float],
    cfg: PlannerConfig | None = None,
    existing: Sequence[ExistingCamera] = (),
    **kw: Any,
) -> tuple[CityPlan, JointPhases]:
    """The city plan for the years' budgets together, ordered into years (module docstring). ``kw`` goes to
    ``plan_city`` (tile_m, workers, heuristic_time_s, progress, stop, ...)."""
    cfg = cfg or PlannerConfig()
    if not budgets or len(budgets) > 10:
        raise ValueError("give 1 to 10 yearly budgets")
    per_year = cameras_per_year(budgets, cfg.camera_cost)
    total = sum(per_year) * cfg.camera_cost
    if total <= 0:
        raise ValueError("the budgets buy no camera")
    plan = plan_city(
        instance_source=instance_source,
        budget=total,
        cfg=cfg,
        existing=existing,
        finish=make_finish(budgets, cfg.camera_cost, kw.get("kelley_rounds", 4)),
        **kw,
    )
    phases = plan.extra.get("phases")
    if not isinstance(phases, JointPhases):  # stopped before any plan: one empty year per budget
        phases = JointPhases(
            [
                Year(i + 1, float(b), np.zeros(0, dtype=np.int64), 0.0, 0.0, math.inf, 0.0)
                for i, b in enumerate(budgets)
            ],
            0.0,
        )
    return plan, phases


def year_by_year(
    *,
    instance_source: Path | None,
    budgets: Sequence[float],
    cfg: PlannerConfig | None = None,
    existing: Sequence[ExistingCamera] = (),
    **kw: Any,
) -> list[CityPlan]:
    """The myopic alternative (planner.md's district phases at city scale): year t is a ``plan_city`` run with the
    cameras of years < t installed. For comparison with :func:`plan_city_phases`."""
    cfg = cfg or PlannerConfig()
    source = open_source(instance_source, cfg)
    installed = list(existing)
    out: list[CityPlan] = []
    per_year = cameras_per_year(budgets, cfg.camera_cost)
    if min(per_year) < 1:
        raise ValueError("every year must buy at least one camera")
    for n in per_year:
        plan = plan_city(instance_source=instance_source, budget=n * cfg.camera_cost, cfg=cfg, existing=installed, **kw)
        sites, orient = np.divmod(plan.poses, cfg.orientations)
        xy = source.site_xy(sites)
        lat, lon = source.projection.to_latlon(xy[:, 0], xy[:, 1])
        for p, a, o, k in zip(
            plan.poses.tolist(), np.atleast_1d(lat), np.atleast_1d(lon), orient.tolist(), strict=True
        ):
            heading = float(k) * 360.0 / cfg.orientations
            installed.append(ExistingCamera(f"y{len(out) + 1}-{p}", float(a), float(o), "", heading, cfg.fov_deg))
        out.append(plan)
    return out
