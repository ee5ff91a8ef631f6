"""Read an OpenStreetMap extract (``.osm`` XML, ``.osm.xz``/``.osm.gz``/``.osm.bz2`` or GeoJSON) into typed,
metric geometry.

Why a local projection: visibility and coverage are about metres (ranges, spacings, line of sight), so everything is
projected once, equirectangularly around the centre of the extract's bounds. Over a city district (a few km) the
distortion is far below a metre; :class:`Projection` converts both ways for export.

Ways that cross the export box come whole in an OSM export (here up to 28 km out); streets are clipped to the box and
only buildings and POIs that touch it are kept, so every count describes the district itself.
Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.ops import unary_union

ATTRIBUTION = "© OpenStreetMap contributors"
EARTH_RADIUS_M = 6_371_008.8
DEFAULT_MAP = "kathmandu.osm.xz"

# Keys that make a node, or a non-street way, a point of interest.
POI_KEYS = frozenset(
    {
        "amenity",
        "shop",
        "office",
        "tourism",
        "leisure",
        "healthcare",
        "government",
        "public_transport",
        "man_made",
        "power",
        "historic",
        "craft",
        "emergency",
        "railway",
    }
)
# Keys that make only a node a POI (on a way they describe a street or a rail line).
NODE_ONLY_POI_KEYS = frozenset({"highway", "barrier"})
# Building values that mark a public building worth a POI even without amenity=* on it.
BUILDING_POI_VALUES = frozenset(
    {
        "hospital",
        "school",
        "college",
        "university",
        "kindergarten",
        "government",
        "public",
        "civic",
        "temple",
        "church",
        "mosque",
        "gurudwara",
        "shrine",
        "train_station",
        "transportation",
        "fire_station",
        "stadium",
    }
)
# highway=* values that are not linear streets (nodes or areas use them).
NON_STREET_HIGHWAY = frozenset(
    {"bus_stop", "platform", "elevator", "services", "rest_area", "proposed", "construction"}
)


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection around (lat0, lon0): x east, y north, in metres. Works on floats and arrays."""

    lat0: float
    lon0: float

    @property
    def _kx(self) -> float:
        return EARTH_RADIUS_M * math.cos(math.radians(self.lat0)) * math.pi / 180.0

    @property
    def _ky(self) -> float:
        return EARTH_RADIUS_M * math.pi / 180.0

    def to_xy(self, lat: Any, lon: Any) -> tuple[Any, Any]:
        """(lat, lon) degrees -> (x, y) metres."""
        return (np.asarray(lon) - self.lon0) * self._kx, (np.asarray(lat) - self.lat0) * self._ky

    def to_latlon(self, x: Any, y: Any) -> tuple[Any, Any]:
        """(x, y) metres -> (lat, lon) degrees."""
        return self.lat0 + np.asarray(y) / self._ky, self.lon0 + np.asarray(x) / self._kx

    def point_latlon(self, x: float, y: float) -> tuple[float, float]:
        lat, lon = self.to_latlon(x, y)
        return float(lat), float(lon)

    def geometry_to_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        """A metric geometry back in (lon, lat) degrees, e.g. for GeoJSON."""

        def fwd(coords: np.ndarray) -> np.ndarray:
            lat, lon = self.to_latlon(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, fwd)


@dataclass(frozen=True)
class Building:
    id: str
    polygon: Polygon
    tags: dict[str, str]


@dataclass(frozen=True)
class Street:
    """A street (a clipped part of a ``highway=*`` way). ``id`` is ``w<way id>`` or ``w<way id>.<part>``."""

    id: str
    way_id: int
    highway: str
    name: str
    line: LineString
    node_ids: tuple[int, ...]


@dataclass(frozen=True)
class Junction:
    """A node shared by two or more highway ways, with the classes of the ways that meet there."""

    node_id: int
    point: Point
    way_ids: tuple[int, ...]
    highways: tuple[str, ...]


@dataclass(frozen=True)
class Poi:
    """A point of interest: a tagged node, or the centroid of a tagged way/relation (``from_area``)."""

    id: str
    point: Point
    tags: dict[str, str]
    from_area: bool = False

    @property
    def name(self) -> str:
        return self.tags.get("name:en") or self.tags.get("name", "")


