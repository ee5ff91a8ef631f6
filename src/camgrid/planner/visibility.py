"""Which demand points each camera pose sees: range, field of view and 2-D line of sight past building footprints.

Design (docs/design/planner.md, "Visibility"): the expensive part, line of sight, does not depend on the orientation,
so it is computed once per (site, point) pair within range. A segment is blocked only when it enters a building's
*interior*: a sight line that grazes a corner or runs along a wall is not blocked, a point in an open courtyard is
seen only from where the courtyard opens, and a point strictly inside a footprint is never seen. The reference
(``method="shapely"``) is one segment per pair, a bulk STRtree query against the footprints (shapely 2, in C) and a
DE-9IM refinement; the default (``method="edges"``) decides the same thing with orientation tests on footprint edges
in numpy (:mod:`camgrid.planner.sightlines`) and asks the reference only about the rare undecided pair. The field of
view is then a vectorised angle test per pose. Results are cached on disk by a hash of every input."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon

from camgrid.planner.sightlines import line_of_sight_edges

log = logging.getLogger(__name__)

CACHE_VERSION = "vis-1"
# a point closer than this to the camera is seen by every orientation (its bearing is meaningless)
NEAR_M = 0.25
# angular tolerance so that a point exactly on the edge of the field of view counts as inside
EDGE_EPS_DEG = 1e-7


@dataclass(frozen=True)
class Coverage:
    """Pose -> covered points, as pair arrays sorted by pose (a CSR matrix without scipy)."""

    n_poses: int
    n_points: int
    pair_pose: np.ndarray  # int32, sorted
    pair_point: np.ndarray  # int32

    @property
    def n_pairs(self) -> int:
        return int(self.pair_pose.size)

    def pose_ptr(self) -> np.ndarray:
        return np.searchsorted(self.pair_pose, np.arange(self.n_poses + 1)).astype(np.int64)

    def points_of(self, pose: int) -> np.ndarray:
        ptr = np.searchsorted(self.pair_pose, [pose, pose + 1])
        return self.pair_point[ptr[0] : ptr[1]]


def angle_diff_deg(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Smallest absolute difference between compass angles, in [0, 180]."""
    d = np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)
    return np.asarray(d)


def bearing_deg(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Compass bearing (0 = north = +y, 90 = east = +x) of a vector."""
    return np.asarray(np.degrees(np.arctan2(dx, dy)) % 360.0)


def line_of_sight(
    sites_xy: np.ndarray,
    points_xy: np.ndarray,
    site_idx: np.ndarray,
    point_idx: np.ndarray,
    buildings: Sequence[Polygon],
    tree: shapely.STRtree | None = None,
) -> np.ndarray:
    """For each (site, point) pair, True when the segment between them enters no building's interior."""
    n = site_idx.size
    clear = np.ones(n, dtype=bool)
    if n == 0 or not buildings:
        return clear
    if tree is None:
        tree = shapely.STRtree(list(buildings))
    coords = np.empty((n, 2, 2), dtype=np.float64)
    coords[:, 0, :] = sites_xy[site_idx]
    coords[:, 1, :] = points_xy[point_idx]
    same = np.all(coords[:, 0, :] == coords[:, 1, :], axis=1)
    coords[same, 1, 0] += 1e-9  # a zero-length segment is not a valid line
    lines = shapely.linestrings(coords)
    seg_i, bld_i = tree.query(lines, predicate="intersects")
    if seg_i.size == 0:
        return clear
    geoms = np.asarray(tree.geometries)
    # Blocked only when the segment meets the interior of the footprint (not just its boundary).
    inner = shapely.relate_pattern(lines[seg_i], geoms[bld_i], "T********")
    clear[seg_i[inner]] = False
    return clear


def compute_coverage(
    sites_xy: np.ndarray,
    pose_site: np.ndarray,
    pose_heading: np.ndarray,
    pose_fov: np.ndarray,
    pose_range: np.ndarray,
    points_xy: np.ndarray,
    buildings: Sequence[Polygon],
    method: str = "edges",
) -> Coverage:
    """Coverage of every pose. Poses share line-of-sight work through their site.

    ``method="edges"`` (default) decides line of sight by orientation tests on footprint edges in numpy
    (:mod:`camgrid.planner.sightlines`) and fans pairs out only to the poses whose heading can include them;
    ``"shapely"`` is the original all-GEOS path, kept as the reference: both give the same pairs."""
    if method not in ("edges", "shapely"):
        raise ValueError(f"unknown visibility method {method!r}")
    sites_xy = np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2)
    points_xy = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    n_poses, n_points = int(pose_site.size), int(points_xy.shape[0])
    if n_poses == 0 or n_points == 0:
        e = np.zeros(0, dtype=np.int32)
        return Coverage(n_poses, n_points, e, e)
    site_range = np.zeros(sites_xy.shape[0])
    np.maximum.at(site_range, pose_site, pose_range)
    # 1. (site, point) pairs within the largest range of the site: bulk dwithin query on a point tree.
    pt_tree = shapely.STRtree(shapely.points(points_xy))
    site_geoms = shapely.points(sites_xy)
    s_idx, p_idx = pt_tree.query(site_geoms, predicate="dwithin", distance=site_range)
    d = points_xy[p_idx] - sites_xy[s_idx]
    dist = np.hypot(d[:, 0], d[:, 1])
    keep = dist <= site_range[s_idx] + 1e-9
    s_idx, p_idx, d, dist = s_idx[keep], p_idx[keep], d[keep], dist[keep]
    # 2. line of sight once per pair
    if method == "shapely":
        clear = line_of_sight(sites_xy, points_xy, s_idx, p_idx, buildings)
    else:
        tree = shapely.STRtree(list(buildings))

        def reference(si: np.ndarray, pi: np.ndarray) -> np.ndarray:
            return line_of_sight(sites_xy, points_xy, si, pi, buildings, tree)

        clear = line_of_sight_edges(sites_xy, points_xy, s_idx, p_idx, site_range, tree, reference)
    s_idx, p_idx, d, dist = s_idx[clear], p_idx[clear], d[clear], dist[clear]
    bearing = bearing_deg(d[:, 0], d[:, 1])
    # 3. field of view and range per pose: expand pairs by the poses of their site
    if method == "shapely":
        rep, poses = _all_poses_of_site(s_idx, pose_site)
    else:
        rep, poses = _poses_facing(s_idx, dist, bearing, pose_site, pose_heading, pose_fov, sites_xy.shape[0])
    ok = dist[rep] <= pose_range[poses] + 1e-9
    half = pose_fov[poses] / 2.0
    ok &= (angle_diff_deg(bearing[rep], pose_heading[poses]) <= half + EDGE_EPS_DEG) | (dist[rep] < NEAR_M)
    poses, pts = poses[ok], p_idx[rep[ok]]
    srt = np.argsort(poses.astype(np.int64) * n_points + pts, kind="stable")  # = lexsort((pts, poses)): unique
    return Coverage(n_poses, n_points, poses[srt].astype(np.int32), pts[srt].astype(np.int32))


