"""Evidence holds: a supervisor keeps footage from retention, with a reason and an end date."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import ctx_of, db, require
from camgrid.api.routes_cameras import _camera, visible
from camgrid.api.schemas import HoldOut
from camgrid.registry.models import Camera
from camgrid.storage import service as storage

router = APIRouter(prefix="/api/holds", tags=["holds"])
MS = 1_000_000


class HoldIn(BaseModel):
    camera: str = Field(min_length=1, max_length=64)
    from_ms: int = Field(ge=0)
    to_ms: int = Field(ge=0)
    reason: str = Field(min_length=3, max_length=500)
    until_ms: int | None = Field(None, ge=0, description="When the hold ends (none: until lifted)")


def _out(h: Any) -> dict[str, Any]:
    return {
        "id": h.id,
        "camera": h.camera_id,
        "from_ms": h.start_ns // MS,
        "to_ms": h.end_ns // MS,
        "until_ms": h.until_ns // MS if h.until_ns else None,
        "reason": h.reason,
        "created_by": h.created_by,
        "created_ms": h.created_ns // MS,
    }


@router.post("", status_code=201)
def create(
    body: HoldIn, request: Request, who: Principal = require("hold"), session: Session = Depends(db)
) -> dict[str, Any]:
    cam = _camera(session, who, body.camera)
    now = ctx_of(request).clock.wall_ns()
    if body.until_ms is not None and body.until_ms * MS <= now:
        raise HTTPException(422, "a hold must end in the future")
    audit(
        ctx_of(request),
        who=who.username,
        action="hold.create",
        camera=cam.id,
        t_from_ns=body.from_ms * MS,
        t_to_ns=body.to_ms * MS,
        address=address_of(request),
        details={"reason": body.reason, "until_ms": body.until_ms},
    )
    try:
        hold = storage.add_hold(
            session=session,
            camera_id=cam.id,
            start_ns=body.from_ms * MS,
            end_ns=body.to_ms * MS,
            reason=body.reason,
            created_by=who.username,
            now_ns=now,
            until_ns=body.until_ms * MS if body.until_ms is not None else None,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return _out(hold)


@router.get("", response_model=list[HoldOut])
def list_holds(who: Principal = require("hold.read"), session: Session = Depends(db)) -> list[dict[str, Any]]:
    districts: dict[str, str] = {cid: d for cid, d in session.query(Camera.id, Camera.district_id).all()}
    return [_out(h) for h in storage.list_holds(session=session) if visible(who, districts.get(h.camera_id, ""))]
