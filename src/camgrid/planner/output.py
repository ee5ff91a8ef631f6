"""Plan outputs: GeoJSON for the control-room map and registry import rows for the planned cameras.

GeoJSON (RFC 7946, lon/lat) features carry ``kind``: ``camera`` (planned or existing, with phase, heading, cost and
covered point ids), ``view`` (its visibility polygon, for coverage shading) and ``point`` (the important points, with
how well each is covered; uncovered ones are what the map highlights). The collection's ``planner`` member has the
objective, the bound, the gap per phase and per solver, and coverage per district and category; ``attribution``
is the OpenStreetMap credit that must be shown with the map.

Registry rows use the import format of :mod:`camgrid.registry.io`; a planned camera has no stream yet, so its
``rtsp_url`` is the placeholder ``rtsp://planned.invalid/<id>`` (``.invalid`` never resolves, RFC 2606) and its
uplink is ``uplink-planned``. After import, :func:`mark_planned` sets their registry status to ``planned``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from camgrid.geo.osm import ATTRIBUTION
from camgrid.planner.formulation import Solution
from camgrid.planner.instance import PlanInstance
from camgrid.planner.service import Plan, coverage_summary
from camgrid.planner.visibility import view_polygon

PLANNED_URL = "rtsp://planned.invalid/{id}"
PLANNED_UPLINK = "uplink-planned"


def camera_id(pose: int, phase: int) -> str:
    return f"plan-p{phase}-{pose}"


def _solution_dict(s: Solution) -> dict[str, Any]:
    return {
        "solver": s.solver,
        "objective": round(s.objective, 6),
        "bound": round(s.bound, 6),
        "gap": round(s.gap, 6),
        "seconds": round(s.seconds, 3),
        "status": s.status,
        "cameras": len(s.poses),
        "info": s.info,
    }


def plan_geojson(pi: PlanInstance, plan: Plan, *, views: bool = True, all_points: bool = False) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection (see the module docstring)."""
    proj = pi.city.projection
    inst = pi.instance
    phase_of = plan.phase_of()
    cams = [(int(p), 0) for p in inst.fixed] + sorted(phase_of.items(), key=lambda kv: (kv[1], kv[0]))
    tree = shapely.STRtree([b.polygon for b in pi.city.buildings]) if pi.city.buildings else None
    buildings = [b.polygon for b in pi.city.buildings]
    features: list[dict[str, Any]] = []
    for pose, phase in cams:
        site = pi.sites[int(pi.pose_site[pose])]
        lat, lon = proj.point_latlon(site.x, site.y)
        cid = site.existing or camera_id(pose, phase)
        covered = inst.points_of(pose)
        props = {
            "kind": "camera",
            "id": cid,
            "status": "existing" if site.existing else "planned",
            "phase": phase,
            "site": site.id,
            "street": site.street_id,
            "feeder": site.feeder,
            "district": site.district,
            "heading_deg": round(float(pi.pose_heading[pose]), 3),
            "fov_deg": float(pi.pose_fov[pose]),
            "range_m": float(pi.pose_range[pose]),
            "cost": float(inst.cost[pose]),
            "covered_points": [pi.points[int(i)].id for i in covered],
            "covered_weight": round(float(inst.weights[covered].sum()), 3),
        }
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}
        )
        if views:
            poly = view_polygon(
                site.x,
                site.y,
                float(pi.pose_heading[pose]),
                float(pi.pose_fov[pose]),
                float(pi.pose_range[pose]),
                buildings,
                tree,
            )
            if not poly.is_empty:
                geom = proj.geometry_to_lonlat(shapely.set_precision(poly, 0.01))
                features.append(
                    {
                        "type": "Feature",
                        "geometry": mapping(geom),
                        "properties": {"kind": "view", "camera": cid, "phase": phase},
                    }
                )
    from camgrid.planner.formulation import State

    state = State(inst, np.union1d(inst.fixed, plan.poses))
    values = state.point_values(np.arange(inst.n_points), state.counts)
    for i, p in enumerate(pi.points):
        if p.category == "street" and not all_points:
            continue
        lat, lon = proj.point_latlon(p.x, p.y)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "kind": "point",
                    "id": p.id,
                    "name": p.name,
                    "category": p.category,
                    "district": p.district,
                    "weight": p.weight,
                    "k": p.k,
                    "cameras": int(state.counts[i].sum()),
                    "covered": round(float(values[i]) / p.weight, 4) if p.weight else 0.0,
                    "moved_to_street_m": round(p.moved_m, 2),
                },
            }
        )
    summary = coverage_summary(pi, plan.poses)
    planner = {
        "objective": round(plan.objective, 6),
        "bound": round(plan.bound, 6),
        "gap": round(plan.gap, 6),
        "existing_value": round(plan.base_value, 6),
        "phases": [
            {
                "phase": ph.index,
                "budget": ph.budget,
                "cameras": len(ph.solution.poses),
                "cost": float(inst.cost[ph.solution.poses].sum()),
                "objective": round(ph.objective, 6),
                "adds": round(ph.gain, 6),
                "chosen": _solution_dict(ph.solution),
                "solvers": {k: _solution_dict(v) for k, v in ph.alternatives.items()},
            }
            for ph in plan.phases
        ],
        "coverage": summary,
        "instance": {
            "points": inst.n_points,
            "poses": inst.n_poses,
            "pairs": inst.coverage.n_pairs,
            "sites": len(pi.sites),
            "visibility_s": round(pi.visibility_s, 3),
            "power_aware": inst.power,
            "feeders_synthetic": True,
        },
        "camera_model": {"fov_deg": pi.config.fov_deg, "range_m": pi.config.range_m, "cost": pi.config.camera_cost},
    }
    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "license": "Map data: ODbL 1.0 (https://www.openstreetmap.org/copyright)",
        "planner": planner,
        "features": features,
    }


def registry_rows(pi: PlanInstance, plan: Plan) -> list[dict[str, Any]]:
    """Planned cameras as import rows for :mod:`camgrid.registry.io` (CSV or GeoJSON)."""
    proj = pi.city.projection
    rows = []
    for pose, phase in sorted(plan.phase_of().items(), key=lambda kv: (kv[1], kv[0])):
        site = pi.sites[int(pi.pose_site[pose])]
        lat, lon = proj.point_latlon(site.x, site.y)
        cid = camera_id(pose, phase)
        rows.append(
            {
                "id": cid,
                "name": f"Planned camera {cid} (phase {phase})",
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "district": site.district,
                "site": site.id,
                "feeder": site.feeder,
                "uplink": PLANNED_UPLINK,
                "rtsp_url": PLANNED_URL.format(id=cid),
                "heading_deg": round(float(pi.pose_heading[pose]), 3) % 360.0,
                "fov_deg": float(pi.pose_fov[pose]),
                "range_m": float(pi.pose_range[pose]),
            }
        )
    return rows


def mark_planned(*, session: Any, camera_ids: Sequence[str]) -> int:
    """Set registry status ``planned`` on imported planned cameras (the import itself makes them ``active``).
    The caller owns the unit of work. Returns how many were updated."""
    from sqlalchemy import update

    from camgrid.registry.models import Camera

    if not camera_ids:
        return 0
    result = session.execute(update(Camera).where(Camera.id.in_(list(camera_ids))).values(status="planned"))
    return int(getattr(result, "rowcount", 0) or 0)
