"""Tamper incidents, references and stills. Keyword-only arguments; never commits (the caller's unit of work does).

A tamper opens a ``camera`` incident (reason ``tamper: <kind>``, like ``mask_unverified``): an observation camgrid
makes, not an action anyone takes, so not audited (as health transitions and ONVIF events are not). Re-taking a
camera's reference after a planned move changes what camgrid alarms on, so it is audited first
(``tamper.reference``) and scoped. The picture's verdict and the camera's own ONVIF tamper event are one incident:
its ``evidence`` lists what holds it open (the picture's kind, ``camera`` for ONVIF), and it closes when neither
does. Stills are the recorded (masked) pictures: only users who may see video get them. Design note:
docs/design/tamper.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.health.models import IncidentRow
from camgrid.motion.models import TamperReference, TamperStill
from camgrid.registry.service import camera_for
from camgrid.vocabulary import AuditAction, IncidentKind, IncidentReason, TamperKind

INCIDENT_KEY = "tamper"  # incidents.engine_key: tamper:<camera>:<opened ns>
BEFORE, AFTER = "before", "after"
STILLS = (BEFORE, AFTER)


class StillNotFound(NotVisible):
    """No such incident, no such still, or the incident's camera outside the actor's districts: the same answer."""


@dataclass(frozen=True)
class StoredReference:
    camera_id: str
    taken_ns: int | None
    width: int
    height: int
    picture: bytes | None
    edge: float
    tiles: bytes | None
    retake_ns: int | None


def _open(session: Session, camera_id: str) -> IncidentRow | None:
    return session.scalars(
        select(IncidentRow)
        .where(
            IncidentRow.subject == camera_id,
            IncidentRow.engine_key.startswith(f"{INCIDENT_KEY}:{camera_id}:"),
            IncidentRow.resolved_ns.is_(None),
        )
        .order_by(IncidentRow.id.desc())
    ).first()


def _sources(row: IncidentRow) -> list[str]:
    return [s for s in (row.evidence or "").split(",") if s]


def raise_tamper(
    *, session: Session, camera_id: str, kind: TamperKind, now_ns: int, after: bytes = b"", before: bytes = b""
) -> int:
    """The picture shows ``kind`` (or, ``TamperKind.CAMERA``, the camera says so over ONVIF): open the camera's
    tamper incident with its stills, or add this to the one open. Returns the incident's id."""
    row = _open(session, camera_id)
    if row is not None:
        sources = [s for s in _sources(row) if kind == TamperKind.CAMERA or s == TamperKind.CAMERA]
        row.evidence = ",".join(sorted({*sources, str(kind)}))
        if kind != TamperKind.CAMERA and (row.reason or "").endswith(f": {TamperKind.CAMERA}"):
            row.reason = f"{IncidentReason.TAMPER}: {kind}"  # the picture says what the camera's event did not
            _still(session, row.id, AFTER, after, now_ns)
        session.flush()
        return row.id
    row = IncidentRow(
        engine_key=f"{INCIDENT_KEY}:{camera_id}:{now_ns}",
        kind=IncidentKind.CAMERA,
        subject=camera_id,
        opened_ns=now_ns,
        confidence=1.0,
        n_members=0,
        reason=f"{IncidentReason.TAMPER}: {kind}",
        evidence=str(kind),
    )
    session.add(row)
    session.flush()
    if not before:
        ref = session.get(TamperReference, camera_id)
        before = ref.jpeg or b"" if ref is not None else b""
    _still(session, row.id, BEFORE, before, now_ns)
    _still(session, row.id, AFTER, after, now_ns)
    session.flush()
    return row.id


def _still(session: Session, incident_id: int, which: str, jpeg: bytes, now_ns: int) -> None:
    if not jpeg:
        return
    found = session.get(TamperStill, (incident_id, which))
    if found is None:
        session.add(TamperStill(incident_id=incident_id, which=which, taken_ns=now_ns, jpeg=jpeg))
    else:
        found.jpeg, found.taken_ns = jpeg, now_ns


def clear_tamper(*, session: Session, camera_id: str, camera_event: bool, now_ns: int) -> int | None:
    """The picture is normal again (``camera_event`` False) or the camera's ONVIF tamper ended (True): that source
    no longer holds the incident open; with none left it is resolved. Returns the id of the incident resolved."""
    row = _open(session, camera_id)
    if row is None:
        return None
    left = [s for s in _sources(row) if (s == TamperKind.CAMERA) != camera_event]
    row.evidence = ",".join(left)
    if not left:
        row.resolved_ns = max(now_ns, row.opened_ns)
    session.flush()
    return row.id if not left else None


