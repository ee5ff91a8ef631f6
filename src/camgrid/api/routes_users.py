"""The admin's users screen: list, create, disable, enable, delete, set role and districts, reset a password, list
and revoke tokens (``access.service``; docs/design/users-life.md). A district-scoped admin manages only users whose
districts all lie within theirs; anyone else does not exist for them (404). No password hash is ever sent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from camgrid.access import service as access
from camgrid.access import totp
from camgrid.access.models import User
from camgrid.access.service import Principal
from camgrid.api.acting import actor, answering, writer
from camgrid.api.deps import DB_SESSION, ctx_of, require
from camgrid.vocabulary import Role

router = APIRouter(prefix="/api/users", tags=["users"])
MS = 1_000_000
MANAGE = "users.manage"
# Names as ``access.service.USERNAME`` makes them: anything else is no user (422, never a database error).
Username = Annotated[str, Path(min_length=2, max_length=64, pattern=access.USERNAME.pattern)]
DistrictId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^,\x00-\x1f\x7f]+$")]


class UserOut(BaseModel):
    username: str
    role: Role
    districts: list[str] = Field(description="The user's districts; empty: all")
    disabled: bool
    created_ms: int
    sessions: int = Field(description="Browser sessions open now")
    tokens: int = Field(description="Script tokens valid now")


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=access.USERNAME.pattern)
    password: str = Field(min_length=access.PASSWORD_MIN, max_length=1000)
    role: Role
    districts: list[DistrictId] = Field(default_factory=list, max_length=200, description="Empty: all districts")


class RoleIn(BaseModel):
    role: Role


class DistrictsIn(BaseModel):
    districts: list[DistrictId] = Field(default_factory=list, max_length=200)
    all: bool = Field(False, description="Lift the district limit (an unscoped admin only)")


class PasswordIn(BaseModel):
    password: str = Field(min_length=access.PASSWORD_MIN, max_length=1000)


class TokenOut(BaseModel):
    name: str
    created_ms: int
    expires_ms: int
    last_seen_ms: int


class Ended(BaseModel):
    username: str
    ended: int = Field(description="Sessions and tokens ended now (open WebSockets close within a second)")


def _out(session: Session, user: User) -> dict[str, Any]:
    sessions, tokens = access.credential_count(session=session, user_id=user.id)
    return {
        "username": user.username,
        "role": user.role,
        "districts": list(access.principal(user).districts),
        "disabled": user.disabled,
        "created_ms": user.created_ns // MS,
        "sessions": sessions,
        "tokens": tokens,
    }


def _refused(exc: access.AccessError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get("", response_model=list[UserOut])
def list_users(who: Principal = require(MANAGE), session: Session = DB_SESSION) -> list[dict[str, Any]]:
    return [_out(session, u) for u in access.list_users(session=session, actor=who.actor())]


@router.post("", status_code=201, response_model=UserOut)
def create(
    body: UserIn, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    with answering():
        try:
            user = access.create_user(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                username=body.username,
                password=body.password,
                role=body.role,
                districts=body.districts,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.post("/{username}/disable", response_model=UserOut)
def disable(
    username: Username, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    """No more logins; every session, token and open WebSocket of theirs ends."""
    with answering():
        try:
            user = access.disable_user(
                session=session, audit=writer(request), actor=actor(request, who), username=username
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.post("/{username}/enable", response_model=UserOut)
def enable(
    username: Username, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    with answering():
        try:
            user = access.enable_user(
                session=session, audit=writer(request), actor=actor(request, who), username=username
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.delete("/{username}", response_model=Ended)
def delete(
    username: Username, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    """A tombstone: the audit log keeps naming the user, the name is never given again, they are no longer listed."""
    with answering():
        try:
            user = access.user_for(session=session, actor=actor(request, who), username=username)
            ended = sum(access.credential_count(session=session, user_id=user.id))
            access.delete_user(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                username=username,
                now_ns=ctx_of(request).clock.wall_ns(),
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return {"username": username, "ended": ended}


@router.put("/{username}/role", response_model=UserOut)
def set_role(
    username: Username, body: RoleIn, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    """Their sessions and tokens end: the new rights apply from their next login."""
    with answering():
        try:
            user = access.update_user(
                session=session, audit=writer(request), actor=actor(request, who), username=username, role=body.role
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.put("/{username}/districts", response_model=UserOut)
def set_districts(
    username: Username,
    body: DistrictsIn,
    request: Request,
    who: Principal = require(MANAGE),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    with answering():
        try:
            user = access.update_user(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                username=username,
                districts=body.districts,
                all_districts=body.all,
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.post("/{username}/password", response_model=UserOut)
def reset_password(
    username: Username,
    body: PasswordIn,
    request: Request,
    who: Principal = require(MANAGE),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    """A new password; every session and token of theirs ends."""
    with answering():
        try:
            user = access.reset_password(
                session=session,
                audit=writer(request),
                actor=actor(request, who),
                username=username,
                password=body.password,
            )
        except access.AccessError as exc:
            raise _refused(exc) from None
    session.commit()
    return _out(session, user)


@router.post("/{username}/revoke", response_model=Ended)
def revoke(
    username: Username, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    """End every session and token of the user now (they may log in again)."""
    with answering():
        n = access.revoke_access(session=session, audit=writer(request), actor=actor(request, who), username=username)
    session.commit()
    return {"username": username, "ended": n}


@router.get("/{username}/tokens", response_model=list[TokenOut])
def tokens(username: Username, who: Principal = require(MANAGE), session: Session = DB_SESSION) -> list[dict[str, Any]]:
    with answering():
        rows = access.list_tokens(session=session, actor=who.actor(), username=username)
    return [
        {
            "name": t.name,
            "created_ms": t.created_ns // MS,
            "expires_ms": t.expires_ns // MS,
            "last_seen_ms": t.last_seen_ns // MS,
        }
        for t in rows
    ]


@router.delete("/{username}/tokens", response_model=Ended)
def revoke_tokens(
    username: Username,
    request: Request,
    name: str | None = Query(
        None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", description="Only the tokens of this name"
    ),
    who: Principal = require(MANAGE),
    session: Session = DB_SESSION,
) -> dict[str, Any]:
    with answering():
        n = access.revoke_tokens(
            session=session, audit=writer(request), actor=actor(request, who), username=username, name=name
        )
    session.commit()
    return {"username": username, "ended": n}


class TwoFactorReset(BaseModel):
    username: str
    reset: bool = Field(description="False: the user had no second factor")


@router.post("/{username}/2fa/reset", response_model=TwoFactorReset)
def reset_two_factor(
    username: Username, request: Request, who: Principal = require(MANAGE), session: Session = DB_SESSION
) -> dict[str, Any]:
    """Forget the user's second factor (a lost phone): they enrol again at their next login (docs/design/sign-in.md)."""
    with answering():
        done = totp.reset(session=session, audit=writer(request), actor=actor(request, who), username=username)
    session.commit()
    return {"username": username, "reset": done}
