"""City-scale map sources for the decomposed planner: a synthetic city tiled from a real extract, or a real map.

Why a source and not one :class:`~camgrid.geo.osm.City`: a 100 km² city as one City (and one coverage matrix) is
what the decomposition avoids. A source answers "the demand points, candidate sites and buildings inside this box",
in one metric frame with **global, deterministic ids**, so each tile builds only its own neighbourhood and two tiles
that see the same point or site agree on what it is (docs/design/planner-city.md).

The synthetic city (``camgrid plan city-gen``) mirrors and shifts the shipped Kathmandu extract (© OpenStreetMap
contributors, ODbL) over a grid: copy (i, j) is the extract flipped east-west when i is odd and north-south when j is
odd, so the streets cut at the extract's edge meet their own reflection. Real streets, buildings and POIs are kept;
districts and feeders are synthetic grid cells laid over it. Points and sites are computed once on the extract and
transformed per copy; orientations are a symmetric set of headings (k·360/n), so mirroring a pose gives a pose of the
same set and poses need no transform.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from camgrid.config import PlannerConfig
from camgrid.geo.osm import (
    ATTRIBUTION,
    DEFAULT_MAP,
    City,
    Projection,
    default_map_path,
    load_city,
    sample_along_streets,
)
from camgrid.planner.instance import demand_points

FORMAT = "camgrid-synthetic-city"
LICENSE = "Open Database License (ODbL) 1.0, https://opendatacommons.org/licenses/odbl/"
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 metres


@dataclass
class Layout:
    """What lies in a box: demand points, candidate sites (global ids) and the buildings that can block a view."""

    point_id: np.ndarray  # int64 [n]
    point_xy: np.ndarray  # float64 [n, 2]
    point_weight: np.ndarray  # float64 [n]
    point_k: np.ndarray  # int64 [n]
    site_id: np.ndarray  # int64 [m]
    site_xy: np.ndarray  # float64 [m, 2]
    buildings: list[Polygon]


class CitySource(Protocol):
    bounds: Box
    projection: Projection

    def layout(self, points_box: Box, sites_box: Box) -> Layout: ...

    def site_xy(self, site_ids: np.ndarray) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class _Base:
    """Points, sites and buildings of one map, as arrays (computed once per process)."""

    bounds: Box
    projection: Projection
    point_xy: np.ndarray
    point_weight: np.ndarray
    point_k: np.ndarray
    site_xy: np.ndarray
    buildings: np.ndarray  # object array of Polygons
    bld_bounds: np.ndarray  # [b, 4]


def _base_of(city: City, cfg: PlannerConfig) -> _Base:
    pts = demand_points(city, cfg, (), {})
    classes = cfg.street_classes or None
    sites = sample_along_streets(city, cfg.site_spacing_m, cfg.site_offset_m, classes=classes)
    blds = np.empty(len(city.buildings), dtype=object)
    blds[:] = [b.polygon for b in city.buildings]
    x0, y0, x1, y1 = (float(v) for v in city.bounds.bounds)
    return _Base(
        (x0, y0, x1, y1),
        city.projection,
        np.array([(p.x, p.y) for p in pts], dtype=np.float64).reshape(-1, 2),
        np.array([p.weight for p in pts], dtype=np.float64),
        np.array([p.k for p in pts], dtype=np.int64),
        np.array([(s.x, s.y) for s in sites], dtype=np.float64).reshape(-1, 2),
        blds,
        shapely.bounds(blds).reshape(-1, 4) if blds.size else np.zeros((0, 4)),
    )


def _in_box(xy: np.ndarray, b: Box) -> np.ndarray:
    return np.asarray((xy[:, 0] >= b[0]) & (xy[:, 0] < b[2]) & (xy[:, 1] >= b[1]) & (xy[:, 1] < b[3]))


def _bbox_hits(bounds: np.ndarray, b: Box) -> np.ndarray:
    return np.asarray((bounds[:, 0] <= b[2]) & (bounds[:, 2] >= b[0]) & (bounds[:, 1] <= b[3]) & (bounds[:, 3] >= b[1]))


_BASES: dict[str, _Base] = {}


def _cached_base(key: str, make: Any) -> _Base:
    """One base per process and map (workers rebuild it once: a few seconds for the extract)."""
    if key not in _BASES:
        _BASES.clear()
        _BASES[key] = make()
    return _BASES[key]


def _cfg_key(cfg: PlannerConfig) -> str:
    return hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()[:16]


class MapCity:
    """A real map (OSM XML, GeoJSON or ``.osm.pbf``) as a source; point/site ids are their index in the map."""

    def __init__(self, path: Path | None, cfg: PlannerConfig) -> None:
        self.path = path
        key = f"map:{path}:{_cfg_key(cfg)}"
        self.base = _cached_base(key, lambda: _base_of(load_city(path), cfg))
        self.bounds = self.base.bounds
        self.projection = self.base.projection

    def layout(self, points_box: Box, sites_box: Box) -> Layout:
        b = self.base
        pm, sm = _in_box(b.point_xy, points_box), _in_box(b.site_xy, sites_box)
        bm = _bbox_hits(b.bld_bounds, points_box)
        return Layout(
            np.flatnonzero(pm).astype(np.int64),
            b.point_xy[pm],
            b.point_weight[pm],
            b.point_k[pm],
            np.flatnonzero(sm).astype(np.int64),
            b.site_xy[sm],
            list(b.buildings[bm]),
        )

    def site_xy(self, site_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.base.site_xy[np.asarray(site_ids, dtype=np.int64)]).reshape(-1, 2)

    def describe(self) -> dict[str, Any]:
        x0, y0, x1, y1 = self.bounds
        return {
            "synthetic": False,
            "source": str(self.path or DEFAULT_MAP),
            "km2": round((x1 - x0) * (y1 - y0) / 1e6, 3),
            "attribution": ATTRIBUTION,
        }


class SyntheticCity:
    """The mirrored-and-shifted tiling of a base extract described by a ``city-gen`` manifest."""

    def __init__(self, manifest: dict[str, Any], cfg: PlannerConfig) -> None:
        if manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
        self.manifest = manifest
        base_name = str(manifest["base_map"])
        path = default_map_path() if base_name == DEFAULT_MAP else Path(base_name)
        self.base = _cached_base(f"syn:{path}:{_cfg_key(cfg)}", lambda: _base_of(load_city(path), cfg))
        bx0, by0, bx1, by1 = self.base.bounds
        self.copy_w, self.copy_h = bx1 - bx0, by1 - by0
        w, h = (float(v) for v in manifest["size_m"])
        self.bounds: Box = (0.0, 0.0, w, h)
        self.nx, self.ny = math.ceil(w / self.copy_w - 1e-9), math.ceil(h / self.copy_h - 1e-9)
        # the city frame's origin is the extract's south-west corner, in the extract's own projection
        self.projection = Projection(*self.base.projection.to_latlon(bx0, by0))
        self.projection = Projection(float(self.projection.lat0), float(self.projection.lon0))

    def _to_city(self, xy: np.ndarray, i: int, j: int) -> np.ndarray:
        bx0, by0, _, _ = self.base.bounds
        u, v = xy[:, 0] - bx0, xy[:, 1] - by0
        if i % 2:
            u = self.copy_w - u
        if j % 2:
            v = self.copy_h - v
        return np.column_stack([i * self.copy_w + u, j * self.copy_h + v])

    def _copies(self, b: Box) -> list[tuple[int, int]]:
        i0, i1 = max(0, math.floor(b[0] / self.copy_w)), min(self.nx - 1, math.floor(b[2] / self.copy_w))
        j0, j1 = max(0, math.floor(b[1] / self.copy_h)), min(self.ny - 1, math.floor(b[3] / self.copy_h))
        return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]

    def layout(self, points_box: Box, sites_box: Box) -> Layout:
        base = self.base
        city = self.bounds
        n_pts, n_sites = base.point_xy.shape[0], base.site_xy.shape[0]
        parts: dict[str, list[Any]] = {k: [] for k in ("pid", "pxy", "pw", "pk", "sid", "sxy", "bld")}
        outer = (
            min(points_box[0], sites_box[0]),
            min(points_box[1], sites_box[1]),
            max(points_box[2], sites_box[2]),
            max(points_box[3], sites_box[3]),
        )
        for i, j in self._copies(outer):
            copy = i * self.ny + j
            pxy = self._to_city(base.point_xy, i, j)
            pm = _in_box(pxy, points_box) & _in_box(pxy, city)
            parts["pid"].append(copy * n_pts + np.flatnonzero(pm))
            parts["pxy"].append(pxy[pm])
            parts["pw"].append(base.point_weight[pm])
            parts["pk"].append(base.point_k[pm])
            sxy = self._to_city(base.site_xy, i, j)
            sm = _in_box(sxy, sites_box) & _in_box(sxy, city)
            parts["sid"].append(copy * n_sites + np.flatnonzero(sm))
            parts["sxy"].append(sxy[sm])
            lo = self._to_city(base.bld_bounds[:, :2], i, j)
            hi = self._to_city(base.bld_bounds[:, 2:], i, j)
            bb = np.column_stack([np.minimum(lo, hi), np.maximum(lo, hi)])
            hit = np.flatnonzero(_bbox_hits(bb, points_box))
            if hit.size:
                parts["bld"].extend(shapely.transform(base.buildings[hit], lambda c, i=i, j=j: self._to_city(c, i, j)))
        cat = np.concatenate
        return Layout(
            cat(parts["pid"]).astype(np.int64) if parts["pid"] else np.zeros(0, dtype=np.int64),
            cat(parts["pxy"]) if parts["pxy"] else np.zeros((0, 2)),
            cat(parts["pw"]) if parts["pw"] else np.zeros(0),
            cat(parts["pk"]).astype(np.int64) if parts["pk"] else np.zeros(0, dtype=np.int64),
            cat(parts["sid"]).astype(np.int64) if parts["sid"] else np.zeros(0, dtype=np.int64),
            cat(parts["sxy"]) if parts["sxy"] else np.zeros((0, 2)),
            list(parts["bld"]),
        )

    def site_xy(self, site_ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(site_ids, dtype=np.int64)
        n = self.base.site_xy.shape[0]
        copy, local = np.divmod(ids, n)
        out = np.zeros((ids.size, 2))
        for c in np.unique(copy).tolist():
            m = copy == c
            out[m] = self._to_city(self.base.site_xy[local[m]], *divmod(int(c), self.ny))
        return out

    def describe(self) -> dict[str, Any]:
        m = self.manifest
        return {k: m[k] for k in ("synthetic", "km2", "size_m", "copies", "attribution", "note", "base_map")}


def generate_city(
    km: float, cfg: PlannerConfig, *, base_map: Path | None = None, km_y: float | None = None
) -> dict[str, Any]:
    """The manifest of a ``km`` x ``km_y`` synthetic city (deterministic: the same inputs give the same bytes)."""
    if not 0.05 <= km <= 100 or not 0.05 <= (km_y or km) <= 100:
        raise ValueError("the city side must be between 0.05 and 100 km")
    path = base_map or default_map_path()
    name = DEFAULT_MAP if base_map is None else str(base_map)
    city = load_city(path)
    w, h = km * 1000.0, (km_y or km) * 1000.0
    bx0, by0, bx1, by1 = (float(v) for v in city.bounds.bounds)
    cw, ch = bx1 - bx0, by1 - by0
    nx, ny = math.ceil(w / cw - 1e-9), math.ceil(h / ch - 1e-9)
    origin = Projection(*(float(v) for v in city.projection.to_latlon(bx0, by0)))

    def cells(cell: float, prefix: str) -> list[dict[str, Any]]:
        out = []
        for i in range(math.ceil(w / cell - 1e-9)):
            for j in range(math.ceil(h / cell - 1e-9)):
                x0, y0, x1, y1 = i * cell, j * cell, min(w, (i + 1) * cell), min(h, (j + 1) * cell)
                ring = [origin.to_latlon(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
                out.append(
                    {
                        "type": "Feature",
                        "properties": {"id": f"{prefix}-{i}-{j}", "box_m": [x0, y0, x1, y1], "synthetic": True},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[round(float(lo), 7), round(float(la), 7)] for la, lo in ring]],
                        },
                    }
                )
        return out

    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {
        "format": FORMAT,
        "version": 1,
        "synthetic": True,
        "note": (
            "Synthetic city: mirrored and shifted copies of a real OpenStreetMap extract (streets, buildings and "
            "points of interest are real, their arrangement is not). Districts and feeders are synthetic grid cells."
        ),
        "attribution": f"{ATTRIBUTION} (map data of the base extract)",
        "license": LICENSE,
        "base_map": name,
        "base_sha256": digest,
        "base_size_m": [round(cw, 3), round(ch, 3)],
        "size_m": [w, h],
        "km2": round(w * h / 1e6, 6),
        "copies": nx * ny,
        "tiling": "copy (i, j) = extract mirrored east-west when i is odd, north-south when j is odd",
        "origin_latlon": [round(float(origin.lat0), 9), round(float(origin.lon0), 9)],
        "districts": {"type": "FeatureCollection", "features": cells(cfg.district_cell_m, "D")},
        "feeders": {"cell_m": cfg.feeder_cell_m, "synthetic": True},
        "planner_config": json.loads(cfg.model_dump_json()),
    }


def write_manifest(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def open_source(path: Path | None, cfg: PlannerConfig) -> CitySource:
    """A ``city-gen`` manifest (``.json``) or any map file (``None``: the shipped extract)."""
    if path is not None and path.name.lower().endswith(".json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("format") == FORMAT:
            return SyntheticCity(doc, cfg)
    return MapCity(path, cfg)


def city_box(source: CitySource) -> Polygon:
    return box(*source.bounds)
