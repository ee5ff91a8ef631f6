"""A camera's edge backfill jobs: ``GET /api/cameras/{id}/backfill`` (docs/design/onvif.md, "Edge backfill").

What was replayed from the camera's SD card into the recordings, what is pending, and what the card did not hold:
operators and admins see why a gap shrank, or why it did not. Read only (camgrid runs and audits the jobs itself);
outside the user's districts the camera does not exist (404).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.bounds import CameraId
from camgrid.api.deps import DB_SESSION, require
from camgrid.registry import service as registry
from camgrid.storage import backfill
from camgrid.vocabulary import BackfillState

router = APIRouter(prefix="/api", tags=["cameras"])
MS = 1_000_000


class BackfillJobOut(BaseModel):
    id: int
    start_ms: int = Field(description="The gap's start (our clock)")
    end_ms: int = Field(description="The gap's end (our clock)")
    state: BackfillState
    recovered_ms: int = Field(description="Video stored from the card, in milliseconds")
    attempts: int
    detail: str = Field(description="What the card held and what was stored, or why nothing was")
    updated_ms: int
    node: str = Field(description="The recorder node that runs the job")


class BackfillJobsOut(BaseModel):
    camera: str
    jobs: list[BackfillJobOut]


@router.get("/cameras/{camera_id}/backfill")
def camera_backfill(
    camera_id: CameraId,
    limit: int = Query(100, ge=1, le=backfill.MAX_LISTED),
    who: Principal = require("cameras.probe"),
    session: Session = DB_SESSION,
) -> BackfillJobsOut:
    """The camera's edge backfill jobs, newest gap first (operators, supervisors, admins; 404 outside their
    districts)."""
    try:
        cam = registry.camera_for(session=session, actor=who.actor(), camera_id=camera_id)
    except registry.CameraNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    jobs = backfill.jobs_of(session, camera_id=cam.id, limit=limit)
    return BackfillJobsOut(
        camera=cam.id,
        jobs=[
            BackfillJobOut(
                id=j.id,
                start_ms=j.start_ns // MS,
                end_ms=j.end_ns // MS,
                state=BackfillState(j.state),
                recovered_ms=j.recovered_ns // MS,
                attempts=j.attempts,
                detail=j.detail,
                updated_ms=j.updated_ns // MS,
                node=j.node_id,
            )
            for j in jobs
        ],
    )
