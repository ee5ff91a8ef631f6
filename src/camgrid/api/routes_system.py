"""The recorder's own health, for the control room: an operator must see when camgrid itself is not recording.

A dead thread is restarted by the recorder's watchdog within a heartbeat; while it is down (or the disk is full)
the control room shows a warning on every screen, so that a quiet map never passes for a healthy one.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from camgrid.access.service import Principal
from camgrid.api.deps import ctx_of, require
from camgrid.api.schemas import RecorderHealth, RecorderThread
from camgrid.vocabulary import GapReason

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/recorder", response_model=RecorderHealth)
def recorder_health(request: Request, who: Principal = require("map")) -> RecorderHealth:
    rec = ctx_of(request).recorder
    if rec is None:
        return RecorderHealth(present=False, node_id=None, recording=False, paused=None, threads=[])
    # A cluster's central node has a recorder that records nothing (it opens live views): its threads still matter.
    threads = [RecorderThread(name=t.name, running=t.running, restarts=t.restarts) for t in rec.thread_status()]
    paused = GapReason(rec.paused) if rec.paused else None
    present = not rec.restricted
    return RecorderHealth(
        present=present,
        node_id=rec.node_id,
        recording=present and paused is None and all(t.running for t in threads),
        paused=paused,
        threads=threads,
    )
