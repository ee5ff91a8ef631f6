"""Masks: set, read, and the two-person removal or reduction. Keyword-only, never commit.

Each change is audited here before it is made, within the actor's districts (docs/design/services-own-invariants.md).
An edit that uncovers any part of the masked area (``privacy.policy``) is a partial removal: like a removal it is
only requested, and a second person (another holder of ``masks.approve``) approves or refuses it; until then the
mask in force stays. While a change is pending every other edit of that camera's mask is refused (a pending request
is never replaced or cancelled by someone's next edit: it is approved or refused, in the log). Design note:
docs/design/privacy-masks.md.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.privacy.errors import MaskError
from camgrid.privacy.models import PrivacyMask
from camgrid.registry.service import camera_for
from camgrid.vocabulary import AuditAction


class MaskConflict(MaskError):
    """A change is pending on this mask: approve or refuse it first (409)."""


class NothingPending(MaskError):
    """No removal or reduction of this mask is pending (409)."""


Rings = list[list[list[float]]]


def _rings(polygons: Any) -> tuple[Rings, list[Any]]:
    from camgrid.privacy.geometry import validate  # shapely and numpy, only when a mask is edited

    shapes = validate(polygons)
    rings = [[[round(x, 6), round(y, 6)] for x, y in s.exterior.coords[:-1]] for s in shapes]
    return rings, validate(rings)  # compared as stored (rounded): resubmitting a mask changes nothing


def _refuse_if_pending(row: PrivacyMask | None, camera_id: str) -> None:
    if row is not None and row.removal_requested_by is not None:
        what = "removal" if row.pending_polygons is None else "reduction"
        raise MaskConflict(
            f"a {what} of camera {camera_id}'s mask, requested by {row.removal_requested_by}, waits for a second "
            "person: approve or refuse it first"
        )


@audited(AuditAction.MASK_SET)
def set_mask(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, polygons: Any, now_ns: int
) -> PrivacyMask:
    """Create, grow or reshape a camera's mask at once; an edit that uncovers part of it becomes a pending reduction
    (``MASK_REDUCTION_REQUEST``; an empty list a pending removal) and the mask in force does not change."""
    from camgrid.privacy.geometry import validate
    from camgrid.privacy.policy import MaskChange, classify, uncovered_area

    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = session.get(PrivacyMask, camera_id)
    _refuse_if_pending(row, camera_id)
    rings, new = _rings(polygons)
    old = validate(json.loads(row.polygons)) if row is not None else []
    change = classify(old, new)
    if row is not None and change is MaskChange.REMOVED:
        return request_removal(session=session, audit=audit, actor=actor, camera_id=camera_id, now_ns=now_ns)
    if row is None and not rings:
        raise MaskError(f"camera {camera_id} has no mask")
    if row is not None and change is MaskChange.REDUCED:
        write_first(
            audit,
            actor,
            AuditAction.MASK_REDUCTION_REQUEST,
            camera=camera_id,
            details={"revision": row.revision, "polygons": rings, "uncovered": round(uncovered_area(old, new), 9)},
        )
        row.pending_polygons = json.dumps(rings)
        row.removal_requested_by = actor.name
        row.removal_requested_ns = now_ns
        session.flush()
        return row
    write_first(audit, actor, AuditAction.MASK_SET, camera=camera_id, details={"polygons": rings})
    text = json.dumps(rings)
    if row is None:
        row = PrivacyMask(camera_id=camera_id, polygons=text, revision=1, updated_by=actor.name, updated_ns=now_ns)
        session.add(row)
    else:
        row.polygons = text
        row.revision += 1
        row.updated_by = actor.name
        row.updated_ns = now_ns
    session.flush()
    return row


def get_mask(*, session: Session, camera_id: str) -> PrivacyMask | None:
    return session.get(PrivacyMask, camera_id)


def all_masks(*, session: Session) -> dict[str, tuple[int, list[list[list[float]]]]]:
    """{camera: (revision, polygons)} for every masked camera: the masks in force (never a pending change)."""
    return {m.camera_id: (m.revision, json.loads(m.polygons)) for m in session.scalars(select(PrivacyMask))}


@audited(AuditAction.MASK_REMOVAL_REQUEST)
def request_removal(*, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, now_ns: int) -> PrivacyMask:
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = session.get(PrivacyMask, camera_id)
    if row is None:
        raise MaskError(f"camera {camera_id} has no mask")
    _refuse_if_pending(row, camera_id)
    write_first(audit, actor, AuditAction.MASK_REMOVAL_REQUEST, camera=camera_id, details={"revision": row.revision})
    row.removal_requested_by = actor.name
    row.removal_requested_ns = now_ns
    row.pending_polygons = None
    session.flush()
    return row


def _pending(session: Session, camera_id: str) -> PrivacyMask:
    row = session.get(PrivacyMask, camera_id)
    if row is None or row.removal_requested_by is None:
        raise NothingPending(f"no removal or reduction of camera {camera_id}'s mask was requested")
    return row


@audited(AuditAction.MASK_REMOVAL_APPROVE)
def approve_removal(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    camera_id: str,
    now_ns: int,
    expected: tuple[Rings | None] | None = None,
) -> PrivacyMask | None:
    """The second person removes the mask, or reduces it as requested (``MASK_REDUCTION_APPROVE``); the requester
    cannot approve their own request. ``expected``: what the approver saw pending (``(None,)``: a removal, ``(rings,)``
    a reduction to them); a different pending change (withdrawn and replaced meanwhile) is refused (``MaskConflict``).
    Returns the mask now in force (None: removed)."""
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = _pending(session, camera_id)
    if row.removal_requested_by == actor.name:
        raise MaskError("removing or reducing a mask needs a second person: you requested it")
    reduced = row.pending_polygons
    if expected is not None:
        saw = expected[0]
        if (reduced is None) != (saw is None) or (saw is not None and _rings(saw)[0] != json.loads(reduced or "[]")):
            raise MaskConflict(f"the pending change of camera {camera_id}'s mask is not the one you saw: look again")
    action = AuditAction.MASK_REMOVAL_APPROVE if reduced is None else AuditAction.MASK_REDUCTION_APPROVE
    details: dict[str, Any] = {"revision": row.revision, "requested_by": row.removal_requested_by}
    if reduced is not None:
        details["polygons"] = json.loads(reduced)
    write_first(audit, actor, action, camera=camera_id, details=details)
    if reduced is None:
        session.delete(row)
        session.flush()
        return None
    row.polygons = reduced
    row.revision += 1
    row.updated_by = actor.name
    row.updated_ns = now_ns
    row.pending_polygons = None
    row.removal_requested_by = None
    row.removal_requested_ns = None
    session.flush()
    return row


@audited(AuditAction.MASK_REMOVAL_REFUSE)
def refuse_removal(*, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, now_ns: int) -> PrivacyMask:
    """A pending removal or reduction is refused (by a second person) or withdrawn (by its requester): the mask in
    force stays, and the mask can be edited again."""
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = _pending(session, camera_id)
    write_first(
        audit,
        actor,
        AuditAction.MASK_REMOVAL_REFUSE,
        camera=camera_id,
        details={
            "revision": row.revision,
            "requested_by": row.removal_requested_by,
            "reduction": row.pending_polygons is not None,
            "withdrawn": row.removal_requested_by == actor.name,
            "requested_ns": row.removal_requested_ns,
            "refused_ns": now_ns,
        },
    )
    row.pending_polygons = None
    row.removal_requested_by = None
    row.removal_requested_ns = None
    session.flush()
    return row
