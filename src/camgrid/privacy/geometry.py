"""Mask geometry (pure): polygons in normalised image coordinates, validated, rasterised per plane.

Coordinates are fractions of the picture (x right, y down, 0..1) so that a mask survives a change of resolution and
applies to a camera's main stream and substream alike (as ONVIF Media2 masks do).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from camgrid.privacy.errors import MaskError

MAX_POLYGONS = 32
MAX_POINTS = 256


def validate(polygons: Sequence[Sequence[Sequence[float]]]) -> list[Polygon]:
    """Polygons as shapely objects, or a :class:`MaskError` naming the first bad one."""
    if not isinstance(polygons, Sequence) or isinstance(polygons, str):
        raise MaskError("a mask is a list of polygons")
    if len(polygons) > MAX_POLYGONS:
        raise MaskError(f"at most {MAX_POLYGONS} polygons per camera")
    out = []
    for i, poly in enumerate(polygons, start=1):
        try:
            pts = [(float(p[0]), float(p[1])) for p in poly]
        except (TypeError, ValueError, IndexError):
            raise MaskError(f"polygon {i}: points must be [x, y] numbers") from None
        if not 3 <= len(pts) <= MAX_POINTS:
            raise MaskError(f"polygon {i}: needs 3 to {MAX_POINTS} points, has {len(pts)}")
        if any(not (np.isfinite(x) and np.isfinite(y)) for x, y in pts):
            raise MaskError(f"polygon {i}: coordinates must be finite")
        if any(not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) for x, y in pts):
            raise MaskError(f"polygon {i}: coordinates are fractions of the picture, between 0 and 1")
        shape = Polygon(pts)
        if not shape.is_valid:
            raise MaskError(f"polygon {i}: {explain_validity(shape)}")
        if shape.area <= 0:
            raise MaskError(f"polygon {i}: has no area")
        out.append(shape)
    return out


def raster(polygons: Sequence[Polygon], width: int, height: int) -> NDArray[np.bool_]:
    """True for every pixel whose area touches a polygon (conservative: a pixel half covered is masked)."""
    mask = np.zeros((height, width), dtype=bool)
    if not polygons:
        return mask
    union = shapely.union_all([p.buffer(0.75 / max(width, height)) for p in polygons])
    minx, miny, maxx, maxy = union.bounds
    x0, x1 = max(0, int(minx * width) - 1), min(width, int(np.ceil(maxx * width)) + 1)
    y0, y1 = max(0, int(miny * height) - 1), min(height, int(np.ceil(maxy * height)) + 1)
    if x1 <= x0 or y1 <= y0:
        return mask
    xs = (np.arange(x0, x1) + 0.5) / width
    ys = (np.arange(y0, y1) + 0.5) / height
    gx, gy = np.meshgrid(xs, ys)
    mask[y0:y1, x0:x1] = shapely.contains_xy(union, gx, gy)
    return mask


def chroma(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The 4:2:0 chroma mask: a chroma sample is masked when any of its four luma pixels is."""
    h, w = mask.shape
    m = np.zeros(((h + 1) // 2 * 2, (w + 1) // 2 * 2), dtype=bool)
    m[:h, :w] = mask
    return m[0::2, 0::2] | m[1::2, 0::2] | m[0::2, 1::2] | m[1::2, 1::2]
