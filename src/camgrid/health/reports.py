"""Availability, outage minutes by cause, lost and live coverage (design: docs/design/health-incidents.md, "Reports").

Pure functions over plain spans (tested by tables), then a thin SQL layer that reads the recording index (``gaps``)
and the stored incidents. Availability is the share of camera time not inside a gap: the recorder opens a gap for
every instant it does not record, so "not in a gap" is "recording".

Causes: a gap's reason gives ``disk`` (``vocabulary.DISK_REASONS``), ``recorder`` (``RECORDER_REASONS``: not
running, starting, internal error) or ``camera`` (everything else); the part of a camera gap inside a ``power`` or
``site`` incident the camera is a member of is ``power``, inside an ``uplink`` incident ``uplink``. Any gap time
inside one of the camera's maintenance windows (``registry.models.CameraMaintenance``) is ``maintenance``, whatever its
reason: it is reported apart and is not down time, and the windows leave the availability's denominator (a camera
under repair is neither available nor failing). A camera counts only from the time it existed (``CameraInfo.since_ns``:
the first instant the recording index knows of it, docs/design/reports.md): the hours before it was installed are
neither available nor down. Table, chart and CSV all come from :func:`availability`, so they agree. The recording
index lives in ``camgrid.storage``, a sibling layer, so its two tables are named here as plain SQL tables rather
than imported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, String, column, func, or_, select, table
from sqlalchemy.orm import Session

from camgrid.health.models import IncidentCamera, IncidentRow
from camgrid.registry.models import Camera, CameraMaintenance
from camgrid.vocabulary import DISK_REASONS, RECORDER_REASONS

NS = 1_000_000_000
CAUSES = ("power", "uplink", "camera", "recorder", "disk", "maintenance")
NOT_DOWN = ("maintenance",)  # causes reported apart, not counted as down time
GROUPINGS = ("camera", "site", "feeder", "uplink", "district", "city")
Span = tuple[int, int]


@dataclass(frozen=True)
class CameraInfo:
    id: str
    site: str = ""
    feeder: str = ""
    district: str = ""
    uplink: str = ""
    # When the camera began to exist for the reports (first seen in the recording index); None: never seen, so it
    # has no camera time at all (an installed camera the recorder never tried is not "available").
    since_ns: int | None = 0


@dataclass(frozen=True)
class GapSpan:
    camera: str
    start_ns: int
    end_ns: int | None  # None: still open
    reason: str


@dataclass(frozen=True)
class IncidentSpan:
    """A group incident as seen by one camera: the window in which its darkness is the incident's fault; or (kind
    ``maintenance``) a window in which an operator had the camera out of service."""

    camera: str
    kind: str  # power | site | uplink | maintenance
    start_ns: int
    end_ns: int | None


@dataclass
class Availability:
    """One group's camera time (all in camera-seconds: one camera for one second is one camera-second)."""

    key: str
    cameras: int
    period_s: float
    down_s: float = 0.0
    by_cause_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0.0))
    maintenance_s: float = 0.0  # camera time in maintenance windows: not expected to record
    exist_s: float = 0.0  # camera time the group's cameras existed within the period

    @property
    def expected_s(self) -> float:
        """The denominator: camera time that existed and was not in maintenance."""
        return max(0.0, self.exist_s - self.maintenance_s)

    @property
    def availability(self) -> float | None:
        """Share of the expected camera time recorded; None when no camera of the group was expected at all."""
        total = self.expected_s
        return None if total <= 0 else max(0.0, 1.0 - self.down_s / total)

    def as_dict(self) -> dict[str, Any]:
        a = self.availability
        return {
            "key": self.key,
            "cameras": self.cameras,
            "availability": None if a is None else round(a, 6),
            "camera_min": round(self.exist_s / 60, 3),
            "expected_min": round(self.expected_s / 60, 3),
            "down_min": round(self.down_s / 60, 3),
            "outage_min": {c: round(self.by_cause_s[c] / 60, 3) for c in CAUSES},
        }


