"""Visibility on hand-made geometries with known answers, and properties (docs/design/planner.md, "Visibility")."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from camgrid.planner.visibility import cached_coverage, compute_coverage, view_polygon


def sees(
    cam: tuple[float, float],
    heading: float,
    points: list[tuple[float, float]],
    buildings: list[Polygon],
    fov: float = 90.0,
    rng: float = 60.0,
) -> list[bool]:
    cov = compute_coverage(
        np.array([cam], dtype=float),
        np.array([0]),
        np.array([heading]),
        np.array([fov]),
        np.array([rng]),
        np.array(points, dtype=float),
        buildings,
    )
    seen = set(cov.points_of(0).tolist())
    return [i in seen for i in range(len(points))]


def test_point_behind_a_building_is_hidden() -> None:
    wall = box(20, -5, 30, 5)
    assert sees((0, 0), 90.0, [(40, 0), (40, 20), (15, 0)], [wall]) == [False, True, True]


def test_corner_grazing_sight_line_is_not_blocked() -> None:
    # the building's bottom edge lies on y = 0: a sight line along it touches the wall but never enters the building
    b = box(10, 0, 20, 10)
    assert sees((0, 0), 90.0, [(30, 0), (30, 0.5), (30, -0.5)], [b]) == [True, False, True]


def test_point_around_a_corner_is_hidden_until_the_line_clears_it() -> None:
    b = box(10, 0, 20, 10)
    # from (0, 12) the line over the far roof corner (20, 10) reaches x = 30 at y = 9
    assert sees((0, 12), 95.0, [(30, 9.5), (30, 9.0), (30, 8.5), (15, 11)], [b]) == [True, True, False, True]


def test_courtyard_closed_and_open() -> None:
    closed = box(0, 0, 40, 40).difference(box(10, 10, 30, 30))
    assert sees((-20, 20), 90.0, [(20, 20)], [closed]) == [False]
    assert sees((15, 15), 45.0, [(20, 20)], [closed]) == [True]  # camera in the courtyard
    opened = closed.difference(box(-1, 15, 11, 25))  # a passage on the west side
    assert opened.geom_type == "Polygon"
    assert sees((-20, 20), 90.0, [(20, 20), (25, 12)], [opened]) == [True, False]


def test_point_inside_a_building_is_never_seen() -> None:
    b = box(10, -5, 20, 5)
    assert sees((0, 0), 90.0, [(15, 0)], [b]) == [False]


def test_range_limit() -> None:
    assert sees((0, 0), 0.0, [(0, 60.0), (0, 60.01), (0, 59.99)], []) == [True, False, True]


def test_field_of_view_edge() -> None:
    # heading north, 90° fov: bearing 45° is on the edge (inside), 45.2° is outside
    a = math.radians(45.2)
    pts = [(10.0, 10.0), (-10.0, 10.0), (20 * math.sin(a), 20 * math.cos(a)), (0.0, -10.0)]
    assert sees((0, 0), 0.0, pts, []) == [True, True, False, False]


def test_heading_wraps_around_north() -> None:
    pts = [(-3.0, 10.0), (1.0, 10.0), (3.0, 10.0)]  # bearings 343.3, 5.7, 16.7
    assert sees((0, 0), 350.0, pts, [], fov=40.0) == [True, True, False]
    assert sees((0, 0), 330.0, pts, [], fov=40.0) == [True, False, False]


def test_view_polygon_is_cut_by_buildings() -> None:
    free = view_polygon(0, 0, 90.0, 90.0, 60.0, [])
    cut = view_polygon(0, 0, 90.0, 90.0, 60.0, [box(20, -5, 30, 5)])
    assert free.area == pytest.approx(math.pi * 60**2 / 4, rel=0.01)
    assert cut.area < free.area - 100
    assert not cut.contains(box(35, -1, 40, 1))  # the shadow behind the building


def test_cache_round_trip(tmp_path: Path) -> None:
    args = (
        np.array([[0.0, 0.0], [10.0, 0.0]]),
        np.array([0, 0, 1]),
        np.array([0.0, 90.0, 180.0]),
        np.array([90.0, 90.0, 90.0]),
        np.array([60.0, 60.0, 60.0]),
        np.array([[0.0, 10.0], [20.0, 0.0], [10.0, -10.0]]),
    )
    blds = [box(3, 3, 5, 5)]
    first, hit1 = cached_coverage(*args, blds, tmp_path)
    second, hit2 = cached_coverage(*args, blds, tmp_path)
    assert (hit1, hit2) == (False, True)
    assert np.array_equal(first.pair_pose, second.pair_pose) and np.array_equal(first.pair_point, second.pair_point)
    _moved, hit3 = cached_coverage(*args, [box(3, 3, 6, 5)], tmp_path)
    assert hit3 is False  # another input, another key


coords = st.floats(-80, 80, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    cam=st.tuples(coords, coords),
    heading=st.floats(0, 359.9),
    fov=st.floats(10, 360),
    rng=st.floats(5, 100),
    pts=st.lists(st.tuples(coords, coords), min_size=1, max_size=25),
    blds=st.lists(st.tuples(coords, coords, st.floats(1, 30), st.floats(1, 30)), max_size=6),
)
def test_properties_match_geometry_and_buildings_only_hide(
    cam: tuple[float, float],
    heading: float,
    fov: float,
    rng: float,
    pts: list[tuple[float, float]],
    blds: list[tuple[float, float, float, float]],
) -> None:
    buildings = [box(x, y, x + w, y + h) for x, y, w, h in blds]
    free = sees(cam, heading, pts, [], fov=fov, rng=rng)
    blocked = sees(cam, heading, pts, buildings, fov=fov, rng=rng)
    for (px, py), f, b in zip(pts, free, blocked, strict=True):
        dx, dy = px - cam[0], py - cam[1]
        d = math.hypot(dx, dy)
        bearing = math.degrees(math.atan2(dx, dy)) % 360
        off = abs((bearing - heading + 180) % 360 - 180)
        # without buildings: exactly range and field of view (away from the edges, where rounding decides)
        if abs(d - rng) > 1e-6 and abs(off - fov / 2) > 1e-6 and d > 0.3:
            assert f == (d <= rng and off <= fov / 2)
        # buildings only ever hide
        assert not (b and not f)