@dataclass
class City:
    """A district in metres. ``bounds`` is the (clip) box in metres; ``bounds_latlon`` is (minlat, minlon, maxlat,
    maxlon)."""

    projection: Projection
    bounds_latlon: tuple[float, float, float, float]
    bounds: Polygon
    buildings: list[Building]
    streets: list[Street]
    junctions: list[Junction]
    pois: list[Poi]
    source: str = ""
    _street_nodes: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)

    def streets_of(self, classes: Iterable[str] | None) -> list[Street]:
        """Streets whose highway class is in ``classes`` (all when None)."""
        if classes is None:
            return list(self.streets)
        wanted = set(classes)
        return [s for s in self.streets if s.highway in wanted]

    def junctions_of(self, classes: Iterable[str] | None) -> list[Junction]:
        """Junctions counting only ways of the given classes (all when None)."""
        if classes is None:
            return list(self.junctions)
        return find_junctions(self.streets_of(classes), self._street_nodes, self.bounds)


def crop_city(city: City, minlat: float, minlon: float, maxlat: float, maxlon: float) -> City:
    """The part of ``city`` inside a lat/lon box (same projection): streets clipped, buildings touching it kept."""
    x0, y0 = city.projection.to_xy(minlat, minlon)
    x1, y1 = city.projection.to_xy(maxlat, maxlon)
    area = box(float(x0), float(y0), float(x1), float(y1)).intersection(city.bounds)
    shapely.prepare(area)
    streets: list[Street] = []
    for s in city.streets:
        cut = s.line.intersection(area)
        parts = (
            [cut]
            if isinstance(cut, LineString)
            else [g for g in getattr(cut, "geoms", []) if isinstance(g, LineString)]
        )
        parts = [p for p in parts if p.length > 0.5]
        for k, part in enumerate(parts):
            sid = s.id if len(parts) == 1 else f"{s.id}.{k}"
            streets.append(Street(sid, s.way_id, s.highway, s.name, part, s.node_ids))
    return City(
        city.projection,
        (minlat, minlon, maxlat, maxlon),
        area if isinstance(area, Polygon) else city.bounds,
        [b for b in city.buildings if area.intersects(b.polygon)],
        streets,
        [j for j in city.junctions if area.covers(j.point)],
        [p for p in city.pois if area.covers(p.point)],
        city.source,
        dict(city._street_nodes),
    )


@dataclass(frozen=True)
class StreetSample:
    """A point along a street. ``heading_deg`` is the compass bearing of the street direction there (0 = north,
    90 = east); the point is ``offset_m`` to the left of that direction (negative: right)."""

    x: float
    y: float
    street_id: str
    heading_deg: float
    along_m: float


# --------------------------------------------------------------------------------------------------------------------
# raw OSM model shared by the XML and GeoJSON readers


@dataclass
class _Raw:
    nodes: dict[int, tuple[float, float]] = field(default_factory=dict)  # id -> (lat, lon)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: dict[int, tuple[list[int], dict[str, str]]] = field(default_factory=dict)
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None  # minlat, minlon, maxlat, maxlon


def _read_bytes(path: Path) -> bytes:
    """The whole (decompressed) file: district extracts are a few MB, and this keeps the parser simple."""
    data = path.read_bytes()
    name = path.name.lower()
    if name.endswith(".xz"):
        return lzma.decompress(data)
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".bz2"):
        return bz2.decompress(data)
    return data


def _read_xml(stream: IO[bytes]) -> _Raw:
    raw = _Raw()
    for _event, elem in ET.iterparse(stream, events=("end",)):
        tag = elem.tag
        if tag == "node":
            nid = int(elem.attrib["id"])
            if elem.attrib.get("visible") == "false" or "lat" not in elem.attrib:
                elem.clear()
                continue
            raw.nodes[nid] = (float(elem.attrib["lat"]), float(elem.attrib["lon"]))
            if len(elem):
                tags = {t.attrib["k"]: t.attrib["v"] for t in elem.iter("tag")}
                if tags:
                    raw.node_tags[nid] = tags
            elem.clear()
        elif tag == "way":
            refs = [int(n.attrib["ref"]) for n in elem.iter("nd")]
            tags = {t.attrib["k"]: t.attrib["v"] for t in elem.iter("tag")}
            raw.ways[int(elem.attrib["id"])] = (refs, tags)
            elem.clear()
        elif tag == "relation":
            members = [
                (m.attrib.get("type", ""), int(m.attrib.get("ref", "0")), m.attrib.get("role", ""))
                for m in elem.iter("member")
            ]
            tags = {t.attrib["k"]: t.attrib["v"] for t in elem.iter("tag")}
            raw.relations.append((int(elem.attrib["id"]), members, tags))
            elem.clear()
        elif tag == "bounds":
            a = elem.attrib
            raw.bounds = (float(a["minlat"]), float(a["minlon"]), float(a["maxlat"]), float(a["maxlon"]))
    return raw