def cause_of_reason(reason: str) -> str:
    """What a gap's reason blames when no incident explains it."""
    if reason in DISK_REASONS:
        return "disk"
    if reason in RECORDER_REASONS:
        return "recorder"
    return "camera"


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint union of half-open spans (empty ones dropped)."""
    out: list[Span] = []
    for s, e in sorted(x for x in spans if x[1] > x[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Intersection of two sorted, disjoint span lists."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def total(spans: Iterable[Span]) -> int:
    return sum(e - s for s, e in spans)


def _clip(start: int, end: int | None, lo: int, hi: int) -> Span:
    return max(start, lo), min(hi if end is None else end, hi)


def camera_outage(gaps: Sequence[GapSpan], incidents: Sequence[IncidentSpan], lo: int, hi: int) -> dict[str, int]:
    """Nanoseconds of [lo, hi) one camera spent in gaps, by cause (overlapping gaps are counted once)."""
    out = dict.fromkeys(CAUSES, 0)
    power = merge(_clip(i.start_ns, i.end_ns, lo, hi) for i in incidents if i.kind in ("power", "site"))
    uplink = merge(_clip(i.start_ns, i.end_ns, lo, hi) for i in incidents if i.kind == "uplink")
    maint = merge(_clip(i.start_ns, i.end_ns, lo, hi) for i in incidents if i.kind == "maintenance")
    covered = 0  # gaps of one camera should not overlap (the recorder splits them); if they do, count time once
    for g in sorted(gaps, key=lambda g: g.start_ns):
        s, e = _clip(g.start_ns, g.end_ns, lo, hi)
        s = max(s, covered)
        if e <= s:
            continue
        covered = e
        out["maintenance"] += total(intersect([(s, e)], maint))
        cause = cause_of_reason(g.reason)
        for span in intersect([(s, e)], _complement(maint, s, e)) if maint else [(s, e)]:
            if cause == "camera":
                p = total(intersect([span], power))
                u = total(intersect(intersect([span], uplink), _complement(power, *span)))
                out["power"] += p
                out["uplink"] += u
                out["camera"] += (span[1] - span[0]) - p - u
            else:
                out[cause] += span[1] - span[0]
    return out


def _complement(spans: Sequence[Span], lo: int, hi: int) -> list[Span]:
    out: list[Span] = []
    t = lo
    for s, e in spans:
        if s > t:
            out.append((t, min(s, hi)))
        t = max(t, e)
    if t < hi:
        out.append((t, hi))
    return [x for x in out if x[1] > x[0]]


def group_key(cam: CameraInfo, by: str) -> str:
    if by == "city":
        return "city"
    if by == "camera":
        return cam.id
    value: str = getattr(cam, by)
    return value


def existence(cam: CameraInfo, lo: int, hi: int) -> Span:
    """The part of [lo, hi) the camera existed in (empty when it was first seen after ``hi`` or never)."""
    if cam.since_ns is None:
        return hi, hi
    return min(hi, max(lo, cam.since_ns)), hi


def availability(
    cameras: Sequence[CameraInfo],
    gaps: Iterable[GapSpan],
    incidents: Iterable[IncidentSpan],
    lo: int,
    hi: int,
    by: str,
) -> list[Availability]:
    """Availability and outage time by cause per group (``by``: camera, site, feeder, uplink, district or city).

    Each camera counts from its ``since_ns`` only (clipped to the period); its maintenance windows leave the
    denominator. Groups sort worst first; a group with no expected time (None) sorts last."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    if hi <= lo:
        raise ValueError("the period is empty")
    gaps_of: dict[str, list[GapSpan]] = defaultdict(list)
    for g in gaps:
        gaps_of[g.camera].append(g)
    inc_of: dict[str, list[IncidentSpan]] = defaultdict(list)
    for i in incidents:
        inc_of[i.camera].append(i)
    period_s = (hi - lo) / NS
    rows: dict[str, Availability] = {}
    for cam in cameras:
        key = group_key(cam, by)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Availability(key, 0, period_s)
        row.cameras += 1
        c_lo, c_hi = existence(cam, lo, hi)
        if c_hi <= c_lo:
            continue
        row.exist_s += (c_hi - c_lo) / NS
        spans = inc_of.get(cam.id, [])
        windows = merge(_clip(i.start_ns, i.end_ns, c_lo, c_hi) for i in spans if i.kind == "maintenance")
        row.maintenance_s += total(windows) / NS
        if cam.id in gaps_of:
            for cause, ns in camera_outage(gaps_of[cam.id], spans, c_lo, c_hi).items():
                row.by_cause_s[cause] += ns / NS
                if cause not in NOT_DOWN:
                    row.down_s += ns / NS
    return sorted(rows.values(), key=_worst_first)


