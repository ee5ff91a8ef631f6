"""The login route's throttle: ``camgrid.access.ratelimit`` per (user, address), user and address, with the address
from ``api.proxies`` (never a forged header). A throttled attempt is answered 429 and audited, at most once per
address a minute (docs/design/limits-before-work.md)."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.responses import JSONResponse

from camgrid.api.audit_hook import address_of, audit
from camgrid.api.deps import ctx_of
from camgrid.vocabulary import AuditAction


def throttled(request: Request, username: str) -> JSONResponse | None:
    """A 429 when this user may not try a password from this address yet (the entry is written first); else None."""
    ctx = ctx_of(request)
    address = address_of(request)
    now = ctx.clock.monotonic()  # the injected clock: tests drive the throttle without waiting
    verdict = ctx.limiter.check(username, address, now)
    if verdict.wait_s <= 0:
        return None
    retry = max(1, math.ceil(verdict.wait_s))
    attempts = ctx.limiter.should_audit(address, now)
    if attempts is not None:
        audit(
            ctx,
            who=username[:64],
            action=AuditAction.LOGIN_THROTTLED,
            address=address,
            details={"held_by": verdict.reason, "retry_after_s": retry, "attempts": attempts},
        )
    return JSONResponse(
        {"detail": f"too many failed logins: try again in {retry} s", "retry_after_s": retry},
        status_code=429,
        headers={"Retry-After": str(retry)},
    )


def failed(request: Request, username: str) -> None:
    ctx = ctx_of(request)
    ctx.limiter.failed(username, address_of(request), ctx.clock.monotonic())


def succeeded(request: Request, username: str) -> None:
    ctx = ctx_of(request)
    ctx.limiter.succeeded(username, address_of(request), ctx.clock.monotonic())
