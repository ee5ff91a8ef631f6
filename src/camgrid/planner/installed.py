"""The installed cameras a planner-screen run plans around (docs/design/planner-screen.md, "Installed cameras").

A city is never planned on an empty map: the cameras already on its poles watch points, so a plan that ignores them
buys cameras next to them. Every *active* camera of the registry near the run's area is taken as installed: fixed in
the plan at cost 0, counting toward coverage (its heading, field of view and range when the registry knows them;
else a 360° view at the model's range). Planned cameras (an imported plan, not on a pole yet) and disabled ones are
not. The set is read when the run starts, so the run's plan is the plan around the network of that moment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.planner.instance import ExistingCamera
from camgrid.registry.models import Camera

ACTIVE = "active"  # the registry's status of a camera on a pole (registry.service.STATUSES)
M_PER_DEG_LAT = 111_320.0


def grown(box: Sequence[float], margin_m: float) -> tuple[float, float, float, float]:
    """A latitude/longitude box grown by ``margin_m`` on every side (a camera that far out still sees into it)."""
    lat0, lon0, lat1, lon1 = (float(v) for v in box)
    dlat = margin_m / M_PER_DEG_LAT
    cos = max(0.05, math.cos(math.radians(max(abs(lat0), abs(lat1)))))
    dlon = margin_m / (M_PER_DEG_LAT * cos)
    return lat0 - dlat, lon0 - dlon, lat1 + dlat, lon1 + dlon


def installed_cameras(session: Session, *, boxes: Sequence[Sequence[float]], margin_m: float) -> list[ExistingCamera]:
    """Active registry cameras within ``margin_m`` of any of ``boxes`` (minlat, minlon, maxlat, maxlon), by id."""
    found: dict[str, ExistingCamera] = {}
    for box in boxes:
        lat0, lon0, lat1, lon1 = grown(box, margin_m)
        q = select(Camera).where(
            Camera.status == ACTIVE,
            Camera.lat >= lat0,
            Camera.lat <= lat1,
            Camera.lon >= lon0,
            Camera.lon <= lon1,
        )
        for cam in session.scalars(q):
            found[cam.id] = ExistingCamera(
                cam.id, float(cam.lat), float(cam.lon), cam.feeder_id, cam.heading_deg, cam.fov_deg, cam.range_m
            )
    return [found[k] for k in sorted(found)]
