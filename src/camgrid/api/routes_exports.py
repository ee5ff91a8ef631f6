"""Four-eyes exports over the API: parse, call ``camgrid.exports.service``, serialise (times in ms).

The service owns the state machine (the ``exports`` table), the four eyes, the district scope and the audit entries;
this module adds the role permissions and the cluster's source fetching (segments recorded on another node are
copied here first: docs/design/cluster.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import NameInPath, QueryMs, TimeMs
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.schemas import ExportOut
from camgrid.cluster import media
from camgrid.exports import package
from camgrid.exports import service as exports
from camgrid.exports.models import ExportRequest
from camgrid.storage.models import Segment

router = APIRouter(prefix="/api/exports", tags=["exports"])
MS = 1_000_000
EXPORT_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"video/mp4": {}, "application/json": {}, "text/plain": {}}, "description": "The file"}
}


class ExportIn(BaseModel):
    camera: str = Field(min_length=1, max_length=64)
    from_ms: TimeMs
    to_ms: TimeMs
    reason: str = Field(min_length=3, max_length=500)


class GapIncident(BaseModel):
    kind: str
    subject: str


class CoverageGap(BaseModel):
    from_ms: int
    to_ms: int
    reason: str = Field(description="Why the recorder did not record (the gap's reason)")
    incident: GapIncident | None = Field(None, description="The incident the camera was part of then, if any")


class CoverageOut(BaseModel):
    """What a range of a camera holds: recorded time and the gaps inside (before asking for an export)."""

    camera: str
    from_ms: int
    to_ms: int
    recorded_ms: int
    first_ms: int | None
    last_ms: int | None
    gaps: list[CoverageGap]


PACKAGE_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "The export as one zip: clip, page, signed manifest"}
}


class Decision(BaseModel):
    reason: str = Field("", max_length=500)


def _root(request: Request) -> Path:
    return ctx_of(request).settings.home / "exports"


def _ms(ns: int | None) -> int | None:
    return None if ns is None else ns // MS


def _summary(request: Request, row: ExportRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "camera": row.camera_id,
        "district": row.district_id,
        "from_ms": row.from_ns // MS,
        "to_ms": row.to_ns // MS,
        "reason": row.reason,
        "requested_by": row.requested_by,
        "requested_ms": row.requested_ns // MS,
        "decided_by": row.decided_by,
        "decided_ms": _ms(row.decided_ns),
        "decision_reason": row.decision_reason,
        "actual_from_ms": _ms(row.actual_from_ns),
        "actual_to_ms": _ms(row.actual_to_ns),
        "note": row.note,
        "files": exports.export_files(_root(request), row),
    }


def _sources(request: Request, session: Session) -> exports.SourceResolver:
    """Local files, or copies fetched from the node that recorded them (a down node leaves the export pending)."""
    settings = ctx_of(request).settings

    def resolve(segment: Segment, scratch: Path) -> Path:
        try:
            where = media.locate(session, segment=segment, own_node_id=settings.recorder.node_id)
            if isinstance(where, media.Remote):
                where = media.fetch_segment(where, segment.id, scratch / f"{segment.id}.mp4", cfg=settings.cluster)
        except media.MediaError as exc:
            raise exports.SourcesUnavailable(exc.status, str(exc)) from None
        return where

    return resolve


@router.get("/coverage", response_model=CoverageOut)
def coverage(
    request: Request,
    camera: str = Query(min_length=1, max_length=64),
    from_ms: QueryMs = 0,
    to_ms: QueryMs = 0,
    who: Principal = require("export.read"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """The recorded time and the gaps (with their reasons) inside a range of one camera, at most 6 hours: what an
    export of it would hold. A camera outside the user's districts does not exist (404)."""
    with answering():
        try:
            c = exports.coverage(
                session=session, actor=actor(request, who), camera_id=camera, from_ns=from_ms * MS, to_ns=to_ms * MS
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return {
        "camera": c["camera"],
        "from_ms": from_ms,
        "to_ms": to_ms,
        "recorded_ms": c["recorded_ns"] // MS,
        "first_ms": _ms(c["first_ns"]),
        "last_ms": _ms(c["last_ns"]),
        "gaps": [
            {
                "from_ms": g["start_ns"] // MS,
                "to_ms": g["end_ns"] // MS,
                "reason": g["reason"],
                "incident": g["incident"],
            }
            for g in c["gaps"]
        ],
    }


@router.post("", status_code=201, response_model=ExportOut)
def create(
    body: ExportIn, request: Request, who: Principal = require("export.request"), session: Session = DB_SESSION
) -> dict[str, Any]:
    """Ask for a clip. Nothing leaves until a second person approves."""
    with answering():
        try:
            row = exports.request_export(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=body.camera,
                from_ns=body.from_ms * MS,
                to_ns=body.to_ms * MS,
                reason=body.reason,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return _summary(request, row)


@router.post("/{export_id}/approve", response_model=ExportOut)
def approve(
    export_id: NameInPath,
    body: Decision,
    request: Request,
    who: Principal = require("export.approve"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Someone other than the requester approves: the clip is produced now."""
    ctx = ctx_of(request)
    with answering():
        try:
            row = exports.approve_export(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                root=_root(request),
                export_id=export_id,
                reason=body.reason,
                now_ns=ctx.clock.wall_ns(),
                sources=_sources(request, session),
                signer=getattr(ctx.audit, "signer", None),  # the audit key signs manifests
            )
        except exports.ExportConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except exports.ExportPending as exc:
            session.commit()  # the attempt (its audit entry, the note) is kept: the export stays pending
            raise HTTPException(exc.status, str(exc)) from None
        except exports.ExportFailed as exc:
            session.commit()  # the export is failed, and says why
            raise HTTPException(404 if exc.missing else 500, str(exc)) from None
    return _summary(request, row)


@router.post("/{export_id}/refuse", response_model=ExportOut)
def refuse(
    export_id: NameInPath,
    body: Decision,
    request: Request,
    who: Principal = require("export.approve"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    with answering():
        try:
            row = exports.refuse_export(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                export_id=export_id,
                reason=body.reason,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except exports.ExportConflict as exc:
            raise HTTPException(409, str(exc)) from None
    return _summary(request, row)


@router.get("", response_model=list[ExportOut])
def list_exports(
    request: Request, who: Principal = require("export.read"), session: Session = DB_SESSION
) -> list[dict[str, Any]]:
    return [_summary(request, r) for r in exports.list_exports(session=session, actor=actor(request, who))]


@router.get("/{export_id}", response_model=ExportOut)
def get_export(
    export_id: NameInPath, request: Request, who: Principal = require("export.read"), session: Session = DB_SESSION
) -> dict[str, Any]:
    with answering():
        row = exports.export_for(session=session, actor=actor(request, who), export_id=export_id)
    return _summary(request, row)


@router.get("/{export_id}/files/{name}", response_class=FileResponse, responses=EXPORT_FILE)
def export_file(
    export_id: NameInPath,
    name: NameInPath,
    request: Request,
    who: Principal = require("export.read"),
    session: Session = DB_SESSION,
) -> FileResponse:
    if name != "manifest.json" and not allowed(who.role, "export.download"):
        with answering():  # an export the user may not see stays unseen (404) before the role's 403
            exports.export_for(session=session, actor=actor(request, who), export_id=export_id)
        raise HTTPException(403, f"your role ({who.role}) may read manifests but not download video")
    with answering():
        path = exports.download_export(
            session=session,
            audit=writer(request),
            actor=actor(request, who),
            root=_root(request),
            export_id=export_id,
            name=name,
        )
    kind = "application/json" if name.endswith(".json") else ("video/mp4" if name.endswith(".mp4") else "text/plain")
    return FileResponse(path, media_type=kind, filename=name)


@router.get("/{export_id}/package", response_class=StreamingResponse, responses=PACKAGE_FILE)
def export_package(
    export_id: NameInPath,
    request: Request,
    who: Principal = require("export.download"),
    session: Session = DB_SESSION,
) -> StreamingResponse:
    """A ready export as one zip (clip, README.html on how to verify it, manifest, signature, key), built while it
    streams. Audited before the first byte, as a download of the clip."""
    with answering():
        try:
            folder, names = exports.package_export(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                root=_root(request),
                export_id=export_id,
            )
        except package.PackageTooLarge as exc:
            raise HTTPException(413, str(exc)) from None
    session.commit()  # the audit entry and its row are kept before the stream starts
    return StreamingResponse(
        package.zip_stream(folder, names, export_id),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{export_id}.zip"'},
    )