def _read_geojson(doc: dict[str, Any]) -> _Raw:
    """Features become nodes/ways/relations; vertices with equal coordinates share a node (that is how GeoJSON
    streets meet). Properties are tags (a nested ``tags`` object is used when present)."""
    raw = _Raw()
    ids: dict[tuple[float, float], int] = {}
    next_way = [1]

    def node(lon: float, lat: float) -> int:
        key = (round(lat, 7), round(lon, 7))
        nid = ids.get(key)
        if nid is None:
            nid = ids[key] = len(ids) + 1
            raw.nodes[nid] = key
        return nid

    def way(coords: Sequence[Sequence[float]], tags: dict[str, str]) -> int:
        wid = next_way[0]
        next_way[0] += 1
        raw.ways[wid] = ([node(float(c[0]), float(c[1])) for c in coords], tags)
        return wid

    bbox = doc.get("bbox")
    if isinstance(bbox, list) and len(bbox) >= 4:
        raw.bounds = (float(bbox[1]), float(bbox[0]), float(bbox[3]), float(bbox[2]))
    for i, feat in enumerate(doc.get("features") or [], start=1):
        if not isinstance(feat, dict) or not isinstance(feat.get("geometry"), dict):
            continue
        props = feat.get("properties") or {}
        tag_obj = props.get("tags") if isinstance(props, dict) else None
        src: dict[str, Any] = tag_obj if isinstance(tag_obj, dict) else (props if isinstance(props, dict) else {})
        tags = {str(k): str(v) for k, v in src.items() if v is not None and not isinstance(v, dict | list)}
        geom = feat["geometry"]
        gtype, coords = geom.get("type"), geom.get("coordinates")
        if gtype == "Point":
            nid = node(float(coords[0]), float(coords[1]))
            if tags:
                raw.node_tags[nid] = tags
        elif gtype == "LineString":
            way(coords, tags)
        elif gtype == "MultiLineString":
            for part in coords:
                way(part, tags)
        elif gtype in ("Polygon", "MultiPolygon"):
            polys = [coords] if gtype == "Polygon" else coords
            if gtype == "Polygon" and len(coords) == 1:
                way(coords[0], tags)
                continue
            members: list[tuple[str, int, str]] = []
            for poly in polys:
                for j, ring in enumerate(poly):
                    members.append(("way", way(ring, {}), "outer" if j == 0 else "inner"))
            raw.relations.append((-i, members, {"type": "multipolygon", **tags}))
    return raw


# --------------------------------------------------------------------------------------------------------------------
# building the city


def _is_poi(tags: dict[str, str], *, is_node: bool) -> bool:
    if any(k in tags for k in POI_KEYS):
        return True
    if is_node and any(k in tags for k in NODE_ONLY_POI_KEYS):
        return True
    return tags.get("building") in BUILDING_POI_VALUES


def _is_street(tags: dict[str, str]) -> bool:
    hw = tags.get("highway")
    return bool(hw) and hw not in NON_STREET_HIGHWAY and tags.get("area") != "yes"


def _is_building(tags: dict[str, str]) -> bool:
    b = tags.get("building")
    return b is not None and b != "no"


def _valid_polygon(geom: shapely.Geometry) -> list[Polygon]:
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return [geom] if geom.area > 0 else []
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and g.area > 0]


