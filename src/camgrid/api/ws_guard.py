"""An open WebSocket keeps its right to exist: its credential is re-checked while it is open.

A session or token is checked at connect; a socket may then stay open for hours. Each socket runs its work beside a
guard that resolves the credential it was opened with every ``access.revalidate_s`` (0.5 s by default) and closes the
socket with 4401 when the credential no longer resolves (logged out, revoked, expired, the user disabled or deleted,
their rights changed: a change of role or districts ends their credentials) or 4403 when the role no longer holds
the socket's permission. Polling, not a notification from the access service: the command line (``camgrid users``)
changes users from another process, and the database is the one place both see (docs/design/users-life.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect

from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.context import AppContext
from camgrid.api.deps import principal_of, secret_of

UNAUTHORISED = 4401
FORBIDDEN = 4403


def ws_secret(websocket: WebSocket) -> str:
    """The credential the socket was opened with (bearer token, else the session cookie)."""
    return secret_of(dict(websocket.headers), dict(websocket.cookies))


def still_allowed(ctx: AppContext, secret: str, who: Principal, permission: str) -> int | None:
    """None while the credential resolves to the same rights; else the close code."""
    now = principal_of(ctx, secret)
    if now is None:
        return UNAUTHORISED
    if not allowed(now.role, permission):
        return FORBIDDEN
    if now.role != who.role or now.districts != who.districts:
        return UNAUTHORISED  # other rights than the socket was opened under: reconnect under the new ones
    return None


async def _watch(ctx: AppContext, secret: str, who: Principal, permission: str) -> int:
    interval = ctx.settings.access.revalidate_s
    while True:
        await asyncio.sleep(interval)
        code = await asyncio.to_thread(still_allowed, ctx, secret, who, permission)
        if code is not None:
            return code


async def _until_client_leaves(websocket: WebSocket) -> None:
    """The control room sends nothing on these sockets; reading notices a client that went away even while nothing
    is sent to it (an idle camera), so its work and its guard end with it."""
    while True:
        msg = await websocket.receive()
        if msg["type"] == "websocket.disconnect":
            return


async def guarded(
    websocket: WebSocket,
    ctx: AppContext,
    who: Principal,
    permission: str,
    work: Callable[[], Awaitable[None]],
) -> None:
    """Run ``work`` (the socket's sending loop) until it ends or the credential stops holding; in the latter case the
    work is cancelled (its ``finally`` blocks run) and the socket is closed with the guard's code."""
    secret = ws_secret(websocket)
    job = asyncio.ensure_future(work())
    guard = asyncio.ensure_future(_watch(ctx, secret, who, permission))
    gone = asyncio.ensure_future(_until_client_leaves(websocket))
    tasks = (job, guard, gone)
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
    if gone.done() and not gone.cancelled():
        return
    if guard.done() and not guard.cancelled() and guard.exception() is None:
        with contextlib.suppress(RuntimeError):  # the client may have gone at the same moment
            await websocket.close(code=guard.result())
