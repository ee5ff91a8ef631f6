"""The map plan runs plan on: an OSM map (XML or ``.osm.pbf``, loaded whole as one City, as before) or a
``camgrid plan city-gen`` manifest (a synthetic city of up to 100 x 100 km that must never be loaded as one City).

Why an abstraction: the planner screen needs the map's box, area, districts and projection, a district or box run
needs a City of its own area only, and a whole-city run on a manifest goes to the city planner with the manifest's
path. A manifest answers all of it from its few hundred KB of JSON plus the base extract (one copy, ~1 km²); a
cropped City is rebuilt from the copies of the extract that meet the area (the transform of
``citymap.SyntheticCity``). District and box runs are bounded (``plan_runs.max_district_km2``): larger areas are
planned as the whole city, in tiles. Design: docs/design/planner-screen.md ("The map").
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from camgrid.config import PlannerConfig
from camgrid.geo.osm import (
    DEFAULT_MAP,
    Building,
    City,
    Junction,
    Poi,
    Projection,
    Street,
    crop_city,
    default_map_path,
    load_city,
)
from camgrid.planner.citymap import FORMAT
from camgrid.planner.run_solve import NothingToPlan, RunSpec
from camgrid.vocabulary import PlanAreaKind

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 metres
LatLonBox = tuple[float, float, float, float]  # minlat, minlon, maxlat, maxlon
OSM = "osm"
CITY_GEN = "city-gen"
_ID_SHIFT = 1 << 40  # node/way ids of copy c are c * 2**40 + the extract's id (OSM ids stay below 2**36)


class MapUnreadable(ValueError):
    """``plan_runs.map_path`` cannot be read as a map or a city-gen manifest (the message says why)."""


class AreaTooLarge(NothingToPlan):
    """A district or box run over more than ``plan_runs.max_district_km2``: plan the whole city instead."""


def too_large_message(km2: float, limit_km2: float) -> str:
    return (
        f"this area is {km2:.2f} km², more than the {limit_km2:g} km² a district or box run may plan "
        "(plan_runs.max_district_km2): plan the whole city instead (its planner works in tiles)"
    )


class RunMap:
    """What the worker and the screen need of a map: box, area, districts, cropped Cities and the plan's frame."""

    kind: str
    path: Path | None
    projection: Projection
    bounds_xy: Box
    cells: dict[str, Box]  # the districts offered, as metric boxes

    @property
    def bounds_latlon(self) -> LatLonBox:
        x0, y0, x1, y1 = self.bounds_xy
        lat0, lon0 = self.projection.point_latlon(x0, y0)
        lat1, lon1 = self.projection.point_latlon(x1, y1)
        return (lat0, lon0, lat1, lon1)

    @property
    def km2(self) -> float:
        x0, y0, x1, y1 = self.bounds_xy
        return (x1 - x0) * (y1 - y0) / 1e6

    @property
    def synthetic(self) -> bool:
        return self.kind == CITY_GEN

    def districts(self) -> dict[str, LatLonBox]:
        """The districts a run may name, with their lat/lon boxes."""
        out = {}
        for name, (x0, y0, x1, y1) in self.cells.items():
            lat0, lon0 = self.projection.point_latlon(x0, y0)
            lat1, lon1 = self.projection.point_latlon(x1, y1)
            out[name] = (lat0, lon0, lat1, lon1)
        return out

    def _xy_box(self, b: LatLonBox) -> Box:
        x0, y0 = self.projection.to_xy(b[0], b[1])
        x1, y1 = self.projection.to_xy(b[2], b[3])
        return (float(x0), float(y0), float(x1), float(y1))

    def crop_box(
        self, kind: PlanAreaKind, districts: tuple[str, ...], bbox: LatLonBox | None
    ) -> tuple[Box, dict[str, Box]]:
        """The metric box a district or box run is cut to (the bounding box of its districts, or its box on the
        map) and the districts it holds (their names are the whole map's)."""
        if kind == PlanAreaKind.DISTRICTS:
            unknown = [d for d in districts if d not in self.cells]
            if unknown or not districts:
                raise NothingToPlan(f"no district {unknown[0]!r} on this map" if unknown else "no district chosen")
            chosen = {d: self.cells[d] for d in districts}
            return (
                min(b[0] for b in chosen.values()),
                min(b[1] for b in chosen.values()),
                max(b[2] for b in chosen.values()),
                max(b[3] for b in chosen.values()),
            ), chosen
        if bbox is None:
            raise NothingToPlan("a box run needs its box")
        x0, y0, x1, y1 = self._xy_box(bbox)
        touched = {n: b for n, b in self.cells.items() if b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0}
        m = self.bounds_xy
        cut = (max(x0, m[0]), max(y0, m[1]), min(x1, m[2]), min(y1, m[3]))
        if not touched or cut[0] >= cut[2] or cut[1] >= cut[3]:
            raise NothingToPlan("the box lies outside the map")
        return cut, touched

    def area_km2(self, kind: PlanAreaKind, districts: tuple[str, ...], bbox: LatLonBox | None) -> float:
        """How much of the map a district or box run would plan (the whole map for a city run)."""
        if kind == PlanAreaKind.CITY:
            return self.km2
        x0, y0, x1, y1 = self.crop_box(kind, districts, bbox)[0]
        return (x1 - x0) * (y1 - y0) / 1e6

    def area(self, spec: RunSpec, *, max_km2: float = math.inf) -> tuple[City, dict[str, Polygon] | None]:
        """The City a district/box run plans on, with the district polygons that keep the map's names (None for
        a whole-map run of an OSM map: its own grid gives the same names). Raises :class:`AreaTooLarge`."""
        if spec.area_kind == PlanAreaKind.CITY:
            return self.whole(), None
        cut, chosen = self.crop_box(spec.area_kind, spec.districts, spec.bbox)
        km2 = (cut[2] - cut[0]) * (cut[3] - cut[1]) / 1e6
        if km2 > max_km2:
            raise AreaTooLarge(too_large_message(km2, max_km2))
        polys = {n: box(*b) for n, b in chosen.items()}
        if spec.area_kind == PlanAreaKind.BBOX and spec.bbox is not None:
            return self._cropped(self._xy_box(spec.bbox)), polys
        return self._cropped(cut), polys

    def frame(self) -> City:
        """A City whose bounds and projection are the map's (what a whole-city plan's GeoJSON is written in)."""
        return City(self.projection, self.bounds_latlon, box(*self.bounds_xy), [], [], [], [])

    def uses_city_planner(self, min_km2: float) -> bool:
        """Whether a whole-map run goes to the city planner (tiles) rather than the district planner."""
        return self.km2 >= min_km2

    def planner_config(self, cfg: PlannerConfig) -> PlannerConfig:
        return cfg

    def whole(self) -> City:
        raise NothingToPlan("this map is planned whole only by the city planner")

    def _cropped(self, b: Box) -> City:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path or DEFAULT_MAP), "km2": round(self.km2, 3)}


