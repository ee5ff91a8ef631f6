"""What a mutating route hands a service: the audit writer and the acting user; and how service refusals answer.

Routes only parse, call a service and serialise; the service writes the audit entry and checks the district scope
(docs/design/services-own-invariants.md). A refused audit write answers 503, a thing outside the user's districts
404 (it does not exist for them).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request

from camgrid.access.service import Principal
from camgrid.api.audit_hook import address_of
from camgrid.api.deps import ctx_of
from camgrid.auditing import Actor, AuditError, AuditWriteError, AuditWriter, Entry, NotVisible


class _NoLog:
    """Stands in when the server has no audit log: every action that needs an entry is refused."""

    def append(self, entry: Entry) -> int:
        raise AuditWriteError("the audit log is not available")


def writer(request: Request) -> AuditWriter:
    log: AuditWriter | None = ctx_of(request).audit
    return log if log is not None else _NoLog()


def actor(request: Request, who: Principal) -> Actor:
    return who.actor(address_of(request))


def not_found(exc: LookupError) -> HTTPException:
    """404 with the refusal's own words, exactly as for a thing that does not exist (never the quotes a KeyError adds,
    never half of them): outside the user's districts a thing must be indistinguishable from an unknown id."""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return HTTPException(404, message)


@contextmanager
def answering() -> Iterator[None]:
    """Map the services' refusals that mean the same on every route."""
    try:
        yield
    except AuditError as exc:
        raise HTTPException(503, f"the audit log cannot be written ({exc}): action refused") from None
    except NotVisible as exc:
        raise not_found(exc) from None