def open_tampers(*, session: Session, camera_ids: Collection[str] | None = None) -> dict[str, IncidentRow]:
    """Each camera's open tamper incident (the health condition ``tamper`` while one is)."""
    q = select(IncidentRow).where(
        IncidentRow.kind == IncidentKind.CAMERA,
        IncidentRow.engine_key.startswith(f"{INCIDENT_KEY}:"),
        IncidentRow.resolved_ns.is_(None),
    )
    out: dict[str, IncidentRow] = {}
    ids = None if camera_ids is None else list(camera_ids)
    chunks = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
    for chunk in chunks:
        for row in session.scalars(q if chunk is None else q.where(IncidentRow.subject.in_(chunk))):
            out[row.subject] = row
    return out


def references(*, session: Session, camera_ids: Collection[str]) -> dict[str, StoredReference]:
    """The stored references (and pending re-takes) of these cameras."""
    ids = list(camera_ids)
    out: dict[str, StoredReference] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for r in session.scalars(select(TamperReference).where(TamperReference.camera_id.in_(chunk))):
            out[r.camera_id] = StoredReference(
                r.camera_id, r.taken_ns, r.width, r.height, r.picture, r.edge, r.tiles, r.retake_ns
            )
    return out


def pending_retakes(*, session: Session, camera_ids: Collection[str]) -> dict[str, int]:
    """The re-takes operators asked for and the sampler has not served yet (camera -> when asked)."""
    ids = list(camera_ids)
    out: dict[str, int] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        q = select(TamperReference.camera_id, TamperReference.retake_ns).where(
            TamperReference.camera_id.in_(chunk), TamperReference.retake_ns.is_not(None)
        )
        out.update({cid: int(at) for cid, at in session.execute(q) if at is not None})
    return out


def save_reference(
    *,
    session: Session,
    camera_id: str,
    width: int,
    height: int,
    picture: bytes,
    edge: float,
    jpeg: bytes | None,
    now_ns: int,
    tiles: bytes | None = None,
    served_retake_ns: int | None = None,
) -> None:
    """Keep a camera's learnt reference (``jpeg`` None: keep the still it has; a drift refresh). A re-take asked
    at ``served_retake_ns`` is done; one asked later stays pending."""
    row = session.get(TamperReference, camera_id)
    if row is None:
        row = TamperReference(camera_id=camera_id, width=0, height=0, edge=0.0, updated_ns=now_ns)
        session.add(row)
    row.taken_ns = now_ns if jpeg is not None or row.taken_ns is None else row.taken_ns
    row.width, row.height, row.picture, row.edge, row.tiles = width, height, picture, edge, tiles
    if jpeg is not None:
        row.jpeg = jpeg
    if served_retake_ns is not None and row.retake_ns is not None and row.retake_ns <= served_retake_ns:
        row.retake_ns = None
    row.updated_ns = now_ns
    session.flush()


@audited(AuditAction.TAMPER_REFERENCE)
def retake_reference(*, session: Session, audit: AuditWriter, actor: Actor, camera_id: str, now_ns: int) -> int:
    """After a planned move: the camera's next stable pictures become its reference (what it is compared with from
    then on). Audited first; a camera outside the actor's districts does not exist. Returns the request's time."""
    camera_for(session=session, actor=actor, camera_id=camera_id)
    open_row = _open(session, camera_id)
    write_first(
        audit,
        actor,
        AuditAction.TAMPER_REFERENCE,
        camera=camera_id,
        details={"open_incident": open_row.id if open_row is not None else None},
    )
    row = session.get(TamperReference, camera_id)
    if row is None:
        row = TamperReference(camera_id=camera_id, width=0, height=0, edge=0.0, updated_ns=now_ns)
        session.add(row)
    row.retake_ns = now_ns
    row.updated_ns = now_ns
    session.flush()
    return now_ns


def incident_still(*, session: Session, actor: Actor, incident_id: int, which: str) -> bytes:
    """An incident's ``before`` or ``after`` still (JPEG), scoped to the actor's districts (the caller checked that
    the actor may see video)."""
    row = session.get(IncidentRow, incident_id)
    if row is None or which not in STILLS or not row.engine_key.startswith(f"{INCIDENT_KEY}:"):
        raise StillNotFound(f"no still {which!r} of incident {incident_id}")
    try:
        camera_for(session=session, actor=actor, camera_id=row.subject)
    except LookupError:
        raise StillNotFound(f"no still {which!r} of incident {incident_id}") from None
    still = session.get(TamperStill, (incident_id, which))
    if still is None:
        raise StillNotFound(f"no still {which!r} of incident {incident_id}")
    return bytes(still.jpeg)


def stills_of(*, session: Session, incident_ids: Collection[int]) -> dict[int, list[str]]:
    """Which stills each incident has (the incident view shows them)."""
    out: dict[int, list[str]] = {}
    ids = list(incident_ids)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for iid, which in session.execute(
            select(TamperStill.incident_id, TamperStill.which).where(TamperStill.incident_id.in_(chunk))
        ):
            out.setdefault(iid, []).append(which)
    return out
