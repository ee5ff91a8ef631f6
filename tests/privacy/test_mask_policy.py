"""Which mask edits need a second person (docs/design/privacy-masks.md): an edit that uncovers any part of the
masked area is a reduction, whatever else it adds; an edit that covers the old area applies at once. Finding 1 of
issue 13: an empty list or a tiny triangle replaced a mask with no second person."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from camgrid.privacy.policy import UNCOVERED_EPSILON, MaskChange, classify, needs_second_person

QUARTER = box(0.5, 0.0, 1.0, 0.5)
HALF = box(0.0, 0.0, 1.0, 0.5)
TINY = Polygon([(0.5, 0.0), (0.5001, 0.0), (0.5, 0.0001)])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([], [QUARTER], MaskChange.SAME_OR_GROWN),  # a first mask
        ([], [], MaskChange.SAME_OR_GROWN),
        ([QUARTER], [QUARTER], MaskChange.SAME_OR_GROWN),  # unchanged
        ([QUARTER], [HALF], MaskChange.SAME_OR_GROWN),  # grown
        ([QUARTER], [box(0.5, 0.0, 0.75, 0.5), box(0.75, 0.0, 1.0, 0.5)], MaskChange.SAME_OR_GROWN),  # split in two
        ([QUARTER, TINY], [QUARTER], MaskChange.SAME_OR_GROWN),  # a polygon inside another dropped: nothing uncovered
        ([QUARTER], [], MaskChange.REMOVED),
        ([QUARTER], [TINY], MaskChange.REDUCED),  # the finding: a tiny triangle
        ([HALF], [QUARTER], MaskChange.REDUCED),
        ([QUARTER], [box(0.5, 0.0, 1.0, 0.499999)], MaskChange.REDUCED),  # one coordinate moved by 1e-6
        ([QUARTER], [box(0.0, 0.5, 0.5, 1.0)], MaskChange.REDUCED),  # moved elsewhere: the old place is visible
        ([QUARTER], [HALF.difference(box(0.7, 0.1, 0.8, 0.2))], MaskChange.REDUCED),  # grown, with a hole cut
        ([QUARTER, box(0.0, 0.5, 0.5, 1.0)], [QUARTER], MaskChange.REDUCED),  # one of two dropped
    ],
)
def test_table(old: list[Polygon], new: list[Polygon], expected: MaskChange) -> None:
    assert classify(old, new) is expected
    assert needs_second_person(old, new) is (expected is not MaskChange.SAME_OR_GROWN)


coord = st.floats(0.0, 1.0, allow_nan=False).map(lambda v: round(v, 6))  # as the service stores them


@st.composite
def boxes(draw: st.DrawFn) -> Polygon:
    x0, x1 = sorted((draw(coord), draw(coord)))
    y0, y1 = sorted((draw(coord), draw(coord)))
    return box(x0, y0, max(x1, x0 + 0.001), max(y1, y0 + 0.001))


masks = st.lists(boxes(), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(masks, masks)
def test_adding_polygons_never_needs_a_second_person(old: list[Polygon], extra: list[Polygon]) -> None:
    assert classify(old, old + extra) is MaskChange.SAME_OR_GROWN


@settings(max_examples=200, deadline=None)
@given(masks, boxes())
def test_cutting_a_visible_piece_out_always_does(old: list[Polygon], cut: Polygon) -> None:
    from shapely import union_all

    union = union_all(old)
    lost = union.intersection(cut).area
    remaining = union.difference(cut)
    new = [g for g in getattr(remaining, "geoms", [remaining]) if isinstance(g, Polygon) and not g.is_empty]
    expected = lost > UNCOVERED_EPSILON * 10
    if expected:
        assert classify(old, new) in (MaskChange.REDUCED, MaskChange.REMOVED)
    elif lost == 0:
        assert classify(old, new) is MaskChange.SAME_OR_GROWN


@settings(max_examples=100, deadline=None)
@given(masks)
def test_removing_everything_is_a_removal(old: list[Polygon]) -> None:
    assert classify(old, []) is MaskChange.REMOVED
