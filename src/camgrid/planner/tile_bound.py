"""A tile's bound LP, kept warm between its solves (tangents, Kelley steps, consensus prices, new shares).

Why: every bound step is an LP per tile, and built cold each time (reduction + model + simplex from scratch) the
consensus rounds cost more than the whole preparation (planner-city.md, Caveats). The LP's *structure* does not
depend on the cost shares if the reduction never removes a border pose (only border poses' shares change; an
interior pose always costs a whole camera, so any pose seeing a superset of its points may replace it in a
fractional plan whatever the shares are). So the structure is built once per tile and stored next to the tile file
(``blp-NNNNN.npz``); a solve sets the budget row's coefficients from the current shares, restores the last optimal
basis (``basis-NNNNN.bas``, any worker can serve any tile) and re-solves warm. A worker also keeps its last few models
in memory (keyed by tile and shares file), which saves the load when the same worker gets the tile again.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import highspy
import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.exact import build_model, reduce_instance
from camgrid.planner.formulation import Instance
from camgrid.planner.visibility import Coverage

LP_SAFETY = 1e-7  # relative margin added to each LP value (solver tolerances)
MEMORY_MODELS = 2  # warm HiGHS models a worker keeps in memory (the basis on disk serves the others)

_STRUCT: OrderedDict[tuple[str, int], dict[str, np.ndarray]] = OrderedDict()
_MODELS: OrderedDict[tuple[str, int], tuple[tuple[int, int], highspy.Highs]] = OrderedDict()


def tile_path(workdir: Path, index: int) -> Path:
    return workdir / f"tile-{index:05d}.npz"


_TILES: OrderedDict[str, tuple[tuple[int, int], dict[str, np.ndarray]]] = OrderedDict()
MEMORY_TILES = 2  # tile files a worker keeps loaded (a solve sweep, the evaluation and the moves re-read them)


def _file_tag(p: Path) -> tuple[int, int]:
    st = p.stat()
    return (st.st_mtime_ns, st.st_size)


def load_tile(workdir: Path, index: int) -> dict[str, np.ndarray]:
    """The tile file's arrays (read-only), from this worker's memory when the file is unchanged.

    Why: a tile is read once per solve sweep, per evaluation and per move round, ~0.1-0.4 s each at 1.5 km; a worker
    often gets the same tile again. Keyed by path and (mtime, size), so a rewritten file is read again."""
    p = tile_path(workdir, index)
    tag, key = _file_tag(p), str(p)
    hit = _TILES.get(key)
    if hit is not None and hit[0] == tag:
        _TILES.move_to_end(key)
        return hit[1]
    with np.load(p) as z:
        d = {k: z[k] for k in z.files}
    return remember_tile(workdir, index, d, tag)


def remember_tile(
    workdir: Path, index: int, d: dict[str, np.ndarray], tag: tuple[int, int] | None = None
) -> dict[str, np.ndarray]:
    """Keep ``d`` (the arrays just written to, or read from, the tile file) as that file's contents."""
    p = tile_path(workdir, index)
    for a in d.values():
        a.setflags(write=False)
    _TILES[str(p)] = (tag or _file_tag(p), d)
    _TILES.move_to_end(str(p))
    while len(_TILES) > MEMORY_TILES:
        _TILES.popitem(last=False)
    return d


def alpha_path(workdir: Path, index: int) -> Path:
    return workdir / f"alpha-{index:05d}.npy"


def _struct_path(workdir: Path, index: int) -> Path:
    return workdir / f"blp-{index:05d}.npz"


def _basis_path(workdir: Path, index: int) -> Path:
    return workdir / f"basis-{index:05d}.bas"


def current_alpha(workdir: Path, index: int, alpha0: np.ndarray) -> np.ndarray:
    """The tile's cost shares: the last consensus round's, else the value-proportional ones of its file."""
    p = alpha_path(workdir, index)
    return np.load(p) if p.exists() else alpha0


