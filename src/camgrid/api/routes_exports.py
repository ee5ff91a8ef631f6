"""Four-eyes exports: an export is a request (camera, range, reason); a supervisor of that camera's district who is
not the requester approves or refuses it; only then is the clip produced (remuxed, never transcoded) with a manifest
of SHA-256 digests and the approval chain.

State lives in ``<home>/exports/<id>/request.json`` next to the files it produces.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import ctx_of, db, require
from camgrid.api.routes_cameras import _camera, visible
from camgrid.api.schemas import ExportOut
from camgrid.clock import ns_to_datetime, ns_to_iso
from camgrid.cluster import media
from camgrid.playback.export import ExportError, SourceSegment, build_clip, write_manifest
from camgrid.storage import service as storage

router = APIRouter(prefix="/api/exports", tags=["exports"])
MS = 1_000_000
EXPORT_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"video/mp4": {}, "application/json": {}, "text/plain": {}}, "description": "The file"}
}


class ExportIn(BaseModel):
    camera: str = Field(min_length=1, max_length=64)
    from_ms: int = Field(ge=0)
    to_ms: int = Field(ge=0)
    reason: str = Field(min_length=3, max_length=500)


class Decision(BaseModel):
    reason: str = Field("", max_length=500)


def _root(request: Request) -> Path:
    root = ctx_of(request).settings.home / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _load(folder: Path) -> dict[str, Any]:
    req: dict[str, Any] = json.loads((folder / "request.json").read_text())
    return req


def _save(folder: Path, req: dict[str, Any]) -> None:
    tmp = folder / "request.json.tmp"
    tmp.write_text(json.dumps(req, indent=1))
    tmp.replace(folder / "request.json")


def _summary(folder: Path) -> dict[str, Any]:
    req = _load(folder)
    out = {
        k: req[k]
        for k in (
            "id",
            "status",
            "camera",
            "district",
            "from_ms",
            "to_ms",
            "reason",
            "requested_by",
            "requested_ms",
            "decided_by",
            "decided_ms",
            "decision_reason",
        )
    }
    out["actual_from_ms"] = req.get("actual_from_ms")
    out["actual_to_ms"] = req.get("actual_to_ms")
    out["files"] = []
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text())
        extra = [
            {"name": n, "bytes": (folder / n).stat().st_size}
            for n in ("manifest.json", "manifest.sig", "key.pub")
            if (folder / n).is_file()
        ]
        out["files"] = [*manifest["files"], *extra]
    return out


def _folder(request: Request, who: Principal, export_id: str) -> Path:
    folder = _root(request) / export_id
    if "/" in export_id or ".." in export_id or not (folder / "request.json").is_file():
        raise HTTPException(404, "no such export")
    req = _load(folder)
    mine = req["requested_by"] == who.username
    if not visible(who, req["district"]) or not (mine or who.role in ("supervisor", "auditor")):
        raise HTTPException(404, "no such export")
    return folder


@router.post("", status_code=201)
def create(
    body: ExportIn, request: Request, who: Principal = require("export.request"), session: Session = Depends(db)
) -> dict[str, Any]:
    """Ask for a clip. Nothing leaves until a second person approves."""
    if body.to_ms <= body.from_ms or body.to_ms - body.from_ms > 6 * 3600 * 1000:
        raise HTTPException(422, "the range must end after it starts and last at most 6 hours")
    cam = _camera(session, who, body.camera)
    now = ctx_of(request).clock.wall_ns()
    index = audit(
        ctx_of(request),
        who=who.username,
        action="export.request",
        camera=cam.id,
        t_from_ns=body.from_ms * MS,
        t_to_ns=body.to_ms * MS,
        address=address_of(request),
        details={"reason": body.reason},
    )
    export_id = f"{ns_to_datetime(now):%Y%m%dT%H%M%SZ}-{cam.id}-{secrets.token_hex(3)}"
    folder = _root(request) / export_id
    folder.mkdir()
    req = {
        "id": export_id,
        "status": "pending",
        "camera": cam.id,
        "camera_name": cam.name,
        "district": cam.district_id,
        "from_ms": body.from_ms,
        "to_ms": body.to_ms,
        "reason": body.reason,
        "requested_by": who.username,
        "requested_ms": now // MS,
        "decided_by": None,
        "decided_ms": None,
        "decision_reason": None,
        "audit": [index],
    }
    _save(folder, req)
    return _summary(folder)


@router.post("/{export_id}/approve")
def approve(
    export_id: str,
    body: Decision,
    request: Request,
    who: Principal = require("export.approve"),
    session: Session = Depends(db),
) -> dict[str, Any]:
    """A supervisor of the camera's district, not the requester, approves: the clip is produced now."""
    folder = _folder(request, who, export_id)
    req = _load(folder)
    if req["status"] != "pending":
        raise HTTPException(409, f"this export is {req['status']}")
    if req["requested_by"] == who.username:
        raise HTTPException(409, "an export needs a second person: you asked for it")
    cam = _camera(session, who, req["camera"])
    t0, t1 = req["from_ms"] * MS, req["to_ms"] * MS
    req.setdefault("audit", []).append(
        audit(
            ctx_of(request),
            who=who.username,
            action="export.approve",
            camera=cam.id,
            t_from_ns=t0,
            t_to_ns=t1,
            address=address_of(request),
            details={"export": export_id, "reason": body.reason},
        )
    )
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    gaps = storage.gaps_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    now = ctx_of(request).clock.wall_ns()
    settings = ctx_of(request).settings
    # Segments recorded on other nodes of a cluster are copied here first (docs/design/cluster.md).
    with tempfile.TemporaryDirectory(prefix=".sources-", dir=folder) as fetched:
        try:
            sources = []
            for s in segs:
                where = media.locate(session, segment=s, own_node_id=settings.recorder.node_id)
                if isinstance(where, media.Remote):
                    where = media.fetch_segment(
                        where, s.id, Path(fetched) / f"{s.id}.mp4", token=settings.cluster.media_token
                    )
                sources.append(SourceSegment(where, s.start_ns, s.end_ns))
        except media.MediaError as exc:
            _save(folder, req)  # still pending (the attempt is in its audit entries): approve again later
            raise HTTPException(exc.status, f"{exc}; the export stays pending, approve it again later") from None
        try:
            a0, a1, pictures = build_clip(sources, t0, t1, folder / "clip.mp4")
        except (ExportError, OSError, ValueError) as exc:
            (folder / "clip.mp4").unlink(missing_ok=True)
            req.update(status="failed", decided_by=who.username, decided_ms=now // MS, decision_reason=str(exc))
            _save(folder, req)
            raise HTTPException(404 if isinstance(exc, ExportError) else 500, str(exc)) from None
    chain = [
        {
            "step": "requested",
            "by": req["requested_by"],
            "at": ns_to_iso(req["requested_ms"] * MS),
            "reason": req["reason"],
        },
        {"step": "approved", "by": who.username, "at": ns_to_iso(now), "reason": body.reason},
    ]
    staging = folder / "files"
    staging.mkdir(exist_ok=True)
    shutil.move(str(folder / "clip.mp4"), staging / "clip.mp4")
    write_manifest(
        staging,
        camera={"id": cam.id, "name": cam.name, "district": cam.district_id},
        requested=(t0, t1),
        actual=(a0, a1),
        pictures=pictures,
        exported_by=req["requested_by"],
        exported_ns=now,
        reason=req["reason"],
        gaps=[{"start_ns": g.start_ns, "end_ns": g.end_ns, "reason": g.reason} for g in gaps],
        approval=chain,
        audit_entries=req["audit"],
    )
    sign_manifest(ctx_of(request), staging)
    for f in staging.iterdir():
        shutil.move(str(f), folder / f.name)
    staging.rmdir()
    req.update(
        status="ready",
        decided_by=who.username,
        decided_ms=now // MS,
        decision_reason=body.reason,
        actual_from_ms=a0 // MS,
        actual_to_ms=a1 // MS,
    )
    _save(folder, req)
    return _summary(folder)


@router.post("/{export_id}/refuse")
def refuse(
    export_id: str, body: Decision, request: Request, who: Principal = require("export.approve")
) -> dict[str, Any]:
    folder = _folder(request, who, export_id)
    req = _load(folder)
    if req["status"] != "pending":
        raise HTTPException(409, f"this export is {req['status']}")
    if req["requested_by"] == who.username:
        raise HTTPException(409, "an export needs a second person: you asked for it")
    now = ctx_of(request).clock.wall_ns()
    audit(
        ctx_of(request),
        who=who.username,
        action="export.refuse",
        camera=req["camera"],
        address=address_of(request),
        details={"export": export_id, "reason": body.reason},
    )
    req.update(status="refused", decided_by=who.username, decided_ms=now // MS, decision_reason=body.reason)
    _save(folder, req)
    return _summary(folder)


@router.get("", response_model=list[ExportOut])
def list_exports(request: Request, who: Principal = require("export.read")) -> list[dict[str, Any]]:
    out = []
    for folder in sorted(_root(request).iterdir(), reverse=True):
        if not (folder / "request.json").is_file():
            continue
        req = _load(folder)
        mine = req["requested_by"] == who.username
        if visible(who, req["district"]) and (mine or who.role in ("supervisor", "auditor")):
            out.append(_summary(folder))
    return out


@router.get("/{export_id}", response_model=ExportOut)
def get_export(export_id: str, request: Request, who: Principal = require("export.read")) -> dict[str, Any]:
    return _summary(_folder(request, who, export_id))


@router.get("/{export_id}/files/{name}", response_class=FileResponse, responses=EXPORT_FILE)
def export_file(export_id: str, name: str, request: Request, who: Principal = require("export.read")) -> FileResponse:
    folder = _folder(request, who, export_id)
    if name == "request.json" or name not in {p.name for p in folder.iterdir()}:
        raise HTTPException(404, "no such file")
    if name != "manifest.json" and not allowed(who.role, "export.download"):
        raise HTTPException(403, f"your role ({who.role}) may read manifests but not download video")
    if name == "clip.mp4":
        req = _load(folder)
        audit(
            ctx_of(request),
            who=who.username,
            action="export.download",
            camera=req["camera"],
            t_from_ns=req["from_ms"] * MS,
            t_to_ns=req["to_ms"] * MS,
            address=address_of(request),
            details={"export": export_id},
        )
    media = "application/json" if name.endswith(".json") else ("video/mp4" if name.endswith(".mp4") else "text/plain")
    return FileResponse(folder / name, media_type=media, filename=name)


def sign_manifest(ctx: Any, folder: Path) -> None:
    """manifest.sig: the manifest as a signed note (Ed25519, the installation's audit key); key.pub to check it."""
    if ctx.audit is None:
        return
    body = (folder / "manifest.json").read_text()
    (folder / "manifest.sig").write_text(ctx.audit.signer.sign_note(body))
    (folder / "key.pub").write_text(ctx.audit.signer.verifier.text() + "\n")
