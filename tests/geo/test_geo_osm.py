"""The OSM reader on the shipped extract and on small hand-made maps (XML and GeoJSON)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camgrid.geo.osm import Projection, load_city, sample_along_streets

TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <bounds minlat="27.0000" minlon="85.0000" maxlat="27.0010" maxlon="85.0010"/>
 <node id="1" lat="27.0005" lon="84.9990"/>
 <node id="2" lat="27.0005" lon="85.0005"/>
 <node id="3" lat="27.0005" lon="85.0020"/>
 <node id="4" lat="27.0000" lon="85.0005"/>
 <node id="5" lat="27.0010" lon="85.0005"/>
 <node id="10" lat="27.0001" lon="85.0001"/>
 <node id="11" lat="27.0001" lon="85.0002"/>
 <node id="12" lat="27.0002" lon="85.0002"/>
 <node id="13" lat="27.0002" lon="85.0001"/>
 <node id="20" lat="27.0008" lon="85.0008">
  <tag k="amenity" v="hospital"/><tag k="name" v="Test Hospital"/>
 </node>
 <node id="21" lat="27.0008" lon="85.0001"><tag k="created_by" v="x"/></node>
 <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="name" v="Main"/></way>
 <way id="101"><nd ref="4"/><nd ref="2"/><nd ref="5"/><tag k="highway" v="residential"/></way>
 <way id="102"><nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
  <tag k="building" v="school"/></way>
</osm>
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_extract_loads_with_expected_counts() -> None:
    city = load_city()  # how fast: bench/bench_plan.py prints map_load_s (a test on a busy machine cannot judge it)
    # README of the extract: 2,257 closed building ways + 3 multipolygons (a few lie outside the export box).
    assert 2200 <= len(city.buildings) <= 2270
    assert 200 <= len(city.streets) <= 260
    assert 200 <= len(city.junctions) <= 247
    hospitals = [p for p in city.pois if p.tags.get("amenity") == "hospital"]
    assert len(hospitals) >= 5
    minx, miny, maxx, maxy = city.bounds.bounds
    assert 650 < maxx - minx < 850 and 1250 < maxy - miny < 1450  # about 0.75 km x 1.3 km
    for s in city.streets:
        assert city.bounds.buffer(0.01).covers(s.line)


def test_tiny_xml_streets_junction_building_poi(tmp_path: Path) -> None:
    city = load_city(write(tmp_path, "tiny.osm", TINY_OSM))
    assert {s.highway for s in city.streets} == {"primary", "residential"}
    main = next(s for s in city.streets if s.highway == "primary")
    assert main.name == "Main"
    # clipped to the box: 0.001 deg of longitude at 27 deg is about 99 m
    assert main.line.length == pytest.approx(111_195 * 0.001 * math.cos(math.radians(27.0005)), rel=0.01)
    assert [j.node_id for j in city.junctions] == [2]
    assert city.junctions[0].highways == ("primary", "residential")
    assert len(city.buildings) == 1 and city.buildings[0].polygon.area > 50
    ids = {p.id for p in city.pois}
    assert "n20" in ids and "w102" in ids  # tagged node and the school building's centroid
    assert "n21" not in ids  # created_by is not a point of interest
    school = next(p for p in city.pois if p.id == "w102")
    assert school.from_area and city.buildings[0].polygon.contains(school.point)


def test_xz_and_geojson_give_the_same_city(tmp_path: Path) -> None:
    import lzma

    xml_city = load_city(write(tmp_path, "tiny.osm", TINY_OSM))
    xz = tmp_path / "tiny.osm.xz"
    xz.write_bytes(lzma.compress(TINY_OSM.encode()))
    assert len(load_city(xz).streets) == len(xml_city.streets)

    feats = [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[84.999, 27.0005], [85.0005, 27.0005], [85.002, 27.0005]],
            },
            "properties": {"highway": "primary", "name": "Main"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[85.0005, 27.0], [85.0005, 27.0005], [85.0005, 27.001]]},
            "properties": {"highway": "residential"},
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[85.0001, 27.0001], [85.0002, 27.0001], [85.0002, 27.0002], [85.0001, 27.0002], [85.0001, 27.0001]]
                ],
            },
            "properties": {"building": "school"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [85.0008, 27.0008]},
            "properties": {"amenity": "hospital"},
        },
    ]
    doc = {"type": "FeatureCollection", "bbox": [85.0, 27.0, 85.001, 27.001], "features": feats}
    gj = load_city(write(tmp_path, "tiny.geojson", json.dumps(doc)))
    assert len(gj.streets) == 2 and len(gj.junctions) == 1 and len(gj.buildings) == 1
    assert gj.buildings[0].polygon.area == pytest.approx(xml_city.buildings[0].polygon.area, rel=1e-6)
    assert {p.tags.get("amenity") for p in gj.pois} >= {"hospital"}


def test_sample_along_streets_spacing_offset_heading(tmp_path: Path) -> None:
    city = load_city(write(tmp_path, "tiny.osm", TINY_OSM))
    main = next(s for s in city.streets if s.highway == "primary")
    samples = [s for s in sample_along_streets(city, 10.0, 2.0) if s.street_id == main.id]
    assert len(samples) == int(main.line.length // 10.0) + 1
    y_line = main.line.coords[0][1]
    for s in samples:
        assert s.heading_deg == pytest.approx(90.0, abs=0.5)  # the street runs east
        assert s.y - y_line == pytest.approx(2.0, abs=1e-6)  # left of east is north
    right = [s for s in sample_along_streets([main], 10.0, -2.0)]
    assert right[0].y - y_line == pytest.approx(-2.0, abs=1e-6)
    with pytest.raises(ValueError):
        sample_along_streets(city, 0.0)


@given(
    lat=st.floats(-60, 60),
    lon=st.floats(-179, 179),
    dx=st.floats(-5000, 5000),
    dy=st.floats(-5000, 5000),
)
def test_projection_round_trips(lat: float, lon: float, dx: float, dy: float) -> None:
    proj = Projection(lat, lon)
    la, lo = proj.to_latlon(dx, dy)
    x, y = proj.to_xy(la, lo)
    assert x == pytest.approx(dx, abs=1e-6) and y == pytest.approx(dy, abs=1e-6)