def _worst_first(r: Availability) -> tuple[float, str]:
    a = r.availability
    return (2.0 if a is None else a, r.key)


def down_spans(gaps: Iterable[GapSpan], lo: int, hi: int) -> dict[str, list[Span]]:
    """Each camera's unrecorded time within [lo, hi), merged."""
    raw: dict[str, list[Span]] = defaultdict(list)
    for g in gaps:
        raw[g.camera].append(_clip(g.start_ns, g.end_ns, lo, hi))
    return {c: merge(s) for c, s in raw.items()}


CoverageMap = Mapping[str, Sequence[tuple[str, float]]]  # camera -> [(point id, weight)] it watches


def _points(coverage: CoverageMap) -> dict[str, tuple[float, list[str]]]:
    points: dict[str, tuple[float, list[str]]] = {}
    for cam, seen in coverage.items():
        for pid, w in seen:
            weight, cams = points.get(pid, (w, []))
            cams.append(cam)
            points[pid] = (max(weight, w), cams)
    return points


def lost_coverage(coverage: CoverageMap, down: Mapping[str, Sequence[Span]], lo: int, hi: int) -> dict[str, float]:
    """Weight of watched points left unwatched (every camera that sees them was down) times the time.

    ``lost_weight_h`` is weight x hours; ``share`` divides by the total watched weight x the period."""
    lost_ns = 0.0
    weight_total = 0.0
    for weight, cams in _points(coverage).values():
        weight_total += weight
        dark: list[Span] = [(lo, hi)]
        for c in cams:
            dark = intersect(dark, down.get(c, []))
            if not dark:
                break
        lost_ns += weight * total(dark)
    denom = weight_total * (hi - lo)
    return {
        "weight_total": round(weight_total, 6),
        "lost_weight_h": round(lost_ns / NS / 3600, 6),
        "share": round(lost_ns / denom, 6) if denom > 0 else 0.0,
    }


def live_coverage(coverage: CoverageMap, up: Iterable[str]) -> float:
    """Share of the watched points' weight that at least one camera that is up watches right now."""
    up_set = set(up)
    watched = total_w = 0.0
    for weight, cams in _points(coverage).values():
        total_w += weight
        if any(c in up_set for c in cams):
            watched += weight
    return 1.0 if total_w <= 0 else watched / total_w


# SQL ----------------------------------------------------------------------------------------------------------------
_gaps = table(
    "gaps",
    column("camera_id", String),
    column("start_ns", BigInteger),
    column("end_ns", BigInteger),
    column("reason", String),
)


_segments = table("segments", column("camera_id", String), column("start_ns", BigInteger), column("end_ns", BigInteger))
_deletions = table(
    "deletions", column("camera_id", String), column("start_ns", BigInteger), column("end_ns", BigInteger)
)


def first_seen(*, session: Session, lo: int, hi: int, cameras: Sequence[str] = ()) -> dict[str, int]:
    """Each camera's first instant in the recording index within [lo, hi): the earliest start of its segments,
    gaps or retention deletions (deleted recordings leave their span in ``deletions``) that overlap the period.
    A start before ``lo`` means the camera existed when the period began. Only rows overlapping the period are
    read (the recorder covers every instant of a camera it tries with a segment or a gap), so the cost follows the
    period, not the whole history. Absent: the camera left no trace in the period."""
    out: dict[str, int] = {}
    for t in (_segments, _gaps, _deletions):
        q = (
            select(t.c.camera_id, func.min(t.c.start_ns))
            .where(t.c.start_ns < hi, or_(t.c.end_ns.is_(None), t.c.end_ns > lo))
            .group_by(t.c.camera_id)
        )
        if cameras and len(cameras) <= 1000:
            q = q.where(t.c.camera_id.in_(cameras))
        for cam, first in session.execute(q):
            if first is not None and (cam not in out or first < out[cam]):
                out[cam] = int(first)
    return out


