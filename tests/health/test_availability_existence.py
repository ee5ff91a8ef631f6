"""Availability counts only the time a camera existed and was not in maintenance (issue 16, docs/design/reports.md):
one definition, :func:`camgrid.health.reports.availability`, behind the table, the chart's legend and the CSV.

The old definition took every camera's whole period as its denominator: a camera installed at hour 23 of a day
was "available" for the 23 hours before it existed (so the table said 99.92% while the chart, whose last bucket
knew better, said 92.3%)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.health import reports as r
from camgrid.health.reports import CameraInfo, GapSpan, IncidentSpan

M = 60 * r.NS
H = 60 * M


@pytest.mark.parametrize(
    ("since", "gaps", "maint", "expected_min", "down_min", "avail"),
    [
        # existed all day, never dark
        (0, [], [], 1440, 0, 1.0),
        # installed at 23:00, dark for the last 30 minutes: half of its one hour, not 30/1440
        (23 * H, [(23 * H + 30 * M, 24 * H)], [], 60, 30, 0.5),
        # installed before the period: counted from the period's start
        (-5 * H, [(0, 60 * M)], [], 1440, 60, 1 - 60 / 1440),
        # installed after the period: no camera time, no availability (not 100%)
        (30 * H, [], [], 0, 0, None),
        # never seen in the recording index: not counted as available
        (None, [], [], 0, 0, None),
        # maintenance before it existed does not shrink the denominator twice
        (12 * H, [(18 * H, 19 * H)], [(6 * H, 13 * H)], 11 * 60, 60, 1 - 60 / 660),
        # in maintenance for all of its existence: nothing expected
        (20 * H, [(20 * H, 24 * H)], [(20 * H, 24 * H)], 0, 0, None),
        # an open gap runs to the period's end
        (22 * H, [(23 * H, None)], [], 120, 60, 0.5),
    ],
)
def test_availability_table(
    since: int | None,
    gaps: list[tuple[int, int | None]],
    maint: list[tuple[int, int]],
    expected_min: float,
    down_min: float,
    avail: float | None,
) -> None:
    cam = CameraInfo("a", "S1", "F1", "D1", "U1", since)
    [row] = r.availability(
        [cam],
        [GapSpan("a", s, e, "unreachable") for s, e in gaps],
        [IncidentSpan("a", "maintenance", s, e) for s, e in maint],
        0,
        24 * H,
        "camera",
    )
    assert row.expected_s / 60 == pytest.approx(expected_min)
    assert row.down_s / 60 == pytest.approx(down_min)
    if avail is None:
        assert row.availability is None and row.as_dict()["availability"] is None
    else:
        assert row.availability == pytest.approx(avail)


def test_issue_example_new_camera_in_a_district() -> None:
    """Eleven cameras all day plus one installed at 23:00 and dark for its first 50 minutes: the district is not
    99.94% available (the old answer: 50 of 12 x 1440 camera-minutes), but 1 - 50/(11 x 1440 + 60)."""
    cams = [CameraInfo(f"c{i}", "S", "F", "D", "U", 0) for i in range(11)] + [
        CameraInfo("new", "S", "F", "D", "U", 23 * H)
    ]
    gaps = [GapSpan("new", 23 * H, 23 * H + 50 * M, "unreachable")]
    [row] = r.availability(cams, gaps, [], 0, 24 * H, "district")
    assert row.availability == pytest.approx(1 - 50 / (11 * 1440 + 60))
    assert row.cameras == 12 and row.exist_s == pytest.approx((11 * 1440 + 60) * 60)


def test_uplink_grouping() -> None:
    cams = [CameraInfo("a", "S1", "F1", "D1", "U1", 0), CameraInfo("b", "S2", "F1", "D1", "U2", 0)]
    rows = r.availability(cams, [GapSpan("b", 0, 30 * M, "unreachable")], [], 0, H, "uplink")
    assert [(x.key, x.availability) for x in rows] == [("U2", 0.5), ("U1", 1.0)]


def test_series_is_none_before_the_camera_existed_and_period_agrees() -> None:
    cam = [CameraInfo("a", "S1", "F1", "D1", "U1", 40 * M)]
    gaps = [GapSpan("a", 50 * M, 60 * M, "unreachable")]
    s = r.availability_series(cam, gaps, [], 0, 60 * M, 20 * M, "camera")
    assert s["a"] == [None, None, 0.5]


spans = st.tuples(st.integers(0, 100), st.integers(1, 60)).map(lambda t: (t[0] * M, (t[0] + t[1]) * M))


@settings(max_examples=150, deadline=None)
@given(
    since=st.one_of(st.none(), st.integers(-50, 150)),
    gaps=st.lists(spans, max_size=5),
    maint=st.lists(spans, max_size=3),
    cut=st.integers(1, 99),
)
def test_availability_properties(
    since: int | None, gaps: list[tuple[int, int]], maint: list[tuple[int, int]], cut: int
) -> None:
    """Whatever the gaps and windows: 0 <= availability <= 1; down + maintenance-dark time fits in the existing
    time; and the expected time of two adjacent periods adds up to the whole period's (the chart's buckets and the
    table's period use one definition)."""
    cam = [CameraInfo("a", "S", "F", "D", "U", None if since is None else since * M)]
    g = [GapSpan("a", s, e, "unreachable") for s, e in r.merge(gaps)]
    w = [IncidentSpan("a", "maintenance", s, e) for s, e in maint]
    [whole] = r.availability(cam, g, w, 0, 100 * M, "camera")
    [left] = r.availability(cam, g, w, 0, cut * M, "camera")
    [right] = r.availability(cam, g, w, cut * M, 100 * M, "camera")
    a = whole.availability
    assert a is None or 0.0 <= a <= 1.0
    assert whole.down_s <= whole.expected_s + 1e-6
    assert whole.exist_s <= 100 * 60 + 1e-6
    assert left.expected_s + right.expected_s == pytest.approx(whole.expected_s)
    assert left.down_s + right.down_s == pytest.approx(whole.down_s)
    if since is None or since >= 100:
        assert a is None
