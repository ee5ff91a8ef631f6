"""A camera's own privacy masks over ONVIF Media2 (GetMaskOptions, GetMasks, CreateMask, DeleteMask).

camgrid's mask geometry is fractions of the picture (x right, y down, 0..1); ONVIF's is normalised coordinates
(x right, y up, -1..1; ONVIF Core 5.1.2.2). Everything a camera answers is bounded and checked before use: a camera
listing thousands of masks or points, or non-numbers, gets an :class:`OnvifError`, never a crash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from camgrid.onvif.connect import OnvifError

YCBCR = "http://www.onvif.org/ver10/colorspace/YCbCr"
MAX_MASKS_READ = 64
MAX_POINTS_READ = 256
MATCH_TOLERANCE = 2e-3  # ONVIF floats round-trip through text: a listed point this close is the point camgrid set

Ring = list[list[float]]  # [[x, y], ...] fractions of the picture, y down


@dataclass(frozen=True)
class CameraMask:
    """One mask as the camera lists it."""

    token: str
    config_token: str
    points: tuple[tuple[float, float], ...]  # ONVIF normalised (-1..1, y up)
    kind: str  # Color | Pixelated | Blurred
    color: tuple[float, float, float] | None  # YCbCr when the camera says so
    enabled: bool


@dataclass(frozen=True)
class MaskOptions:
    max_masks: int
    max_points: int
    types: tuple[str, ...]
    rectangle_only: bool


def to_onvif(ring: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    """A polygon in fractions of the picture (y down) as ONVIF normalised points (y up)."""
    return tuple((round(2.0 * float(x) - 1.0, 6), round(1.0 - 2.0 * float(y), 6)) for x, y in ring)


def from_onvif(points: Sequence[tuple[float, float]]) -> Ring:
    """ONVIF normalised points as a polygon in fractions of the picture (clamped to the picture)."""
    return [
        [min(1.0, max(0.0, round((x + 1.0) / 2.0, 6))), min(1.0, max(0.0, round((1.0 - y) / 2.0, 6)))]
        for x, y in points
    ]


def _num(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise OnvifError(f"the camera sent a {what} that is not a number") from None
    if not math.isfinite(out):
        raise OnvifError(f"the camera sent a {what} that is not finite")
    return out


def _mask(raw: Any) -> CameraMask:
    poly = getattr(raw, "Polygon", None)
    pts = list(getattr(poly, "Point", None) or [])
    if not 3 <= len(pts) <= MAX_POINTS_READ:
        raise OnvifError(f"the camera listed a mask with {len(pts)} points")
    points = tuple((_num(p.x, "mask point"), _num(p.y, "mask point")) for p in pts)
    c = getattr(raw, "Color", None)
    color = None
    if c is not None and (getattr(c, "Colorspace", None) in (None, YCBCR)):
        color = (_num(c.X, "mask colour"), _num(c.Y, "mask colour"), _num(c.Z, "mask colour"))
    return CameraMask(
        token=str(getattr(raw, "token", "") or "")[:64],
        config_token=str(getattr(raw, "ConfigurationToken", "") or "")[:64],
        points=points,
        kind=str(getattr(raw, "Type", "") or "")[:32],
        color=color,
        enabled=bool(getattr(raw, "Enabled", False)),
    )


def video_source_token(client: Any) -> str:
    """The token of the camera's first video source configuration (what its masks belong to)."""
    try:
        configs = client.media2().GetVideoSourceConfigurations()
    except Exception as exc:
        raise OnvifError(f"GetVideoSourceConfigurations failed: {str(exc)[:200]}") from None
    if not configs:
        raise OnvifError("the camera has no video source configuration")
    return str(configs[0].token)[:64]


def mask_options(client: Any, config_token: str) -> MaskOptions | None:
    """What masks the camera can hold, or None when it has no Media2 masks (no Media2, or the operation refused)."""
    try:
        opts = client.media2().GetMaskOptions(ConfigurationToken=config_token)
    except Exception:
        return None
    if opts is None:
        return None
    types = tuple(str(t)[:32] for t in list(getattr(opts, "Types", None) or [])[:8])
    return MaskOptions(
        max_masks=int(_num(getattr(opts, "MaxMasks", 0), "MaxMasks")),
        max_points=int(_num(getattr(opts, "MaxPoints", 0), "MaxPoints")),
        types=types,
        rectangle_only=bool(getattr(opts, "RectangleOnly", False)),
    )


def read_masks(client: Any) -> list[CameraMask]:
    try:
        raw = client.media2().GetMasks()
    except Exception as exc:
        raise OnvifError(f"GetMasks failed: {str(exc)[:200]}") from None
    items = list(raw or [])
    if len(items) > MAX_MASKS_READ:
        raise OnvifError(f"the camera listed {len(items)} masks")
    return [_mask(m) for m in items]


def create_mask(client: Any, config_token: str, points: Sequence[tuple[float, float]], color: Sequence[float]) -> str:
    mask = {
        "ConfigurationToken": config_token,
        "Polygon": {"Point": [{"x": x, "y": y} for x, y in points]},
        "Type": "Color",
        "Color": {"X": color[0], "Y": color[1], "Z": color[2], "Colorspace": YCBCR},
        "Enabled": True,
    }
    try:
        token = client.media2().CreateMask(Mask=mask)
    except Exception as exc:
        raise OnvifError(f"CreateMask failed: {str(exc)[:200]}") from None
    return str(token)[:64]


def delete_mask(client: Any, token: str) -> None:
    try:
        client.media2().DeleteMask(Token=token)
    except Exception as exc:
        raise OnvifError(f"DeleteMask failed: {str(exc)[:200]}") from None


def mismatch(listed: Sequence[CameraMask], expected: Sequence[Sequence[tuple[float, float]]]) -> str | None:
    """Why the camera's enabled colour masks are not exactly ``expected`` (ONVIF points), or None when they are."""
    shown = sorted(m.points for m in listed if m.enabled and m.kind == "Color")
    want = sorted(tuple(p) for p in expected)
    if len(shown) != len(want):
        return f"the camera lists {len(shown)} enabled masks, camgrid set {len(want)}"
    for i, (a, b) in enumerate(zip(shown, want, strict=True), start=1):
        if len(a) != len(b) or any(
            abs(p[0] - q[0]) > MATCH_TOLERANCE or abs(p[1] - q[1]) > MATCH_TOLERANCE for p, q in zip(a, b, strict=True)
        ):
            return f"mask {i} on the camera is not the one camgrid set"
    return None