def load_cameras(*, session: Session, lo: int, hi: int, districts: Sequence[str] = ()) -> list[CameraInfo]:
    """Active registry cameras (all, or those of ``districts``), each counted from when it was first seen."""
    q = select(Camera.id, Camera.site_id, Camera.feeder_id, Camera.district_id, Camera.uplink_id).where(
        Camera.status == "active"
    )
    if districts:
        q = q.where(Camera.district_id.in_(districts))
    rows = list(session.execute(q.order_by(Camera.id)))
    seen = first_seen(session=session, lo=lo, hi=hi, cameras=[r[0] for r in rows])
    return [CameraInfo(c, s, f, d, u, seen.get(c)) for c, s, f, d, u in rows]


def load_gaps(*, session: Session, lo: int, hi: int) -> list[GapSpan]:
    """Gaps that overlap [lo, hi); an open gap ends at ``hi``."""
    q = select(_gaps.c.camera_id, _gaps.c.start_ns, _gaps.c.end_ns, _gaps.c.reason).where(
        _gaps.c.start_ns < hi, or_(_gaps.c.end_ns.is_(None), _gaps.c.end_ns > lo)
    )
    return [GapSpan(c, int(s), None if e is None else int(e), r or "") for c, s, e, r in session.execute(q)]


def load_incident_spans(*, session: Session, lo: int, hi: int) -> list[IncidentSpan]:
    """Each member camera's window of every group incident overlapping [lo, hi) (merged incidents left out)."""
    q = (
        select(IncidentCamera.camera_id, IncidentRow.kind, IncidentRow.opened_ns, IncidentCamera.down_ns)
        .add_columns(IncidentRow.resolved_ns)
        .join(IncidentRow, IncidentRow.id == IncidentCamera.incident_id)
        .where(
            IncidentCamera.role == "member",
            IncidentRow.kind.in_(("power", "site", "uplink")),
            IncidentRow.merged_into_id.is_(None),
            IncidentRow.opened_ns < hi,
            or_(IncidentRow.resolved_ns.is_(None), IncidentRow.resolved_ns > lo),
        )
    )
    return [
        IncidentSpan(cam, kind, min(opened, down) if down is not None else opened, resolved)
        for cam, kind, opened, down, resolved in session.execute(q)
    ]


def load_maintenance_spans(*, session: Session, lo: int, hi: int) -> list[IncidentSpan]:
    """Every camera's maintenance windows overlapping [lo, hi) (an open one runs on to ``hi``)."""
    w = CameraMaintenance
    q = select(w.camera_id, w.start_ns, w.end_ns).where(w.start_ns < hi, or_(w.end_ns.is_(None), w.end_ns > lo))
    return [IncidentSpan(cam, "maintenance", start, end) for cam, start, end in session.execute(q)]


def report_inputs(
    *, session: Session, lo: int, hi: int, districts: Sequence[str] = ()
) -> tuple[list[CameraInfo], list[GapSpan], list[IncidentSpan]]:
    """What :func:`availability` needs for [lo, hi): the scoped cameras, their gaps, incident and maintenance
    spans (one loader for the table, the chart and the CSV, so they cannot disagree)."""
    cameras = load_cameras(session=session, lo=lo, hi=hi, districts=districts)
    names = {c.id for c in cameras}
    gaps = [g for g in load_gaps(session=session, lo=lo, hi=hi) if g.camera in names]
    spans = [
        i
        for i in (
            *load_incident_spans(session=session, lo=lo, hi=hi),
            *load_maintenance_spans(session=session, lo=lo, hi=hi),
        )
        if i.camera in names
    ]
    return cameras, gaps, spans


def availability_report(
    *,
    session: Session,
    lo: int,
    hi: int,
    by: str,
    districts: Sequence[str] = (),
    coverage: CoverageMap | None = None,
) -> dict[str, Any]:
    """The whole report as JSON-ready data: rows per group, the city line and (with a coverage map) lost coverage."""
    cameras, gaps, spans = report_inputs(session=session, lo=lo, hi=hi, districts=districts)
    names = {c.id for c in cameras}
    rows = availability(cameras, gaps, spans, lo, hi, by)
    city = availability(cameras, gaps, spans, lo, hi, "city") if cameras else []
    out: dict[str, Any] = {
        "from_ms": lo // 1_000_000,
        "to_ms": hi // 1_000_000,
        "by": by,
        "rows": [r.as_dict() for r in rows],
        "city": city[0].as_dict() if city else None,
    }
    if coverage is not None:
        scoped = {c: pts for c, pts in coverage.items() if c in names}
        out["lost_coverage"] = lost_coverage(scoped, down_spans(gaps, lo, hi), lo, hi)
    return out


