"""Line of sight by orientation tests on building edges in numpy, exact by construction.

Why: the shapely path (one segment object per (site, point) pair, an STRtree ``intersects`` query, then a DE-9IM
``relate_pattern`` per hit) spent most of a city tile's visibility time building and relating ~1 million GEOS
geometries. Here each pair is decided by float orientation tests against the few building edges that can touch its
segment, and only the pairs that the tests cannot decide with a wide safety margin (touching a vertex, running along
a wall, an end on a boundary, a zero-length segment, an invalid footprint nearby) go to that shapely check, so the
answer is the same (docs/design/planner.md, "Visibility").

Why it is exact. Footprints are oriented (shells counter-clockwise, holes clockwise: the interior is on the left of
every edge). For a segment S = [a, b] and an edge e = [p, q] the four orientations ``o(a,b,p), o(a,b,q), o(p,q,a),
o(p,q,b)`` are computed in floats; a sign is *decisive* when ``|det| > ORIENT_TOL * (|l| + |r|)``, a margin about
3,000 times Shewchuk's error bound, so a decisive sign is the exact sign. Then:

- *blocked*: an end lies in a valid footprint's interior (shapely ``within``), or S properly crosses (all four signs
  decisive and opposite) an edge that faces a (a strictly on its exterior side) of a valid footprint without holes.
  The crossing point is inside the edge, where a simple ring has the interior on exactly one side, so S enters it.
- *undecided*: some candidate edge is neither properly crossed nor decisively apart from S, or S properly crosses an
  edge of a footprint with holes (a hole may touch its shell at a point), or an invalid footprint is within range.
  Sent to shapely.
- *clear*: otherwise. If S entered a footprint's interior, take the first point x of S on its boundary: inside an
  edge, S crosses that edge from its exterior side (a faces it), a proper crossing or undecided; at a vertex, S
  enters the interior wedge between the two edges of x, and one of them faces a and is not decisively apart from S.
  So a footprint S enters always shows up as blocked or undecided, as long as the candidate edges include every edge
  facing a that S can touch; footprints with holes and invalid ones contribute all their edges.

Candidate edges: per site, the edges of the footprints within its range (one STRtree ``dwithin`` query) that face
it, and per edge the arc of bearings it spans from the site (with a margin; the whole circle when the site is
within 1 µm of the edge); a pair is a candidate for an edge when its bearing lies in that arc and its length is at
least the edge's distance from the site. Pairs are sorted by (site, quantised bearing) so each arc is a
``searchsorted`` range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

ORIENT_TOL = 1e-12  # relative margin of a decisive orientation sign
ANGLE_MARGIN = 1e-8  # radians added to both ends of an edge's arc
ON_EDGE_M = 1e-6  # a site this close to an edge sees it across the whole circle
QSCALE = float(2**32) / (2.0 * math.pi)  # bearing quantisation for the sort key
CHUNK = 2_000_000  # candidate (pair, edge) rows handled at once (memory bound)


@dataclass(frozen=True)
class Edges:
    """Every edge p -> q of the footprints, oriented with the interior on the left, grouped by footprint."""

    px: np.ndarray  # [E] float64
    py: np.ndarray
    qx: np.ndarray
    qy: np.ndarray
    ex: np.ndarray  # q - p (as computed: the same differences the orientation formula takes)
    ey: np.ndarray
    start: np.ndarray  # [n_buildings + 1] int64: footprint b owns edges start[b]:start[b+1]
    all_sides: np.ndarray  # [n_buildings] bool: test every edge (holes, invalid), not just those facing the site
    valid: np.ndarray  # [n_buildings] bool


def building_edges(geoms: np.ndarray) -> Edges:
    n = geoms.size
    valid = np.asarray(shapely.is_valid(geoms), dtype=bool) & (shapely.get_type_id(geoms) == 3)
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    rings, ring_bld = shapely.get_rings(oriented, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    p, q = coords[:-1][same], coords[1:][same]
    bld = ring_bld[ring_of[:-1][same]]
    start = np.searchsorted(bld, np.arange(n + 1)).astype(np.int64)
    holes = np.asarray(shapely.get_num_interior_rings(geoms)) > 0
    px, py = np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1])
    qx, qy = np.ascontiguousarray(q[:, 0]), np.ascontiguousarray(q[:, 1])
    return Edges(px, py, qx, qy, qx - px, qy - py, start, holes | ~valid, valid)


def _sign(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Decisive sign of ``left - right`` (+1, -1, or 0 when within the rounding margin)."""
    det = left - right
    tol = ORIENT_TOL * (np.abs(left) + np.abs(right))
    s: np.ndarray = (det > tol).astype(np.int8)
    s -= det < -tol
    return s


