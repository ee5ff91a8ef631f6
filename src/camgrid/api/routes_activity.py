"""One camera's activity levels for the playback timeline's strip (docs/design/motion-search.md, "Activity")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.bounds import CameraId, QueryMs
from camgrid.api.deps import ctx_of, db, require
from camgrid.motion.activity_service import MAX_RANGE_S, ActivityRangeError, camera_activity
from camgrid.registry.service import CameraNotFound

router = APIRouter(prefix="/api", tags=["cameras"])
MS = 1_000_000


class ActivityOut(BaseModel):
    """One level per second from ``start_s``: 0 = nothing recorded, 65 = as usual for this camera at this hour,
    higher = its pictures changed more than usual, lower = less (a collapsed stream: covered, frozen)."""

    camera: str
    start_s: int = Field(description="UTC seconds of the first level")
    levels: list[Annotated[int, Field(ge=0, le=255)]] = Field(
        max_length=MAX_RANGE_S + 1, description="0..255, one per second"
    )


@router.get("/cameras/{camera_id}/activity")
def activity(
    camera_id: CameraId,
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    who: Principal = require("playback"),
    session: Session = Depends(db),
) -> ActivityOut:
    """The camera's activity levels of the seconds ``[from_ms, to_ms)`` touches (at most a day; milliseconds, as
    everywhere in the API: nanoseconds exceed JavaScript's integers). 404 outside the user's districts."""
    try:
        series = camera_activity(
            session=session,
            actor=who.actor(),
            store=ctx_of(request).activity,
            camera_id=camera_id,
            start_ns=from_ms * MS,
            end_ns=to_ms * MS,
        )
    except CameraNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ActivityRangeError as exc:
        raise HTTPException(422, str(exc)) from None
    return ActivityOut(camera=camera_id, start_s=series.start_s, levels=list(series.levels))