class OsmMap(RunMap):
    """An OSM map loaded whole (the shipped extract, a district's extract, a city's ``.osm.pbf``); its districts
    are the planner's synthetic grid cells ``D-col-row`` of ``planner.district_cell_m``."""

    kind = OSM

    def __init__(self, city: City, *, path: Path | None, cell_m: float) -> None:
        self.city, self.path = city, path
        self.projection = city.projection
        x0, y0, x1, y1 = (float(v) for v in city.bounds.bounds)
        self.bounds_xy = (x0, y0, x1, y1)
        cols, rows = max(1, math.ceil((x1 - x0) / cell_m)), max(1, math.ceil((y1 - y0) / cell_m))
        self.cells = {
            f"D-{c}-{r}": (x0 + c * cell_m, y0 + r * cell_m, min(x1, x0 + (c + 1) * cell_m),
                           min(y1, y0 + (r + 1) * cell_m))
            for c in range(cols)
            for r in range(rows)
        }  # fmt: skip

    def whole(self) -> City:
        return self.city

    def frame(self) -> City:
        return self.city

    def _cropped(self, b: Box) -> City:
        lat0, lon0 = self.projection.point_latlon(b[0], b[1])
        lat1, lon1 = self.projection.point_latlon(b[2], b[3])
        return crop_city(self.city, lat0, lon0, lat1, lon1)


