"""Login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access import service as access
from camgrid.access.service import Principal
from camgrid.api import login_throttle
from camgrid.api.acting import actor, answering, writer
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import COOKIE, User, bearer_of, ctx_of, db
from camgrid.api.schemas import LoginThrottled, Me
from camgrid.vocabulary import AuditAction

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


def _me(p: Principal, timezone: str) -> dict[str, object]:
    return {"username": p.username, "role": p.role, "districts": list(p.districts), "timezone": timezone}


@router.post("/login", response_model=Me, responses={429: {"model": LoginThrottled}})
def login(body: Login, request: Request, session: Session = Depends(db)) -> Response:
    """The one route open without a session. Failed logins are throttled (``api.login_throttle``)."""
    ctx = ctx_of(request)
    refused = login_throttle.throttled(request, body.username)
    if refused is not None:
        return refused
    user = access.authenticate(session=session, username=body.username, password=body.password)
    if user is None:
        login_throttle.failed(request, body.username)
        audit(ctx, who=body.username[:64], action=AuditAction.LOGIN_FAILED, address=address_of(request))
        raise HTTPException(401, "wrong username or password")
    who = access.principal(user)
    with answering():
        secret = access.start_session(
            session=session,
            audit=writer(request),
            actor=actor(request, who),
            user=user,
            ttl_s=ctx.session_ttl_s,
            now_ns=ctx.clock.wall_ns(),
        )
    login_throttle.succeeded(request, body.username)
    # The request owns its unit of work: commit before the cookie leaves, or the browser's next request may race it.
    session.commit()
    resp = JSONResponse(_me(who, ctx.settings.timezone))
    resp.set_cookie(
        COOKIE,
        secret,
        max_age=int(ctx.session_ttl_s),
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",  # under TLS the cookie never travels in clear
    )
    return resp


@router.post("/logout", status_code=204)
def logout(request: Request, who: Principal = User, session: Session = Depends(db)) -> Response:
    """Ends what was presented: the cookie's session and a bearer token (a script logging out revokes its token)."""
    presented = [request.cookies.get(COOKIE, ""), bearer_of(dict(request.headers))]
    with answering():
        access.end_session(session=session, audit=writer(request), actor=actor(request, who), secret=presented)
    session.commit()
    resp = Response(status_code=204)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/me", response_model=Me)
def me(request: Request, who: Principal = User) -> dict[str, object]:
    return _me(who, ctx_of(request).settings.timezone)
