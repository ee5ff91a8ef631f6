"""Which important points each registry camera watches, from the planner's visibility model (not a second one).

``camgrid.health.reports`` takes this as an injected mapping camera -> [(point id, weight)] because ``health`` sits
below ``planner`` in the layers. Cameras without a heading see 360°, without a range the planner's default range,
exactly as the planner treats installed cameras (``planner.instance.build_instance``).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from camgrid.config import Settings
from camgrid.health.reports import CoverageMap
from camgrid.registry.models import Camera

_lock = threading.Lock()
_cache: dict[tuple[Any, ...], CoverageMap] = {}


def registry_coverage(*, session: Session, settings: Settings) -> CoverageMap:
    """Camera -> watched demand points with their weights; cached per registry state (count, last change)."""
    from camgrid.geo.osm import load_city
    from camgrid.planner.instance import demand_points
    from camgrid.planner.visibility import compute_coverage

    key = (settings.home, *session.execute(select(func.count(Camera.id), func.max(Camera.updated_ns))).one())
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        cfg = settings.planner
        city = load_city()
        points = demand_points(city, cfg)
        rows = session.execute(
            select(Camera.id, Camera.lat, Camera.lon, Camera.heading_deg, Camera.fov_deg, Camera.range_m)
            .where(Camera.status == "active")
            .order_by(Camera.id)
        ).all()
        out: dict[str, list[tuple[str, float]]] = {}
        if rows and points:
            xy = np.array([[float(v) for v in city.projection.to_xy(r[1], r[2])] for r in rows], dtype=np.float64)
            heading = np.array([r[3] if r[3] is not None else 0.0 for r in rows], dtype=np.float64)
            fov = np.array([r[4] if r[3] is not None and r[4] is not None else 360.0 for r in rows], dtype=np.float64)
            rng = np.array([r[5] if r[5] is not None else cfg.range_m for r in rows], dtype=np.float64)
            cov = compute_coverage(
                xy,
                np.arange(len(rows), dtype=np.int64),
                heading,
                fov,
                rng,
                np.array([(p.x, p.y) for p in points], dtype=np.float64),
                [b.polygon for b in city.buildings],
            )
            for pose, row in enumerate(rows):
                out[row[0]] = [(points[int(i)].id, points[int(i)].weight) for i in cov.points_of(pose)]
        _cache.clear()
        _cache[key] = out
        return out
