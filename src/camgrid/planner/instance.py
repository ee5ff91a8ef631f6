"""From a city map and the planner config to an optimisation instance: demand points, candidate sites, poses.

Rules (docs/design/planner.md, "Instance"), which ``make bench-plan`` uses with the default config:
- demand points: POIs weighted by the first-matching-largest ``key=value`` of ``poi_weights``; a POI inside a building
  footprint moves to the nearest point on a street (cameras stand in the street); junctions (``junction_weight``);
  points every ``street_point_spacing_m`` along the streets (``street_point_weight``); points an operator adds;
- candidate sites every ``site_spacing_m`` along the streets, ``site_offset_m`` left of the centre line, each with
  ``orientations`` evenly spread headings (0 = north), plus existing cameras as fixed poses;
- streets are the ``street_classes`` (empty: every linear ``highway=*`` way, footways, paths and steps included);
- feeders and districts are synthetic grid cells unless given (the OSM extracts have neither).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from camgrid.config import PlannerConfig
from camgrid.geo.osm import City, sample_along_streets
from camgrid.planner.formulation import Instance
from camgrid.planner.visibility import cached_coverage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemandPoint:
    id: str
    x: float
    y: float
    weight: float
    k: int
    category: str  # poi tag "key=value", "junction", "street" or "operator"
    name: str = ""
    district: str = ""
    moved_m: float = 0.0  # how far a POI inside a building was moved to the street


@dataclass(frozen=True)
class OperatorPoint:
    """An important point an operator adds (lat/lon degrees)."""

    id: str
    lat: float
    lon: float
    weight: float
    name: str = ""
    k: int = 1


@dataclass(frozen=True)
class ExistingCamera:
    """An installed camera: fixed in every plan, counting toward coverage. No heading means a 360° view."""

    id: str
    lat: float
    lon: float
    feeder: str = ""
    heading_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None


@dataclass(frozen=True)
class Site:
    id: str
    x: float
    y: float
    street_id: str
    feeder: str
    district: str
    existing: str = ""  # camera id when this is an installed camera


@dataclass
class PlanInstance:
    """Everything a plan refers to, in the city's metric projection, and the optimisation instance."""

    city: City
    config: PlannerConfig
    points: list[DemandPoint]
    sites: list[Site]
    pose_site: np.ndarray
    pose_heading: np.ndarray
    pose_fov: np.ndarray
    pose_range: np.ndarray
    feeders: list[str]
    instance: Instance
    visibility_s: float
    visibility_cached: bool
    districts: dict[str, Polygon] = field(default_factory=dict)

    @property
    def n_poses(self) -> int:
        return int(self.pose_site.size)


def poi_weight(tags: dict[str, str], weights: dict[str, float]) -> tuple[float, str]:
    """Largest weight among the POI's ``key=value`` tags in the table, with that tag; (0, "") if none matches."""
    best, cat = 0.0, ""
    for key, value in tags.items():
        w = weights.get(f"{key}={value}")
        if w is not None and (w > best or (w == best and f"{key}={value}" < cat)):
            best, cat = float(w), f"{key}={value}"
    return best, cat


def grid_cell(prefix: str, x: float, y: float, cell: float, origin: tuple[float, float] = (0.0, 0.0)) -> str:
    """Synthetic area id: column and row of a ``cell``-metre grid from the south-west corner of the map."""
    return f"{prefix}-{max(0, math.floor((x - origin[0]) / cell))}-{max(0, math.floor((y - origin[1]) / cell))}"


def _district_of(
    x: float, y: float, districts: dict[str, Polygon], cell: float, origin: tuple[float, float] = (0.0, 0.0)
) -> str:
    if districts:
        p = Point(x, y)
        for name, poly in districts.items():
            if poly.covers(p):
                return name
        return "outside"
    return grid_cell("D", x, y, cell, origin)


def _origin(city: City) -> tuple[float, float]:
    minx, miny, _, _ = city.bounds.bounds
    return float(minx), float(miny)


def demand_points(
    city: City,
    cfg: PlannerConfig,
    operator_points: Sequence[OperatorPoint] = (),
    districts: dict[str, Polygon] | None = None,
) -> list[DemandPoint]:
    """The weighted points to watch (see the module docstring)."""
    districts = districts or {}
    org = _origin(city)
    classes = cfg.street_classes or None
    streets = city.streets_of(classes)
    lines = [s.line for s in streets]
    line_tree = shapely.STRtree(lines) if lines else None
    bld_tree = shapely.STRtree([b.polygon for b in city.buildings]) if city.buildings else None
    k_of = cfg.coverage_k
    out: list[DemandPoint] = []
    for poi in city.pois:
        w, cat = poi_weight(poi.tags, cfg.poi_weights)
        if w <= 0:
            continue
        x, y, moved = poi.point.x, poi.point.y, 0.0
        inside = bld_tree is not None and bld_tree.query(poi.point, predicate="within").size > 0
        if inside and line_tree is not None:
            line = lines[int(line_tree.nearest(poi.point))]
            snapped = line.interpolate(line.project(poi.point))
            moved = float(poi.point.distance(snapped))
            x, y = snapped.x, snapped.y
        d = _district_of(x, y, districts, cfg.district_cell_m, org)
        out.append(DemandPoint(poi.id, x, y, w, int(k_of.get(cat, 1)), cat, poi.name, d, moved))
    if cfg.junction_weight > 0:
        for j in city.junctions_of(classes):
            d = _district_of(j.point.x, j.point.y, districts, cfg.district_cell_m, org)
            out.append(
                DemandPoint(
                    f"j{j.node_id}",
                    j.point.x,
                    j.point.y,
                    cfg.junction_weight,
                    k_of.get("junction", 1),
                    "junction",
                    "",
                    d,
                )
            )
    if cfg.street_point_weight > 0:
        for i, s in enumerate(sample_along_streets(streets, cfg.street_point_spacing_m, 0.0)):
            d = _district_of(s.x, s.y, districts, cfg.district_cell_m, org)
            out.append(
                DemandPoint(
                    f"s{i}:{s.street_id}@{s.along_m:.0f}",
                    s.x,
                    s.y,
                    cfg.street_point_weight,
                    k_of.get("street", 1),
                    "street",
                    "",
                    d,
                )
            )
    for op in operator_points:
        x, y = city.projection.to_xy(op.lat, op.lon)
        d = _district_of(float(x), float(y), districts, cfg.district_cell_m, org)
        k = int(k_of.get("operator", op.k))
        out.append(DemandPoint(op.id, float(x), float(y), op.weight, k, "operator", op.name, d))
    return out


