"""Clip exports: remuxed clips with a SHA-256 manifest (four-eyes approval arrives with issue 7)."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.deps import ctx_of, db, require
from camgrid.api.routes_cameras import _camera
from camgrid.clock import ns_to_datetime
from camgrid.playback.export import ExportError, SourceSegment, build_clip, write_manifest
from camgrid.storage import service as storage

router = APIRouter(prefix="/api/exports", tags=["exports"])
MS = 1_000_000


class ExportIn(BaseModel):
    camera: str = Field(min_length=1, max_length=64)
    from_ms: int = Field(ge=0)
    to_ms: int = Field(ge=0)
    reason: str = Field(min_length=3, max_length=500)


def _root(request: Request) -> Path:
    root = ctx_of(request).settings.home / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _summary(folder: Path) -> dict[str, Any]:
    m = json.loads((folder / "manifest.json").read_text())
    return {
        "id": folder.name,
        "status": "ready",
        "camera": m["camera"]["id"],
        "from_ms": None,
        "actual_from_ms": m["actual"]["from_ns"] // MS,
        "actual_to_ms": m["actual"]["to_ns"] // MS,
        "reason": m["reason"],
        "exported_by": m["exported_by"],
        "exported_at": m["exported_at"],
        "files": [*m["files"], {"name": "manifest.json", "bytes": (folder / "manifest.json").stat().st_size}],
    }


@router.post("", status_code=201)
def create(
    body: ExportIn, request: Request, who: Principal = require("export.request"), session: Session = Depends(db)
) -> dict[str, Any]:
    if body.to_ms <= body.from_ms or body.to_ms - body.from_ms > 6 * 3600 * 1000:
        raise HTTPException(422, "the range must end after it starts and last at most 6 hours")
    cam = _camera(session, who, body.camera)
    t0, t1 = body.from_ms * MS, body.to_ms * MS
    segs = storage.segments_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    gaps = storage.gaps_between(session=session, camera_id=cam.id, start_ns=t0, end_ns=t1)
    ctx = ctx_of(request)
    now = ctx.clock.wall_ns()
    export_id = f"{ns_to_datetime(now):%Y%m%dT%H%M%SZ}-{cam.id}-{secrets.token_hex(3)}"
    folder = _root(request) / export_id
    folder.mkdir()
    try:
        actual0, actual1, pictures = build_clip(
            [SourceSegment(Path(s.path), s.start_ns, s.end_ns) for s in segs], t0, t1, folder / "clip.mp4"
        )
    except (ExportError, OSError, ValueError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(404 if isinstance(exc, ExportError) else 500, str(exc)) from None
    write_manifest(
        folder,
        camera={"id": cam.id, "name": cam.name, "district": cam.district_id},
        requested=(t0, t1),
        actual=(actual0, actual1),
        pictures=pictures,
        exported_by=who.username,
        exported_ns=now,
        reason=body.reason,
        gaps=[{"start_ns": g.start_ns, "end_ns": g.end_ns, "reason": g.reason} for g in gaps],
    )
    out = _summary(folder)
    out["from_ms"], out["to_ms"] = body.from_ms, body.to_ms
    return out


@router.get("")
def list_exports(request: Request, who: Principal = require("export.read")) -> list[dict[str, Any]]:
    out = []
    for folder in sorted(_root(request).iterdir(), reverse=True):
        if (folder / "manifest.json").is_file():
            item = _summary(folder)
            if who.role in ("supervisor", "admin", "auditor") or item["exported_by"] == who.username:
                out.append(item)
    return out


def _folder(request: Request, who: Principal, export_id: str) -> Path:
    folder = _root(request) / export_id
    if "/" in export_id or ".." in export_id or not (folder / "manifest.json").is_file():
        raise HTTPException(404, "no such export")
    item = _summary(folder)
    if who.role not in ("supervisor", "admin", "auditor") and item["exported_by"] != who.username:
        raise HTTPException(404, "no such export")
    return folder


@router.get("/{export_id}")
def get_export(export_id: str, request: Request, who: Principal = require("export.read")) -> dict[str, Any]:
    return _summary(_folder(request, who, export_id))


@router.get("/{export_id}/files/{name}")
def export_file(export_id: str, name: str, request: Request, who: Principal = require("export.read")) -> FileResponse:
    folder = _folder(request, who, export_id)
    if name not in {p.name for p in folder.iterdir()}:
        raise HTTPException(404, "no such file")
    if name != "manifest.json" and not allowed(who.role, "export.download"):
        raise HTTPException(403, f"your role ({who.role}) may read manifests but not download video")
    media = "application/json" if name.endswith(".json") else "video/mp4"
    return FileResponse(folder / name, media_type=media, filename=name)
