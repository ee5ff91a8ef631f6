"""Privacy masks over the API: read (admins and operators), set (admins), remove with a second person."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import CameraId
from camgrid.api.deps import ctx_of, db, require
from camgrid.api.schemas import MaskOut
from camgrid.privacy import service as masks
from camgrid.privacy.errors import MaskError
from camgrid.registry.service import camera_for

router = APIRouter(prefix="/api/cameras", tags=["privacy"])


class MaskIn(BaseModel):
    polygons: list[list[list[float]]] = Field(description="Polygons in fractions of the picture: [[[x, y], ...], ...]")


def _out(row: Any) -> dict[str, Any]:
    if row is None:
        return {"polygons": [], "revision": 0, "removal_requested_by": None}
    return {
        "polygons": json.loads(row.polygons),
        "revision": row.revision,
        "updated_by": row.updated_by,
        "updated_ms": row.updated_ns // 1_000_000,
        "removal_requested_by": row.removal_requested_by,
    }


def _apply(request: Request, camera_id: str, row: Any) -> None:
    sync = ctx_of(request).masks
    if sync is not None:
        sync.apply(camera_id, row.revision if row else 0, json.loads(row.polygons) if row else None)


@router.get("/{camera_id}/mask", response_model=MaskOut)
def get_mask(
    camera_id: CameraId, request: Request, who: Principal = require("masks.read"), session: Session = Depends(db)
) -> dict[str, Any]:
    with answering():
        camera_for(session=session, actor=actor(request, who), camera_id=camera_id)
    return _out(masks.get_mask(session=session, camera_id=camera_id))


@router.put("/{camera_id}/mask", response_model=MaskOut)
def put_mask(
    camera_id: CameraId,
    body: MaskIn,
    request: Request,
    who: Principal = require("masks.write"),
    session: Session = Depends(db),
) -> dict[str, Any]:
    """Set a camera's mask; it is burnt in from the next picture (recording and live)."""
    with answering():
        try:
            row = masks.set_mask(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                polygons=body.polygons,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except MaskError as exc:
            raise HTTPException(422, str(exc)) from None
    session.commit()  # the recorder applies it from the next picture: it must be stored first
    _apply(request, camera_id, row)
    return _out(row)


@router.delete("/{camera_id}/mask", response_model=MaskOut)
def request_removal(
    camera_id: CameraId,
    request: Request,
    who: Principal = require("masks.write"),
    session: Session = Depends(db),
) -> dict[str, Any]:
    """Ask for a mask's removal; it stays until a second person approves."""
    with answering():
        try:
            row = masks.request_removal(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except MaskError as exc:
            raise HTTPException(404, str(exc)) from None
    return _out(row)


@router.post("/{camera_id}/mask/approve-removal", response_model=MaskOut)
def approve_removal(
    camera_id: CameraId,
    request: Request,
    who: Principal = require("masks.approve"),
    session: Session = Depends(db),
) -> dict[str, Any]:
    with answering():
        try:
            masks.approve_removal(
                session=session, audit=writer(request), actor=actor(request, who), camera_id=camera_id
            )
        except MaskError as exc:
            raise HTTPException(409, str(exc)) from None
    session.commit()
    _apply(request, camera_id, None)
    return _out(None)
