"""A city and a day of outages, with ground truth, for the replay command and the benchmark.

The city: sites scattered over ~20 km; districts, feeders and uplinks are each the nearest of their own random
centres, so uplinks cross feeders as they do in a real city. A site has its own feeder and uplink; each camera
inherits them, except a few whose registry entry is wrong (the truth keeps the real one).

The day: feeder cuts (some sites ride through on UPS, some UPS run flat), uplink cuts (a few during a power cut),
site faults, single-camera faults and flapping cameras. The recorder sees a camera down 0 to ``detect_max_s`` after
it goes dark and back 1-30 s after it returns (a tenth take up to 4 min), each camera on its own time.

Ground truth uses the incident shape of the replay: an incident's cameras are those its fault darkened (for an
uplink cut during a power cut, the uplink's cameras already dark from power included), ``opened`` is the first
member seen down after the fault began and ``resolved`` the last member seen back (``null`` if after the day).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camgrid.health.topology import CAMERA, POWER, SITE, UPLINK
from camgrid.registry.io import write_csv
from camgrid.vocabulary import GapReason

LAT0, LON0, SPAN_DEG = 27.62, 85.22, 0.2
REASONS = (GapReason.UNREACHABLE, GapReason.STALLED, GapReason.AUTH_REFUSED)


@dataclass
class ScenarioShape:
    """Sizes and counts; ``None`` sizes scale with ``cameras`` like the design city (62,000 / 4,000 / 300 / 40)."""

    cameras: int = 62_000
    seed: int = 0
    sites: int | None = None
    feeders: int | None = None
    uplinks: int | None = None
    districts: int | None = None
    feeder_cuts: int = 40
    district_blackouts: int = 1
    uplink_cuts: int = 15
    uplink_during_power: int = 3
    site_faults: int = 20
    camera_faults: int = 60
    flapping: int = 10
    wrong_registry: float = 0.002
    ups_share: float = 0.05
    day_s: float = 86_400.0
    detect_max_s: float = 5.0

    def resolved_sizes(self) -> tuple[int, int, int, int]:
        n = self.cameras
        sites = self.sites or max(1, round(n / 15.5))
        feeders = self.feeders or max(1, round(n / 206.7))
        uplinks = self.uplinks or max(1, round(n / 100))
        districts = self.districts or max(1, round(n / 1550))
        return min(sites, n), feeders, uplinks, districts


@dataclass
class Fault:
    kind: str
    subject: str
    start: float
    end: float | None
    cameras: list[int] = field(default_factory=list)
    flaps: list[tuple[float, float]] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)  # per member: how long its UPS carried it
    ups_sites: list[int] = field(default_factory=list)  # sites of a cut feeder that went on battery


@dataclass
class Scenario:
    shape: ScenarioShape
    registry: list[dict[str, Any]]
    events: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    wrong: list[dict[str, str]]
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def write(self, out: Path) -> dict[str, Path]:
        """Write ``cameras.csv``, ``events.jsonl``, ``truth.jsonl`` and ``meta.json`` into ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        paths = {k: out / n for k, n in (("registry", "cameras.csv"), ("events", "events.jsonl"))}
        paths["truth"] = out / "truth.jsonl"
        paths["evidence"] = out / "evidence.jsonl"
        paths["meta"] = out / "meta.json"
        with paths["registry"].open("w", encoding="utf-8", newline="") as fh:
            write_csv(self.registry, fh)
        for key, rows in (("events", self.events), ("truth", self.truth), ("evidence", self.evidence)):
            with paths[key].open("w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
        meta = {"shape": asdict(self.shape), "events": len(self.events), "incidents": len(self.truth)}
        meta["wrong_registry"] = self.wrong
        paths["meta"].write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return paths


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    out = np.empty(len(points), dtype=np.int64)
    for i in range(0, len(points), 2048):
        d = ((points[i : i + 2048, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        out[i : i + 2048] = d.argmin(axis=1)
    return out


class _Day:
    """Books faults so that the ones meant to be separate do not overlap on the same cameras."""

    def __init__(self, rng: np.random.Generator, shape: ScenarioShape, n_cams: int) -> None:
        self.rng = rng
        self.shape = shape
        self.busy: list[list[tuple[float, float]]] = [[] for _ in range(n_cams)]
        self.faults: list[Fault] = []

    def free(self, cams: list[int], start: float, end: float, margin: float = 900.0) -> bool:
        for c in cams:
            for a, b in self.busy[c]:
                if a - margin < end and start < b + margin:
                    return False
        return True

    def book(self, fault: Fault, cams: list[int]) -> None:
        end = fault.end if fault.end is not None else self.shape.day_s
        for c in cams:
            self.busy[c].append((fault.start, end))
        self.faults.append(fault)

    def window(self, lo: float, hi: float) -> tuple[float, float]:
        start = float(self.rng.uniform(600.0, self.shape.day_s - 3600.0))
        return start, start + float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))


def generate(shape: ScenarioShape) -> Scenario:
    """Build the city, the day and the truth. Deterministic for a given shape (seed included)."""
    rng = np.random.default_rng(shape.seed)
    n = shape.cameras
    n_sites, n_feeders, n_uplinks, n_districts = shape.resolved_sizes()
    site_xy = rng.uniform(0.0, 1.0, size=(n_sites, 2))
    site_district = _nearest(site_xy, rng.uniform(0, 1, size=(n_districts, 2)))
    site_feeder = _nearest(site_xy, rng.uniform(0, 1, size=(n_feeders, 2)))
    site_uplink = _nearest(site_xy, rng.uniform(0, 1, size=(n_uplinks, 2)))
    per_site = np.ones(n_sites, dtype=np.int64)
    if n > n_sites:
        weights = rng.gamma(2.0, 1.0, size=n_sites)
        per_site += rng.multinomial(n - n_sites, weights / weights.sum())
    cam_site = np.repeat(np.arange(n_sites), per_site)[:n]
    true_feeder = site_feeder[cam_site].copy()
    true_uplink = site_uplink[cam_site].copy()
    ups_cap = np.where(rng.uniform(size=n_sites) < shape.ups_share, rng.uniform(600.0, 5400.0, size=n_sites), 0.0)

    # Registry, with a few wrong feeder/uplink entries at sites that have site-mates.
    reg_feeder = true_feeder.copy()
    reg_uplink = true_uplink.copy()
    wrong: list[dict[str, str]] = []
    # Most at sites with site-mates (the engine can tell by the site); every fifth wherever it falls, lone
    # cameras included (then only the place and the timing can tell).
    eligible = np.flatnonzero(per_site[cam_site] >= 3)
    eligible = np.union1d(eligible[: len(eligible) * 4 // 5], rng.choice(n, size=max(1, n // 5), replace=False))
    n_wrong = round(shape.wrong_registry * n)
    if n_wrong and len(eligible) and n_feeders > 1 and n_uplinks > 1:
        picked = rng.choice(eligible, size=min(2 * n_wrong, len(eligible)), replace=False)
        for i, c in enumerate(picked.tolist()):
            if i % 2 == 0:
                reg_feeder[c] = (true_feeder[c] + 1 + rng.integers(n_feeders - 1)) % n_feeders
                wrong.append({"camera": f"CAM-{c:05d}", "field": "feeder", "registry": f"F-{reg_feeder[c]:03d}"})
                wrong[-1]["true"] = f"F-{true_feeder[c]:03d}"
            else:
                reg_uplink[c] = (true_uplink[c] + 1 + rng.integers(n_uplinks - 1)) % n_uplinks
                wrong.append({"camera": f"CAM-{c:05d}", "field": "uplink", "registry": f"U-{reg_uplink[c]:03d}"})
                wrong[-1]["true"] = f"U-{true_uplink[c]:03d}"
    jitter = rng.normal(0.0, 0.0004, size=(n, 2))
    registry = [
        {
            "id": f"CAM-{c:05d}",
            "name": f"Camera {c}",
            "lat": round(LAT0 + SPAN_DEG * float(site_xy[cam_site[c], 1]) + float(jitter[c, 0]), 6),
            "lon": round(LON0 + SPAN_DEG * float(site_xy[cam_site[c], 0]) + float(jitter[c, 1]), 6),
            "district": f"D-{site_district[cam_site[c]]:02d}",
            "site": f"S-{cam_site[c]:05d}",
            "feeder": f"F-{reg_feeder[c]:03d}",
            "uplink": f"U-{reg_uplink[c]:03d}",
            "rtsp_url": f"rtsp://10.{c // 65536}.{(c // 256) % 256}.{c % 256}:554/stream1",
        }
        for c in range(n)
    ]

    by_feeder: dict[int, list[int]] = {}
    by_uplink: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    for c in range(n):
        by_feeder.setdefault(int(true_feeder[c]), []).append(c)
        by_uplink.setdefault(int(true_uplink[c]), []).append(c)
        by_site.setdefault(int(cam_site[c]), []).append(c)
    day = _Day(rng, shape, n)
    _place_faults(day, shape, by_feeder, by_uplink, by_site, cam_site, site_district, ups_cap, n)
    events, truth = _detect(day, shape, rng, n)
    evidence = _evidence(day, rng)
    return Scenario(shape=shape, registry=registry, events=events, truth=truth, wrong=wrong, evidence=evidence)


def _evidence(day: _Day, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Optional outside evidence: UPS telemetry from sites on battery within seconds of a cut, and the utility's
    outage notice for half of the cuts, minutes late."""
    out: list[dict[str, Any]] = []
    for f in day.faults:
        if f.kind != POWER or f.end is None:
            continue
        for site in f.ups_sites:
            out.append(
                {"t": round(f.start + float(rng.uniform(0.0, 2.0)), 3), "site": f"S-{site:05d}", "ups": "battery"}
            )
        if rng.uniform() < 0.5:
            notice = {"t": round(f.start + float(rng.uniform(60.0, 600.0)), 3), "feeder": f.subject}
            out.append({**notice, "until": round(f.end, 3), "source": "utility"})
    return sorted(out, key=lambda e: e["t"])


def _cut(
    day: _Day, f: int, start: float, end: float, cams: list[int], cam_site: np.ndarray, ups_cap: np.ndarray
) -> Fault | None:
    """Book a power cut of feeder ``f`` if its cameras are free then; UPS sites ride through or run flat."""
    if not day.free(cams, start, end):
        return None
    dark = [c for c in cams if ups_cap[cam_site[c]] <= 0 or ups_cap[cam_site[c]] < end - start]
    if not dark:
        return None
    fault = Fault(POWER, f"F-{f:03d}", start, end, dark)
    fault.delays = [float(ups_cap[cam_site[c]]) for c in dark]
    fault.ups_sites = sorted({int(cam_site[c]) for c in cams if ups_cap[cam_site[c]] > 0})
    day.book(fault, cams)
    return fault


def _place_faults(
    day: _Day,
    shape: ScenarioShape,
    by_feeder: dict[int, list[int]],
    by_uplink: dict[int, list[int]],
    by_site: dict[int, list[int]],
    cam_site: np.ndarray,
    site_district: np.ndarray,
    ups_cap: np.ndarray,
    n: int,
) -> None:
    rng = day.rng
    feeders = sorted(by_feeder)
    cuts: list[tuple[Fault, int]] = []
    # District blackouts: every feeder of one district trips within 2 s; power returns feeder by feeder.
    district_of = {f: int(np.bincount(site_district[cam_site[cams]]).argmax()) for f, cams in by_feeder.items()}
    districts = sorted({d for d in district_of.values() if sum(1 for x in district_of.values() if x == d) >= 2})
    for _ in range(shape.district_blackouts):
        if not districts:
            break
        d = districts[int(rng.integers(len(districts)))]
        start, end = day.window(1800.0, 4 * 3600.0)
        for f in feeders:
            if district_of[f] == d and len(by_feeder[f]) >= 2:
                _cut(
                    day,
                    f,
                    start + float(rng.uniform(0, 2)),
                    end + float(rng.uniform(0, 900)),
                    by_feeder[f],
                    cam_site,
                    ups_cap,
                )
    # A group of one camera going dark is that camera's fault as far as anyone can tell: cut groups of two or more.
    feeders = [f for f in feeders if len(by_feeder[f]) >= 2] or feeders
    for _ in range(shape.feeder_cuts * 20):
        if len(cuts) >= shape.feeder_cuts:
            break
        f = feeders[int(rng.integers(len(feeders)))]
        start, end = day.window(300.0, 3 * 3600.0)
        fault = _cut(day, f, start, end, by_feeder[f], cam_site, ups_cap)
        if fault is not None:
            cuts.append((fault, f))
    uplinks = [u for u in sorted(by_uplink) if len(by_uplink[u]) >= 2] or sorted(by_uplink)
    placed = 0
    for fault, f in cuts[: shape.uplink_during_power]:
        assert fault.end is not None
        in_f = set(by_feeder[f])
        options = [u for u in uplinks if any(c in in_f for c in by_uplink[u])]
        rng.shuffle(options)
        for u in options:
            rest = [c for c in by_uplink[u] if c not in in_f]
            start = float(rng.uniform(fault.start + 120.0, max(fault.start + 121.0, fault.end - 300.0)))
            end = start + float(rng.uniform(600.0, 3600.0))
            if len(rest) >= 3 and day.free(rest, start, end):
                day.book(Fault(UPLINK, f"U-{u:03d}", start, end, list(by_uplink[u])), rest)
                placed += 1
                break
    for _ in range(shape.uplink_cuts * 20):
        if placed >= shape.uplink_cuts:
            break
        u = uplinks[int(rng.integers(len(uplinks)))]
        start, end = day.window(300.0, 3600.0)
        if day.free(by_uplink[u], start, end):
            day.book(Fault(UPLINK, f"U-{u:03d}", start, end, list(by_uplink[u])), by_uplink[u])
            placed += 1
    # A site fault is only told from a feeder or uplink cut when the site is not (most of) that feeder or uplink.
    feeder_size = {c: len(cams) for cams in by_feeder.values() for c in cams}
    uplink_size = {c: len(cams) for cams in by_uplink.values() for c in cams}
    sites = sorted(
        s for s, cams in by_site.items() if 2 <= len(cams) < 0.5 * min(feeder_size[cams[0]], uplink_size[cams[0]])
    )
    count = 0
    for _ in range(shape.site_faults * 20):
        if count >= shape.site_faults or not sites:
            break
        s = sites[int(rng.integers(len(sites)))]
        start, end = day.window(120.0, 3600.0)
        if day.free(by_site[s], start, end):
            day.book(Fault(SITE, f"S-{s:05d}", start, end, list(by_site[s])), by_site[s])
            count += 1
    count = 0
    for _ in range(shape.camera_faults * 20):
        if count >= shape.camera_faults:
            break
        c = int(rng.integers(n))
        start, end_t = day.window(60.0, 6 * 3600.0)
        until: float | None = None if rng.uniform() < 0.1 or end_t >= shape.day_s else end_t
        if day.free([c], start, until if until is not None else shape.day_s):
            day.book(Fault(CAMERA, f"CAM-{c:05d}", start, until, [c]), [c])
            count += 1
    count = 0
    for _ in range(shape.flapping * 20):
        if count >= shape.flapping:
            break
        c = int(rng.integers(n))
        start, _ = day.window(60.0, 120.0)
        t, flaps = start, []
        for _k in range(int(rng.integers(3, 9))):
            down = float(rng.uniform(8.0, 40.0))
            flaps.append((t, t + down))
            t += down + float(rng.uniform(5.0, 150.0))
        if day.free([c], start, flaps[-1][1]):
            fault = Fault(CAMERA, f"CAM-{c:05d}", start, flaps[-1][1], [c])
            fault.flaps = flaps
            day.book(fault, [c])
            count += 1


def _detect(
    day: _Day, shape: ScenarioShape, rng: np.random.Generator, n: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Turn dark intervals into what a recorder sees (late, each camera on its own time) and into the truth."""
    inf = float("inf")
    dark: dict[int, list[tuple[float, float, int]]] = {}
    reasons: dict[int, str] = {}
    ups_drain: set[tuple[int, int]] = set()
    hidden: set[tuple[int, int]] = set()  # a UPS running flat while its camera was already dark: unobservable
    for fi, f in enumerate(day.faults):
        end = f.end if f.end is not None else inf
        if f.flaps:
            for a, b in f.flaps:
                dark.setdefault(f.cameras[0], []).append((a, b, fi))
        else:
            delays = f.delays or [0.0] * len(f.cameras)
            for c, d in zip(f.cameras, delays, strict=True):
                dark.setdefault(c, []).append((f.start + d, end, fi))
                if d > 0:
                    ups_drain.add((fi, c))
        reasons[fi] = REASONS[int(rng.integers(len(REASONS)))] if f.kind == CAMERA else GapReason.UNREACHABLE
        if f.flaps:
            reasons[fi] = GapReason.STALLED
    seen: dict[int, list[tuple[int, float, float | None]]] = {}  # fault -> (camera, seen down, seen up)
    events: list[dict[str, Any]] = []
    for c in sorted(dark):
        ivs = sorted(dark[c])
        merged: list[list[Any]] = []
        for a, b, fi in ivs:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
                merged[-1][2].add(fi)
                if (fi, c) in ups_drain:
                    hidden.add((fi, c))
            else:
                merged.append([a, b, {fi}])
        runs: list[list[Any]] = []
        for a, b, fis in merged:
            seen_down = a + float(rng.uniform(0.0, shape.detect_max_s))
            if all(day.faults[fi].kind == CAMERA for fi in fis):
                back = float(rng.uniform(1.0, 5.0))
            elif rng.uniform() < 0.9:
                back = float(rng.uniform(1.0, 30.0))
            else:
                back = float(rng.uniform(30.0, 240.0))
            seen_up: float | None = b + back if b + back < shape.day_s else None
            if runs and runs[-1][1] is not None and seen_down <= runs[-1][1] + 0.5:
                runs[-1][1] = seen_up
                runs[-1][2] |= fis
            elif runs and runs[-1][1] is None:
                runs[-1][2] |= fis
            else:
                runs.append([seen_down, seen_up, set(fis)])
        cam = f"CAM-{c:05d}"
        for seen_down, seen_up, fis in runs:
            first = min(fis, key=lambda fi: day.faults[fi].start)
            events.append({"t": round(seen_down, 3), "camera": cam, "state": "down", "reason": reasons[first]})
            if seen_up is not None:
                events.append({"t": round(seen_up, 3), "camera": cam, "state": "up"})
            for fi in fis:
                if (fi, c) not in hidden:
                    seen.setdefault(fi, []).append((c, seen_down, seen_up))
    events.sort(key=lambda e: (e["t"], e["camera"]))
    truth: list[dict[str, Any]] = []
    for fi, f in enumerate(day.faults):
        rows = seen.get(fi, [])
        starts = [d for _, d, _ in rows if d >= f.start - 1e-6]
        if not starts:
            continue  # nothing new went dark: no one could see this fault
        ups = [u for _, _, u in rows]
        resolved = None if any(u is None for u in ups) else round(max(u for u in ups if u is not None), 3)
        truth.append(
            {
                "kind": f.kind,
                "subject": f.subject,
                "opened": round(min(starts), 3),
                "resolved": resolved,
                "cameras": sorted({f"CAM-{c:05d}" for c, _, _ in rows}),
            }
        )
    truth.sort(key=lambda r: (r["opened"], r["kind"], r["subject"]))
    return events, truth
