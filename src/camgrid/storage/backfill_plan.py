"""Edge backfill's decisions as pure functions: which gaps are worth a replay, and which jobs may start now.

Why pure: both are tables of cases (reason, age, length, camera state; uplink and node limits) that a test states
row by row, with no database, camera or clock (docs/design/onvif.md, "Edge backfill").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from camgrid.vocabulary import BACKFILL_REASONS

NS = 1_000_000_000


@dataclass(frozen=True)
class GapInfo:
    """A gap of the recording index (``end_ns`` None while it is still open)."""

    camera_id: str
    start_ns: int
    end_ns: int | None
    reason: str


@dataclass(frozen=True)
class CameraInfo:
    """What backfill needs to know of a camera now. ``profile_g``: None when not yet asked, False when the camera
    said it has no Search/Replay service (asked again later)."""

    camera_id: str
    uplink_id: str
    onvif: bool  # it has an onvif_url (and so a card camgrid can ask)
    live: bool  # recording now: its path is back, a replay has a chance
    profile_g: bool | None = None


def merged(gaps: Iterable[GapInfo], *, join_ns: int = NS // 1000) -> list[GapInfo]:
    """Closed backfill-reason gaps of each camera, those that touch (one ends where the next starts, within
    ``join_ns``) joined into one: an outage is often a ``stalled`` gap then an ``unreachable`` one, and one replay
    of both loses no keyframe interval at the seam."""
    by_cam: dict[str, list[GapInfo]] = {}
    for g in gaps:
        if g.end_ns is not None and g.reason in BACKFILL_REASONS:
            by_cam.setdefault(g.camera_id, []).append(g)
    out: list[GapInfo] = []
    for cam_gaps in by_cam.values():
        run: GapInfo | None = None
        for g in sorted(cam_gaps, key=lambda x: x.start_ns):
            assert g.end_ns is not None
            if run is not None and run.end_ns is not None and g.start_ns <= run.end_ns + join_ns:
                run = GapInfo(run.camera_id, run.start_ns, max(run.end_ns, g.end_ns), run.reason)
                continue
            if run is not None:
                out.append(run)
            run = g
        if run is not None:
            out.append(run)
    return out


def candidates(
    gaps: Iterable[GapInfo],
    cameras: Mapping[str, CameraInfo],
    known: Mapping[str, Sequence[tuple[int, int]]],
    *,
    now_ns: int,
    min_gap_s: float,
    max_age_s: float,
) -> list[GapInfo]:
    """The intervals to make jobs of, oldest first (the card overwrites its oldest video first).

    Gaps are closed, with a reason the camera may have recorded through (``BACKFILL_REASONS``), touching ones
    joined (:func:`merged`); an interval qualifies when it lasted at least ``min_gap_s``, ended at most
    ``max_age_s`` ago, its camera has an ONVIF address, is not known to lack Profile G and is recording again now,
    and no job covers its start yet (``known``: each camera's job intervals; what a job left of a gap is never
    replayed again).
    """
    out = []
    for g in merged(gaps):
        cam = cameras.get(g.camera_id)
        if cam is None or g.end_ns is None:
            continue
        if g.end_ns - g.start_ns < min_gap_s * NS or g.end_ns < now_ns - max_age_s * NS:
            continue
        if not cam.onvif or not cam.live or cam.profile_g is False:
            continue
        if any(s <= g.start_ns < e or s == g.start_ns for s, e in known.get(g.camera_id, ())):
            continue
        out.append(g)
    return sorted(out, key=lambda g: (g.start_ns, g.camera_id))


@dataclass(frozen=True)
class Waiting:
    """A pending job, with the uplink its replay would travel over."""

    job_id: int
    camera_id: str
    uplink_id: str


def admit(
    waiting: Sequence[Waiting],
    running: Iterable[str],
    *,
    per_uplink: int,
    per_node: int,
) -> list[Waiting]:
    """The jobs that may start now, in the order given: at most ``per_uplink`` replays over one uplink (live
    recording shares it), at most ``per_node`` on this node, one replay per camera at a time. ``running``: the
    uplink of each replay running now."""
    per = Counter(running)
    total = sum(per.values())
    cams: set[str] = set()
    out = []
    for w in waiting:
        if total >= per_node:
            break
        if per[w.uplink_id] >= per_uplink or w.camera_id in cams:
            continue
        out.append(w)
        per[w.uplink_id] += 1
        total += 1
        cams.add(w.camera_id)
    return out