def _orient(
    ox: np.ndarray, oy: np.ndarray, ux: np.ndarray, uy: np.ndarray, vx: np.ndarray, vy: np.ndarray
) -> np.ndarray:
    """Decisive sign (+1 left, -1 right, 0 undecided) of v relative to the directed line o -> u."""
    return _sign((ux - ox) * (vy - oy), (uy - oy) * (vx - ox))


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): (range index, position) of every element."""
    counts = hi - lo
    rep = np.repeat(np.arange(lo.size), counts)
    pos = np.arange(rep.size) - np.repeat(np.cumsum(counts) - counts, counts) + lo[rep]
    return rep, pos


def line_of_sight_edges(
    sites_xy: np.ndarray,
    points_xy: np.ndarray,
    site_idx: np.ndarray,
    point_idx: np.ndarray,
    site_range: np.ndarray,
    tree: shapely.STRtree,
    reference: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """True for each (site, point) pair whose segment enters no footprint's interior (``tree`` holds the
    footprints); every pair is within ``site_range`` of its site. ``reference(site_idx, point_idx)`` is the shapely
    check, used for the pairs the orientation tests leave undecided."""
    n = site_idx.size
    geoms = np.asarray(tree.geometries)
    if n == 0 or geoms.size == 0:
        return np.ones(n, dtype=bool)
    edges = building_edges(geoms)
    n_sites = sites_xy.shape[0]
    # ends inside a (valid) footprint's interior: every such pair is blocked
    site_in = np.zeros(n_sites, dtype=bool)
    s_in, b_in = tree.query(shapely.points(sites_xy), predicate="within")
    site_in[s_in[edges.valid[b_in]]] = True
    pt_in = np.zeros(points_xy.shape[0], dtype=bool)
    p_in, b_in = tree.query(shapely.points(points_xy), predicate="within")
    pt_in[p_in[edges.valid[b_in]]] = True
    blocked = site_in[site_idx] | pt_in[point_idx]
    undecided = np.zeros(n, dtype=bool)
    # footprints near each site (that has pairs and is not inside one)
    used = np.zeros(n_sites, dtype=bool)
    used[site_idx] = True
    used &= ~site_in
    s_of = np.flatnonzero(used)
    sb_s, sb_b = tree.query(shapely.points(sites_xy[s_of]), predicate="dwithin", distance=site_range[s_of] + ON_EDGE_M)
    sb_s = s_of[sb_s]
    # an invalid footprint near a site: all its pairs go to shapely
    bad_site = np.zeros(n_sites, dtype=bool)
    bad_site[sb_s[~edges.valid[sb_b]]] = True
    undecided |= bad_site[site_idx]
    # pairs sorted by (site, quantised bearing); a zero-length segment gets the reference's 1 nm nudge east
    bx_all, by_all = points_xy[point_idx, 0], points_xy[point_idx, 1]
    same = (bx_all == sites_xy[site_idx, 0]) & (by_all == sites_xy[site_idx, 1])
    bx_all[same] += 1e-9
    d = points_xy[point_idx] - sites_xy[site_idx]
    dist = np.hypot(d[:, 0], d[:, 1])
    theta = np.arctan2(d[:, 1], d[:, 0])
    theta = np.where(theta < 0, theta + 2 * math.pi, theta)
    qb = np.minimum(np.floor(theta * QSCALE), 2.0**32).astype(np.int64)
    key = (site_idx.astype(np.int64) << 33) | qb
    order = np.argsort(key, kind="stable")
    skey = key[order]
    # (site, edge) rows: edges of the footprints near the site that face it (all edges of the odd ones)
    row_sb, e = _expand(edges.start[sb_b], edges.start[sb_b + 1])
    rs = sb_s[row_sb]
    all_sides = edges.all_sides[sb_b[row_sb]]
    del row_sb
    sx, sy = np.ascontiguousarray(sites_xy[:, 0]), np.ascontiguousarray(sites_xy[:, 1])
    px, py, ex, ey = edges.px[e], edges.py[e], edges.ex[e], edges.ey[e]
    dax, day = sx[rs] - px, sy[rs] - py
    left, right = ex * day, ey * dax  # o(p, q, a) = left - right; < 0: a on the exterior side
    keep = (left - right <= ORIENT_TOL * (np.abs(left) + np.abs(right))) | all_sides
    rs, e, px, py, ex, ey, dax, day, left, right = (v[keep] for v in (rs, e, px, py, ex, ey, dax, day, left, right))
    s3 = _sign(left, right)
    simple = ~all_sides[keep]
    del left, right, all_sides, keep
    # distance from the site to the edge
    ll = ex * ex + ey * ey
    t = np.clip(np.divide(dax * ex + day * ey, ll, out=np.zeros_like(ll), where=ll > 0), 0.0, 1.0)
    mind = np.hypot(t * ex - dax, t * ey - day)
    keep = mind <= site_range[rs] + ON_EDGE_M
    rs, e, px, py, ex, ey, s3, simple, mind = (v[keep] for v in (rs, e, px, py, ex, ey, s3, simple, mind))
    ax, ay = sx[rs], sy[rs]
    qx, qy = edges.qx[e], edges.qy[e]
    # the arc of bearings of the edge, seen from the site
    tp = np.arctan2(py - ay, px - ax)
    tq = np.arctan2(qy - ay, qx - ax)
    w = (tq - tp) % (2 * math.pi)
    short = w <= math.pi
    lo = np.where(short, tp, tq) % (2 * math.pi)
    width = np.where(short, w, 2 * math.pi - w)
    full = (mind <= ON_EDGE_M) | (np.abs(w - math.pi) < 1e-6)
    lo_r = np.where(full, 0.0, lo - ANGLE_MARGIN)
    hi_r = np.where(full, 2 * math.pi, lo + width + ANGLE_MARGIN)
    # split arcs that wrap around 0 into two
    wrap_lo = lo_r < 0
    wrap_hi = hi_r > 2 * math.pi
    row = np.arange(rs.size)
    seg_row = np.concatenate([row, row[wrap_lo], row[wrap_hi]])
    seg_lo = np.concatenate([np.maximum(lo_r, 0.0), lo_r[wrap_lo] + 2 * math.pi, np.zeros(int(wrap_hi.sum()))])
    seg_hi = np.concatenate(
        [np.minimum(hi_r, 2 * math.pi), np.full(int(wrap_lo.sum()), 2 * math.pi), hi_r[wrap_hi] - 2 * math.pi]
    )
    base = rs[seg_row].astype(np.int64) << 33
    klo = base | np.floor(seg_lo * QSCALE).astype(np.int64)
    khi = base | np.minimum(np.ceil(seg_hi * QSCALE), 2.0**32).astype(np.int64)
    first = np.searchsorted(skey, klo, side="left")
    last = np.searchsorted(skey, khi, side="right")
    counts = last - first
    # candidate (pair, edge) rows, in chunks of about CHUNK rows
    csum = np.cumsum(counts)
    i = 0
    while i < seg_row.size:
        j = max(i + 1, int(np.searchsorted(csum, (csum[i - 1] if i else 0) + CHUNK, side="right")))
        sr, pos = _expand(first[i:j], last[i:j])
        r = seg_row[i:j][sr]
        pair = order[pos]
        i = j
        ok = (mind[r] <= dist[pair] + ON_EDGE_M) & ~blocked[pair]
        r, pair = r[ok], pair[ok]
        bx, by = bx_all[pair], by_all[pair]
        rax, ray, rpx, rpy, rqx, rqy = ax[r], ay[r], px[r], py[r], qx[r], qy[r]
        s1 = _orient(rax, ray, bx, by, rpx, rpy)
        s2 = _orient(rax, ray, bx, by, rqx, rqy)
        s4 = _orient(rpx, rpy, rqx, rqy, bx, by)
        s12, s34 = s1 * s2, s3[r] * s4
        proper = (s12 == -1) & (s34 == -1)
        apart = (s12 == 1) | (s34 == 1)
        blocked[pair[proper & simple[r]]] = True
        # undecided, or a crossing of a footprint with holes or an invalid one (left to shapely: rare)
        undecided[pair[~apart & ~(proper & simple[r])]] = True
    undecided &= ~blocked
    clear: np.ndarray = ~blocked & ~undecided
    idx = np.flatnonzero(undecided)
    if idx.size:
        clear[idx] = reference(site_idx[idx], point_idx[idx])
    return clear