def _all_poses_of_site(s_idx: np.ndarray, pose_site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair, pose) for every pose of each pair's site (the reference fan-out)."""
    order = np.argsort(pose_site, kind="stable")
    sorted_sites = pose_site[order]
    start = np.searchsorted(sorted_sites, s_idx, side="left")
    stop = np.searchsorted(sorted_sites, s_idx, side="right")
    counts = stop - start
    rep = np.repeat(np.arange(s_idx.size), counts)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rep, order[start[rep] + offs]


def _poses_facing(
    s_idx: np.ndarray,
    dist: np.ndarray,
    bearing: np.ndarray,
    pose_site: np.ndarray,
    pose_heading: np.ndarray,
    pose_fov: np.ndarray,
    n_sites: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(pair, pose) for the poses of each pair's site whose heading is within the site's widest half field of view
    (plus a margin) of the pair's bearing: a superset of those the exact angle test then keeps, found by
    ``searchsorted`` on poses sorted by (site, quantised heading) instead of trying every orientation."""
    scale = float(2**32) / 360.0
    h = np.mod(np.asarray(pose_heading, dtype=np.float64), 360.0)
    pkey = (pose_site.astype(np.int64) << 33) | np.minimum(np.floor(h * scale), 2.0**32).astype(np.int64)
    order = np.argsort(pkey, kind="stable")
    skey = pkey[order]
    half_max = np.zeros(n_sites)
    np.maximum.at(half_max, pose_site, np.asarray(pose_fov, dtype=np.float64) / 2.0)
    hm = half_max[s_idx] + 1e-6
    full = (hm >= 180.0) | (dist < NEAR_M)
    lo = np.where(full, 0.0, bearing - hm)
    hi = np.where(full, 360.0, bearing + hm)
    wrap_lo, wrap_hi = lo < 0, hi > 360.0
    pair = np.arange(s_idx.size)
    seg = np.concatenate([pair, pair[wrap_lo], pair[wrap_hi]])
    seg_lo = np.concatenate([np.maximum(lo, 0.0), lo[wrap_lo] + 360.0, np.zeros(int(wrap_hi.sum()))])
    seg_hi = np.concatenate([np.minimum(hi, 360.0), np.full(int(wrap_lo.sum()), 360.0), hi[wrap_hi] - 360.0])
    base = s_idx[seg].astype(np.int64) << 33
    first = np.searchsorted(skey, base | np.floor(seg_lo * scale).astype(np.int64), side="left")
    last = np.searchsorted(skey, base | np.minimum(np.ceil(seg_hi * scale), 2.0**32).astype(np.int64), side="right")
    counts = last - first
    rep = np.repeat(seg, counts)
    pos = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first, counts)
    return rep, order[pos]


def coverage_key(
    sites_xy: np.ndarray,
    pose_site: np.ndarray,
    pose_heading: np.ndarray,
    pose_fov: np.ndarray,
    pose_range: np.ndarray,
    points_xy: np.ndarray,
    buildings: Sequence[Polygon],
) -> str:
    """Hash of every input of :func:`compute_coverage` (and the code version)."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    for arr in (sites_xy, pose_site, pose_heading, pose_fov, pose_range, points_xy):
        a = np.ascontiguousarray(arr)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    for wkb in shapely.to_wkb(np.asarray(list(buildings), dtype=object)) if buildings else []:
        h.update(wkb)
    return h.hexdigest()[:32]


def cached_coverage(
    sites_xy: np.ndarray,
    pose_site: np.ndarray,
    pose_heading: np.ndarray,
    pose_fov: np.ndarray,
    pose_range: np.ndarray,
    points_xy: np.ndarray,
    buildings: Sequence[Polygon],
    cache_dir: Path | None,
) -> tuple[Coverage, bool]:
    """:func:`compute_coverage`, read from / written to ``cache_dir`` by input hash. Returns (coverage, was_cached)."""
    args = (
        np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2),
        np.asarray(pose_site, dtype=np.int64),
        np.asarray(pose_heading, dtype=np.float64),
        np.asarray(pose_fov, dtype=np.float64),
        np.asarray(pose_range, dtype=np.float64),
        np.asarray(points_xy, dtype=np.float64).reshape(-1, 2),
    )
    if cache_dir is None:
        return compute_coverage(*args, buildings), False
    key = coverage_key(*args, buildings)
    path = Path(cache_dir) / f"coverage-{key}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                cov = Coverage(int(z["n"][0]), int(z["n"][1]), z["pose"], z["point"])
            return cov, True
        except (OSError, ValueError, KeyError):
            log.warning("unreadable visibility cache %s; recomputing", path)
    t0 = time.perf_counter()
    cov = compute_coverage(*args, buildings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, n=np.array([cov.n_poses, cov.n_points]), pose=cov.pair_pose, point=cov.pair_point)
    tmp.replace(path)
    log.debug("visibility %d pairs in %.2fs, cached at %s", cov.n_pairs, time.perf_counter() - t0, path)
    return cov, False