@dataclass
class _Extract:
    """The base extract of a manifest with the bounds of its streets and buildings (for cutting copies)."""

    city: City
    box: Box
    street_bounds: np.ndarray
    building_bounds: np.ndarray
    node_ids: np.ndarray
    node_xy: np.ndarray


class ManifestMap(RunMap):
    """A ``camgrid plan city-gen`` manifest: box, area and districts from the JSON; a cropped City from the copies
    of the base extract (mirrored east-west when i is odd, north-south when j is odd, as ``SyntheticCity``)."""

    kind = CITY_GEN

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path, self.doc = path, doc
        try:
            w, h = (float(v) for v in doc["size_m"])
            lat0, lon0 = (float(v) for v in doc["origin_latlon"])
            self.cells = {
                str(f["properties"]["id"]): tuple(float(v) for v in f["properties"]["box_m"])  # type: ignore[misc]
                for f in doc["districts"]["features"]
            }
            self.district_cell_m = float(doc["planner_config"]["district_cell_m"])
            self.feeder_cell_m = float(doc["feeders"]["cell_m"])
            name = str(doc["base_map"])
            self.base_sha256 = str(doc["base_sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MapUnreadable(f"{path}: not a complete city-gen manifest ({type(exc).__name__}: {exc})") from None
        self.projection = Projection(lat0, lon0)
        self.bounds_xy = (0.0, 0.0, w, h)
        base = default_map_path() if name == DEFAULT_MAP else Path(name)
        self.base_path = base
        if not base.exists():
            raise MapUnreadable(f"{path}: its base extract {name} is missing (rebuild it with camgrid plan city-gen)")
        self._extract: _Extract | None = None
        self._lock = threading.Lock()

    def uses_city_planner(self, min_km2: float) -> bool:
        return True  # never loaded as one City

    def planner_config(self, cfg: PlannerConfig) -> PlannerConfig:
        """The manifest's district and feeder cells, so a plan's names are the manifest's districts."""
        return cfg.model_copy(update={"district_cell_m": self.district_cell_m, "feeder_cell_m": self.feeder_cell_m})

    def extract(self) -> _Extract:
        """The base extract, read once (and checked against the manifest's SHA-256)."""
        with self._lock:
            if self._extract is None:
                data = self.base_path.read_bytes()
                if hashlib.sha256(data).hexdigest() != self.base_sha256:
                    raise MapUnreadable(f"{self.path}: the base extract changed since city-gen; build the city again")
                city = load_city(self.base_path)
                streets = np.array([s.line for s in city.streets], dtype=object)
                blds = np.array([b.polygon for b in city.buildings], dtype=object)
                # junction nodes are every node find_junctions can need (a node two ways of some classes share is
                # one two ways share), so copies place only those
                nodes = {j.node_id: (j.point.x, j.point.y) for j in city.junctions}
                self._extract = _Extract(
                    city,
                    tuple(float(v) for v in city.bounds.bounds),  # type: ignore[arg-type]
                    shapely.bounds(streets).reshape(-1, 4) if streets.size else np.zeros((0, 4)),
                    shapely.bounds(blds).reshape(-1, 4) if blds.size else np.zeros((0, 4)),
                    np.fromiter(nodes.keys(), dtype=np.int64, count=len(nodes)),
                    np.array(list(nodes.values()), dtype=np.float64).reshape(-1, 2),
                )
            return self._extract

    def _cropped(self, b: Box) -> City:
        """The copies of the extract that meet ``b``, placed in the city's frame, then cut to ``b``."""
        ex = self.extract()
        bx0, by0, bx1, by1 = ex.box
        cw, ch = bx1 - bx0, by1 - by0
        w, h = self.bounds_xy[2], self.bounds_xy[3]
        nx, ny = math.ceil(w / cw - 1e-9), math.ceil(h / ch - 1e-9)
        cut = (max(0.0, b[0]), max(0.0, b[1]), min(w, b[2]), min(h, b[3]))
        streets: list[Street] = []
        buildings: list[Building] = []
        junctions: list[Junction] = []
        pois: list[Poi] = []
        nodes: dict[int, tuple[float, float]] = {}
        i0, i1 = max(0, math.floor(cut[0] / cw)), min(nx - 1, math.floor(cut[2] / cw))
        j0, j1 = max(0, math.floor(cut[1] / ch)), min(ny - 1, math.floor(cut[3] / ch))
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                copy = i * ny + j
                off = copy * _ID_SHIFT

                def place(xy: np.ndarray, i: int = i, j: int = j) -> np.ndarray:
                    u, v = xy[:, 0] - bx0, xy[:, 1] - by0
                    if i % 2:
                        u = cw - u
                    if j % 2:
                        v = ch - v
                    return np.column_stack([i * cw + u, j * ch + v])

                def hits(bounds: np.ndarray) -> np.ndarray:
                    lo, hi = place(bounds[:, :2]), place(bounds[:, 2:])
                    a, z = np.minimum(lo, hi), np.maximum(lo, hi)
                    return np.flatnonzero(
                        (a[:, 0] <= cut[2]) & (z[:, 0] >= cut[0]) & (a[:, 1] <= cut[3]) & (z[:, 1] >= cut[1])
                    )

                for k in hits(ex.street_bounds).tolist():
                    s = ex.city.streets[k]
                    line = shapely.transform(s.line, place)
                    ids = tuple(off + n for n in s.node_ids)
                    streets.append(Street(f"{s.id}@{i}.{j}", off + s.way_id, s.highway, s.name, line, ids))
                for k in hits(ex.building_bounds).tolist():
                    bld = ex.city.buildings[k]
                    buildings.append(Building(f"{bld.id}@{i}.{j}", shapely.transform(bld.polygon, place), bld.tags))
                for jn in ex.city.junctions:
                    pt = shapely.transform(jn.point, place)
                    junctions.append(Junction(off + jn.node_id, pt, tuple(off + w_ for w_ in jn.way_ids), jn.highways))
                for p in ex.city.pois:
                    pois.append(Poi(f"{p.id}@{i}.{j}", shapely.transform(p.point, place), p.tags, p.from_area))
                xy = place(ex.node_xy)
                nodes.update(zip((ex.node_ids + off).tolist(), map(tuple, xy.tolist()), strict=True))
        region = box(*cut)
        lat0, lon0 = self.projection.point_latlon(cut[0], cut[1])
        lat1, lon1 = self.projection.point_latlon(cut[2], cut[3])
        whole = City(self.projection, (lat0, lon0, lat1, lon1), region, buildings, streets, junctions, pois,
                     f"{CITY_GEN}:{self.path}", nodes)  # fmt: skip
        return crop_city(whole, lat0, lon0, lat1, lon1)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "synthetic": True, "copies": self.doc.get("copies")}


def is_manifest(path: Path | None) -> bool:
    return path is not None and path.name.lower().endswith(".json")


def open_run_map(path: Path | None, cfg: PlannerConfig) -> RunMap:
    """``plan_runs.map_path`` as a run map: a city-gen manifest (``.json``) or any map ``load_city`` reads (None:
    the shipped extract). Raises :class:`MapUnreadable`."""
    if is_manifest(path):
        assert path is not None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MapUnreadable(f"{path}: {type(exc).__name__}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise MapUnreadable(f"{path}: not a {FORMAT} manifest (camgrid plan city-gen writes one)")
        return ManifestMap(path, doc)
    try:
        city = load_city(path)
    except (OSError, ValueError) as exc:
        raise MapUnreadable(f"{path}: {type(exc).__name__}: {exc}") from None
    return OsmMap(city, path=path, cell_m=cfg.district_cell_m)


def as_run_map(value: City | RunMap, *, path: Path | None, cell_m: float) -> RunMap:
    """A loaded City (tests, older callers) is an OSM map."""
    return value if isinstance(value, RunMap) else OsmMap(value, path=path, cell_m=cell_m)
