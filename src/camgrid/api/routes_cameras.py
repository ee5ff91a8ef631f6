"""The city, its map and its cameras; recorded spans and gaps; segment media."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Literal

import av
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.bounds import CameraId, QueryMs, RowId
from camgrid.api.context import AppContext
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.schemas import (
    AudioIn,
    AudioOut,
    CameraColumns,
    CameraEventOut,
    CameraOut,
    City,
    DistrictOut,
    FeatureCollection,
    GapCauseOut,
    GapOut,
    MaintenanceIn,
    MaintenanceOut,
    OnvifHealthOut,
    SegmentOut,
    Timeline,
)
from camgrid.cluster import media
from camgrid.cluster.models import Lease
from camgrid.db.secrets import redact_url
from camgrid.health import gap_causes, onvif_service
from camgrid.health.scope import scope_of
from camgrid.live.segments import SegmentBusy, SegmentTooBig
from camgrid.media.nal import H264, H265
from camgrid.motion import tamper_service
from camgrid.registry import service as registry
from camgrid.registry.models import Camera, CameraMaintenance, District, Site
from camgrid.storage import service as storage
from camgrid.storage.models import Segment
from camgrid.vocabulary import (
    AuditAction,
    CameraCondition,
    CameraEventKind,
    CameraState,
    RtspTransport,
    SegmentSource,
    SegmentStatus,
    VideoPath,
)

router = APIRouter(prefix="/api", tags=["cameras"])
MS = 1_000_000
VIDEO: dict[int | str, dict[str, Any]] = {200: {"content": {"video/mp4": {}}, "description": "Fragmented MP4"}}


def json_body(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a route that serialises its JSON itself (for speed): the body is still declared, and typed."""
    return {200: {"model": model, "content": {"application/json": {}}}}


def visible(who: Principal, district: str) -> bool:
    return not who.districts or district in who.districts


def _camera(session: Session, who: Principal, camera_id: str) -> Camera:
    try:
        return registry.camera_for(session=session, actor=who.actor(), camera_id=camera_id)
    except registry.CameraNotFound as exc:
        raise HTTPException(404, str(exc)) from None  # outside a user's districts it does not exist


def _sees(session: Session, who: Principal, camera_id: str) -> bool:
    try:
        registry.camera_for(session=session, actor=who.actor(), camera_id=camera_id)
    except registry.CameraNotFound:
        return False
    return True


@router.get("/city")
def city(request: Request, who: Principal = require("map")) -> City:
    ctx = ctx_of(request)
    base = _base_map(request)
    return City(
        name="Kathmandu (Thapathali, Tripureshwar, Kupondole)",
        timezone=ctx.settings.timezone,
        bounds=base.get("bbox", [85.31356, 27.68290, 85.32105, 27.69495]),
        attribution="© OpenStreetMap contributors",
    )


def _base_map(request: Request) -> dict[str, Any]:
    ctx = ctx_of(request)
    if ctx.base_map is None:
        from camgrid.geo.osm import load_city

        c = load_city()
        feats: list[dict[str, Any]] = []
        proj = c.projection
        for s in c.streets:
            geom = proj.geometry_to_lonlat(s.line)
            coords = [[round(x, 6), round(y, 6)] for x, y in geom.coords]
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {"kind": "street", "highway": s.highway, "name": s.name},
                }
            )
        for b in c.buildings:
            geom = proj.geometry_to_lonlat(b.polygon)
            ring = [[round(x, 6), round(y, 6)] for x, y in geom.exterior.coords]
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {"kind": "building"},
                }
            )
        minlat, minlon, maxlat, maxlon = c.bounds_latlon
        ctx.base_map = {
            "type": "FeatureCollection",
            "bbox": [minlon, minlat, maxlon, maxlat],
            "features": feats,
            "attribution": "© OpenStreetMap contributors",
        }
    return ctx.base_map


