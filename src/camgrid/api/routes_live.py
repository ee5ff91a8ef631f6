"""Live video and live state over WebSockets. An unauthenticated socket is closed with code 4401."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect

from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.audit_hook import audit
from camgrid.api.context import AppContext
from camgrid.api.deps import ctx_of, require, ws_user
from camgrid.api.event_ring import Event, with_id
from camgrid.api.schemas import LiveTranscode, LiveTranscodes
from camgrid.api.ws_guard import guarded
from camgrid.db.engine import unit_of_work
from camgrid.health.schemas import IncidentEvent
from camgrid.health.scope import Scope, scope_incident, scope_of
from camgrid.registry.models import Camera
from camgrid.vocabulary import AuditAction, CameraState, GapReason

router = APIRouter(prefix="/api", tags=["live"])


H264_ONLY = "h264"  # ``?codec=h264``: the browser plays only H.264 (it could not decode the stream's own codec)


@router.get("/live/transcodes", response_model=LiveTranscodes)
def transcodes(request: Request, who: Principal = require("map")) -> LiveTranscodes:
    """The H.265 → H.264 live transcodes this process runs for viewers (a district user sees their cameras')."""
    ctx = ctx_of(request)
    hub = ctx.hub
    if hub is None:
        return LiveTranscodes(limit=ctx.settings.live.max_transcodes, started=0, running=[])
    running = [LiveTranscode.model_validate(t) for t in hub.transcodes()]
    if who.districts:
        with unit_of_work(ctx.factory) as session:
            scope = scope_of(session=session, districts=who.districts)
        mine = scope.cameras if scope is not None else frozenset()
        running = [t for t in running if t.key.split("#", 1)[0] in mine]
    return LiveTranscodes(limit=hub.max_transcodes, started=hub.transcodes_started, running=running)


@router.websocket("/live/{camera_id}")
async def live(websocket: WebSocket, camera_id: str, stream: str = "main", codec: str = "") -> None:
    """``?stream=sub`` asks for the camera's substream (small tiles of a wall); the main stream when it has none.
    ``?codec=h264``: the browser plays only H.264; H.265 is transcoded for it (docs/design/h265-for-viewers.md)."""
    ctx: AppContext = websocket.app.state.ctx
    if codec not in ("", H264_ONLY):
        await websocket.close(code=1008, reason="codec must be h264 or absent")
        return
    who = ws_user(websocket)
    if who is None:
        await websocket.close(code=4401)
        return
    if not allowed(who.role, "live"):
        await websocket.close(code=4403)
        return
    with unit_of_work(ctx.factory) as session:
        cam = session.get(Camera, camera_id)
        in_scope = cam is not None and (not who.districts or cam.district_id in who.districts)
    if not in_scope:
        await websocket.close(code=4404)
        return
    address = websocket.client.host if websocket.client else ""
    try:
        audit(
            ctx,
            who=who.username,
            action=AuditAction.LIVE_START,
            camera=camera_id,
            address=address,
            details={"stream": stream, "codec": codec} if codec else {"stream": stream},
        )
    except HTTPException:
        await websocket.close(code=1011, reason="audit log unavailable")  # fail closed: no entry, no video
        return
    await websocket.accept()
    if ctx.hub is None:
        await websocket.send_json({"type": "offline", "reason": GapReason.NOT_RUNNING, "since_ms": None})
        await websocket.close()
        return
    st = ctx.states.get(camera_id)
    if st is not None and st.state != CameraState.RECORDING:
        await websocket.send_json({"type": "offline", "reason": st.reason, "since_ms": st.since_ns // 1_000_000})
    key = ctx.hub.stream_key(camera_id, stream)
    feed = ctx.hub.watch(ctx.hub.h264_key(key) if codec == H264_ONLY else key)

    async def pump() -> None:
        try:
            async for msg in feed:
                if isinstance(msg, bytes):
                    await websocket.send_bytes(msg)
                else:
                    await websocket.send_text(msg)
        except (WebSocketDisconnect, RuntimeError):
            pass

    try:
        await guarded(websocket, ctx, who, "live", pump)  # a revoked credential ends the video within a second
    finally:
        await feed.aclose()  # type: ignore[attr-defined]
        try:
            audit(ctx, who=who.username, action=AuditAction.LIVE_STOP, camera=camera_id, address=address)
        except HTTPException:
            pass


def _scope_message(msg: str, scope: Scope) -> str | None:
    """The message as a district-scoped user may see it, or None.

    A camera message only for one of their cameras; an incident cut by ``health.scope.scope_incident``, the rule of
    ``GET /api/incidents`` (members, count, unexplained cameras, suggestions, and a subject named only when it is a
    feeder/site/uplink of theirs): an incident spanning districts must not reveal the other districts.
    """
    doc = json.loads(msg)
    if doc.get("type") != "incident":
        return msg if doc.get("id") in scope.cameras else None
    scoped = scope_incident(IncidentEvent.model_validate(doc), scope)
    return None if scoped is None else scoped.model_dump_json()


# How old a subscriber's scope may get before it is read again (a camera moved to another district, a new one).
SCOPE_REFRESH_S = 10.0


def _since(websocket: WebSocket) -> tuple[int | None, str | None]:
    """``?since=<event id>&epoch=<epoch>`` of a reconnecting client: None without one, -1 (resync) when malformed."""
    raw, epoch = websocket.query_params.get("since"), websocket.query_params.get("epoch")
    if raw is None:
        return None, None
    if epoch is None or len(raw) > 19 or len(epoch) > 32 or not raw.isdigit():
        return -1, None
    return int(raw), epoch


@router.websocket("/events")
async def events(websocket: WebSocket) -> None:
    """Camera and incident changes, each with its ``eid``. A client that gives ``?since=&epoch=`` first gets the
    events it missed (from the ring) or ``{"type": "resync"}`` (fetch a snapshot); then ``hello`` says it is current.
    Replayed events are scoped exactly as live ones (the same ``_scope_message``)."""
    ctx: AppContext = websocket.app.state.ctx
    who = ws_user(websocket)
    if who is None:
        await websocket.close(code=4401)
        return
    since, epoch = _since(websocket)
    await websocket.accept()
    queue: asyncio.Queue[Event] = asyncio.Queue()
    # Subscribing and reading the ring with no await between: on the loop, no event can fall between the two.
    ctx.states.subscribers.add(queue)
    backlog = ctx.states.events.after(since, epoch) if since is not None else []
    sent = ctx.states.events.last  # the last event this client has, once the backlog is out
    scope: Scope | None = None
    read_at = 0.0

    def current_scope() -> Scope | None:
        nonlocal scope, read_at
        if who.districts and (scope is None or ctx.clock.monotonic() - read_at >= SCOPE_REFRESH_S):
            with unit_of_work(ctx.factory) as session:
                scope = scope_of(session=session, districts=who.districts)
            read_at = ctx.clock.monotonic()
        return scope

    async def send(eid: int, msg: str) -> None:
        limited = current_scope()
        if limited is not None:
            scoped = _scope_message(msg, limited)
            if scoped is None:
                return
            msg = scoped
        await websocket.send_text(with_id(eid, msg))

    def state(kind: str) -> dict[str, object]:
        return {"type": kind, "epoch": ctx.states.events.epoch, "eid": sent}

    async def pump() -> None:
        """Sends until cancelled; the guard reads the socket, so a browser that left ends this at once."""
        nonlocal sent
        try:
            if backlog is None:
                await websocket.send_json(state("resync"))
            else:
                for eid, msg in backlog:
                    await send(eid, msg)
            await websocket.send_json(state("hello"))
            while True:
                try:
                    eid, msg = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await websocket.send_json(state("ping"))  # its eid lets a scoped client skip what it never sees
                    continue
                if eid <= sent:
                    continue
                if eid != sent + 1:  # this client fell behind and its queue dropped events: a snapshot, then on
                    sent = eid - 1
                    await websocket.send_json(state("resync"))
                sent = eid
                await send(eid, msg)
        except (WebSocketDisconnect, RuntimeError):
            pass

    try:
        await guarded(websocket, ctx, who, "map", pump)
    finally:
        ctx.states.subscribers.discard(queue)
