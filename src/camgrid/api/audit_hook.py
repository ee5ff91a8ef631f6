"""Audit calls for the routes: the entry is written before the action happens; if it cannot be, the action is refused
(fail closed, 503). Names of actions: docs/design/audit-log.md."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from camgrid.api.context import AppContext
from camgrid.audit.log import AuditError, Entry


def audit(
    ctx: AppContext,
    *,
    who: str,
    action: str,
    address: str = "",
    camera: str | None = None,
    t_from_ns: int | None = None,
    t_to_ns: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """The entry's index in the log; raises 503 when the log cannot take it (the caller must not go on)."""
    log = ctx.audit
    if log is None:
        raise HTTPException(503, "the audit log is not available: action refused")
    try:
        index: int = log.append(
            Entry(
                who=who,
                action=action,
                camera=camera,
                t_from_ns=t_from_ns,
                t_to_ns=t_to_ns,
                address=address,
                details=details or {},
            )
        )
    except AuditError as exc:
        raise HTTPException(503, f"the audit log cannot be written ({exc}): action refused") from None
    return index


def address_of(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy says it is (``api.proxies.ClientAddress``)."""
    return request.client.host if request.client else ""
