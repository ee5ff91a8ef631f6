"""One camera's activity levels for the playback timeline's strip (docs/design/motion-search.md, "Activity")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.bounds import CameraId, QueryMs
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.motion.activity_service import MAX_RANGE_S, ActivityRangeError, camera_activity_in_cluster
from camgrid.registry.service import CameraNotFound

router = APIRouter(prefix="/api", tags=["cameras"])
MS = 1_000_000


class UnknownOut(BaseModel):
    """Seconds recorded by a cluster node whose levels could not be had (it did not answer): drawn as no data."""

    start_s: int = Field(description="UTC seconds, inclusive")
    end_s: int = Field(description="UTC seconds, exclusive")
    node: str = Field(max_length=64, description="The node that recorded them")
    reason: str = Field(max_length=500)


class ActivityOut(BaseModel):
    """One level per second from ``start_s``: 0 = nothing recorded, 65 = as usual for this camera at this hour,
    higher = its pictures changed more than usual, lower = less (a collapsed stream: covered, frozen)."""

    camera: str
    start_s: int = Field(description="UTC seconds of the first level")
    levels: list[Annotated[int, Field(ge=0, le=255)]] = Field(
        max_length=MAX_RANGE_S + 1, description="0..255, one per second"
    )
    unknown: list[UnknownOut] = Field(
        default_factory=list, description="In a cluster: parts recorded by a node that did not answer (levels 0 there)"
    )


@router.get("/cameras/{camera_id}/activity")
def activity(
    camera_id: CameraId,
    request: Request,
    from_ms: QueryMs,
    to_ms: QueryMs,
    who: Principal = require("playback"),
    session: Session = DB_SESSION,
) -> ActivityOut:
    """The camera's activity levels of the seconds ``[from_ms, to_ms)`` touches (at most a day; milliseconds, as
    everywhere in the API: nanoseconds exceed JavaScript's integers). 404 outside the user's districts. On a
    cluster's central node the levels come from the nodes that recorded the camera (``unknown`` lists the parts of a
    node that did not answer)."""
    ctx = ctx_of(request)
    try:
        got = camera_activity_in_cluster(
            session=session,
            actor=who.actor(),
            store=ctx.activity,
            camera_id=camera_id,
            start_ns=from_ms * MS,
            end_ns=to_ms * MS,
            own_node_id=ctx.settings.recorder.node_id,
            cluster=ctx.settings.cluster,
        )
    except CameraNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ActivityRangeError as exc:
        raise HTTPException(422, str(exc)) from None
    return ActivityOut(
        camera=camera_id,
        start_s=got.series.start_s,
        levels=list(got.series.levels),
        unknown=[
            UnknownOut(start_s=u.start_s, end_s=u.end_s, node=u.node_id, reason=u.reason[:500]) for u in got.unknown
        ],
    )