def find_junctions(
    streets: Sequence[Street], nodes_xy: dict[int, tuple[float, float]], bounds: Polygon | None
) -> list[Junction]:
    """Nodes shared by two or more distinct ways among ``streets`` (inside ``bounds`` when given)."""
    by_node: dict[int, dict[int, str]] = {}
    for s in streets:
        for nid in set(s.node_ids):
            by_node.setdefault(nid, {})[s.way_id] = s.highway
    out = []
    for nid, ways in by_node.items():
        if len(ways) < 2 or nid not in nodes_xy:
            continue
        pt = Point(nodes_xy[nid])
        if bounds is not None and not bounds.covers(pt):
            continue
        out.append(Junction(nid, pt, tuple(sorted(ways)), tuple(sorted(set(ways.values())))))
    out.sort(key=lambda j: j.node_id)
    return out


def _build(raw: _Raw, *, clip: bool, source: str) -> City:
    if not raw.nodes:
        raise ValueError(f"{source}: no nodes in the map")
    ids = np.fromiter(raw.nodes.keys(), dtype=np.int64, count=len(raw.nodes))
    latlon = np.array(list(raw.nodes.values()), dtype=np.float64)
    if raw.bounds is None:
        raw.bounds = (
            float(latlon[:, 0].min()),
            float(latlon[:, 1].min()),
            float(latlon[:, 0].max()),
            float(latlon[:, 1].max()),
        )
    minlat, minlon, maxlat, maxlon = raw.bounds
    proj = Projection((minlat + maxlat) / 2.0, (minlon + maxlon) / 2.0)
    xs, ys = proj.to_xy(latlon[:, 0], latlon[:, 1])
    xy: dict[int, tuple[float, float]] = dict(
        zip(ids.tolist(), zip(xs.tolist(), ys.tolist(), strict=True), strict=True)
    )
    x0, y0 = proj.to_xy(minlat, minlon)
    x1, y1 = proj.to_xy(maxlat, maxlon)
    bounds = box(float(x0), float(y0), float(x1), float(y1))
    shapely.prepare(bounds)

    def coords(refs: Sequence[int]) -> list[tuple[float, float]]:
        return [xy[r] for r in refs if r in xy]

    buildings: list[Building] = []
    streets: list[Street] = []
    pois: list[Poi] = []
    street_nodes: dict[int, tuple[float, float]] = {}
    way_polys: dict[int, list[Polygon]] = {}

    def keep(geom: shapely.Geometry) -> bool:
        return not clip or bool(bounds.intersects(geom))

    for wid, (refs, tags) in raw.ways.items():
        pts = coords(refs)
        closed = len(refs) >= 4 and refs[0] == refs[-1] and len(pts) >= 4
        if _is_street(tags) and len(pts) >= 2:
            line = LineString(pts)
            for r in refs:
                if r in xy:
                    street_nodes[r] = xy[r]
            parts: list[LineString]
            if clip:
                cut = line.intersection(bounds)
                if isinstance(cut, LineString):
                    parts = [cut]
                elif isinstance(cut, MultiLineString):
                    parts = list(cut.geoms)
                else:
                    parts = [g for g in getattr(cut, "geoms", []) if isinstance(g, LineString)]
                parts = [p for p in parts if p.length > 0.5]
            else:
                parts = [line]
            for k, part in enumerate(parts):
                sid = f"w{wid}" if len(parts) == 1 else f"w{wid}.{k}"
                streets.append(Street(sid, wid, tags["highway"], tags.get("name", ""), part, tuple(refs)))
            continue
        if closed:
            polys = _valid_polygon(Polygon(pts))
            way_polys[wid] = polys
            if _is_building(tags):
                for k, poly in enumerate(polys):
                    if keep(poly):
                        buildings.append(Building(f"w{wid}" if k == 0 else f"w{wid}.{k}", poly, tags))
            if _is_poi(tags, is_node=False) and polys:
                geom = unary_union(polys)
                c = geom.centroid
                if keep(c):
                    pois.append(Poi(f"w{wid}", c, tags, from_area=True))
        elif _is_poi(tags, is_node=False) and len(pts) >= 2:
            c = LineString(pts).interpolate(0.5, normalized=True)
            if keep(c):
                pois.append(Poi(f"w{wid}", c, tags, from_area=True))

    for rid, members, tags in raw.relations:
        if tags.get("type") not in ("multipolygon", "building"):
            continue
        if not (_is_building(tags) or _is_poi(tags, is_node=False)):
            continue
        outer_lines: list[LineString] = []
        inner_lines: list[LineString] = []
        for mtype, ref, role in members:
            if mtype != "way" or ref not in raw.ways:
                continue
            pts = coords(raw.ways[ref][0])
            if len(pts) >= 2:
                (inner_lines if role == "inner" else outer_lines).append(LineString(pts))
        outers = [g for g in shapely.get_parts(shapely.polygonize(outer_lines)) if g.area > 0]
        if not outers:
            continue
        geom = unary_union(outers)
        if inner_lines:
            inners = [g for g in shapely.get_parts(shapely.polygonize(inner_lines)) if g.area > 0]
            if inners:
                geom = geom.difference(unary_union(inners))
        polys = _valid_polygon(geom)
        if _is_building(tags):
            for k, poly in enumerate(polys):
                if keep(poly):
                    buildings.append(Building(f"r{rid}" if k == 0 else f"r{rid}.{k}", poly, tags))
        if _is_poi(tags, is_node=False) and polys:
            c = unary_union(polys).centroid
            if keep(c):
                pois.append(Poi(f"r{rid}", c, tags, from_area=True))

    for nid, tags in raw.node_tags.items():
        if nid in xy and _is_poi(tags, is_node=True):
            p = Point(xy[nid])
            if keep(p):
                pois.append(Poi(f"n{nid}", p, tags))

    junctions = find_junctions(streets, street_nodes, bounds if clip else None)
    pois.sort(key=lambda p: p.id)
    return City(proj, raw.bounds, bounds, buildings, streets, junctions, pois, source, street_nodes)