def build_structure(workdir: Path, index: int, cfg: PlannerConfig) -> dict[str, np.ndarray]:
    """The share-independent bound LP of the tile (owned points, poses that see them), reduced with every border
    pose kept, written to ``blp-NNNNN.npz``."""
    from camgrid.planner.city_power import power_scale

    d = load_tile(workdir, index)
    owned, w, k = d["point_owned"], d["point_w"], d["point_k"]
    scale = power_scale(d, cfg)  # the power-aware value's bound scales the weights (city_power)
    if scale is not None:
        w = w * scale
    fixed_file = d["pose_fixed"] if "pose_fixed" in d else np.zeros(d["alpha"].size, dtype=bool)
    pair_pose, pair_point = d["pair_pose"], d["pair_point"]
    unit = w / k
    border = np.zeros(d["alpha"].size, dtype=bool)
    border[pair_pose[~owned[pair_point] & (unit[pair_point] > 0)]] = True
    border |= fixed_file  # installed cameras (cost 0) must never be replaced by a dearer pose
    keep_pair = owned[pair_point]
    pp, pt = pair_pose[keep_pair], pair_point[keep_pair]
    poses = np.unique(pp)
    pts = np.flatnonzero(owned)
    new_pose = np.full(d["alpha"].size, -1, dtype=np.int64)
    new_pose[poses] = np.arange(poses.size)
    new_pt = np.full(owned.size, -1, dtype=np.int64)
    new_pt[pts] = np.arange(pts.size)
    order = np.lexsort((new_pt[pt], new_pose[pp]))
    inst = Instance(
        weights=w[pts],
        cost=np.full(poses.size, 1.0),  # every pose at the largest share: see the module docstring
        coverage=Coverage(
            int(poses.size), int(pts.size), new_pose[pp][order].astype(np.int32), new_pt[pt][order].astype(np.int32)
        ),
        k=k[pts],
        fixed=np.flatnonzero(fixed_file[poses]),
    )
    s: dict[str, np.ndarray]
    if inst.n_poses == 0 or inst.n_points == 0:
        s = {"empty": np.ones(1, dtype=bool), "alpha0": d["alpha"], "full_poses": poses}
    else:
        red = reduce_instance(inst, math.inf, keep=np.flatnonzero(border[poses]))
        lp, _, _ = build_model(inst, red, 1.0)
        starts = np.asarray(lp.a_matrix_.start_, dtype=np.int64)
        n_x, n_g = int(red.poses.size), len(red.groups)
        members = red.point_members
        s = {
            "empty": np.zeros(1, dtype=bool),
            "alpha0": d["alpha"],
            "full_poses": poses,  # every pose that sees an owned point (its shared cost bounds the useful budget)
            "pose_file": poses[red.poses],
            "start": starts,
            "index": np.asarray(lp.a_matrix_.index_, dtype=np.int32),
            "value": np.asarray(lp.a_matrix_.value_, dtype=np.float64),
            "col_cost": np.asarray(lp.col_cost_, dtype=np.float64),
            "col_upper": np.asarray(lp.col_upper_, dtype=np.float64),
            "shape": np.array([n_x, n_g], dtype=np.int64),
            "constant": np.array([red.constant]),  # value the installed cameras already give
            "member_gid": d["point_gid"][pts[np.concatenate(members)]],
            "member_unit": unit[pts[np.concatenate(members)]],
            "member_group": np.repeat(np.arange(n_g), [m.size for m in members]),
        }
    np.savez(_struct_path(workdir, index), **s)  # type: ignore[arg-type]
    _remember(_STRUCT, (str(workdir), index), s)
    return s


def _remember(cache: OrderedDict, key: tuple[str, int], value: object) -> None:  # type: ignore[type-arg]
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > MEMORY_MODELS:
        cache.popitem(last=False)


def _structure(workdir: Path, index: int, cfg: PlannerConfig) -> dict[str, np.ndarray]:
    key = (str(workdir), index)
    if key in _STRUCT:
        _STRUCT.move_to_end(key)
        return _STRUCT[key]
    p = _struct_path(workdir, index)
    if not p.exists():
        return build_structure(workdir, index, cfg)
    with np.load(p) as z:
        s = {k: z[k] for k in z.files}
    _remember(_STRUCT, key, s)
    return s


def _alpha_tag(workdir: Path, index: int) -> tuple[int, int]:
    p = alpha_path(workdir, index)
    if not p.exists():
        return (0, 0)
    st = p.stat()
    return (st.st_mtime_ns, st.st_size)


def full_share(workdir: Path, index: int, cfg: PlannerConfig) -> float:
    """Shared cost of every pose that sees an owned point: more budget than this buys the tile nothing."""
    s = _structure(workdir, index, cfg)
    alpha = current_alpha(workdir, index, s["alpha0"])
    return float(alpha[s["full_poses"]].sum() * cfg.camera_cost)


