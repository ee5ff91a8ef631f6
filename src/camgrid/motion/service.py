"""Motion search as a service: bounds, the district scope and the audit entry before any picture is looked at.

A search shows pictures of recordings (its thumbnails), so it is audited like playback, FIRST (who, which camera,
which range, which region), and refused when the entry cannot be written. The camera's privacy masks in force are
always subtracted from the region (a caller can add masks, never take one away). Keyword-only, never commits.
Design note: docs/design/motion-search.md ("Motion search").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import shapely
from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.motion.search import (
    DEFAULT_PARAMS,
    Outcome,
    SearchError,
    SearchParams,
    SourceSegment,
    merge,
    region_polygon,
    search,
)
from camgrid.privacy.errors import MaskError
from camgrid.privacy.geometry import validate
from camgrid.privacy.service import get_mask
from camgrid.registry.service import camera_for
from camgrid.storage import service as storage
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction

log = logging.getLogger("camgrid.motion")
NS = 1_000_000_000
MAX_RANGE_NS = 24 * 3600 * NS


class ActivitySeries(Protocol):
    """What ``ActivityStore.read`` returns (camgrid.motion.activity): one level per second, 0 = no data."""

    @property
    def start_s(self) -> int: ...

    @property
    def levels(self) -> bytes: ...

    def windows(self, *, min_level: int, pad_s: int) -> list[tuple[int, int]]: ...


class ActivityReader(Protocol):
    """The activity store as motion search reads it (``ActivityStore.read``)."""

    def read(self, *, camera_id: str, start_s: int, end_s: int) -> ActivitySeries: ...


class SourceUnavailable(RuntimeError):
    """A segment's bytes cannot be had now (its node is down): the search goes on without it, and says so."""


# Where a segment's bytes are: its local path, or a copy fetched into the given folder (exports.service's resolver).
SourceResolver = Callable[[Segment, Path], Path]


def local_sources(segment: Segment, _scratch: Path) -> Path:
    return Path(segment.path)


@dataclass(frozen=True)
class Narrowing:
    """How the activity data narrowed the range: the spans searched (None: no data, all of it)."""

    spans: list[tuple[int, int]] | None
    active_s: int  # seconds with activity above the level
    no_data_s: int  # seconds the store has nothing for (searched whole)


def candidate_spans(series: ActivitySeries | None, *, min_level: int, pad_s: int) -> Narrowing:
    """The spans (ns) worth decoding: where activity was above ``min_level``, and wherever there is no data at all
    (level 0: a range recorded before the store existed, or a camera it does not follow), both padded."""
    if series is None or not any(series.levels):
        return Narrowing(None, 0, len(series.levels) if series is not None else 0)
    spans = [(a * NS, b * NS) for a, b in series.windows(min_level=min_level, pad_s=pad_s)]
    active = sum(b - a for a, b in spans) // NS
    no_data = 0
    run_start: int | None = None
    levels = series.levels
    for i in range(len(levels) + 1):
        empty = i < len(levels) and levels[i] == 0
        if empty and run_start is None:
            run_start = i
        elif not empty and run_start is not None:
            no_data += i - run_start
            a, b = series.start_s + run_start - pad_s, series.start_s + i + pad_s
            spans.append((a * NS, b * NS))
            run_start = None
    return Narrowing(merge(spans), active, no_data)


@dataclass(frozen=True)
class SearchResult:
    outcome: Outcome
    narrowing: Narrowing
    audit_entry: int
    segments: int
    masked: bool  # the camera's masks (or the caller's) were taken out of the region


def _masks(session: Session, camera_id: str, extra: Sequence[Sequence[Sequence[float]]] | None) -> list[Polygon]:
    row = get_mask(session=session, camera_id=camera_id)
    polygons: list[Sequence[Sequence[float]]] = json.loads(row.polygons) if row is not None else []  # in force
    try:
        return list(validate([*polygons, *(extra or [])]))
    except MaskError as exc:
        raise SearchError(f"masks: {exc}") from None


@audited(AuditAction.MOTION_SEARCH)
def search_motion(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    store: ActivityReader | None,
    camera_id: str,
    region: Sequence[Sequence[float]] | Sequence[float],
    start_ns: int,
    end_ns: int,
    masks: Sequence[Sequence[Sequence[float]]] | None = None,
    params: SearchParams = DEFAULT_PARAMS,
    min_level: int = 72,
    pad_s: int = 2,
    sources: SourceResolver = local_sources,
    scratch: Path | None = None,
) -> SearchResult:
    """Hits where something changed inside ``region`` of the camera's picture between ``start_ns`` and ``end_ns``.

    Raises :class:`SearchError` (a bad range or region: nothing audited, nothing read), ``CameraNotFound`` outside
    the actor's districts, ``AuditWriteError`` when the entry cannot be written (nothing read). ``store``: the
    activity data (None: every keyframe of the range is looked at). ``masks``: more areas never to search, beside
    the camera's own. ``sources``: where segments recorded on another node are fetched (into ``scratch``)."""
    if not 0 <= start_ns < end_ns or end_ns - start_ns > MAX_RANGE_NS:
        raise SearchError("the range must end after it starts, at most 24 hours later")
    polygon = region_polygon(region)
    cam = camera_for(session=session, actor=actor, camera_id=camera_id)
    hidden = _masks(session, cam.id, masks)
    if hidden and polygon.difference(shapely.union_all(hidden)).area < 1e-4:
        raise SearchError("the region lies under the camera's privacy masks: nothing of it can be searched")
    rings = [[round(x, 4), round(y, 4)] for x, y in polygon.exterior.coords[:-1]]
    entry = write_first(
        audit,
        actor,
        AuditAction.MOTION_SEARCH,
        camera=cam.id,
        t_from_ns=start_ns,
        t_to_ns=end_ns,
        details={"region": rings, "masked": len(hidden)},
    )
    series = None
    if store is not None:
        try:
            series = store.read(camera_id=cam.id, start_s=start_ns // NS, end_s=-(-end_ns // NS))
        except (OSError, ValueError) as exc:  # unreadable activity data narrows nothing: the whole range is searched
            log.warning("motion search on %s: activity data unreadable (%s); every keyframe is looked at", cam.id, exc)
    narrowing = candidate_spans(series, min_level=min_level, pad_s=pad_s)
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=start_ns, end_ns=end_ns)
    located: list[SourceSegment] = []
    unreachable = 0
    for s in segs:
        try:
            located.append(SourceSegment(sources(s, scratch or Path(s.path).parent), s.start_ns, s.end_ns))
        except (OSError, SourceUnavailable):  # a node that is down: its segments are skipped, and counted
            unreachable += 1
    outcome = search(
        located,
        region=polygon,
        masks=hidden,
        start_ns=start_ns,
        end_ns=end_ns,
        spans=narrowing.spans,
        params=params,
    )
    outcome.unreadable += unreachable
    return SearchResult(outcome, narrowing, entry, len(segs), bool(hidden))
