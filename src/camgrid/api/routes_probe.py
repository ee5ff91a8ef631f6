"""Camera diagnostics: ``POST /api/cameras/{id}/probe`` (docs/design/camera-probe.md).

A probe opens a short RTSP session of its own with the camera's sealed credentials and blocks one server thread for
its window (1-30 s) plus the camera's answers, so it is bounded three ways before any camera is touched: a user may
start one per ``api.probe_min_interval_s`` (429 with Retry-After), a camera is probed by one request at a time, and
at most ``api.probe_max_running`` probes run in the server (409). Outside the user's districts the camera does not
exist (404); the probe is audited (``camera.probe``) before the credentials are opened.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.bounds import CameraId
from camgrid.api.deps import ctx_of, require
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox, SecretsKeyError
from camgrid.ingest import service as ingest
from camgrid.ingest.probe import PROBE_DEFAULT_S, PROBE_MAX_S, PROBE_MIN_S, ProbeResult, probe
from camgrid.registry import service as registry

router = APIRouter(prefix="/api", tags=["cameras"])
MAX_USERS = 10_000  # users remembered by the per-user interval (oldest forgotten first)


class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(PROBE_DEFAULT_S, ge=PROBE_MIN_S, le=PROBE_MAX_S, description="measuring window")


class ProbeGate:
    """Who may probe now (thread-safe: routes run in the server's thread pool)."""

    def __init__(self, min_interval_s: float, max_running: int) -> None:
        self.min_interval_s = min_interval_s
        self.max_running = max_running
        self.last: OrderedDict[str, float] = OrderedDict()
        self.running: set[str] = set()
        self.lock = threading.Lock()

    def admit(self, user: str, now: float) -> float:
        """0 when ``user`` may start a probe now (the start is counted), else the seconds to wait."""
        with self.lock:
            last = self.last.get(user)
            if last is not None and now - last < self.min_interval_s:
                return self.min_interval_s - (now - last)
            self.last[user] = now
            self.last.move_to_end(user)
            while len(self.last) > MAX_USERS:
                self.last.popitem(last=False)
            return 0.0

    @contextmanager
    def camera(self, camera_id: str) -> Iterator[None]:
        with self.lock:
            if camera_id in self.running:
                raise HTTPException(409, f"camera {camera_id!r} is being probed already: try again when it is done")
            if len(self.running) >= self.max_running:
                raise HTTPException(409, f"{len(self.running)} probes are running: try again in a few seconds")
            self.running.add(camera_id)
        try:
            yield
        finally:
            with self.lock:
                self.running.discard(camera_id)


_GATE_LOCK = threading.Lock()


def gate_of(request: Request) -> ProbeGate:
    with _GATE_LOCK:
        gate: ProbeGate | None = getattr(request.app.state, "probe_gate", None)
        if gate is None:
            api = ctx_of(request).settings.api
            gate = request.app.state.probe_gate = ProbeGate(api.probe_min_interval_s, api.probe_max_running)
        return gate


@router.post(
    "/cameras/{camera_id}/probe",
    responses={404: {"description": "no such camera in your districts"}, 409: {}, 429: {}, 503: {}},
)
def probe_camera(
    camera_id: CameraId,
    request: Request,
    body: ProbeIn | None = None,
    who: Principal = require("cameras.probe"),
) -> ProbeResult:
    """What the camera really sends, measured in a short session of its own (the body's ``seconds``, 1-30, default
    5). A camera that refuses or does not answer is a 200 whose ``error`` says why (with what was learnt before);
    404 outside the user's districts, 429 before the user's next probe is due, 409 while the camera (or too many
    cameras) is being probed, 503 when the audit log or the secrets key is not available."""
    ctx = ctx_of(request)
    seconds = (body or ProbeIn()).seconds
    wait = gate_of(request).admit(who.username, ctx.clock.monotonic())
    if wait > 0:
        retry = max(1, math.ceil(wait))
        raise HTTPException(429, f"one probe per {ctx.settings.api.probe_min_interval_s:g} s: wait {retry} s",
                            headers={"Retry-After": str(retry)})  # fmt: skip
    with answering(), unit_of_work(ctx.factory) as session:
        registry.camera_for(session=session, actor=actor(request, who), camera_id=camera_id)  # 404 before 409
    with gate_of(request).camera(camera_id):
        with answering(), unit_of_work(ctx.factory) as session:
            try:
                source = ingest.open_probe(
                    session=session,
                    audit=writer(request),
                    actor=actor(request, who),
                    box=SecretBox(ctx.settings.secrets_key_path),
                    camera_id=camera_id,
                    seconds=seconds,
                )
            except SecretsKeyError:
                raise HTTPException(
                    503, "the camera's credentials cannot be opened: the secrets key is missing"
                ) from None
        return probe(source, seconds=seconds, clock=ctx.clock, config=ctx.settings.recorder)
