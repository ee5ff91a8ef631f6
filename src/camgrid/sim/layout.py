"""A simulated city laid out like a real one, on the streets of the shipped Kathmandu extract.

Several cameras per site, tens of sites per feeder, several feeders per district; uplinks are cut across the
feeders (east-west bands against north-south ones) because in a real city the network does not follow the power
grid. Feeders, uplinks and districts are synthetic: OSM has no distribution network for this area.
"""

from __future__ import annotations

import csv
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from camgrid.geo.osm import City, StreetSample, load_city, sample_along_streets
from camgrid.media.nal import H264, H265

FIELDS = ["id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url", "username", "password"]
FIELDS += ["heading_deg", "fov_deg", "range_m", "sub_rtsp_url"]
ONVIF_FIELD = "onvif_url"  # written when the simulator serves ONVIF (write_registry's onvif_port)

# ONVIF services a simulated camera may have (keys of camgrid.sim.onvif.soap.SERVICE_PATHS; pullpoints come with events)
ALL_SERVICES = frozenset({"device", "media", "media2", "events", "search", "replay", "recording"})
PROFILE_G = frozenset({"search", "replay", "recording"})
SD_CAPACITY_S = 24 * 3600.0


@dataclass(frozen=True)
class OnvifTraits:
    """What a simulated camera's model can do over ONVIF (the default: everything)."""

    model: str = "CG-1000"
    services: frozenset[str] = field(default=ALL_SERVICES)
    masks: bool = True  # Media2 CreateMask and friends
    sd_card: bool = True  # records on its card (Profile G: search and replay it)
    battery: bool = False  # rides through its own power cut (the card keeps recording)
    sd_capacity_s: float = SD_CAPACITY_S  # seconds the card holds before it wraps around


def onvif_traits(index: int) -> OnvifTraits:
    """The model of camera ``index`` (1-based, as in :class:`SimCameraSpec`): the first camera of a city can do
    everything; then, by position, a model without Media2 masks, one without events, one without Profile G; every
    third camera (the first included) has a battery."""
    pos = max(0, index - 1)
    battery = pos % 3 == 0
    kind = pos % 4
    if kind == 1:
        return OnvifTraits("CG-1100", ALL_SERVICES, masks=False, battery=battery)
    if kind == 2:
        return OnvifTraits("CG-1200", ALL_SERVICES - {"events"}, battery=battery)
    if kind == 3:
        return OnvifTraits("CG-1300", ALL_SERVICES - PROFILE_G, sd_card=False, battery=battery)
    return OnvifTraits("CG-1000", ALL_SERVICES, battery=battery)


def onvif_address(index: int) -> str:
    """The camera's own loopback address (all of 127/8 is local on Linux): the ONVIF server tells cameras apart by
    the address a connection came to, as a network tells real cameras apart."""
    return f"127.{1 + (index >> 16)}.{(index >> 8) & 255}.{index & 255}"


def onvif_index(address: str) -> int | None:
    """The inverse of :func:`onvif_address` (None for an address that names no camera)."""
    parts = address.split(".")
    if len(parts) != 4 or parts[0] != "127" or not all(p.isdigit() for p in parts):
        return None
    a, b, c = int(parts[1]), int(parts[2]), int(parts[3])
    if a < 1 or b > 255 or c > 255:
        return None
    return ((a - 1) << 16) | (b << 8) | c


@dataclass(frozen=True)
class SimCameraSpec:
    id: str
    index: int
    name: str
    lat: float
    lon: float
    district: str
    site: str
    feeder: str
    uplink: str
    codec: str
    username: str
    password: str
    heading_deg: float
    quirks: tuple[str, ...] = ()  # names from camgrid.sim.quirks.QUIRKS
    scene: bool = False  # a scene camera: a still picture with scripted motion and tamper (camgrid.sim.scenes)

    def url(self, host: str, port: int) -> str:
        return f"rtsp://{host}:{port}/{self.codec}/{self.id}"

    @property
    def onvif_address(self) -> str:
        return onvif_address(self.index)

    def onvif_url(self, onvif_port: int) -> str:
        return f"http://{self.onvif_address}:{onvif_port}/onvif/device_service"

    def row(self, host: str, port: int, onvif_port: int = 0) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "lat": f"{self.lat:.7f}",
            "lon": f"{self.lon:.7f}",
            "district": self.district,
            "site": self.site,
            "feeder": self.feeder,
            "uplink": self.uplink,
            "rtsp_url": self.url(host, port),
            "username": self.username,
            "password": self.password,
            "heading_deg": f"{self.heading_deg:.1f}",
            "fov_deg": "90",
            "range_m": "60",
            "sub_rtsp_url": self.url(host, port) + "/sub",
        }
        if onvif_port:
            out[ONVIF_FIELD] = self.onvif_url(onvif_port)
        return out


