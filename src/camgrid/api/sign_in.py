"""The login route's steps beyond the local password (docs/design/sign-in.md): the city's directory for a user not
known locally, and the second factor a user has or their role requires."""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.access import directory, totp
from camgrid.access.models import User
from camgrid.api.acting import answering, writer
from camgrid.api.audit_hook import address_of
from camgrid.api.context import AppContext
from camgrid.api.deps import ctx_of
from camgrid.auditing import Actor
from camgrid.vocabulary import UserSource

log = logging.getLogger("camgrid.api.sign_in")


def directory_user(request: Request, session: Session, username: str, password: str) -> User | None:
    """The user as the directory vouches for them (their local row made or updated from their groups), or None:
    a local user (never the directory's to judge), a refused password, no camgrid group. 503 when it is down."""
    ctx = ctx_of(request)
    d: directory.Directory = ctx.directory
    row = session.scalar(select(User).where(User.username == username))
    if row is not None and row.source != UserSource.DIRECTORY:
        return None
    try:
        found = d.authenticate(username, password)
    except directory.DirectoryDown as exc:
        log.warning("directory sign-in of %s: %s", username[:64], exc)
        raise HTTPException(503, "the sign-in directory cannot be reached: try again later") from None
    if found is None:
        return None
    d.remember(found, ctx.clock.monotonic())
    who = Actor(found.username, found.role, found.districts, address_of(request))
    with answering():
        user = directory.sync_user(
            session=session, audit=writer(request), actor=who, found=found, now_ns=ctx.clock.wall_ns()
        )
    session.commit()  # one audited action per unit of work: the login's own entry comes next
    return None if user is None or user.disabled else user


def second_factor_challenge(ctx: AppContext, session: Session, user: User) -> dict[str, object] | None:
    """``{"second_factor": ..., "ticket": ...}`` when this user must give a code (or enrol) before a session."""
    factor = totp.second_factor_for(session=session, config=ctx.settings.access, user=user)
    if factor is None:
        return None
    ttl = ctx.settings.access.second_factor_ttl_s
    ticket = ctx.pending_logins.open(user.id, factor, ctx.clock.monotonic(), ttl)
    return {"second_factor": str(factor), "ticket": ticket, "expires_in_s": int(ttl)}