# Plots for the control room ------------------------------------------------------------------------------------------
def buckets(lo: int, hi: int, step: int, max_buckets: int = 500) -> list[Span]:
    """[lo, hi) cut into ``step`` spans (the last may be shorter); ValueError past ``max_buckets``."""
    if step <= 0 or hi <= lo:
        raise ValueError("the period and the step must be positive")
    n = -(-(hi - lo) // step)
    if n > max_buckets:
        raise ValueError(f"{n} buckets: at most {max_buckets}, use a larger step")
    return [(lo + i * step, min(hi, lo + (i + 1) * step)) for i in range(n)]


def availability_series(
    cameras: Sequence[CameraInfo],
    gaps: Sequence[GapSpan],
    incidents: Sequence[IncidentSpan],
    lo: int,
    hi: int,
    step: int,
    by: str,
) -> dict[str, list[float | None]]:
    """Availability per group per time bucket (the "availability over time per district" plot); None where no
    camera of the group existed (or all were in maintenance) in the bucket."""
    spans = buckets(lo, hi, step)
    out: dict[str, list[float | None]] = {}
    for i, (s, e) in enumerate(spans):
        for row in availability(cameras, gaps, incidents, s, e, by):
            a = row.availability
            out.setdefault(row.key, [None] * len(spans))[i] = None if a is None else round(a, 6)
    return out


def power_cut_stats(
    cuts: Iterable[tuple[str, int, int | None]], lo: int, hi: int, utc_offset_s: Callable[[int], int]
) -> dict[str, Any]:
    """Feeder reliability ranking (cuts and minutes without power, worst first) and the hours of the day (local
    time, by ``utc_offset_s(t_ns)``) when cuts begin. ``cuts``: (feeder, opened_ns, resolved_ns or None)."""
    per: dict[str, list[float]] = {}
    hours = [0] * 24
    for feeder, opened, resolved in cuts:
        s, e = _clip(opened, resolved, lo, hi)
        if e <= s and not lo <= opened < hi:
            continue
        row = per.setdefault(feeder, [0, 0.0])
        row[1] += max(0, e - s) / NS / 60
        if lo <= opened < hi:
            row[0] += 1
            hours[((opened // NS + utc_offset_s(opened)) // 3600) % 24] += 1
    ranking = [
        {"feeder": f, "cuts": int(v[0]), "minutes": round(v[1], 3)}
        for f, v in sorted(per.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    ]
    return {"feeders": ranking, "hour_of_day": hours}


def load_power_cuts(*, session: Session, lo: int, hi: int) -> list[tuple[str, int, int | None]]:
    """Stored ``power`` incidents overlapping [lo, hi) (merged ones left out)."""
    q = select(IncidentRow.subject, IncidentRow.opened_ns, IncidentRow.resolved_ns).where(
        IncidentRow.kind == "power",
        IncidentRow.merged_into_id.is_(None),
        IncidentRow.opened_ns < hi,
        or_(IncidentRow.resolved_ns.is_(None), IncidentRow.resolved_ns > lo),
    )
    return [(f, int(o), None if r is None else int(r)) for f, o, r in session.execute(q)]


def series_report(
    *, session: Session, lo: int, hi: int, step: int, by: str, districts: Sequence[str] = ()
) -> dict[str, Any]:
    """Availability over time per group, JSON-ready, with each group's availability over the whole period
    (``period``: the chart's legend, the very number the table shows)."""
    cameras, gaps, spans = report_inputs(session=session, lo=lo, hi=hi, districts=districts)
    series = availability_series(cameras, gaps, spans, lo, hi, step, by)
    whole = {r.key: r.availability for r in availability(cameras, gaps, spans, lo, hi, by)}
    return {
        "period": {k: None if v is None else round(v, 6) for k, v in whole.items()},
        "from_ms": lo // 1_000_000,
        "to_ms": hi // 1_000_000,
        "step_ms": step // 1_000_000,
        "by": by,
        "t_ms": [s // 1_000_000 for s, _ in buckets(lo, hi, step)],
        "series": series,
    }