def _model(workdir: Path, index: int, cfg: PlannerConfig, s: dict[str, np.ndarray]) -> highspy.Highs:
    """The tile's bound LP under its current shares, warm: from memory, else built and given the stored basis."""
    key, tag = (str(workdir), index), _alpha_tag(workdir, index)
    hit = _MODELS.get(key)
    if hit is not None and hit[0] == tag:
        _MODELS.move_to_end(key)
        return hit[1]
    alpha = current_alpha(workdir, index, s["alpha0"])
    n_x, n_g = (int(v) for v in s["shape"])
    start, index_, value = s["start"], s["index"], s["value"].copy()
    budget_pos = start[1 : n_x + 1] - 1  # an x column's last entry is its budget row coefficient
    value[budget_pos] = alpha[s["pose_file"]] * cfg.camera_cost
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_g
    lp.num_row_ = n_g + 1
    lp.col_cost_ = s["col_cost"]
    lp.col_lower_ = np.zeros(n_x + n_g)
    lp.col_upper_ = s["col_upper"]
    lp.row_lower_ = np.full(n_g + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_g), [0.0]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start.astype(np.int32)
    lp.a_matrix_.index_ = index_
    lp.a_matrix_.value_ = value
    lp.a_matrix_.num_col_ = n_x + n_g
    lp.a_matrix_.num_row_ = n_g + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    bp = _basis_path(workdir, index)
    if bp.exists():
        h.readBasis(str(bp))  # a bad or stale file only costs the warm start
    _MODELS.pop(key, None)
    _remember(_MODELS, key, (tag, h))
    return h


def _solve(workdir: Path, index: int, cfg: PlannerConfig, budget: float) -> tuple[highspy.Highs, int] | None:
    s = _structure(workdir, index, cfg)
    if bool(s["empty"][0]):
        return None
    h = _model(workdir, index, cfg, s)
    row = int(s["shape"][1])
    h.changeRowBounds(row, -highspy.kHighsInf, float(max(0.0, budget)))
    cold = not h.getBasis().valid
    if cold:  # interior point + crossover: 3.0 s vs 5.5 s of dual simplex from scratch on a 1.5 km tile (PLAN-CPU)
        h.setOptionValue("solver", "ipm")
    h.run()
    if cold:
        h.setOptionValue("solver", "choose")  # every later solve of this model is a warm dual simplex
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        h.clearSolver()  # a stale basis that fails: once more from scratch
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
    return h, row


def _save_basis(workdir: Path, index: int, h: highspy.Highs) -> None:
    tmp = _basis_path(workdir, index).with_suffix(".tmp")
    h.writeBasis(str(tmp))
    tmp.replace(_basis_path(workdir, index))


def full_value(s: dict[str, np.ndarray]) -> float:
    """The bound LP's value when every pose is bought (exact.py's plain model: ``y_g <= sum of the x covering g``,
    ``y_g <= cap_g``): each merged point gets ``unit_g * min(cap_g, poses covering it)``.

    Why by hand: at a budget of the tile's full share (or more) every x can be 1, and the LP's answer is this sum with
    a budget dual of 0; solving it cost about 40% of a tile's bound time (PLAN-VIS profile, planner-city.md)."""
    n_x, n_g = (int(v) for v in s["shape"])
    start, index = s["start"], s["index"]
    x_entries = index[: int(start[n_x])]
    cover = np.bincount(x_entries[x_entries < n_g], minlength=n_g + 1)[:n_g]
    y_rows = index[start[n_x : n_x + n_g]]  # each y column's one entry: its own row
    unit, cap = s["col_cost"][n_x:], s["col_upper"][n_x:]
    return float((unit * np.minimum(cap, cover[y_rows])).sum() + s["constant"][0])


def tangents(workdir: Path, index: int, cfg_json: str, budgets: list[float]) -> list[tuple[float, float, float]]:
    """(b, LP value at b, budget dual at b) for each budget: ``V(b') <= value + dual * (b' - b)`` for every b'
    (the LP value function is concave in its right-hand side; the dual is a supergradient). At or above the full
    share every pose is bought: the value is :func:`full_value` and 0 is a supergradient (V never grows past it)."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    out: list[tuple[float, float, float]] = []
    last: highspy.Highs | None = None
    s0 = _structure(workdir, index, cfg)
    full = -1.0 if bool(s0["empty"][0]) else full_share(workdir, index, cfg)
    if full >= 0 and any(x >= full for x in budgets):
        value = full_value(s0)
        out.append((float(full), value * (1 + LP_SAFETY) + LP_SAFETY, 0.0))
        budgets = [x for x in budgets if x < full]
    bs = sorted({round(max(0.0, x), 9) for x in budgets})
    mid = bs[(len(bs) - 1) // 2] if bs else 0.0
    for b in sorted(bs, key=lambda x: -abs(x - mid)):  # farthest first: the basis left is the one near the middle
        got = _solve(workdir, index, cfg, b)
        if got is None:
            continue
        last, row = got
        value = float(last.getInfo().objective_function_value) + float(_structure(workdir, index, cfg)["constant"][0])
        dual = abs(float(last.getSolution().row_dual[row]))
        out.append((float(b), value * (1 + LP_SAFETY) + LP_SAFETY, dual))
    if last is not None:
        _save_basis(workdir, index, last)
    out.sort()
    if not out:  # no LP solved: the total weight of the owned points is always an upper bound
        s = _structure(workdir, index, cfg)
        total = 0.0 if bool(s["empty"][0]) else float((s["col_cost"] * s["col_upper"]).sum() + s["constant"][0])
        out.append((0.0, total * (1 + LP_SAFETY) + LP_SAFETY, 0.0))
    return out


def prices(workdir: Path, index: int, cfg_json: str, budget: float) -> tuple[np.ndarray, np.ndarray]:
    """Dual prices of the tile's owned points in its bound LP at ``budget``: (global point ids, price per point).
    A merged point's price is split over its members by their unit values; points no pose sees are left out."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    s = _structure(workdir, index, cfg)
    got = None if bool(s["empty"][0]) else _solve(workdir, index, cfg, budget)
    if got is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    h, row = got
    _save_basis(workdir, index, h)
    duals = np.abs(np.asarray(h.getSolution().row_dual)[:row])
    g, u = s["member_group"], s["member_unit"]
    tot = np.bincount(g, weights=u, minlength=row)
    share = np.divide(u, tot[g], out=np.zeros_like(u), where=tot[g] > 0)
    return s["member_gid"], duals[g] * share


