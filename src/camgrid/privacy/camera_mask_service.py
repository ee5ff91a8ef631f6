"""Camera-side masks: the audited changes of who masks a camera. Keyword-only, never commit.

Setting masks on a camera (``MASK_CAMERA_SET``) is audited before the camera is told; a failed check
(``MASK_CAMERA_FAILED``, camgrid's own action) is audited before the camera's mode changes and a ``camera``
incident opens; re-arming camera-side masking (``MASK_CAMERA_REARM``) is an admin's audited decision. Design note:
docs/design/camera-side-masks.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.health.models import IncidentRow
from camgrid.privacy.errors import MaskError
from camgrid.privacy.models import CameraSideMask, PrivacyMask
from camgrid.registry.service import camera_for
from camgrid.vocabulary import AuditAction, IncidentKind, IncidentReason, MaskMode

INCIDENT_KEY = "mask"  # incidents.engine_key prefix: mask:<camera>:<failed ns>


def state_of(*, session: Session, camera_id: str) -> CameraSideMask | None:
    return session.get(CameraSideMask, camera_id)


def all_states(*, session: Session) -> dict[str, CameraSideMask]:
    return {r.camera_id: r for r in session.scalars(select(CameraSideMask))}


def _row(session: Session, camera_id: str, now_ns: int) -> CameraSideMask:
    row = session.get(CameraSideMask, camera_id)
    if row is None:
        row = CameraSideMask(camera_id=camera_id, mode=MaskMode.RECORDER, tokens="[]", revision=0, updated_ns=now_ns)
        session.add(row)
    return row


@audited(AuditAction.MASK_CAMERA_SET)
def set_camera_masks(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    camera_id: str,
    revision: int,
    apply: Callable[[], list[str]],
    now_ns: int,
) -> CameraSideMask:
    """Put the mask in force (``revision``) on the camera itself: audited, then ``apply`` (the ONVIF calls, which
    return the tokens of the masks created). The camera stays masked by the recorder until a check passes."""
    mask = session.get(PrivacyMask, camera_id)
    if mask is None:
        raise MaskError(f"camera {camera_id} has no mask")
    if mask.revision != revision:
        raise MaskError(f"camera {camera_id}'s mask changed meanwhile (revision {mask.revision}, not {revision})")
    found = session.get(CameraSideMask, camera_id)
    if found is not None and found.mode == MaskMode.CAMERA_FAILED:
        raise MaskError(f"camera {camera_id}'s own masks failed a check: an admin must re-arm them first")
    write_first(
        audit,
        actor,
        AuditAction.MASK_CAMERA_SET,
        camera=camera_id,
        details={"revision": revision, "polygons": json.loads(mask.polygons)},
    )
    tokens = apply()
    row = _row(session, camera_id, now_ns)
    row.mode = MaskMode.CAMERA
    row.tokens = json.dumps(tokens)
    row.revision = revision
    row.verified_ns = None
    row.failed_ns = None
    row.reason = None
    row.updated_ns = now_ns
    session.flush()
    return row


def recorder_side(*, session: Session, camera_id: str, revision: int, reason: str, now_ns: int) -> CameraSideMask:
    """The camera cannot hold masks (no ONVIF address, no Media2 masks): the recorder masks it, as before. Not an
    audited change: the masks in force do not change, and neither does who masks (the recorder always did)."""
    row = _row(session, camera_id, now_ns)
    if row.mode != MaskMode.CAMERA_FAILED:
        row.mode = MaskMode.RECORDER
        row.revision = revision
        row.reason = reason[:200]
        row.updated_ns = now_ns
    session.flush()
    return row


def camera_masks_verified(*, session: Session, camera_id: str, now_ns: int) -> None:
    """The first check of this arming passed (bookkeeping: the stored stream is the camera's from here)."""
    row = session.get(CameraSideMask, camera_id)
    if row is not None and row.mode == MaskMode.CAMERA and row.verified_ns is None:
        row.verified_ns = now_ns
        row.updated_ns = now_ns
        session.flush()


@audited(AuditAction.MASK_CAMERA_FAILED)
def camera_masks_failed(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, reason: str, now_ns: int
) -> CameraSideMask:
    """A check failed (the pictures, or GetMasks): audited as camgrid's action, the camera is masked by the recorder
    from now on (``camera_failed``) and a ``camera`` incident opens (``mask_unverified``)."""
    found = session.get(CameraSideMask, camera_id)
    write_first(
        audit,
        actor,
        AuditAction.MASK_CAMERA_FAILED,
        camera=camera_id,
        details={
            "reason": reason[:200],
            "revision": found.revision if found is not None else None,
            "verified_ns": found.verified_ns if found is not None else None,
        },
    )
    row = _row(session, camera_id, now_ns)
    row.mode = MaskMode.CAMERA_FAILED
    row.failed_ns = now_ns
    row.reason = reason[:200]
    row.updated_ns = now_ns
    session.add(
        IncidentRow(
            engine_key=f"{INCIDENT_KEY}:{camera_id}:{now_ns}",
            kind=IncidentKind.CAMERA,
            subject=camera_id,
            opened_ns=now_ns,
            confidence=1.0,
            n_members=0,
            reason=f"{IncidentReason.MASK_UNVERIFIED}: {reason}"[:200],
            evidence=IncidentReason.MASK_UNVERIFIED,
        )
    )
    session.flush()
    return row


@audited(AuditAction.MASK_CAMERA_REARM)
def rearm_camera_masks(
    *, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, now_ns: int
) -> CameraSideMask:
    """An admin trusts the camera's own masks again: they are set anew and checked; until a check passes the
    recorder keeps masking. The open ``mask_unverified`` incident is resolved."""
    camera_for(session=session, actor=actor, camera_id=camera_id)
    row = session.get(CameraSideMask, camera_id)
    if row is None or row.mode != MaskMode.CAMERA_FAILED:
        raise MaskError(f"camera {camera_id}'s own masks have not failed: nothing to re-arm")
    write_first(audit, actor, AuditAction.MASK_CAMERA_REARM, camera=camera_id, details={"failed_reason": row.reason})
    row.mode = MaskMode.RECORDER  # set anew on the camera by the sync, then checked
    row.revision = 0
    row.verified_ns = None
    row.reason = None
    row.updated_ns = now_ns
    for inc in session.scalars(
        select(IncidentRow).where(
            IncidentRow.subject == camera_id,
            IncidentRow.engine_key.startswith(f"{INCIDENT_KEY}:{camera_id}:"),
            IncidentRow.resolved_ns.is_(None),
        )
    ):
        inc.resolved_ns = now_ns
    session.flush()
    return row
