"""A plan as a district-scoped user may see it (pure; no numpy, no shapely).

A plan (``planner.output.plan_geojson``) spans the city: cameras and important points carry their district, views
name their camera. A user limited to districts sees the cameras and points of their districts, the views of those
cameras, and the coverage rows of their districts; the city-wide totals, phases and solver figures describe the
other districts too and are left out. A plan with nothing in their districts does not exist for them (the same 404
as an unknown name). Design note: docs/design/scopes.md.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def plan_districts(doc: dict[str, Any]) -> set[str]:
    """The districts a plan's cameras and points lie in."""
    out = set()
    for f in doc.get("features", []):
        district = (f.get("properties") or {}).get("district")
        if isinstance(district, str):
            out.add(district)
    return out


def scope_plan(doc: dict[str, Any], districts: Collection[str]) -> dict[str, Any] | None:
    """The plan cut to ``districts`` (empty: every district, unchanged); None when nothing of it lies in them."""
    if not districts:
        return doc
    keep = set(districts)
    features = []
    cameras: set[str] = set()
    for f in doc.get("features", []):
        props = f.get("properties") or {}
        if props.get("district") in keep:
            features.append(f)
            if props.get("kind") == "camera" and isinstance(props.get("id"), str):
                cameras.add(props["id"])
    if not features:
        return None
    for f in doc.get("features", []):
        props = f.get("properties") or {}
        if "district" not in props and props.get("camera") in cameras:
            features.append(f)  # a kept camera's view
    out = {k: v for k, v in doc.items() if k not in ("features", "planner")}
    out["features"] = features
    coverage = (doc.get("planner") or {}).get("coverage") or {}
    by_district = coverage.get("by_district") or {}
    out["planner"] = {"coverage": {"by_district": {d: row for d, row in by_district.items() if d in keep}}}
    return out
