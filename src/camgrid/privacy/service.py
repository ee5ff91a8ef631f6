"""Masks: set, read, and the two-person removal. Keyword-only, never commit.

Each change is audited here before it is made, within the actor's districts (docs/design/services-own-invariants.md).
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


@audited(AuditAction.MASK_SET)
def set_mask(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, polygons: Any, now_ns: int
) -> PrivacyMask:
    """Create or replace a camera's mask (validated); any pending removal is cancelled."""
    from camgrid.privacy.geometry import validate  # shapely and numpy, only when a mask is edited

    camera_for(session=session, actor=actor, camera_id=camera_id)
    shapes = validate(polygons)
    rings = [[[round(x, 6), round(y, 6)] for x, y in s.exterior.coords[:-1]] for s in shapes]
    write_first(audit, actor, AuditAction.MASK_SET, camera=camera_id, details={"polygons": rings})
    text = json.dumps(rings)
    row = session.get(PrivacyMask, camera_id)
    if row is None:
        row = PrivacyMask(camera_id=camera_id, polygons=text, revision=1, updated_by=actor.name, updated_ns=now_ns)
        session.add(row)
    else:
        row.polygons = text
        row.revision += 1
        row.updated_by = actor.name
        row.updated_ns = now_ns
        row.removal_requested_by = None
        row.removal_requested_ns = None
    session.flush()
    return row


def get_mask(*, session: Session, camera_id: str) -> PrivacyMask | None:
    return session.get(PrivacyMask, camera_id)


def all_masks(*, session: Session) -> dict[str, tuple[int, list[list[list[float]]]]]:
    """{camera: (revision, polygons)} for every masked camera."""
    return {m.camera_id: (m.revision, json.loads(m.polygons)) for m in session.scalars(select(PrivacyMask))}


@audited(AuditAction.MASK_REMOVAL_REQUEST)
def request_removal(*, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, now_ns: int) -> PrivacyMask:
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = session.get(PrivacyMask, camera_id)
    if row is None:
        raise MaskError(f"camera {camera_id} has no mask")
    write_first(audit, actor, AuditAction.MASK_REMOVAL_REQUEST, camera=camera_id, details={"revision": row.revision})
    row.removal_requested_by = actor.name
    row.removal_requested_ns = now_ns
    session.flush()
    return row


@audited(AuditAction.MASK_REMOVAL_APPROVE)
def approve_removal(*, session: Session, audit: AuditWriter, actor: Actor, camera_id: str) -> None:
    """The second person removes the mask; the requester cannot approve their own request."""
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = session.get(PrivacyMask, camera_id)
    if row is None or row.removal_requested_by is None:
        raise MaskError(f"no removal of camera {camera_id}'s mask was requested")
    if row.removal_requested_by == actor.name:
        raise MaskError("removing a mask needs a second person: you requested it")
    write_first(
        audit,
        actor,
        AuditAction.MASK_REMOVAL_APPROVE,
        camera=camera_id,
        details={"revision": row.revision, "requested_by": row.removal_requested_by},
    )
    session.delete(row)
    session.flush()