def _bands(values: list[float], groups: int) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0] * len(values)
    for rank, i in enumerate(order):
        out[i] = min(groups - 1, rank * groups // len(values))
    return out


def make_city(count: int, *, seed: int = 1, h265_every: int = 8, city: City | None = None) -> list[SimCameraSpec]:
    """Lay out ``count`` cameras deterministically from ``seed``."""
    if count < 1:
        raise ValueError("count must be at least 1")
    rng = random.Random(seed)
    city = city or load_city()
    samples = sample_along_streets(city, 20.0, 3.0)
    rng.shuffle(samples)
    n_sites = max(1, math.ceil(count / 3))
    chosen: list[StreetSample] = []
    for min_gap in (40.0, 20.0, 8.0, 0.0):
        chosen = []
        for s in samples:
            if all((s.x - c.x) ** 2 + (s.y - c.y) ** 2 >= min_gap**2 for c in chosen):
                chosen.append(s)
                if len(chosen) == n_sites:
                    break
        if len(chosen) == n_sites:
            break
    while len(chosen) < n_sites:  # tiny maps: reuse points
        chosen.append(samples[len(chosen) % len(samples)])
    n_feeders = min(n_sites, max(2, round(n_sites / 15)))
    n_uplinks = min(n_sites, max(2, round(n_sites / 8)))
    n_districts = min(n_feeders, max(2, round(n_feeders / 4)))  # at least two, so district scopes can be shown
    feeder_of = _bands([c.y for c in chosen], n_feeders)  # north-south bands
    uplink_of = _bands([c.x for c in chosen], n_uplinks)  # east-west bands: uplinks cut across feeders
    sizes = [2, 3, 4, 3]
    per_site = [sizes[i % len(sizes)] for i in range(n_sites)]
    while sum(per_site) > count:
        i = max(range(n_sites), key=lambda k: (per_site[k], k))
        per_site[i] -= 1
    while sum(per_site) < count:
        per_site[sum(per_site) % n_sites] += 1
    out: list[SimCameraSpec] = []
    index = 0
    for s_i, (sample, n_cams) in enumerate(zip(chosen, per_site, strict=True)):
        feeder = feeder_of[s_i]
        district = feeder * n_districts // n_feeders
        street = next((st for st in city.streets if st.id == sample.street_id), None)
        street_name = street.name if street and street.name else "street"
        for k in range(n_cams):
            index += 1
            lat, lon = city.projection.point_latlon(sample.x + rng.uniform(-2, 2), sample.y + rng.uniform(-2, 2))
            codec = H265 if h265_every and index % h265_every == 0 else H264
            out.append(
                SimCameraSpec(
                    id=f"cam-{index:04d}",
                    index=index,
                    name=f"{street_name} #{s_i + 1}.{k + 1}",
                    lat=lat,
                    lon=lon,
                    district=f"D-{district + 1:02d}",
                    site=f"S-{s_i + 1:03d}",
                    feeder=f"F-{feeder + 1:02d}",
                    uplink=f"U-{uplink_of[s_i] + 1:02d}",
                    codec=codec,
                    username="admin",
                    password=f"sim-{rng.getrandbits(48):012x}",
                    heading_deg=(sample.heading_deg + 90.0 * k) % 360.0,
                )
            )
    return out


def write_registry(cameras: list[SimCameraSpec], path: Path, host: str, port: int, onvif_port: int = 0) -> None:
    """The registry file ``camgrid cameras import`` takes (it carries the simulated cameras' passwords; with
    ``onvif_port``, each camera's ONVIF device address too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # passwords: the operator's only, whatever the umask (docs/design/secrets-at-rest.md)
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        fields = [*FIELDS, ONVIF_FIELD] if onvif_port else FIELDS
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for cam in cameras:
            writer.writerow(cam.row(host, port, onvif_port))


def read_registry(path: Path) -> list[SimCameraSpec]:
    """Serve the cameras of an existing registry file (codec from the URL path ``/h264/<id>`` or ``/h265/<id>``)."""
    out = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=1):
            parts = row["rtsp_url"].split("/")
            codec = H265 if len(parts) >= 2 and parts[-2] == H265 else H264
            out.append(
                SimCameraSpec(
                    id=row["id"],
                    index=i,
                    name=row["name"],
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    district=row["district"],
                    site=row["site"],
                    feeder=row["feeder"],
                    uplink=row["uplink"],
                    codec=codec,
                    username=row.get("username") or "",
                    password=row.get("password") or "",
                    heading_deg=float(row.get("heading_deg") or 0.0),
                )
            )
    return out