@router.get("/map/base", response_class=Response, responses=json_body(FeatureCollection))
def base_map(request: Request, who: Principal = require("map")) -> Response:
    """Streets and buildings as GeoJSON; encoded once per process (tens of thousands of features)."""
    ctx = ctx_of(request)
    if ctx.base_map_json is None:
        ctx.base_map_json = json.dumps(_base_map(request), separators=(",", ":")).encode()
    return Response(ctx.base_map_json, media_type="application/json")


@router.get("/districts")
def districts(who: Principal = require("map"), session: Session = DB_SESSION) -> list[DistrictOut]:
    rows = session.execute(select(Camera.district_id, func.count()).group_by(Camera.district_id)).all()
    counts: dict[str, int] = {d: n for d, n in rows}
    return [
        DistrictOut(id=d.id, name=d.name or d.id, cameras=counts.get(d.id, 0))
        for d in session.scalars(select(District).order_by(District.id))
        if visible(who, d.id)
    ]


def _whole(v: float | None, wrap: int | None) -> int | None:
    """A view figure rounded to a whole number (a heading wrapped into 0..359)."""
    if v is None:
        return None
    r = round(v)
    return r % wrap if wrap else r


@router.get("/cameras", response_class=Response, responses=json_body(CameraColumns))
def cameras(request: Request, who: Principal = require("map"), session: Session = DB_SESSION) -> Response:
    """Columnar, so that 62,000 cameras are one compact document.

    The registry's columns are cached per (registry revision, district scope) and serialised once; each request only
    adds the current states (one snapshot of the state store) and skips FastAPI's generic encoder. The shape is
    ``CameraColumns`` (declared in the OpenAPI document; ``tests/api/test_api_types.py`` checks a real body).
    """
    ctx = ctx_of(request)
    count, newest = session.execute(select(func.count(), func.max(Camera.updated_ns)).select_from(Camera)).one()
    key = (count, newest, who.districts)
    static = ctx.camera_cache.get(key) if ctx.camera_cache else None
    if static is None:
        keys = ("id", "name", "lon", "lat", "district", "site", "feeder", "uplink")
        cols: dict[str, list[Any]] = {k: [] for k in (*keys, "heading_deg", "fov_deg", "range_m", "street", "status")}
        # Streets as indexes into a small table (most cameras of a street share it; "" is index 0), and the names of
        # the user's sites and districts once each: what the camera search matches besides ids and names.
        streets: dict[str, int] = {"": 0}
        rows = session.execute(
            select(
                Camera.id,
                Camera.name,
                Camera.lon,
                Camera.lat,
                Camera.district_id,
                Camera.site_id,
                Camera.feeder_id,
                Camera.uplink_id,
                Camera.heading_deg,
                Camera.fov_deg,
                Camera.range_m,
                Camera.street,
                Camera.status,
            ).order_by(Camera.id)
        )
        for cid, name, lon, lat, district, site, feeder, uplink, heading, fov, rng, street, status in rows:
            if who.districts and district not in who.districts:
                continue
            # The view as whole degrees and metres: a map cone needs no more, and 62,000 cameras stay compact.
            view = (_whole(heading, 360), _whole(fov, None), _whole(rng, None))
            si = streets.setdefault(street or "", len(streets))
            values = (cid, name, round(lon, 7), round(lat, 7), district, site, feeder, uplink, *view, si, status)
            for k, v in zip(cols, values, strict=True):
                cols[k].append(v)
        names = {
            "streets": list(streets),
            "site_names": _names(session, Site, set(cols["site"])),
            "district_names": _names(session, District, set(cols["district"])),
        }
        static = (
            cols,
            json.dumps({**{k: v for k, v in cols.items() if k != "status"}, **names}, separators=(",", ":"))[1:-1],
        )
        ctx.camera_cache = {key: static}  # one entry: a registry change or another scope replaces it
    cols, encoded = static
    states, epoch, event_id = ctx.states.snapshot()  # the events after event_id are what a client applies on top
    state: list[str] = []
    reason: list[str] = []
    since: list[int | None] = []
    for cid, status in zip(cols["id"], cols["status"], strict=True):
        st = states.get(cid)
        if st is None:
            state.append(CameraState.PLANNED if status == "planned" else CameraState.UNKNOWN)
            reason.append("")
            since.append(None)
        else:
            state.append(st.state)
            reason.append(st.reason)
            since.append(st.since_ns // MS)
    # Read on every request, not cached with the registry's columns: a few rows, and changing them bumps no revision.
    maint = registry.in_maintenance(session=session)
    maint_ms = [maint[cid] // MS if cid in maint else None for cid in cols["id"]]
    dynamic = json.dumps(
        {
            "state": state,
            "reason": reason,
            "since_ms": since,
            "maintenance_since_ms": maint_ms,
            "epoch": epoch,
            "event_id": event_id,
        },
        separators=(",", ":"),
    )[1:-1]
    body = f'{{"count":{len(cols["id"])},{encoded},{dynamic}}}'
    return Response(body, media_type="application/json")


def _names(session: Session, model: type[Site] | type[District], ids: set[str]) -> dict[str, str]:
    """Names that differ from their ids (a site or district imported from a camera file is named by its id)."""
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids))).tuples()
    return {i: n for i, n in rows if n and n != i}


