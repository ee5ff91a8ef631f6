"""The numpy line of sight gives exactly the shapely reference's pairs (docs/design/planner.md, "Visibility").

Scenes on an integer grid are as degenerate as it gets (sight lines through vertices and along walls, ends on
boundaries, touching and overlapping footprints, courtyards, holes touching their shell, sites inside buildings):
there the orientation tests must hand the undecided pairs to shapely. Scenes in general position check the fast
path's own decisions, and the shipped extract checks both at scale (and that shapely is rarely needed).
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Polygon, box

from camgrid.config import PlannerConfig
from camgrid.geo.osm import load_city
from camgrid.planner.instance import build_instance
from camgrid.planner.sightlines import line_of_sight_edges
from camgrid.planner.visibility import compute_coverage, line_of_sight


def both(
    sites: np.ndarray,
    points: np.ndarray,
    buildings: list[Polygon],
    n_or: int = 4,
    fov: float = 90.0,
    rng: float = 60.0,
) -> None:
    """Coverage by both methods, with ``n_or`` orientations per site plus one all-round pose, must be equal."""
    n = sites.shape[0]
    pose_site = np.concatenate([np.repeat(np.arange(n), n_or), np.arange(n)])
    heading = np.concatenate([np.tile(np.arange(n_or) * (360.0 / n_or), n), np.zeros(n)])
    pose_fov = np.concatenate([np.full(n * n_or, fov), np.full(n, 360.0)])
    pose_range = np.concatenate([np.full(n * n_or, rng), np.full(n, rng * 0.75)])
    args = (sites, pose_site, heading, pose_fov, pose_range, points, buildings)
    new, ref = compute_coverage(*args, method="edges"), compute_coverage(*args, method="shapely")
    assert new.n_pairs == ref.n_pairs
    assert np.array_equal(new.pair_pose, ref.pair_pose)
    assert np.array_equal(new.pair_point, ref.pair_point)


GRID = st.integers(0, 12)


@st.composite
def footprint(draw: st.DrawFn) -> Polygon:
    kind = draw(st.sampled_from(["rect", "rect", "tri", "ell", "court", "touching_hole"]))
    x0, y0 = draw(GRID), draw(GRID)
    w, h = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    if kind == "rect":
        return box(x0, y0, x0 + w, y0 + h)
    if kind == "tri":
        pts = [(x0, y0), (draw(GRID), draw(GRID)), (draw(GRID), draw(GRID))]
        return Polygon(pts)
    if kind == "ell":  # concave: a notch where sight lines run along inner walls
        return Polygon(
            [(x0, y0), (x0 + 2 * w, y0), (x0 + 2 * w, y0 + h), (x0 + w, y0 + h), (x0 + w, y0 + 2 * h), (x0, y0 + 2 * h)]
        )
    if kind == "court":  # a closed courtyard
        return Polygon(
            box(x0, y0, x0 + 6, y0 + 6).exterior.coords, [box(x0 + 2, y0 + 2, x0 + 4, y0 + 4).exterior.coords]
        )
    # a hole touching its shell at one point (valid): sight lines through that point
    return Polygon(box(x0, y0, x0 + 6, y0 + 6).exterior.coords, [[(x0 + 3, y0), (x0 + 4, y0 + 2), (x0 + 2, y0 + 2)]])


def valid_only(polys: list[Polygon]) -> list[Polygon]:
    return [p for p in polys if p.is_valid and p.area > 0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blds=st.lists(footprint(), min_size=0, max_size=5),
    sites=st.lists(st.tuples(GRID, GRID), min_size=1, max_size=6),
    points=st.lists(st.tuples(GRID, GRID), min_size=1, max_size=20),
    scale=st.sampled_from([1.0, 0.5, 3.0]),
    offset=st.sampled_from([0.0, 4096.0, 250000.0]),
)
def test_degenerate_grid_scenes_match_the_reference(
    blds: list[Polygon], sites: list[tuple[int, int]], points: list[tuple[int, int]], scale: float, offset: float
) -> None:
    """Integer coordinates (scaled and shifted by exactly representable amounts) keep every degeneracy exact."""
    polys = [affinity.affine_transform(p, [scale, 0, 0, scale, offset, offset]) for p in valid_only(blds)]
    s = np.array(sites, dtype=float) * scale + offset
    p = np.array(points, dtype=float) * scale + offset
    both(s, p, polys, rng=15.0 * scale)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_blds=st.integers(0, 12),
    snap=st.booleans(),
)
def test_general_position_scenes_match_the_reference(seed: int, n_blds: int, snap: bool) -> None:
    """Random rotated rectangles and sites; ``snap`` puts some points exactly on building vertices and edges."""
    r = np.random.default_rng(seed)
    polys = []
    for _ in range(n_blds):
        c, (w, h), a = r.uniform(0, 100, 2), r.uniform(2, 20, 2), r.uniform(0, np.pi)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ rot.T + c
        polys.append(Polygon(corners))
    sites = r.uniform(-10, 110, (8, 2))
    points = r.uniform(-10, 110, (60, 2))
    if snap and polys:
        ring = np.asarray(polys[0].exterior.coords)
        points[:4] = ring[:4]  # on vertices
        points[4:8] = (ring[:4] + ring[1:5]) / 2  # (nearly) on edges
        sites[0] = ring[0]
    both(sites, points, polys, n_or=6, fov=70.0, rng=80.0)


def test_special_cases_match_the_reference() -> None:
    wall = box(10, 0, 20, 10)
    terrace = [box(0, 20, 10, 30), box(10, 20, 20, 30), box(20, 22, 30, 28)]  # shared and partly shared walls
    holed = Polygon(box(40, 0, 60, 20).exterior.coords, [[(50, 0), (55, 8), (45, 8)]])  # hole touches the shell
    blds = [wall, *terrace, holed]
    sites = np.array([[0, 0], [15, 5], [10, 0], [5, 25], [50, -10], [50, 0], [0, 10], [-5, 25], [30, 25]], dtype=float)
    points = np.array(
        [[30, 0], [30, 10], [20, 10], [25, 5], [15, 5], [50, 20], [50, 4], [50, 10], [0, 0], [35, 25], [25, 25]],
        dtype=float,
    )
    both(sites, points, blds)
    both(sites, points, [])  # no buildings
    both(sites[:1], sites[:1], [wall])  # a point on the site: zero-length sight line
    both(np.array([[15.0, 5.0]]), np.array([[15.0, 5.0], [40.0, 5.0]]), [wall])  # site inside: sees nothing
    # a site 0.5 nm west of a wall on a point of its own: the reference nudges the end 1 nm east, into the wall
    both(np.array([[10.0 - 5e-10, 5.0]]), np.array([[10.0 - 5e-10, 5.0]]), [wall])
    # a wall at the very end of the range hides a point just inside it
    both(np.array([[0.0, 5.0]]), np.array([[59.9, 5.0], [59.9, 30.0]]), [box(59.5, 0, 59.8, 10)], rng=60.0)
    bow = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # invalid (self-crossing): all to shapely
    both(np.array([[-5.0, 5.0], [5.0, 2.0]]), np.array([[15.0, 5.0], [5.0, 8.0], [5.0, 1.0]]), [bow, wall])


def test_shipped_extract_matches_the_reference_and_rarely_needs_shapely() -> None:
    """The whole Kathmandu instance (about 55k poses): identical pairs, and nearly every pair decided in numpy."""
    pi = build_instance(load_city(), PlannerConfig())
    sites_xy = np.array([(s.x, s.y) for s in pi.sites], dtype=float)
    points_xy = np.array([(p.x, p.y) for p in pi.points], dtype=float)
    blds = [b.polygon for b in pi.city.buildings]
    ref = compute_coverage(
        sites_xy, pi.pose_site, pi.pose_heading, pi.pose_fov, pi.pose_range, points_xy, blds, method="shapely"
    )
    assert np.array_equal(pi.instance.coverage.pair_pose, ref.pair_pose)
    assert np.array_equal(pi.instance.coverage.pair_point, ref.pair_point)
    # how many pairs go to shapely
    site_range = np.zeros(sites_xy.shape[0])
    np.maximum.at(site_range, pi.pose_site, pi.pose_range)
    tree = shapely.STRtree(blds)
    s_idx, p_idx = shapely.STRtree(shapely.points(points_xy)).query(
        shapely.points(sites_xy), predicate="dwithin", distance=site_range
    )
    asked: list[int] = []

    def reference(si: np.ndarray, pj: np.ndarray) -> np.ndarray:
        asked.append(si.size)
        return line_of_sight(sites_xy, points_xy, si, pj, blds, tree)

    line_of_sight_edges(sites_xy, points_xy, s_idx, p_idx, site_range, tree, reference)
    assert sum(asked) < 0.01 * s_idx.size
