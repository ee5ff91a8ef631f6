"""Evidence holds: a supervisor keeps footage from retention, with a reason and an end date (``storage.holds``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import RowId, TimeMs
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.api.schemas import HoldOut
from camgrid.auditing import failing_after
from camgrid.storage import holds
from camgrid.vocabulary import AuditAction

router = APIRouter(prefix="/api/holds", tags=["holds"])
MS = 1_000_000


MAX_MS = holds.MAX_NS // MS  # what the store can keep (2262): beyond, 422 before anything is written


class HoldIn(BaseModel):
    camera: str = Field(min_length=1, max_length=64)
    from_ms: TimeMs
    to_ms: TimeMs
    reason: str = Field(min_length=3, max_length=holds.MAX_REASON)
    until_ms: TimeMs | None = Field(None, description="When the hold ends (none: until lifted)")


class ReleaseIn(BaseModel):
    reason: str = Field(min_length=3, max_length=holds.MAX_REASON)


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


@router.post("", status_code=201, response_model=HoldOut)
def create(
    body: HoldIn, request: Request, who: Principal = require("hold"), session: Session = DB_SESSION
) -> dict[str, Any]:
    with answering():
        try:
            hold = holds.create_hold(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                camera_id=body.camera,
                start_ns=body.from_ms * MS,
                end_ns=body.to_ms * MS,
                reason=body.reason,
                now_ns=ctx_of(request).clock.wall_ns(),
                until_ns=body.until_ms * MS if body.until_ms is not None else None,
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    with failing_after(writer(request), actor(request, who), AuditAction.HOLD_CREATE, camera=hold.camera_id):
        session.commit()  # a refused commit is logged as such: the entry above must not read as done
    return _out(hold)


@router.post("/{hold_id}/release", response_model=HoldOut)
def release(
    hold_id: RowId, body: ReleaseIn, request: Request, who: Principal = require("hold"), session: Session = DB_SESSION
) -> dict[str, Any]:
    """End a hold now (the hold stays listed, with its end): retention may then delete the footage by age."""
    with answering():
        try:
            hold = holds.release_hold(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                hold_id=hold_id,
                reason=body.reason,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
    with failing_after(writer(request), actor(request, who), AuditAction.HOLD_RELEASE, camera=hold.camera_id):
        session.commit()
    return _out(hold)


@router.get("", response_model=list[HoldOut])
def list_holds(
    request: Request, who: Principal = require("hold.read"), session: Session = DB_SESSION
) -> list[dict[str, Any]]:
    return [_out(h) for h in holds.visible_holds(session=session, actor=actor(request, who))]
