"""Motion search over the API: parse, call ``camgrid.motion.service``, serialise (times in ms, thumbnails inline).

The service owns the bounds, the district scope, the masks and the audit entry written first; this module adds the
permission (``motion.search``), a bound on searches decoding at once (503 beyond it) and the cluster's source
fetching (segments recorded on another node are copied here for the search, then dropped).
Design note: docs/design/motion-search.md ("Motion search").
"""

from __future__ import annotations

import base64
import tempfile
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import CameraId, TimeMs
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.cluster import media
from camgrid.motion import service as motion
from camgrid.motion.activity_nodes import ClusterActivityReader
from camgrid.motion.search import MAX_REGION_POINTS, SearchError, params_of
from camgrid.storage.models import Segment

router = APIRouter(prefix="/api", tags=["motion"])
MS = 1_000_000

Fraction = Annotated[float, Field(ge=0.0, le=1.0, description="A fraction of the picture (x right, y down)")]
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2, description="[x, y]")]


class MotionSearchIn(BaseModel):
    from_ms: TimeMs
    to_ms: TimeMs
    region: list[Point] = Field(
        min_length=3, max_length=MAX_REGION_POINTS, description="The area searched: a polygon of [x, y] fractions"
    )


class MotionHitOut(BaseModel):
    start_ms: int
    end_ms: int
    score: float = Field(description="The largest share of the searched area that changed (0..1)")
    thumb: str = Field(description="A small JPEG of the change as a data: URL, black under the camera's masks")


class MotionSearchOut(BaseModel):
    camera: str
    from_ms: int
    to_ms: int
    hits: list[MotionHitOut]
    truncated: bool = Field(description="More changes than hits: the strongest were kept")
    keyframes: int = Field(description="Keyframes decoded")
    frames: int = Field(description="Pictures between keyframes decoded (candidate windows)")
    narrowed: bool = Field(description="Activity data narrowed the range (false: every keyframe was looked at)")
    active_s: int = Field(description="Seconds the activity data called active")
    no_data_s: int = Field(description="Seconds without activity data (searched whole)")
    segments: int
    unreadable: int = Field(description="Segments that could not be read (gone, damaged, or their node is down)")
    masked: bool = Field(description="The camera's privacy masks were taken out of the region")


_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _slot(n: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(n, threading.BoundedSemaphore(n))


def _sources(request: Request, session: Session) -> motion.SourceResolver:
    settings = ctx_of(request).settings

    def resolve(segment: Segment, scratch: Path) -> Path:
        try:
            where = media.locate(session, segment=segment, own_node_id=settings.recorder.node_id)
            if isinstance(where, media.Remote):
                where = media.fetch_segment(where, segment.id, scratch / f"{segment.id}.mp4", cfg=settings.cluster)
        except media.MediaError as exc:
            raise motion.SourceUnavailable(str(exc)) from None
        return where

    return resolve


@router.post("/cameras/{camera_id}/motion-search")
def motion_search(
    camera_id: CameraId,
    body: MotionSearchIn,
    request: Request,
    who: Principal = require("motion.search"),
    session: Session = DB_SESSION,
) -> MotionSearchOut:
    """Where something changed in ``region`` of this camera's picture between ``from_ms`` and ``to_ms`` (at most
    24 hours). Audited first (503 when the log cannot be written); 404 outside the user's districts; 422 for a bad
    range or region (or one entirely under the camera's masks); 503 while other searches are decoding."""
    ctx = ctx_of(request)
    cfg = ctx.settings.motion_search
    slot = _slot(cfg.max_concurrent)
    if not slot.acquire(blocking=False):
        raise HTTPException(503, "other motion searches are running: try again shortly", headers={"Retry-After": "5"})
    try:
        with answering(), tempfile.TemporaryDirectory(prefix="camgrid-motion-") as scratch:
            try:
                result = motion.search_motion(
                    session=session,
                    audit=writer(request),
                    actor=actor(request, who),
                    # this process's activity levels, and in a cluster the nodes' that recorded the camera
                    store=ClusterActivityReader(
                        session=session,
                        store=ctx.activity,
                        own_node_id=ctx.settings.recorder.node_id,
                        cfg=ctx.settings.cluster,
                    ),
                    camera_id=camera_id,
                    region=body.region,
                    start_ns=body.from_ms * MS,
                    end_ns=body.to_ms * MS,
                    params=params_of(cfg),
                    min_level=cfg.activity_min_level,
                    pad_s=cfg.activity_pad_s,
                    sources=_sources(request, session),
                    scratch=Path(scratch),
                )
            except SearchError as exc:
                raise HTTPException(422, str(exc)) from None
    finally:
        slot.release()
    out = result.outcome
    return MotionSearchOut(
        camera=camera_id,
        from_ms=body.from_ms,
        to_ms=body.to_ms,
        hits=[
            MotionHitOut(
                start_ms=h.start_ns // MS,
                end_ms=-(-h.end_ns // MS),
                score=h.score,
                thumb="data:image/jpeg;base64," + base64.b64encode(h.thumb).decode() if h.thumb else "",
            )
            for h in out.hits
        ],
        truncated=out.truncated,
        keyframes=out.keyframes,
        frames=out.frames,
        narrowed=result.narrowing.spans is not None,
        active_s=result.narrowing.active_s,
        no_data_s=result.narrowing.no_data_s,
        segments=result.segments,
        unreadable=out.unreadable,
        masked=result.masked,
    )
