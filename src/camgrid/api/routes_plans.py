"""Plans (the security map) for the control room's planner layer, and still pictures for the mask editor."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.bounds import CameraId, NameInPath
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.routes_cameras import VIDEO
from camgrid.api.schemas import FeatureCollection, PlanInfo
from camgrid.media import fmp4
from camgrid.planner.scope import plan_districts, scope_plan
from camgrid.registry.service import camera_for
from camgrid.storage.models import Segment
from camgrid.vocabulary import AuditAction

router = APIRouter(prefix="/api", tags=["plans"])


def _plans_dir(request: Request) -> Path:
    folder = ctx_of(request).settings.home / "plans"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The districts of each plan file by (path, size, mtime): a scoped user's list reads each plan once, not per request.
_DISTRICTS: dict[tuple[str, int, int], frozenset[str]] = {}


def _districts_of(path: Path) -> frozenset[str]:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    found = _DISTRICTS.get(key)
    if found is None:
        try:
            found = frozenset(plan_districts(json.loads(path.read_text())))
        except (OSError, ValueError):
            found = frozenset()
        if len(_DISTRICTS) > 256:
            _DISTRICTS.clear()
        _DISTRICTS[key] = found
    return found


@router.get("/plans")
def list_plans(request: Request, who: Principal = require("map")) -> list[PlanInfo]:
    """Plans written by ``camgrid plan --out <home>/plans/NAME.geojson`` (newest first); a user limited to
    districts sees the plans with cameras or points in them."""
    out = []
    for path in sorted(_plans_dir(request).glob("*.geojson"), key=lambda p: p.stat().st_mtime, reverse=True):
        if who.districts and not _districts_of(path) & set(who.districts):
            continue
        stat = path.stat()
        out.append(PlanInfo(name=path.stem, bytes=stat.st_size, modified_ms=int(stat.st_mtime * 1000)))
    return out


@router.get("/plans/{name}")
def get_plan(name: NameInPath, request: Request, who: Principal = require("map")) -> FeatureCollection:
    """The plan; cut to the user's districts (their cameras, views and points, their coverage rows)."""
    path = _plans_dir(request) / f"{name}.geojson"
    try:
        found = "/" not in name and ".." not in name and path.is_file()
    except OSError:  # a name no file can have (longer than 255 bytes): no such plan
        found = False
    if not found:
        raise HTTPException(404, "no such plan")
    doc = scope_plan(json.loads(path.read_text()), sorted(who.districts))
    if doc is None:
        raise HTTPException(404, "no such plan")  # nothing of it in the user's districts: as if it did not exist
    return FeatureCollection.model_validate(doc)


@router.get("/cameras/{camera_id}/snapshot.mp4", response_class=Response, responses=VIDEO)
def snapshot(
    camera_id: CameraId, request: Request, who: Principal = require("snapshot"), session: Session = DB_SESSION
) -> Response:
    """The newest recorded keyframe as a one-picture MP4 (already masked: it comes from storage). Audited."""
    with answering():
        cam = camera_for(session=session, actor=actor(request, who), camera_id=camera_id)
    path = session.scalar(
        select(Segment.path).where(Segment.camera_id == cam.id).order_by(Segment.start_ns.desc()).limit(1)
    )
    if path is None:
        raise HTTPException(404, "no recording of this camera yet")
    data = Path(path).read_bytes()
    samples = fmp4.read_samples(data)
    if not samples or not samples[0].key:
        raise HTTPException(404, "no recorded picture yet")
    audit(ctx_of(request), who=who.username, action=AuditAction.SNAPSHOT, camera=cam.id, address=address_of(request))
    first = samples[0]
    body = fmp4.init_bytes(data) + fmp4.fragment(1, 0, [(first.duration, len(first.data), True)], [first.data])
    return Response(body, media_type="video/mp4", headers={"Cache-Control": "no-store"})
