"""Tamper alarms over the API: an operator re-takes a camera's reference after a planned move (audited, scoped), and
a tamper incident's before/after stills (JPEG) for users who may watch video (docs/design/tamper.md).

The stills are recorded pictures (after the recorder's privacy masks), so ``live`` (which every role that watches
video holds; ``playback`` roles hold it too) guards them; an auditor or an admin without a video role never gets
them. An incident or camera outside the user's districts answers 404 like an unknown one.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import CameraId
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.motion import tamper_service

router = APIRouter(prefix="/api", tags=["tamper"])
MS = 1_000_000
JPEG: dict[int | str, dict[str, object]] = {200: {"content": {"image/jpeg": {}}, "description": "A JPEG still"}}


class TamperReferenceOut(BaseModel):
    camera: str
    requested_ms: int = Field(
        description="When the re-take was asked for: the camera's next stable pictures (a few "
        "samples, tamper.interval_s apart) become its reference"
    )


@router.post("/cameras/{camera_id}/tamper/reference", response_model=TamperReferenceOut)
def retake_reference(
    camera_id: CameraId,
    request: Request,
    who: Principal = require("tamper.reference"),
    session: Session = DB_SESSION,
) -> TamperReferenceOut:
    """After a planned move or a new lens: what the camera sees from now on is what it is compared with. Audited."""
    with answering():
        at = tamper_service.retake_reference(
            session=session,
            audit=writer(request),
            actor=actor(request, who),
            camera_id=camera_id,
            now_ns=ctx_of(request).clock.wall_ns(),
        )
    session.commit()
    return TamperReferenceOut(camera=camera_id, requested_ms=at // MS)


@router.get("/incidents/{incident_id}/stills/{which}", response_class=Response, responses=JPEG)
def incident_still(
    request: Request,
    incident_id: int = Path(ge=1, le=2**62),
    which: Literal["before", "after"] = Path(description="before: the camera's reference; after: the tampered picture"),
    who: Principal = require("live"),
    session: Session = DB_SESSION,
) -> Response:
    """A tamper incident's still (JPEG): what the camera saw before, and what it showed when the alarm was raised."""
    with answering():
        data = tamper_service.incident_still(
            session=session, actor=actor(request, who), incident_id=incident_id, which=which
        )
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