@router.get("/cameras/{camera_id}")
def camera(
    camera_id: CameraId, request: Request, who: Principal = require("map"), session: Session = DB_SESSION
) -> CameraOut:
    cam = _camera(session, who, camera_id)
    st = ctx_of(request).states.get(cam.id)
    codec = session.scalar(
        select(Segment.codec).where(Segment.camera_id == cam.id).order_by(Segment.start_ns.desc()).limit(1)
    )
    # In a cluster, the node that holds the camera's lease (None on a single machine, or while nobody holds it).
    node = session.scalar(select(Lease.node_id).where(Lease.camera_id == cam.id))
    window = registry.open_maintenance(session=session, camera_id=cam.id)
    return CameraOut(
        id=cam.id,
        name=cam.name,
        lat=cam.lat,
        lon=cam.lon,
        district=cam.district_id,
        site=cam.site_id,
        feeder=cam.feeder_id,
        uplink=cam.uplink_id,
        codec=codec,
        recorded_by=node,
        state=st.state if st else CameraState.UNKNOWN,
        reason=st.reason if st else "",
        since_ms=st.since_ns // MS if st else None,
        heading_deg=cam.heading_deg,
        fov_deg=cam.fov_deg,
        range_m=cam.range_m,
        maintenance=_window(window) if window is not None else None,
        transport=RtspTransport(cam.transport),
        audio_enabled=bool(cam.audio_enabled),
        onvif_url=redact_url(cam.onvif_url) if cam.onvif_url else None,
        onvif=_onvif_health(session, cam.id, ctx_of(request).settings.onvif.clock_tolerance_s),
    )


def _kind(value: str) -> CameraEventKind:
    try:
        return CameraEventKind(value)
    except ValueError:  # a kind from a newer camgrid: shown as other
        return CameraEventKind.OTHER


