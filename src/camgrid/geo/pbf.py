"""Read an ``.osm.pbf`` extract (the format cities usually get) with pyosmium, streaming and memory-bounded.

Why streaming: a capital's extract holds tens of millions of nodes, almost all of them bare way vertices. pyosmium
reads the file block by block in C++; node locations live in its own compact location cache (``flex_mem``, or a
file-backed array for very large files), untagged nodes never reach Python, and Python keeps only what the planner
uses: streets, buildings, POIs and the members of building multipolygons, with the coordinates of their own
vertices. Two passes: relations first (to know which untagged ways are multipolygon members), then nodes and ways
with locations. The result is the same ``_Raw`` record the XML reader fills, so every later rule is shared
(docs/design/planner-city.md, "Reading .osm.pbf").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import osmium
import osmium.filter

from camgrid.geo.osm import _is_building, _is_poi, _is_street, _Raw


def _relevant_relation(tags: dict[str, str]) -> bool:
    return tags.get("type") in ("multipolygon", "building") and (_is_building(tags) or _is_poi(tags, is_node=False))


def read_pbf(path: Path, *, location_storage: str = "flex_mem") -> _Raw:
    """The planner-relevant content of a PBF file. ``location_storage`` is pyosmium's node-location index
    (e.g. ``"sparse_file_array,/tmp/nodes.idx"`` keeps it on disk for country-sized files)."""
    p = str(path)
    raw = _Raw()
    member_ways: set[int] = set()
    for rel in osmium.FileProcessor(p, osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = {t.k: t.v for t in rel.tags}
        if not _relevant_relation(tags):
            continue
        members = [(_TYPE.get(m.type, ""), int(m.ref), str(m.role)) for m in rel.members]
        raw.relations.append((int(rel.id), members, tags))
        member_ways.update(ref for t, ref, _ in members if t == "way")
    untagged_nodes = osmium.filter.EmptyTagFilter()
    untagged_nodes.enable_for(osmium.osm.NODE)  # ways without tags may be multipolygon members: keep them
    fp = (
        osmium.FileProcessor(p, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations(location_storage)
        .with_filter(untagged_nodes)
    )
    header_box = fp.header.box()
    for obj in fp:
        if isinstance(obj, osmium.osm.Node):
            tags = {t.k: t.v for t in obj.tags}
            if (_is_poi(tags, is_node=True)) and obj.location.valid():
                nid = int(obj.id)
                raw.nodes[nid] = (float(obj.location.lat), float(obj.location.lon))
                raw.node_tags[nid] = tags
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in obj.tags}
        wid = int(obj.id)
        if not (wid in member_ways or _is_street(tags) or _is_building(tags) or _is_poi(tags, is_node=False)):
            continue
        refs: list[int] = []
        for n in obj.nodes:
            refs.append(int(n.ref))
            if n.location.valid():
                raw.nodes.setdefault(int(n.ref), (float(n.location.lat), float(n.location.lon)))
        raw.ways[wid] = (refs, tags)
    if header_box.valid():
        bl, tr = header_box.bottom_left, header_box.top_right
        raw.bounds = (float(bl.lat), float(bl.lon), float(tr.lat), float(tr.lon))
    return raw


_TYPE: dict[Any, str] = {"n": "node", "w": "way", "r": "relation"}