def default_map_path() -> Path:
    """The shipped Kathmandu extract (© OpenStreetMap contributors, ODbL)."""
    return Path(str(resources.files("camgrid") / "data" / DEFAULT_MAP))


def load_city(path: Path | None = None, *, clip: bool = True) -> City:
    """Read a map file (default: the shipped Kathmandu extract). ``.geojson``/``.json`` are GeoJSON; anything else
    is OSM XML, optionally xz/gz/bz2-compressed; ``.osm.pbf`` is streamed with pyosmium (``camgrid.geo.pbf``)."""
    p = Path(path) if path is not None else default_map_path()
    name = p.name.lower()
    if name.endswith(".pbf"):
        from camgrid.geo.pbf import read_pbf

        if not p.exists():
            raise ValueError(f"{p}: no such file")
        try:
            raw = read_pbf(p)
        except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
            raise ValueError(f"{p}: not a readable .osm.pbf ({exc})") from None
    elif name.endswith((".geojson", ".json")):
        raw = _read_geojson(json.loads(p.read_text(encoding="utf-8")))
    else:
        raw = _read_xml(io.BytesIO(_read_bytes(p)))
    return _build(raw, clip=clip, source=str(p))


def sample_along_streets(
    city: City | Sequence[Street],
    spacing_m: float,
    offset_m: float = 0.0,
    *,
    classes: Iterable[str] | None = None,
) -> list[StreetSample]:
    """Points every ``spacing_m`` along each street, from its start (0, s, 2s, ... <= length), moved ``offset_m``
    to the left of the street direction (negative: right). Used for camera sites and for demand points."""
    if spacing_m <= 0:
        raise ValueError("spacing_m must be positive")
    streets = city.streets_of(classes) if isinstance(city, City) else list(city)
    out: list[StreetSample] = []
    for s in streets:
        c = np.asarray(s.line.coords, dtype=np.float64)[:, :2]
        seg = np.diff(c, axis=0)
        seglen = np.hypot(seg[:, 0], seg[:, 1])
        keep = seglen > 1e-9
        if not keep.any():
            continue
        c = np.vstack([c[:1], c[1:][keep]])
        seg, seglen = seg[keep], seglen[keep]
        cum = np.concatenate([[0.0], np.cumsum(seglen)])
        d = np.arange(0.0, cum[-1] + 1e-9, spacing_m)
        i = np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(seg) - 1)
        t = (d - cum[i]) / seglen[i]
        ux, uy = seg[i, 0] / seglen[i], seg[i, 1] / seglen[i]
        px = c[i, 0] + t * seg[i, 0] - offset_m * uy
        py = c[i, 1] + t * seg[i, 1] + offset_m * ux
        heading = np.degrees(np.arctan2(ux, uy)) % 360.0
        for k in range(len(d)):
            out.append(StreetSample(float(px[k]), float(py[k]), s.id, float(heading[k]), float(d[k])))
    return out