def view_polygon(
    x: float,
    y: float,
    heading_deg: float,
    fov_deg: float,
    range_m: float,
    buildings: Sequence[Polygon],
    tree: shapely.STRtree | None = None,
    step_deg: float = 1.0,
) -> Polygon:
    """The area a camera sees, for drawing: rays every ``step_deg`` across the field of view, each cut where it
    first enters a building. An approximation for display; coverage itself uses exact segments."""
    n = max(2, math.ceil(fov_deg / step_deg) + 1)
    angles = heading_deg - fov_deg / 2.0 + np.linspace(0.0, fov_deg, n)
    rad = np.radians(angles)
    ends = np.column_stack([x + range_m * np.sin(rad), y + range_m * np.cos(rad)])
    reach = np.full(n, range_m)
    if buildings:
        if tree is None:
            tree = shapely.STRtree(list(buildings))
        coords = np.empty((n, 2, 2))
        coords[:, 0] = (x, y)
        coords[:, 1] = ends
        rays = shapely.linestrings(coords)
        ray_i, bld_i = tree.query(rays, predicate="intersects")
        if ray_i.size:
            geoms = np.asarray(tree.geometries)
            hits = shapely.intersection(rays[ray_i], geoms[bld_i])
            origin = shapely.points(np.full((ray_i.size, 2), (x, y)))
            dist = shapely.distance(origin, hits)
            np.minimum.at(reach, ray_i, dist)
    pts = np.column_stack([x + reach * np.sin(rad), y + reach * np.cos(rad)])
    ring = np.vstack([[x, y], pts, [x, y]]) if fov_deg < 360.0 else pts
    poly = shapely.make_valid(Polygon(ring))
    if not isinstance(poly, Polygon):
        parts = [g for g in getattr(poly, "geoms", []) if isinstance(g, Polygon)]
        poly = max(parts, key=lambda g: g.area) if parts else Polygon()
    return poly
