"""A small hand-made city for the incident tests.

12 sites of 4 cameras (48 cameras). Feeder of site i is F{i // 4}; uplink of site i is U{i % 3}, so every feeder
spans all three uplinks and every uplink spans all three feeders, as in a real city.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from camgrid.health.incidents import CorrelationEngine
from camgrid.registry.schemas import CameraIn
from camgrid.scenarios.replay import Event


def cam_id(site: int, k: int) -> str:
    return f"C{site:02d}{k}"


def site_cams(*sites: int) -> list[str]:
    return [cam_id(s, k) for s in sites for k in range(4)]


def make_rows(overrides: dict[str, dict[str, str]] | None = None) -> list[CameraIn]:
    rows = []
    for s in range(12):
        for k in range(4):
            cid = cam_id(s, k)
            row = {
                "id": cid,
                "name": cid,
                "lat": 27.7 + s * 0.001,
                "lon": 85.3 + k * 0.0001,
                "district": f"D{s // 6}",
                "site": f"S{s:02d}",
                "feeder": f"F{s // 4}",
                "uplink": f"U{s % 3}",
                "rtsp_url": f"rtsp://10.0.{s}.{k + 1}:554/s",
            }
            row.update((overrides or {}).get(cid, {}))
            rows.append(CameraIn.model_validate(row))
    return rows


def cut(cams: Iterable[str], t0: float, t1: float | None, spread: float = 4.0) -> list[Event]:
    """Cameras go dark at ``t0`` (seen within ``spread`` s, staggered) and come back at ``t1`` (staggered)."""
    out = []
    for i, c in enumerate(sorted(cams)):
        out.append(Event(t0 + (i * 0.37) % spread, c, True, "unreachable"))
        if t1 is not None:
            out.append(Event(t1 + (i * 1.3) % 20.0, c, False))
    return out


Run = Callable[..., CorrelationEngine]
