"""The registry's shared-risk groups as integer arrays, so the correlation engine does list lookups, not dict ones.

Each camera has its own district, site, feeder and uplink in the registry; a site's feeder and uplink are the
majority of its cameras' values, which is what lets the engine notice a camera whose registry entry disagrees with
its site-mates (a suggested correction).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import IncidentKind

POWER: str = IncidentKind.POWER  # typed str: the engine keys plain dicts by kind
UPLINK: str = IncidentKind.UPLINK
SITE: str = IncidentKind.SITE
CAMERA: str = IncidentKind.CAMERA
GROUP_KINDS = (POWER, UPLINK, SITE)
KIND_ORDER = {POWER: 0, UPLINK: 1, SITE: 2, CAMERA: 3}


@dataclass
class Groups:
    """One kind of shared-risk group: names and member camera indexes."""

    names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    members: list[list[int]] = field(default_factory=list)

    def add(self, name: str, cam: int) -> int:
        gid = self.index.get(name)
        if gid is None:
            gid = len(self.names)
            self.index[name] = gid
            self.names.append(name)
            self.members.append([])
        self.members[gid].append(cam)
        return gid


@dataclass
class Topology:
    """Cameras and their groups. ``of[kind][cam]`` is the camera's group index of that kind."""

    cam_ids: list[str]
    cam_index: dict[str, int]
    lat: list[float]
    lon: list[float]
    district: list[str]
    groups: dict[str, Groups]
    of: dict[str, list[int]]
    site_major: dict[str, list[int]]  # kind (power|uplink) -> site index -> majority group index
    suspects: dict[str, list[list[int]]]  # kind -> group -> cameras whose entry disagrees with their site
    n_sites: dict[str, list[int]]  # kind -> group -> number of distinct sites among its cameras
    suspect_flag: dict[str, bytearray]  # kind -> camera -> 1 if its entry disagrees with its site

    @property
    def size(self) -> int:
        return len(self.cam_ids)

    def group_name(self, kind: str, gid: int) -> str:
        return self.groups[kind].names[gid]


def build_topology(rows: Iterable[CameraIn]) -> Topology:
    """Build the group arrays from parsed registry rows (``camgrid.registry.io.parse_camera_file``)."""
    cam_ids: list[str] = []
    lat: list[float] = []
    lon: list[float] = []
    district: list[str] = []
    groups = {kind: Groups() for kind in GROUP_KINDS}
    of: dict[str, list[int]] = {kind: [] for kind in GROUP_KINDS}
    for row in rows:
        cam = len(cam_ids)
        cam_ids.append(row.id)
        lat.append(row.lat)
        lon.append(row.lon)
        district.append(row.district)
        of[POWER].append(groups[POWER].add(row.feeder, cam))
        of[UPLINK].append(groups[UPLINK].add(row.uplink, cam))
        of[SITE].append(groups[SITE].add(row.site, cam))
    site_major: dict[str, list[int]] = {}
    for kind in (POWER, UPLINK):
        major = []
        for members in groups[SITE].members:
            counts = Counter(of[kind][c] for c in members)
            # Ties go to the smallest group index, so the result does not depend on dict order.
            best = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            major.append(best)
        site_major[kind] = major
    suspects: dict[str, list[list[int]]] = {kind: [[] for _ in groups[kind].names] for kind in GROUP_KINDS}
    suspect_flag = {kind: bytearray(len(cam_ids)) for kind in GROUP_KINDS}
    for kind in (POWER, UPLINK):
        for cam, g in enumerate(of[kind]):
            if site_major[kind][of[SITE][cam]] != g:
                suspects[kind][g].append(cam)
                suspect_flag[kind][cam] = 1
    n_sites = {
        kind: [len({of[SITE][c] for c in m if not suspect_flag[kind][c]}) for m in groups[kind].members]
        for kind in GROUP_KINDS
    }
    return Topology(
        cam_ids=cam_ids,
        cam_index={c: i for i, c in enumerate(cam_ids)},
        lat=lat,
        lon=lon,
        district=district,
        groups=groups,
        of=of,
        site_major=site_major,
        suspects=suspects,
        n_sites=n_sites,
        suspect_flag=suspect_flag,
    )
