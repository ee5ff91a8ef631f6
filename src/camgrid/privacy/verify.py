"""Is a camera-side mask really burned in? The check of one decoded picture's masked areas (pure, numpy only).

A camera that masks fills each polygon with one colour before encoding; after encoding the area is still flat (the
encoder spends no bits on it) except at its edges, where blocks straddle the boundary. So each polygon, inset by a
few pixels, must be uniform in luma (nearly every pixel within a few levels of the area's median, low spread) and
its median colour must be the colour camgrid asked for: a flat area of another colour (a wall, the sky at night, a
magenta test pattern) is not the mask. Thresholds and the evidence behind them: docs/design/camera-side-masks.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Measured on the simulator's clips (640x360 H.264, ultrafast, 800 kbit/s, 100 pictures): inside a burned mask
# (inset 6 px) at least 99.98% of luma samples lie within 4 levels of the median and the spread is at most 0.19;
# over unmasked moving content (testsrc2) the share is 33-83% and the spread 11-27. The thresholds sit between
# with a wide margin on both sides.
UNIFORM_SHARE = 0.99  # share of the area's luma samples within UNIFORM_LEVELS of its median
UNIFORM_LEVELS = 4
MAX_STD = 3.0  # luma standard deviation
COLOR_LEVELS = 12  # |median - asked| per plane (Y, Cb, Cr): encoders and range conversions shift a flat colour a bit
INSET_PX = 6  # pixels taken off each polygon's edge (blocks straddling the edge blur it)
MIN_PIXELS = 16  # an area smaller than this after the inset cannot be judged: it passes on the colour alone


@dataclass(frozen=True)
class AreaVerdict:
    ok: bool
    share: float
    std: float
    median: tuple[float, float, float]
    reason: str


def inset(mask: NDArray[np.bool_], px: int = INSET_PX) -> NDArray[np.bool_]:
    """``mask`` eroded by ``px`` pixels (4-neighbour steps): the area's inside, away from encoded edges."""
    m = mask.copy()
    for _ in range(px):
        e = m.copy()
        e[1:] &= m[:-1]
        e[:-1] &= m[1:]
        e[:, 1:] &= m[:, :-1]
        e[:, :-1] &= m[:, 1:]
        m = e
    return m


def check_area(
    y: NDArray[np.uint8],
    u: NDArray[np.uint8],
    v: NDArray[np.uint8],
    area: NDArray[np.bool_],
    color: tuple[float, float, float],
) -> AreaVerdict:
    """Judge one polygon's area (``area``: luma-sized, already inset) against the asked ``color`` (Y, Cb, Cr)."""
    if area.shape != y.shape:
        raise ValueError(f"area {area.shape} and picture {y.shape} differ")
    h, w = area.shape
    carea = area[: h // 2 * 2 : 2, : w // 2 * 2 : 2][: u.shape[0], : u.shape[1]]
    lum = y[area].astype(np.int16)
    if lum.size == 0:
        return AreaVerdict(False, 0.0, 0.0, (0.0, 0.0, 0.0), "the area is empty at this resolution")
    med_y = float(np.median(lum))
    cb = u[carea] if carea.any() else u.reshape(-1)[:0]
    cr = v[carea] if carea.any() else v.reshape(-1)[:0]
    med = (med_y, float(np.median(cb)) if cb.size else color[1], float(np.median(cr)) if cr.size else color[2])
    share = float(np.mean(np.abs(lum - med_y) <= UNIFORM_LEVELS))
    std = float(lum.std())
    if any(abs(m - c) > COLOR_LEVELS for m, c in zip(med, color, strict=True)):
        got = "/".join(f"{m:.0f}" for m in med)
        want = "/".join(f"{c:.0f}" for c in color)
        return AreaVerdict(False, share, std, med, f"area colour {got} is not the mask colour {want} (YCbCr)")
    if lum.size >= MIN_PIXELS and (share < UNIFORM_SHARE or std > MAX_STD):
        why = f"area not uniform ({share:.1%} within {UNIFORM_LEVELS} levels, sd {std:.1f})"
        return AreaVerdict(False, share, std, med, why)
    return AreaVerdict(True, share, std, med, "")
