"""Masks: set, read, and the two-person removal. Keyword-only, never commit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.privacy.errors import MaskError
from camgrid.privacy.models import PrivacyMask


def set_mask(*, session: Session, camera_id: str, polygons: Any, actor: str, now_ns: int) -> PrivacyMask:
    """Create or replace a camera's mask (validated); any pending removal is cancelled."""
    from camgrid.privacy.geometry import validate  # shapely and numpy, only when a mask is edited

    shapes = validate(polygons)
    text = json.dumps([[[round(x, 6), round(y, 6)] for x, y in s.exterior.coords[:-1]] for s in shapes])
    row = session.get(PrivacyMask, camera_id)
    if row is None:
        row = PrivacyMask(camera_id=camera_id, polygons=text, revision=1, updated_by=actor, updated_ns=now_ns)
        session.add(row)
    else:
        row.polygons = text
        row.revision += 1
        row.updated_by = actor
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


def request_removal(*, session: Session, camera_id: str, actor: str, now_ns: int) -> PrivacyMask:
    row = session.get(PrivacyMask, camera_id)
    if row is None:
        raise MaskError(f"camera {camera_id} has no mask")
    row.removal_requested_by = actor
    row.removal_requested_ns = now_ns
    session.flush()
    return row


def approve_removal(*, session: Session, camera_id: str, actor: str) -> None:
    """The second person removes the mask; the requester cannot approve their own request."""
    row = session.get(PrivacyMask, camera_id)
    if row is None or row.removal_requested_by is None:
        raise MaskError(f"no removal of camera {camera_id}'s mask was requested")
    if row.removal_requested_by == actor:
        raise MaskError("removing a mask needs a second person: you requested it")
    session.delete(row)
    session.flush()
