"""Border windows: re-optimise the city plan where the tiles meet (docs/design/planner-city.md, "Border windows").

Why: a tile chooses only cameras at its own sites, with its neighbours' cameras fixed, so a border camera is never
re-chosen together with the cameras across the border that share its points; the decomposed plan lost ~0.9% to the
monolithic optimum there and in the budget split, not inside the tiles. A window is a narrow box (its *core*)
straddling one shared border segment, or a square at a corner where four tiles meet. It owns the candidate sites in
its core and re-chooses their cameras with every other camera of the current plan fixed, with the budget those
cameras cost (plus whole cameras the run left unspent).

A window's file holds every point within one range R of its core (all that its own poses can see) and every pose
within 2R (all that can see those points), so the window's objective changes by exactly what the city's value
changes (power-aware too: all cameras of a point are there, feeders are global). Windows whose cores are more than 2R
apart touch no common point and no common pose, so they are coloured and each colour is solved in parallel; later
colours see the earlier colours' changes. The whole plan is then evaluated exactly per tile (each point once, by
its owner) and kept only if better.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camgrid.config import PlannerConfig
from camgrid.planner.city_power import tile_poses
from camgrid.planner.citymap import Box
from camgrid.planner.exact import solve_exact
from camgrid.planner.formulation import Solution, State
from camgrid.planner.lns import lns_improve
from camgrid.planner.service import with_fixed
from camgrid.planner.solvers import lazy_greedy, local_search
from camgrid.planner.tiles import SourceSpec, TileSpec, evaluate_tile, grow, view_instance
from camgrid.planner.visibility import compute_coverage

log = logging.getLogger(__name__)
FAR = 1e7  # the outer tiles' reach (city.tile_grid)


@dataclass(frozen=True)
class Window:
    """A core box straddling a tile border (``kind`` "x": between tiles ix and ix+1, "y": iy and iy+1, "corner")
    and the tiles whose cores it meets (index, core): they own the sites it re-chooses."""

    index: int
    kind: str
    core: Box
    colour: int
    owners: tuple[tuple[int, Box], ...]


@dataclass
class WindowResult:
    index: int
    removed: np.ndarray  # global pose ids dropped from the plan
    added: np.ndarray  # global pose ids added
    added_tile: np.ndarray  # the tile owning each added pose's site
    gain: float  # exact change of the city's value (the window holds every camera of every point it touches)
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


def box_distance(a: Box, b: Box) -> float:
    dx = max(0.0, a[0] - b[2], b[0] - a[2])
    dy = max(0.0, a[1] - b[3], b[1] - a[3])
    return math.hypot(dx, dy)


def _meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def border_windows(
    tiles: list[TileSpec],
    bounds: Box,
    tile_m: float,
    width_m: float,
    *,
    range_m: float = 60.0,
    max_len_m: float = math.inf,
) -> list[Window]:
    """One window per shared border segment (``width_m`` wide, centred on the border, shortened by ``width_m / 2``
    where it meets a corner; cut into equal pieces of at most ``max_len_m`` inside the city) and one ``width_m``
    square per corner where four tiles meet; the cores are disjoint and cover every border. Colours (greedy, in
    order): windows of one colour are more than 2R + 2 m apart, so they share no pose and no point (a window holds
    poses within 2R of its core and the points within R)."""
    if not 0 < width_m < tile_m:
        raise ValueError("the border window must be narrower than a tile")
    if not tiles:
        return []
    x0, y0 = bounds[0], bounds[1]
    nx = max(t.ix for t in tiles) + 1
    ny = max(t.iy for t in tiles) + 1
    h = width_m / 2
    xs = [x0 + i * tile_m for i in range(1, nx)]
    ys = [y0 + j * tile_m for j in range(1, ny)]

    def spans(j: int, n: int, origin: float, end: float) -> list[tuple[float, float]]:
        lo = origin + j * tile_m + h if j > 0 else origin - FAR
        hi = origin + (j + 1) * tile_m - h if j < n - 1 else origin + n * tile_m + FAR
        a, b = max(lo, origin), min(hi, end)
        k = max(1, math.ceil((b - a) / max_len_m - 1e-9)) if b > a else 1
        cuts = [lo, *(a + (b - a) * q / k for q in range(1, k)), hi]
        return list(itertools.pairwise(cuts))

    boxes: list[tuple[str, Box]] = []
    for xb in xs:
        for j in range(ny):
            boxes += [("x", (xb - h, lo, xb + h, hi)) for lo, hi in spans(j, ny, y0, bounds[3])]
    for yb in ys:
        for i in range(nx):
            boxes += [("y", (lo, yb - h, hi, yb + h)) for lo, hi in spans(i, nx, x0, bounds[2])]
    for xb in xs:
        for yb in ys:
            boxes.append(("corner", (xb - h, yb - h, xb + h, yb + h)))
    sep = 2 * range_m + 2.0
    colours: list[int] = []
    for i, (_, b) in enumerate(boxes):
        taken = {colours[j] for j in range(i) if box_distance(b, boxes[j][1]) <= sep}
        colours.append(next(c for c in range(len(boxes) + 1) if c not in taken))
    return [
        Window(i, kind, b, colours[i], tuple((t.index, t.core) for t in tiles if _meets(b, t.core)))
        for i, (kind, b) in enumerate(boxes)
    ]


def grid_windows(
    tiles: list[TileSpec],
    bounds: Box,
    side_m: float,
    *,
    range_m: float = 60.0,
    first_index: int = 0,
    shifted: bool = False,
) -> list[Window]:
    """Square windows of about ``side_m`` (the city's width and height cut into equal pieces) covering the whole city,
    tile interiors included: a city-wide neighbourhood search with exact gains, started from the current plan. A tile's
    own search is time-boxed on ~125,000 poses and does not converge there (planner-city.md, PLAN-CPU); a window's
    search does on a few tens of thousands. Owners are the tiles whose cores each window meets; indices start at
    ``first_index`` (window files are per index). Colours as for the border windows (a 2 x 2 pattern). ``shifted``:
    the cuts move by half a window (half-size windows along the city's edges), so a later pass re-chooses together
    the cameras an earlier pass's cuts kept apart."""
    if side_m <= 0 or not tiles:
        return []
    x0, y0, x1, y1 = bounds
    nx, ny = max(1, math.ceil((x1 - x0) / side_m - 1e-9)), max(1, math.ceil((y1 - y0) / side_m - 1e-9))
    wx, wy = (x1 - x0) / nx, (y1 - y0) / ny
    sep = 2 * range_m + 2.0
    out: list[Window] = []
    boxes: list[Box] = []
    half = 0.5 if shifted else 0.0
    xs = [x0 - FAR, *(x0 + (i + half) * wx for i in range(1 - int(shifted), nx)), x1 + FAR]
    ys = [y0 - FAR, *(y0 + (j + half) * wy for j in range(1 - int(shifted), ny)), y1 + FAR]
    for lo_y, hi_y in itertools.pairwise(ys):
        for lo_x, hi_x in itertools.pairwise(xs):
            boxes.append((lo_x, lo_y, hi_x, hi_y))
    colours: list[int] = []
    for k, b in enumerate(boxes):
        taken = {colours[m] for m in range(k) if box_distance(b, boxes[m]) <= sep}
        colours.append(next(c for c in range(len(boxes) + 1) if c not in taken))
        owners = tuple((t.index, t.core) for t in tiles if _meets(b, t.core))
        out.append(Window(first_index + k, "grid", b, colours[k], owners))
    return out


def window_path(workdir: Path, index: int) -> Path:
    return workdir / f"win-{index:05d}.npz"


def prepare_window(spec: SourceSpec, window: Window, workdir: Path) -> Path:
    """The window's file: poses within 2R of the core (own = sites in the core), points within R, their pairs.
    Cheap on purpose: no bound LP, no greedy gains (a window only re-chooses cameras)."""
    path = window_path(workdir, window.index)
    if path.exists():
        return path
    source, cfg = spec.open()
    r = cfg.range_m
    points_box = grow(window.core, r + 1.0)
    lay = source.layout(points_box, grow(window.core, 2 * r + 2.0))
    # installed cameras count where they may see a point of the points box (their own range of it)
    tp = tile_poses(lay, spec.existing, cfg, points_box, source.bounds[:2])
    cov = compute_coverage(tp.site_xy, tp.pose_site, tp.heading, tp.fov, tp.range_m, lay.point_xy, lay.buildings)
    xy = tp.site_xy[tp.pose_site]
    x0, y0, x1, y1 = window.core
    own = ~tp.fixed & (xy[:, 0] >= x0) & (xy[:, 0] < x1) & (xy[:, 1] >= y0) & (xy[:, 1] < y1)
    pose_tile = np.full(xy.shape[0], -1, dtype=np.int64)
    for t, (a, b, c, d) in window.owners:
        pose_tile[own & (xy[:, 0] >= a) & (xy[:, 0] < c) & (xy[:, 1] >= b) & (xy[:, 1] < d)] = t
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        pose_gid=tp.gid,
        pose_owned=own,
        pose_fixed=tp.fixed,
        pose_feeder=tp.feeder,
        feeder_avail=tp.feeder_avail,
        pose_xy=xy,
        pose_tile=pose_tile,
        point_gid=lay.point_id,
        point_w=lay.point_weight,
        point_k=lay.point_k,
        point_owned=np.zeros(lay.point_id.size, dtype=bool),  # the window owns no point: it only re-chooses
        pair_pose=cov.pair_pose,
        pair_point=cov.pair_point,
    )
    tmp.replace(path)
    return path


def solve_window(
    spec: SourceSpec,
    window: Window,
    workdir: Path,
    plan_gids: np.ndarray,
    extra_cameras: int,
    time_s: float,
    exact_time_s: float = 0.0,
) -> WindowResult:
    """Re-choose the cameras at the window's own sites, every other camera of the plan fixed, for the budget the
    window's current cameras cost plus ``extra_cameras``; start from the current choice (exchanges and ruin-and-
    recreate, then neighbourhood search; the exact solver from there when ``exact_time_s > 0``). Never worse."""
    t0 = time.perf_counter()
    cfg = PlannerConfig.model_validate_json(spec.cfg_json)
    path = prepare_window(spec, window, workdir)
    t_prep = time.perf_counter() - t0
    with np.load(path) as z:
        d = {k: z[k] for k in z.files}
    gid, own = d["pose_gid"], d["pose_owned"]
    inst, poses, _ = view_instance(d, plan_gids, cfg)
    empty = np.zeros(0, dtype=np.int64)
    start = np.flatnonzero(own[poses] & np.isin(gid[poses], plan_gids))
    n_cams = int(start.size) + max(0, extra_cameras)
    if n_cams == 0 or inst.n_points == 0:
        return WindowResult(window.index, empty, empty, empty, 0.0, time.perf_counter() - t0, {"prepare_s": t_prep})
    budget = n_cams * cfg.camera_cost
    v0 = State(inst, np.union1d(start, inst.fixed)).value()
    first = start
    if extra_cameras > 0:  # unspent whole cameras: a greedy places them first (the searches only exchange)
        more = lazy_greedy(with_fixed(inst, start), float(extra_cameras * cfg.camera_cost), with_bound=False)
        first = np.union1d(start, more.poses)
    sol = Solution("start", first, State(inst, np.union1d(first, inst.fixed)).value(), math.inf, 0.0)
    sol = local_search(inst, budget, sol, time_limit_s=0.3 * time_s)
    left = time_s - (time.perf_counter() - t0)
    if left > 0:
        sol = lns_improve(inst, budget, sol, time_limit_s=left)
    if exact_time_s > 0 and (not inst.power or inst.kmax == 1):
        sol = solve_exact(inst, budget, time_limit_s=exact_time_s, rel_gap=cfg.mip_rel_gap, start=sol)
    new = np.asarray(sol.poses, dtype=np.int64)
    v1 = State(inst, np.union1d(new, inst.fixed)).value()
    if v1 <= v0 + 1e-9:
        return WindowResult(
            window.index, empty, empty, empty, 0.0, time.perf_counter() - t0, {"prepare_s": t_prep, "poses": poses.size}
        )
    rem, add = np.setdiff1d(start, new), np.setdiff1d(new, start)
    return WindowResult(
        window.index,
        gid[poses[rem]].astype(np.int64),
        gid[poses[add]].astype(np.int64),
        d["pose_tile"][poses[add]].astype(np.int64),
        v1 - v0,
        time.perf_counter() - t0,
        {"prepare_s": t_prep, "poses": int(poses.size), "own": int(own.sum()), "solver": sol.solver},
    )


def improve_borders(
    pool: ProcessPoolExecutor,
    wd: Path,
    tiles: list[TileSpec],
    chosen: dict[int, np.ndarray],
    best: tuple[float, np.ndarray, int],
    cfg_json: str,
    *,
    spec: SourceSpec,
    windows: list[Window],
    budget: float,
    time_s: float = 3.0,
    exact_time_s: float = 0.0,
    stop: threading.Event | None = None,
    halted: Callable[[], bool] | None = None,
    report: Callable[[int, int], None] | None = None,
) -> tuple[dict[int, np.ndarray], tuple[float, np.ndarray, int], dict[str, float]]:
    """Run the border windows colour by colour over the current plan, apply their changes, evaluate the whole plan
    exactly (each point once, by its owning tile) and keep it only if better. Returns (chosen per tile, best plan
    as (value, poses, covered points), stats). When the best plan is an earlier sweep's (a later sweep lost value:
    the tiles' views are not exact), the windows improve the current plan and it replaces the best only if it beats
    it. ``stop`` (or ``halted()``: a stop or the run's deadline) ends the run after the colour in progress;
    ``report(done, total)`` after every window solved."""
    cfg = PlannerConfig.model_validate_json(cfg_json)
    stats = {"windows": float(len(windows)), "changed": 0.0, "predicted_gain": 0.0, "gain": 0.0}
    plan_ids = _plan(chosen)
    if not windows:
        return chosen, best, stats
    new = {k: v.copy() for k, v in chosen.items()}
    left = max(0, math.floor((budget - plan_ids.size * cfg.camera_cost) / cfg.camera_cost + 1e-9))
    solved = 0
    for colour in sorted({w.colour for w in windows}):
        if (stop is not None and stop.is_set()) or (halted is not None and halted()):
            break  # what the colours so far found is still evaluated below
        plan_ids = _plan(new)
        group = [w for w in windows if w.colour == colour]
        futs = [pool.submit(solve_window, spec, w, wd, plan_ids, left, time_s, exact_time_s) for w in group]
        got: list[WindowResult] = []
        for f in as_completed(futs):
            got.append(f.result())
            solved += 1
            if report is not None:
                report(solved, len(windows))
        results = sorted(got, key=lambda r: -r.gain)
        for r in results:
            log.debug("window %d: gain %.2f in %.1fs %s", r.index, r.gain, r.seconds, r.info)
        for r in results:
            extra = int(r.added.size - r.removed.size)
            if r.gain <= 1e-9 or extra > left or (r.added_tile < 0).any():  # no owner: cannot happen
                continue
            left -= max(0, extra)
            if r.removed.size:
                for t in new:
                    new[t] = new[t][~np.isin(new[t], r.removed)]
            for t in np.unique(r.added_tile).tolist():
                new[t] = np.append(new.get(t, np.zeros(0, dtype=np.int64)), r.added[r.added_tile == t])
            stats["changed"] += 1
            stats["predicted_gain"] += r.gain
    if stats["changed"] == 0:
        return chosen, best, stats
    poses = _plan(new)
    results_t = [f.result() for f in [pool.submit(evaluate_tile, wd, t.index, poses, cfg_json) for t in tiles]]
    value = float(sum(v for v, _ in results_t))
    log.info("border windows: %.2f -> %.2f (%d windows changed)", best[0], value, int(stats["changed"]))
    if value <= best[0] + 1e-9:
        return chosen, best, stats
    stats["gain"] = value - best[0]
    return new, (value, poses, int(sum(c for _, c in results_t))), stats


def _plan(chosen: dict[int, np.ndarray]) -> np.ndarray:
    parts = [v for v in chosen.values() if v.size]
    return np.unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
