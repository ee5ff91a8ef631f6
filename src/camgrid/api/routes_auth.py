"""Login, logout, who am I.

Login is up to three steps (docs/design/sign-in.md): the password (checked locally, or by the city's directory
for a directory user); then, for a user with a second factor or whose role requires one, a short-lived ticket
answered by ``/login/totp`` with a code (after ``/login/enrol`` at a first login).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access import service as access
from camgrid.access import totp
from camgrid.access.models import User as UserRow
from camgrid.access.screens import permissions_of, screens_of
from camgrid.access.service import Principal
from camgrid.api import login_throttle
from camgrid.api.acting import actor, answering, writer
from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import COOKIE, DB_SESSION, User, bearer_of, ctx_of
from camgrid.api.schemas import LoginThrottled, Me
from camgrid.api.sign_in import directory_user, second_factor_challenge
from camgrid.vocabulary import AuditAction, SecondFactor

router = APIRouter(prefix="/api/auth", tags=["auth"])
log = logging.getLogger("camgrid.api.auth")


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class SecondFactorAsked(BaseModel):
    """The password was right; the login goes on at /api/auth/login/totp (after /login/enrol for ``enrol``)."""

    second_factor: SecondFactor
    ticket: str = Field(description="Hand back with the code; good for a few minutes, a few tries, once")
    expires_in_s: int


class TotpLogin(BaseModel):
    ticket: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=6, max_length=40, description="6 digits from the app, or a recovery code")


class EnrolTicket(BaseModel):
    ticket: str = Field(min_length=1, max_length=100)


class EnrolmentOut(BaseModel):
    """Shown once: add the secret to an authenticator app, keep the recovery codes somewhere safe."""

    otpauth_uri: str
    secret: str
    recovery_codes: list[str]


def _me(p: Principal, timezone: str) -> dict[str, object]:
    return {
        "username": p.username,
        "role": p.role,
        "districts": list(p.districts),
        "timezone": timezone,
        "permissions": permissions_of(p.role),
        "screens": screens_of(p.role),
    }


@router.post("/login", response_model=Me | SecondFactorAsked, responses={429: {"model": LoginThrottled}})
def login(body: Login, request: Request, session: Session = DB_SESSION) -> Response:
    """The one route open without a session. Failed logins are throttled (``api.login_throttle``)."""
    ctx = ctx_of(request)
    refused = login_throttle.throttled(request, body.username)
    if refused is not None:
        return refused
    user = access.authenticate(session=session, username=body.username, password=body.password)
    if user is None and ctx.directory is not None:  # step: the city's directory (a user not local)
        user = directory_user(request, session, body.username, body.password)
    if user is None:
        login_throttle.failed(request, body.username)
        audit(ctx, who=body.username[:64], action=AuditAction.LOGIN_FAILED, address=address_of(request))
        raise HTTPException(401, "wrong username or password")
    asked = second_factor_challenge(ctx, session, user)  # step: a second factor, when set or required
    if asked is not None:
        session.commit()  # a directory user's row, made or updated above
        return JSONResponse(asked)
    return _start(request, session, user)


def _start(request: Request, session: Session, user: UserRow) -> Response:
    """Both factors (or the one needed) are right: a session, its cookie and who the user is."""
    ctx = ctx_of(request)
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
    login_throttle.succeeded(request, user.username)
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


def _pending_user(request: Request, session: Session, ticket: str, factor: SecondFactor) -> UserRow:
    ctx = ctx_of(request)
    pending = ctx.pending_logins.peek(ticket, ctx.clock.monotonic())
    user = session.get(UserRow, pending.user_id) if pending is not None and pending.factor == factor else None
    if user is None or user.disabled or user.deleted_ns is not None:
        raise HTTPException(401, "this sign-in has expired: start again with your password")
    return user


def _box(request: Request) -> totp.SecretBox:
    ctx = ctx_of(request)
    if ctx.totp_box is None:
        try:
            ctx.totp_box = totp.SecretBox.open(ctx.settings.home)
        except (totp.TotpError, OSError) as exc:
            log.error("two-factor key: %s", exc)  # e.g. readable by others: refused until chmod 600
            raise HTTPException(503, "two-factor sign-in is not available: see the server's log") from None
    return ctx.totp_box


@router.post("/login/enrol", response_model=EnrolmentOut)
def login_enrol(body: EnrolTicket, request: Request, session: Session = DB_SESSION) -> dict[str, object]:
    """A user whose role requires a second factor, at their first login: a new secret and recovery codes, shown
    this once; the login ends at /login/totp with a first code from the app."""
    ctx = ctx_of(request)
    user = _pending_user(request, session, body.ticket, SecondFactor.ENROL)
    with answering():
        try:
            made = totp.enrol(
                session=session,
                audit=writer(request),
                actor=actor(request, access.principal(user)),
                user=user,
                box=_box(request),
                now_ns=ctx.clock.wall_ns(),
                confirmed=False,
            )
        except totp.TotpError as exc:
            raise HTTPException(409, str(exc)) from None
    session.commit()
    pending = ctx.pending_logins.peek(body.ticket, ctx.clock.monotonic())
    if pending is not None:
        pending.factor = SecondFactor.TOTP  # shown once: the next step is the code
    return {"otpauth_uri": made.uri, "secret": made.secret, "recovery_codes": list(made.recovery_codes)}


@router.post("/login/totp", response_model=Me, responses={429: {"model": LoginThrottled}})
def login_totp(body: TotpLogin, request: Request, session: Session = DB_SESSION) -> Response:
    """The second step: a code from the app (each accepted once) or a recovery code (each used once). Failures are
    throttled like passwords, per user and per address, and audited."""
    ctx = ctx_of(request)
    user = _pending_user(request, session, body.ticket, SecondFactor.TOTP)
    refused = login_throttle.throttled(request, user.username)  # codes are throttled as passwords are
    if refused is not None:
        return refused
    with answering():
        ok = totp.verify(
            session=session,
            audit=writer(request),
            actor=actor(request, access.principal(user)),
            user=user,
            box=_box(request),
            code=body.code,
            now_ns=ctx.clock.wall_ns(),
        )
    if not ok:
        login_throttle.failed(request, user.username)
        ctx.pending_logins.failed(body.ticket)
        audit(
            ctx,
            who=user.username,
            action=AuditAction.LOGIN_FAILED,
            address=address_of(request),
            details={"second_factor": str(SecondFactor.TOTP)},
        )
        raise HTTPException(401, "wrong or already used code")
    # One audited action per unit of work (on SQLite the log's commit waits for this session's write lock).
    session.commit()
    ctx.pending_logins.close(body.ticket)
    return _start(request, session, user)


@router.post("/logout", status_code=204)
def logout(request: Request, who: Principal = User, session: Session = DB_SESSION) -> Response:
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
