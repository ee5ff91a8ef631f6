"""Which mask edits need a second person (pure): an edit that uncovers any part of the masked area is a reduction.

Shrinking a mask is removing part of it, so it is held for a second person exactly like a removal; an edit whose new
area covers the old one (unchanged, grown, reshaped around it) applies at once. Areas are fractions of the picture
(the whole frame is 1.0). Design note: docs/design/privacy-masks.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import shapely
import shapely.errors
from shapely.geometry import Polygon

# An uncovered area larger than this share of the frame is a reduction. Far below one pixel even at 8K (33 Mpx:
# 0.03 px), far above the noise of shapely's overlay on identical shapes (about 1e-17): a change of one stored
# coordinate (6 decimals) uncovers more than this, and slicing a mask away by sub-epsilon edits would take millions
# of audited edits.
UNCOVERED_EPSILON = 1e-9


class MaskChange(StrEnum):
    """What an edit does to the masked area."""

    SAME_OR_GROWN = "same_or_grown"  # the new area covers the old: applies at once
    REDUCED = "reduced"  # part of the old area would be visible: needs a second person
    REMOVED = "removed"  # no mask left: needs a second person


# Overlays are computed on this grid: stored coordinates have 6 decimals, so they lie on it and snapping changes
# nothing, while GEOS's floating-point overlay is kept from failing on near-degenerate input.
GRID = 1e-9


def uncovered_area(old: Sequence[Polygon], new: Sequence[Polygon]) -> float:
    """The share of the frame masked by ``old`` and not by ``new``; the whole old area when it cannot be computed
    (fail closed: an edit whose effect is unknown is treated as a reduction)."""
    if not old:
        return 0.0
    try:
        old_union = shapely.union_all(list(old), grid_size=GRID)
        if not new:
            return float(old_union.area)
        return float(old_union.difference(shapely.union_all(list(new), grid_size=GRID), grid_size=GRID).area)
    except shapely.errors.GEOSException:
        return float(sum(p.area for p in old))


def classify(old: Sequence[Polygon], new: Sequence[Polygon]) -> MaskChange:
    """The kind of an edit from ``old`` to ``new`` polygons (both validated)."""
    if old and not new:
        return MaskChange.REMOVED
    if uncovered_area(old, new) > UNCOVERED_EPSILON:
        return MaskChange.REDUCED
    return MaskChange.SAME_OR_GROWN


def needs_second_person(old: Sequence[Polygon], new: Sequence[Polygon]) -> bool:
    return classify(old, new) is not MaskChange.SAME_OR_GROWN
