"""Reading ``.osm.pbf`` (docs/design/planner-city.md, "Reading .osm.pbf"): a small file written with osmium's own
writer must read like the same map in XML (streets, junctions, buildings with holes, POIs)."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest
from osmium.osm.mutable import Node, Relation, Way

from camgrid.geo.osm import load_city

LAT, LON = 27.7, 85.3
D = 0.0001  # ~11 m


def _write_pbf(path: Path) -> None:
    w = osmium.SimpleWriter(str(path))
    try:
        nodes = {
            1: (0, 0),
            2: (10, 0),
            3: (20, 0),
            4: (10, -10),
            5: (10, 10),  # streets: a cross
            11: (2, 2),
            12: (6, 2),
            13: (6, 6),
            14: (2, 6),  # building way
            21: (12, 2),
            22: (18, 2),
            23: (18, 8),
            24: (12, 8),  # multipolygon outer
            25: (14, 4),
            26: (16, 4),
            27: (16, 6),
            28: (14, 6),  # its inner ring
        }
        for nid, (dx, dy) in sorted(nodes.items()):
            w.add_node(Node(id=nid, location=(LON + dx * D, LAT + dy * D)))
        w.add_node(Node(id=100, location=(LON + 15 * D, LAT - 5 * D), tags={"amenity": "hospital", "name": "H"}))
        w.add_way(Way(id=1, nodes=[1, 2, 3], tags={"highway": "primary", "name": "Main"}))
        w.add_way(Way(id=2, nodes=[4, 2, 5], tags={"highway": "footway"}))
        w.add_way(Way(id=3, nodes=[11, 12, 13, 14, 11], tags={"building": "yes"}))
        w.add_way(Way(id=4, nodes=[21, 22, 23, 24, 21], tags={}))
        w.add_way(Way(id=5, nodes=[25, 26, 27, 28, 25], tags={}))
        w.add_relation(
            Relation(
                id=1,
                members=[("w", 4, "outer"), ("w", 5, "inner")],
                tags={"type": "multipolygon", "building": "school", "amenity": "school"},
            )
        )
    finally:
        w.close()


def test_pbf_reads_streets_buildings_pois(tmp_path: Path) -> None:
    path = tmp_path / "tiny.osm.pbf"
    _write_pbf(path)
    city = load_city(path, clip=False)
    assert sorted(s.highway for s in city.streets) == ["footway", "primary"]
    assert len(city.junctions) == 1 and city.junctions[0].node_id == 2
    assert len(city.buildings) == 2
    areas = sorted(b.polygon.area for b in city.buildings)
    cell = (D * 111_320) ** 2  # one D x D cell in m², roughly
    assert areas[0] == pytest.approx(16 * cell, rel=0.15)  # the 4x4 building
    assert areas[1] == pytest.approx((36 - 4) * cell, rel=0.15)  # 6x6 outer minus the 2x2 hole
    kinds = {p.tags.get("amenity") for p in city.pois}
    assert {"hospital", "school"} <= kinds


def test_unreadable_pbf_is_a_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(ValueError, match="pbf"):
        load_city(bad)
    with pytest.raises(ValueError, match="no such file"):
        load_city(tmp_path / "missing.osm.pbf")