def _onvif_health(session: Session, camera_id: str, tolerance_s: float) -> OnvifHealthOut | None:
    tolerance_ns = round(tolerance_s * 1e9)
    st = onvif_service.onvif_status(session=session, camera_ids=[camera_id], clock_tolerance_ns=tolerance_ns).get(
        camera_id
    )
    # camgrid's own tamper verdict (docs/design/tamper.md) is the same condition as the camera's ONVIF one
    tampered = tamper_service.open_tampers(session=session, camera_ids=[camera_id]).get(camera_id)
    if tampered is not None:
        st = st if st is not None else onvif_service.OnvifStatus()
        if CameraCondition.TAMPER not in st.conditions:
            st.conditions.append(CameraCondition.TAMPER)
            st.since_ns[CameraCondition.TAMPER] = tampered.opened_ns
    if st is None:
        return None
    return OnvifHealthOut(
        clock_offset_ms=None if st.clock_offset_ns is None else round(st.clock_offset_ns / MS),
        clock_measured_ms=None if st.clock_measured_ns is None else st.clock_measured_ns // MS,
        clock_round_trip_ms=None if st.clock_round_trip_ns is None else round(st.clock_round_trip_ns / MS),
        clock_tolerance_ms=tolerance_ns // MS,
        conditions=st.conditions,
        condition_since_ms={k: v // MS for k, v in st.since_ns.items()},
    )


def _window(w: CameraMaintenance) -> MaintenanceOut:
    return MaintenanceOut(
        camera=w.camera_id,
        on=w.end_ns is None,
        since_ms=w.start_ns // MS,
        until_ms=w.end_ns // MS if w.end_ns is not None else None,
        by=w.started_by if w.end_ns is None else (w.ended_by or w.started_by),
        note=w.note if w.end_ns is None else (w.end_note or ""),
    )


@router.post("/cameras/{camera_id}/maintenance")
def maintenance(
    camera_id: CameraId,
    body: MaintenanceIn,
    request: Request,
    who: Principal = require("cameras.maintenance"),
    session: Session = DB_SESSION,
) -> MaintenanceOut:
    """Take a camera out of service for repair (its outages open no incident) or put it back. 409 when it already
    is in the state asked for; 404 outside the user's districts; 503 when the audit log cannot be written."""
    with answering():
        try:
            window = registry.set_maintenance(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                on=body.on,
                note=body.note,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except registry.MaintenanceConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return _window(window)


@router.put("/cameras/{camera_id}/audio")
def camera_audio(
    camera_id: CameraId,
    body: AudioIn,
    request: Request,
    who: Principal = require("cameras.audio"),
    session: Session = DB_SESSION,
) -> AudioOut:
    """Record the camera's sound too, or stop (admins only; off by default; audited first). 404 outside the
    user's districts; 503 when the audit log cannot be written."""
    with answering():
        cam = registry.set_camera_audio(
            session=session,
            audit=writer(request),
            actor=actor(request, who),
            camera_id=camera_id,
            enabled=body.enabled,
            now_ns=ctx_of(request).clock.wall_ns(),
        )
    return AudioOut(camera=cam.id, enabled=bool(cam.audio_enabled), revision=cam.revision)


@router.get("/cameras/{camera_id}/timeline")
def timeline(
    camera_id: CameraId,
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    who: Principal = require("playback"),
    session: Session = DB_SESSION,
) -> Timeline:
    cam = _camera(session, who, camera_id)
    if to_ms <= from_ms or to_ms - from_ms > 31 * 86400 * 1000:
        raise HTTPException(422, "to_ms must be after from_ms, at most 31 days later")
    t0, t1 = from_ms * MS, to_ms * MS
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    gaps = storage.gaps_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    now_ns = ctx_of(request).clock.wall_ns()
    causes = gap_causes.gap_causes(
        session=session,
        camera_id=cam.id,
        gaps=[(g.start_ns, g.end_ns or None) for g in gaps],
        scope=scope_of(session=session, districts=who.districts),
        now_ns=now_ns,
    )
    events = onvif_service.camera_events_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    return Timeline(
        segments=[
            SegmentOut(
                id=s.id,
                start_ms=s.start_ns // MS,
                # a segment being written reaches about now (its index row is completed when it closes)
                end_ms=(max(s.end_ns, now_ns - 1_000_000_000) if s.status == "writing" else s.end_ns) // MS,
                bytes=s.bytes,
                codec=s.codec,
                status=s.status,
                source=SegmentSource(s.source),
            )
            for s in segs
        ],
        gaps=[
            GapOut(
                start_ms=g.start_ns // MS,
                end_ms=g.end_ns // MS if g.end_ns else None,
                reason=g.reason,
                detail=g.detail,
                cause=None
                if c is None
                else GapCauseOut(
                    incident_id=c.id,
                    kind=c.kind,
                    subject=c.subject,
                    opened_ms=c.opened_ns // MS,
                    resolved_ms=None if c.resolved_ns is None else c.resolved_ns // MS,
                ),
            )
            for g, c in zip(gaps, causes, strict=True)
        ],
        events=[
            CameraEventOut(
                id=e.id,
                kind=_kind(e.kind),
                active=e.active,
                camera_ms=None if e.camera_ns is None else e.camera_ns // MS,
                received_ms=e.received_ns // MS,
                topic=e.topic,
                detail=e.detail,
            )
            for e in events
        ],
    )


@router.get("/segments/{segment_id}/media", response_class=Response, responses=VIDEO)
def segment_media(
    segment_id: RowId,
    request: Request,
    who: Principal = require("playback"),
    session: Session = DB_SESSION,
    codec: Literal["h264"] | None = Query(
        None, description="h264: an H.265 segment transcoded to H.264 for a browser that cannot decode H.265"
    ),
) -> Response:
    """The segment's fMP4, ranges honoured. A segment recorded on another node of a cluster is streamed from that
    node (``cluster.address``, with that node's credential derived from ``cluster.media_secret``); 503 naming the
    node when it is down. ``?codec=h264`` on an H.265 segment: the same pictures as H.264 (whole file, no ranges;
    503 while every transcode slot is taken), audited as the native file is."""
    seg = session.get(Segment, segment_id)
    if seg is None or not _sees(session, who, seg.camera_id):
        raise HTTPException(404, "no such segment")  # outside the user's districts: as if it did not exist
    ctx = ctx_of(request)
    try:
        where = media.locate(session, segment=seg, own_node_id=ctx.settings.recorder.node_id)
    except media.MediaError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    audit(
        ctx,
        who=who.username,
        action=AuditAction.PLAYBACK,
        camera=seg.camera_id,
        t_from_ns=seg.start_ns,
        t_to_ns=seg.end_ns,
        address=address_of(request),
        details={"codec": codec} if codec else None,
    )
    cache = {"Cache-Control": "private, max-age=60"}
    if codec == H264 and seg.codec == H265:
        return _transcoded(ctx, seg, where, cache)
    if isinstance(where, Path):
        if not where.is_file():
            raise HTTPException(404, "the segment's file is gone (deleted by retention?)")
        return FileResponse(where, media_type="video/mp4", headers=cache)
    try:
        stream = media.open_segment(where, seg.id, cfg=ctx.settings.cluster, range_header=request.headers.get("range"))
    except media.MediaError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return StreamingResponse(
        stream,
        status_code=stream.status,
        media_type="video/mp4",
        headers={**cache, **stream.headers},
        background=BackgroundTask(stream.close),
    )


def _transcoded(ctx: AppContext, seg: Segment, where: Path | media.Remote, cache: dict[str, str]) -> Response:
    """An H.265 segment as H.264 (live/segments.py); one on another node is copied here first."""
    headers = {**cache, "X-Camgrid-Path": VideoPath.H264_TRANSCODE}
    final = seg.status != SegmentStatus.WRITING
    try:
        if isinstance(where, Path):
            if not where.is_file():
                raise HTTPException(404, "the segment's file is gone (deleted by retention?)")
            data = ctx.segment_transcodes.get(seg.id, where, final=final)
        else:
            with tempfile.TemporaryDirectory(prefix="camgrid-seg-") as tmp:
                local = media.fetch_segment(where, seg.id, Path(tmp) / "seg.mp4", cfg=ctx.settings.cluster)
                data = ctx.segment_transcodes.get(seg.id, local, final=final)
    except media.MediaError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except SegmentBusy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    except SegmentTooBig as exc:
        raise HTTPException(413, str(exc)) from None
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise HTTPException(422, f"the recording could not be transcoded ({type(exc).__name__})") from None
    return Response(data, media_type="video/mp4", headers=headers)
