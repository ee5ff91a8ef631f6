"""Live video and live state over WebSockets. An unauthenticated socket is closed with code 4401."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from camgrid.access.policy import allowed
from camgrid.api.audit_hook import audit
from camgrid.api.context import AppContext
from camgrid.api.deps import ws_user
from camgrid.api.ws_guard import guarded
from camgrid.db.engine import unit_of_work
from camgrid.registry.models import Camera
from camgrid.vocabulary import AuditAction, CameraState, GapReason

router = APIRouter(prefix="/api", tags=["live"])


@router.websocket("/live/{camera_id}")
async def live(websocket: WebSocket, camera_id: str, stream: str = "main") -> None:
    """``?stream=sub`` asks for the camera's substream (small tiles of a wall); the main stream when it has none."""
    ctx: AppContext = websocket.app.state.ctx
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
            details={"stream": stream},
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
    feed = ctx.hub.watch(ctx.hub.stream_key(camera_id, stream))

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


def _scope_message(msg: str, allowed: set[str]) -> str | None:
    """The message as a district-scoped user may see it, or None.

    A camera message only for an allowed camera; an incident only with at least one allowed member, and then cut
    to its allowed members (cameras, unexplained cameras, registry suggestions), exactly as ``GET /api/incidents``
    scopes it: an incident spanning districts must not reveal the other districts' cameras.
    """
    doc = json.loads(msg)
    if doc.get("type") != "incident":
        return msg if doc.get("id") in allowed else None
    cams = [c for c in doc.get("cameras", []) if c in allowed]
    if not cams:
        return None
    doc["cameras"] = cams
    doc["n_members"] = len(cams)
    doc["unexplained"] = [c for c in doc.get("unexplained", []) if c in allowed]
    doc["suggestions"] = [s for s in doc.get("suggestions", []) if s.get("camera_id") in allowed]
    return json.dumps(doc, separators=(",", ":"))


@router.websocket("/events")
async def events(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    who = ws_user(websocket)
    if who is None:
        await websocket.close(code=4401)
        return
    await websocket.accept()
    queue: asyncio.Queue[str] = asyncio.Queue()
    ctx.states.subscribers.add(queue)
    allowed: set[str] | None = None
    if who.districts:
        with unit_of_work(ctx.factory) as session:
            allowed = {c.id for c in session.query(Camera).filter(Camera.district_id.in_(who.districts))}

    async def pump() -> None:
        try:
            await websocket.send_json({"type": "hello"})
            while True:
                try:
                    msg = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await websocket.send_json({"type": "ping"})  # also notices a browser that went away
                    continue
                if allowed is not None:
                    scoped = _scope_message(msg, allowed)
                    if scoped is None:
                        continue
                    msg = scoped
                await websocket.send_text(msg)
        except (WebSocketDisconnect, RuntimeError):
            pass

    try:
        await guarded(websocket, ctx, who, "map", pump)
    finally:
        ctx.states.subscribers.discard(queue)
