"""Privacy masks over the API: read (admins and operators), set (admins), remove or reduce with a second person.

An edit that uncovers part of the mask answers with the request pending (the mask in force unchanged); while a
removal or reduction is pending, edits answer 409 until a second person approves or refuses it
(docs/design/privacy-masks.md).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import CameraId
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.schemas import CameraSideMaskOut, MaskOut
from camgrid.privacy import camera_mask_service as camera_side
from camgrid.privacy import service as masks
from camgrid.privacy.errors import MaskError
from camgrid.registry.service import camera_for
from camgrid.vocabulary import MaskMode

router = APIRouter(prefix="/api/cameras", tags=["privacy"])
MS = 1_000_000


class MaskIn(BaseModel):
    polygons: list[list[list[float]]] = Field(description="Polygons in fractions of the picture: [[[x, y], ...], ...]")


class ApproveIn(BaseModel):
    pending_polygons: list[list[list[float]]] | None = Field(
        description="The pending change the approver saw (MaskOut.pending_polygons; null: a removal): a different one "
        "(withdrawn and replaced meanwhile) is refused with 409"
    )


def _out(row: Any) -> dict[str, Any]:
    if row is None:
        return {"polygons": [], "revision": 0, "removal_requested_by": None}
    return {
        "polygons": json.loads(row.polygons),
        "revision": row.revision,
        "updated_by": row.updated_by,
        "updated_ms": row.updated_ns // MS,
        "removal_requested_by": row.removal_requested_by,
        "requested_ms": row.removal_requested_ns // MS if row.removal_requested_ns is not None else None,
        "pending_polygons": json.loads(row.pending_polygons) if row.pending_polygons is not None else None,
    }


def _apply(request: Request, camera_id: str, row: Any) -> None:
    """The mask in force to the recorder (never a pending change: that waits for its second person)."""
    sync = ctx_of(request).masks
    if sync is not None:
        sync.apply(camera_id, row.revision if row else 0, json.loads(row.polygons) if row else None)


def _status(exc: MaskError) -> int:
    return 409 if isinstance(exc, masks.MaskConflict | masks.NothingPending) else 422


@router.get("/{camera_id}/mask", response_model=MaskOut)
def get_mask(
    camera_id: CameraId, request: Request, who: Principal = require("masks.read"), session: Session = DB_SESSION
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
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Set a camera's mask; it is burnt in from the next picture (recording and live). An edit that uncovers any
    part of the mask (an empty list: all of it) is only requested (``removal_requested_by`` and ``pending_polygons``
    set, the mask in force unchanged), like ``DELETE``: a second person approves it."""
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
            raise HTTPException(_status(exc), str(exc)) from None
    session.commit()  # the recorder applies it from the next picture: it must be stored first
    if row.removal_requested_by is None:
        _apply(request, camera_id, row)
    return _out(row)


@router.delete("/{camera_id}/mask", response_model=MaskOut)
def request_removal(
    camera_id: CameraId,
    request: Request,
    who: Principal = require("masks.write"),
    session: Session = DB_SESSION,
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
        except masks.MaskConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except MaskError as exc:
            raise HTTPException(404, str(exc)) from None
    return _out(row)


@router.post("/{camera_id}/mask/approve-removal", response_model=MaskOut)
def approve_removal(
    camera_id: CameraId,
    request: Request,
    body: ApproveIn | None = None,
    who: Principal = require("masks.approve"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """The second person approves the pending removal or reduction (never its requester); with a body, only the
    change they saw."""
    with answering():
        try:
            row = masks.approve_removal(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                now_ns=ctx_of(request).clock.wall_ns(),
                expected=(body.pending_polygons,) if body is not None else None,
            )
        except MaskError as exc:
            raise HTTPException(409, str(exc)) from None
    session.commit()
    _apply(request, camera_id, row)
    return _out(row)


@router.post("/{camera_id}/mask/refuse-removal", response_model=MaskOut)
def refuse_removal(
    camera_id: str,
    request: Request,
    who: Principal = require("masks.approve"),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """Refuse the pending removal or reduction (its requester may withdraw it): the mask in force stays."""
    with answering():
        try:
            row = masks.refuse_removal(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except MaskError as exc:
            raise HTTPException(409, str(exc)) from None
    return _out(row)


def _side(row: Any) -> dict[str, Any]:
    if row is None:
        return {"mode": MaskMode.RECORDER}
    return {
        "mode": row.mode,
        "verified_ms": row.verified_ns // MS if row.verified_ns is not None else None,
        "failed_ms": row.failed_ns // MS if row.failed_ns is not None else None,
        "reason": row.reason,
    }


@router.get("/{camera_id}/mask/camera-side", response_model=CameraSideMaskOut)
def get_camera_side(
    camera_id: CameraId, request: Request, who: Principal = require("masks.read"), session: Session = DB_SESSION
) -> dict[str, Any]:
    """Who burns the mask in: the camera itself (checked) or the recorder (docs/design/camera-side-masks.md)."""
    with answering():
        camera_for(session=session, actor=actor(request, who), camera_id=camera_id)
    return _side(camera_side.state_of(session=session, camera_id=camera_id))


@router.post("/{camera_id}/mask/camera-side/rearm", response_model=CameraSideMaskOut)
def rearm_camera_side(
    camera_id: CameraId, request: Request, who: Principal = require("masks.write"), session: Session = DB_SESSION
) -> dict[str, Any]:
    """Trust the camera's own mask again after a failed check: it is set anew and must pass a fresh check before the
    camera's pictures are stored as sent; the recorder masks meanwhile."""
    with answering():
        try:
            row = camera_side.rearm_camera_masks(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=camera_id,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except MaskError as exc:
            raise HTTPException(409, str(exc)) from None
    session.commit()
    sync = ctx_of(request).masks
    if sync is not None and sync.camera_side is not None:
        sync.camera_side.rearmed(camera_id)
    return _side(row)