def build_instance(
    city: City,
    cfg: PlannerConfig,
    *,
    operator_points: Sequence[OperatorPoint] = (),
    existing: Sequence[ExistingCamera] = (),
    districts: dict[str, Polygon] | None = None,
    cache_dir: Path | None = None,
) -> PlanInstance:
    """Points, sites, poses and their coverage (cached by input hash in ``cache_dir`` when given)."""
    districts = districts or {}
    org = _origin(city)
    points = demand_points(city, cfg, operator_points, districts)
    classes = cfg.street_classes or None
    sites: list[Site] = []
    for i, s in enumerate(sample_along_streets(city, cfg.site_spacing_m, cfg.site_offset_m, classes=classes)):
        sites.append(
            Site(
                f"site-{i}",
                s.x,
                s.y,
                s.street_id,
                grid_cell("feeder", s.x, s.y, cfg.feeder_cell_m, org),
                _district_of(s.x, s.y, districts, cfg.district_cell_m, org),
            )
        )
    n_new_sites = len(sites)
    n_or = cfg.orientations
    headings = np.arange(n_or) * (360.0 / n_or)
    pose_site = np.repeat(np.arange(n_new_sites), n_or)
    pose_heading = np.tile(headings, n_new_sites)
    pose_fov = np.full(pose_site.size, cfg.fov_deg)
    pose_range = np.full(pose_site.size, cfg.range_m)
    fixed: list[int] = []
    ex_site, ex_head, ex_fov, ex_range = [], [], [], []
    for cam in existing:
        x, y = city.projection.to_xy(cam.lat, cam.lon)
        fx, fy = float(x), float(y)
        feeder = cam.feeder or grid_cell("feeder", fx, fy, cfg.feeder_cell_m, org)
        sites.append(
            Site(
                f"site-{cam.id}", fx, fy, "", feeder, _district_of(fx, fy, districts, cfg.district_cell_m, org), cam.id
            )
        )
        ex_site.append(len(sites) - 1)
        ex_head.append(cam.heading_deg if cam.heading_deg is not None else 0.0)
        ex_fov.append(cam.fov_deg if cam.heading_deg is not None and cam.fov_deg is not None else 360.0)
        ex_range.append(cam.range_m if cam.range_m is not None else cfg.range_m)
        fixed.append(int(pose_site.size) + len(ex_site) - 1)
    pose_site = np.concatenate([pose_site, np.array(ex_site, dtype=np.int64)])
    pose_heading = np.concatenate([pose_heading, np.array(ex_head, dtype=np.float64)])
    pose_fov = np.concatenate([pose_fov, np.array(ex_fov, dtype=np.float64)])
    pose_range = np.concatenate([pose_range, np.array(ex_range, dtype=np.float64)])
    sites_xy = np.array([(s.x, s.y) for s in sites], dtype=np.float64).reshape(-1, 2)
    points_xy = np.array([(p.x, p.y) for p in points], dtype=np.float64).reshape(-1, 2)
    t0 = time.perf_counter()
    cov, cached = cached_coverage(
        sites_xy,
        pose_site,
        pose_heading,
        pose_fov,
        pose_range,
        points_xy,
        [b.polygon for b in city.buildings],
        cache_dir,
    )
    vis_s = time.perf_counter() - t0
    feeders = sorted({s.feeder for s in sites})
    f_index = {f: i for i, f in enumerate(feeders)}
    cost = np.full(pose_site.size, cfg.camera_cost)
    cost[fixed] = 0.0
    power: dict[str, Any] = {}
    if cfg.power_aware:
        avail = np.array([cfg.feeder_availability_by_id.get(f, cfg.feeder_availability) for f in feeders])
        power = {
            "pose_feeder": np.array([f_index[sites[s].feeder] for s in pose_site], dtype=np.int64),
            "feeder_availability": avail,
        }
    inst = Instance(
        weights=np.array([p.weight for p in points], dtype=np.float64),
        cost=cost,
        coverage=cov,
        k=np.array([p.k for p in points], dtype=np.int64),
        fixed=np.array(fixed, dtype=np.int64),
        pose_xy=sites_xy[pose_site] if pose_site.size else np.zeros((0, 2)),
        **power,
    )
    log.info(
        "instance: %d points, %d sites, %d poses, %d pairs (visibility %.2fs%s)",
        len(points),
        len(sites),
        pose_site.size,
        cov.n_pairs,
        vis_s,
        ", cached" if cached else "",
    )
    return PlanInstance(
        city, cfg, points, sites, pose_site, pose_heading, pose_fov, pose_range, feeders, inst, vis_s, cached, districts
    )
