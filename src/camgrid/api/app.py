"""The FastAPI application: API routers, the bundled front end, and the auth rule for every route."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from camgrid.api import (
    routes_activity,
    routes_audit,
    routes_auth,
    routes_backfill,
    routes_cameras,
    routes_discover,
    routes_exports,
    routes_health,
    routes_holds,
    routes_layouts,
    routes_live,
    routes_motion,
    routes_planner,
    routes_plans,
    routes_privacy,
    routes_probe,
    routes_settings,
    routes_system,
    routes_tamper,
    routes_users,
)
from camgrid.api.context import AppContext
from camgrid.api.deps import User, principal_of, secret_of
from camgrid.api.limits import BodyLimit, route_limits
from camgrid.api.proxies import ClientAddress
from camgrid.api.schemas import CameraEvent, Hello, LiveCodec, LiveOffline, LiveOrigin, LiveTranscodeLimit
from camgrid.api.security import TransportSecurity
from camgrid.health.schemas import IncidentEvent

log = logging.getLogger("camgrid.api")
STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
# The only routes open without a session: the login call, and the page and assets that draw the login form.
# The login steps: the password, then (docs/design/sign-in.md) the second factor with its ticket.
PUBLIC_PATHS = frozenset({"/", "/login", "/api/auth/login", "/api/auth/login/totp", "/api/auth/login/enrol", "/assets"})
# What the WebSockets send (OpenAPI describes no WebSocket: these are added to the document's schemas).
WEBSOCKET_MESSAGES = (CameraEvent, IncidentEvent, Hello, LiveCodec, LiveOrigin, LiveOffline, LiveTranscodeLimit)


def create_app(ctx: AppContext) -> FastAPI:
    import asyncio

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.attach(asyncio.get_running_loop())

        from camgrid.audit.cosign import cosign_newest, parse_peers

        peers = parse_peers(ctx.settings.witness.peers)  # a bad witness.peers stops the start, loudly

        async def checkpoints() -> None:  # signed checkpoints at least every minute while entries arrive
            while True:
                await asyncio.sleep(10)
                if ctx.audit is not None:
                    await asyncio.to_thread(ctx.audit.maybe_checkpoint, ctx.clock.wall_ns())
                    if peers and ctx.factory is not None:  # the witnesses cosign it (docs/design/witnesses.md)
                        try:
                            await asyncio.to_thread(
                                cosign_newest,
                                ctx.audit,
                                peers,
                                engine=ctx.factory.kw["bind"],
                                clock=ctx.clock,
                                ca=ctx.settings.cluster.tls_ca,
                            )
                        except Exception as exc:  # the next round retries; never stop checkpointing
                            logging.getLogger("camgrid.audit").warning("asking the witnesses failed: %s", exc)

        task = asyncio.create_task(checkpoints())
        yield
        task.cancel()

    app = FastAPI(
        title="camgrid control room",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    if ctx.directory is None and ctx.settings.access.ldap.enabled:
        from camgrid.access.directory import Directory

        ctx.directory = Directory(ctx.settings.access.ldap)
    if ctx.audit is None and ctx.factory is not None:
        from camgrid.audit.log import AuditLog

        ctx.audit = AuditLog.open(ctx.factory.kw["bind"], home=ctx.settings.home, clock=ctx.clock)
    app.add_middleware(RequireSession, ctx=ctx)
    # Added later is further out: bodies are bounded before anything reads them; the client's address is settled
    # before anyone (the session check, the audit log, the login throttle) reads it. docs/design/limits-before-work.md
    app.add_middleware(ClientAddress, trusted=ctx.settings.api.trusted_proxies)
    api = ctx.settings.api
    app.add_middleware(BodyLimit, default_bytes=api.max_body_bytes, routes=route_limits(api))
    app.add_exception_handler(Exception, last_resort)
    app.add_exception_handler(RequestValidationError, invalid_request)
    # Outermost: every response (a 401 too) carries the security headers; a foreign page is refused first.
    app.add_middleware(TransportSecurity, allowed_origins=ctx.settings.server.allowed_origins)
    # before the cameras' routes: /api/cameras/topology is not a camera id
    for router in (
        routes_auth.router,
        routes_discover.router,
        routes_cameras.router,
        routes_backfill.router,
        routes_live.router,
        routes_exports.router,
    ):
        app.include_router(router)
    app.include_router(routes_privacy.router)
    app.include_router(routes_tamper.router)
    app.include_router(routes_probe.router)
    app.include_router(routes_holds.router)
    app.include_router(routes_layouts.router)
    app.include_router(routes_plans.router)
    app.include_router(routes_planner.router)
    app.include_router(routes_health.router)
    app.include_router(routes_system.router)
    app.include_router(routes_users.router)
    app.include_router(routes_settings.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_activity.router)
    app.include_router(routes_motion.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _, extra = models_json_schema(
                [(m, "serialization") for m in WEBSOCKET_MESSAGES], ref_template="#/components/schemas/{model}"
            )
            doc.setdefault("components", {}).setdefault("schemas", {}).update(extra.get("$defs", {}))
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_doc(who: object = User) -> dict[str, Any]:
        return app.openapi()

    def index() -> FileResponse | HTMLResponse:
        page = STATIC / "index.html"
        if not page.is_file():
            return HTMLResponse(
                "<!doctype html><title>camgrid</title><p>The control room is not built: run <code>make demo</code>.",
                status_code=503,
            )
        return FileResponse(page, headers={"Cache-Control": "no-store"})

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False, response_model=None)
    app.add_api_route("/login", index, methods=["GET"], include_in_schema=False, response_model=None)
    if (STATIC / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC / "assets"), name="assets")
    return app


class RequireSession:
    """Refuses every /api request without a valid session or token before routing, so that no route (even one
    that forgot its dependency, or one whose body is malformed) answers anything but 401 to a stranger.
    WebSockets are closed with code 4401."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith("/api/") or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        cookies = {}
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                cookies[name] = value
        if principal_of(self.ctx, secret_of(headers, cookies)) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        body = b'{"detail":"log in first"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 naming where and why a body is wrong, never what it held: FastAPI's default echoes the input (a whole
    body for a model-level error), which would return a password or a credential URL to the page that sent it."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    shown = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in errors]
    return JSONResponse({"detail": shown}, status_code=422)


async def last_resort(request: Request, exc: Exception) -> JSONResponse:
    """An error no route expected: logged with its traceback, answered 500 with nothing from it (a traceback would
    show code, paths and data to whoever caused it)."""
    log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged)"}, status_code=500)


def all_routes(app: FastAPI) -> list[BaseRoute]:
    """Every route of the app, including those of included routers (tests walk this list)."""
    out: list[BaseRoute] = []
    stack: list[BaseRoute] = list(app.routes)
    while stack:
        route = stack.pop(0)
        inner = getattr(route, "original_router", None)  # FastAPI >= 0.16x keeps included routers lazily
        if inner is not None:
            stack.extend(inner.routes)
        else:
            out.append(route)
    return out