def set_alpha_by_prices(
    workdir: Path, index: int, cfg_json: str, price_file: Path, mix: float, budgets: list[float]
) -> tuple[float, list[tuple[float, float, float]]]:
    """Consensus step for the bound: split each pose's cost over the tiles in proportion to the priced value it sees
    in each (prices from every tile's bound LP, one global file, so every tile holding a pose computes the same
    denominator and the shares still sum to 1), mixed with the previous shares. Returns (full share, tangents) of
    the new curve; any shares summing to at most 1 per pose give a valid bound."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    d = load_tile(workdir, index)
    with np.load(price_file) as z:
        g_all, p_all = z["gid"], z["price"]
    price = np.zeros(d["point_gid"].size)
    if g_all.size:
        pos = np.minimum(np.searchsorted(g_all, d["point_gid"]), g_all.size - 1)
        hit = g_all[pos] == d["point_gid"]
        price[hit] = p_all[pos[hit]]
    old = current_alpha(workdir, index, d["alpha"])
    pv = price[d["pair_point"]]
    v_all = np.bincount(d["pair_pose"], weights=pv, minlength=old.size)
    v_own = np.bincount(d["pair_pose"], weights=pv * d["point_owned"][d["pair_point"]], minlength=old.size)
    new = np.where(v_all > 0, v_own / np.where(v_all > 0, v_all, 1.0), old)
    tmp = workdir / f"alpha-{index:05d}.tmp.npy"
    np.save(tmp, (1 - mix) * old + mix * new)
    tmp.replace(alpha_path(workdir, index))
    full = full_share(workdir, index, cfg)
    return full, tangents(workdir, index, cfg_json, [min(full, b) for b in budgets] + [full])


def lagrangian(workdir: Path, index: int, cfg_json: str, lam: float, time_limit_s: float) -> float:
    """A proven upper bound on ``max_x f_t(x) - lam * sum_p alpha_p c x_p`` over integer plans (no budget) under the
    tile's current shares: HiGHS's MIP dual bound on the tile's structure (its reductions keep integer optima)."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    s = _structure(workdir, index, cfg)
    if bool(s["empty"][0]):
        return 0.0
    alpha = current_alpha(workdir, index, s["alpha0"])
    n_x, n_g = (int(v) for v in s["shape"])
    h = _model(workdir, index, cfg, s)
    lp = h.getLp()
    cost = np.asarray(lp.col_cost_, dtype=np.float64).copy()
    cost[:n_x] = -lam * alpha[s["pose_file"]] * cfg.camera_cost
    lp.col_cost_ = cost
    lp.row_upper_ = np.concatenate([np.zeros(n_g), [highspy.kHighsInf]])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_x + [highspy.HighsVarType.kContinuous] * n_g
    m = highspy.Highs()  # type: ignore[no-untyped-call]
    m.setOptionValue("output_flag", False)
    m.setOptionValue("threads", 1)
    m.setOptionValue("time_limit", float(max(0.5, time_limit_s)))
    m.setOptionValue("mip_rel_gap", 1e-4)
    m.passModel(lp)
    m.run()
    dual = float(m.getInfo().mip_dual_bound)
    if not math.isfinite(dual):  # nothing proven in time: every owned point fully served
        dual = float((s["col_cost"] * s["col_upper"]).sum())
    return (dual + float(s["constant"][0])) * (1 + LP_SAFETY) + LP_SAFETY
