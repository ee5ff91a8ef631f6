"""The audit port: what a service needs to write an audit entry, below every capability layer.

Why here: the services that must audit (retention in ``storage``, imports in ``registry``, exports in ``exports``,
users in ``access``) sit in different layers, and the log itself (``camgrid.audit.log.AuditLog``) sits beside
``storage``, where the lower layers may not reach. They take an :class:`AuditWriter` and an :class:`Actor` as
required keyword-only arguments, write the entry first and act only if it was written (fail closed: ``append``
raises :class:`AuditWriteError`).
Design note: docs/design/services-own-invariants.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from camgrid.vocabulary import SYSTEM_ACTOR, AuditAction

log = logging.getLogger("camgrid.audit")


class AuditError(RuntimeError):
    """Base of audit failures."""


class AuditWriteError(AuditError):
    """The entry could not be written: refuse the action."""


@dataclass(frozen=True)
class Entry:
    """One audited action. ``at_ns`` is filled from the log's clock when left None."""

    who: str
    action: str
    camera: str | None = None
    t_from_ns: int | None = None
    t_to_ns: int | None = None
    address: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    at_ns: int | None = None

    def canonical(self) -> bytes:
        """The leaf data: JSON, sorted keys, no spaces, UTF-8, no NaN. Raises AuditError when it cannot be."""
        if self.at_ns is None:
            raise AuditError("entry has no time")
        return canonical_entry(self, self.at_ns)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_entry(e: Entry, at_ns: int) -> bytes:
    """The bytes a leaf hashes (format version 1; never change it: old logs must still verify)."""
    if not e.who or len(e.who) > 64 or not e.action or len(e.action) > 64:
        raise AuditError("who and action must be 1..64 characters")
    if e.camera is not None and len(e.camera) > 64:
        raise AuditError("camera id longer than 64 characters")
    doc = {
        "v": 1,
        "at_ns": at_ns,
        "who": e.who,
        "action": str(e.action),
        "camera": e.camera,
        "t_from_ns": e.t_from_ns,
        "t_to_ns": e.t_to_ns,
        "address": e.address,
        "details": dict(e.details),
    }
    try:
        return _ENCODER.encode(doc).encode()
    except (TypeError, ValueError) as exc:
        raise AuditError(f"entry is not serialisable: {exc}") from None


class AuditWriter(Protocol):
    """Appends one entry durably and returns its index, or raises :class:`AuditWriteError` (fail closed)."""

    def append(self, entry: Entry) -> int: ...


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a signed-in user, a command-line operator at the server, or camgrid itself.

    ``districts`` is the scope (empty: every district); ``role`` is None for camgrid itself and for the server's
    shell (whoever can run the command line there can read the database anyway, so it is audited, not limited).
    """

    name: str
    role: str | None = None
    districts: tuple[str, ...] = ()
    address: str = ""

    def sees(self, district: str | None) -> bool:
        """True when the actor's scope covers a district (a camera with no district is seen only unscoped)."""
        return not self.districts or (district is not None and district in self.districts)


SYSTEM = Actor(SYSTEM_ACTOR)


def cli_actor() -> Actor:
    """The operator running a command on the server, named by their login (audited as ``cli:NAME``)."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(f"cli:{name}"[:64])


class NotVisible(LookupError):
    """Outside the actor's districts a camera (or what belongs to one) does not exist: the message says "no ..."."""


F = TypeVar("F", bound=Callable[..., Any])
AUDIT_MARK = "__camgrid_audit_action__"


def audited(action: str) -> Callable[[F], F]:
    """Declare that a service function changes what is kept, who may do what, or releases video, and writes
    ``action`` first. A marker, not a wrapper (the function knows the camera and details of its entry):
    ``tests/access/test_services_audit.py`` walks every service module and fails for a marked function that lacks the
    ``audit``/``actor`` keyword-only arguments or acts when ``append`` raises, and for an unmarked one it does not
    know to be read-only."""

    def mark(fn: F) -> F:
        setattr(fn, AUDIT_MARK, str(action))
        return fn

    return mark


def audit_action(fn: object) -> str | None:
    """The action a service function declared with :func:`audited` (None: not declared)."""
    action = getattr(fn, AUDIT_MARK, None)
    return action if isinstance(action, str) else None


def write_first(
    audit: AuditWriter,
    actor: Actor,
    action: str,
    *,
    camera: str | None = None,
    t_from_ns: int | None = None,
    t_to_ns: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append the actor's entry and return its index; raises (and the caller must not act) when it cannot."""
    return audit.append(
        Entry(
            who=actor.name,
            action=action,
            camera=camera,
            t_from_ns=t_from_ns,
            t_to_ns=t_to_ns,
            address=actor.address,
            details=dict(details or {}),
        )
    )


@contextmanager
def failing_after(
    audit: AuditWriter, actor: Actor, action: str, *, entry: int | None = None, camera: str | None = None
) -> Iterator[None]:
    """Around the part of an action that follows its entry (``write_first``): if it fails (the database refuses the
    row or the commit), an ``action.failed`` entry names the action and its entry, so the log never shows a refused
    action as done; then the failure goes on. Best effort: when even that entry cannot be written it is logged."""
    try:
        yield
    except Exception as exc:
        details: dict[str, Any] = {"action": str(action), "error": type(exc).__name__}
        if entry is not None:
            details["entry"] = entry
        try:
            write_first(audit, actor, AuditAction.ACTION_FAILED, camera=camera, details=details)
        except AuditError as again:
            log.error("%s by %s failed after its audit entry, and the failure could not be logged: %s", action,
                      actor.name, again)  # fmt: skip
        raise
