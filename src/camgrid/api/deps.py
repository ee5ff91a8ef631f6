"""Authentication for every route: a session cookie (browser) or a bearer token (scripts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, HTTPException, Request, WebSocket, status
from sqlalchemy.orm import Session

from camgrid.access import service as access
from camgrid.access.policy import allowed
from camgrid.access.service import Principal
from camgrid.api.context import AppContext
from camgrid.db.engine import unit_of_work
from camgrid.vocabulary import UserSource

COOKIE = "camgrid_session"


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def db(request: Request) -> Iterator[Session]:
    with unit_of_work(ctx_of(request).factory) as session:
        yield session


# A route's database session, committed when the route returns and *before* the response is sent: FastAPI's default
# scope would run the commit after sending, so a client re-reading at once could miss its own write, or get a 200
# for a commit that then failed (docs/design/services-own-invariants.md, Caveats).
DB_SESSION = Depends(db, scope="function")


def bearer_of(headers: dict[str, str]) -> str:
    """The bearer token of an ``Authorization`` header ("" when none)."""
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else ""


def secret_of(headers: dict[str, str], cookies: dict[str, str]) -> str:
    return bearer_of(headers) or cookies.get(COOKIE, "")


def principal_of(ctx: AppContext, secret: str) -> Principal | None:
    if not secret:
        return None
    with unit_of_work(ctx.factory) as session:
        who = access.resolve(session=session, secret=secret, now_ns=ctx.clock.wall_ns())
    # A directory user's session holds while the directory still has them with the same rights
    # (re-read every access.ldap.recheck_s; docs/design/sign-in.md).
    if (
        who is not None
        and who.source == UserSource.DIRECTORY
        and (ctx.directory is None or not ctx.directory.confirms(who, ctx.clock.monotonic()))
    ):
        return None
    return who


def current_user(request: Request) -> Principal:
    who = principal_of(ctx_of(request), secret_of(dict(request.headers), dict(request.cookies)))
    if who is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return who


def ws_user(websocket: WebSocket) -> Principal | None:
    ctx: AppContext = websocket.app.state.ctx
    return principal_of(ctx, secret_of(dict(websocket.headers), dict(websocket.cookies)))


User = Depends(current_user)


def require(permission: str) -> Any:
    """A dependency: the user, if their role holds ``permission``; 403 otherwise (401 without a session)."""

    def check(who: Principal = Depends(current_user)) -> Principal:
        if not allowed(who.role, permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role ({who.role}) may not do this ({permission})")
        return who

    check.permission = permission  # type: ignore[attr-defined]  # read by the route table (api/openapi_doc.py)
    return Depends(check)
