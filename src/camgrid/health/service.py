"""Persisting health and incidents. Keyword-only arguments; never commits (the caller owns the unit of work).

The engine works in seconds on its own scale; ``t0_ns`` maps engine time 0 to UTC nanoseconds (0 when the engine is
fed wall-clock seconds since the epoch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, NotVisible, audited, write_first
from camgrid.db.base import Base
from camgrid.db.bulk import insert_rows
from camgrid.health.models import HealthTransition, IncidentAction, IncidentCamera, IncidentRow, IncidentSuggestion
from camgrid.health.policy import Transition
from camgrid.health.records import Incident, Record
from camgrid.health.schemas import ActionOut, IncidentOut, SuggestionOut
from camgrid.health.topology import Topology
from camgrid.registry.models import Camera, Feeder, Uplink
from camgrid.vocabulary import AuditAction, EvidenceKind, IncidentKind
from camgrid.vocabulary import IncidentAction as IncidentActionKind

NS = 1_000_000_000


def _ns(t: float | None, t0_ns: int) -> int | None:
    return None if t is None else t0_ns + round(t * NS)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def record_transitions(*, session: Session, transitions: Sequence[Transition]) -> int:
    """Store health transitions (every one is kept, with its time and reason)."""
    rows = [
        {"camera_id": t.camera, "t_ns": t.t_ns, "old_state": t.old, "new_state": t.new, "reason": t.reason}
        for t in transitions
    ]
    return insert_rows(session, _table(HealthTransition), rows)


def persist_incident(
    *,
    session: Session,
    incident: Incident,
    topo: Topology,
    run_id: str,
    t0_ns: int = 0,
    written: dict[str, int] | None = None,
) -> int:
    """Insert or update one engine incident (by ``run_id:engine id``); returns the row id.

    ``written`` (kept by a live feed across calls): a fingerprint of the camera rows last stored per incident, so an
    update that changed only counters (a blackout's 1,600 members returning one by one) does not rewrite them all.
    """
    key = f"{run_id}:{incident.id}"
    row = session.scalars(select(IncidentRow).where(IncidentRow.engine_key == key)).one_or_none()
    if row is None:
        row = IncidentRow(engine_key=key, kind=incident.kind, subject=incident.subject, opened_ns=0)
        session.add(row)
    row.opened_ns = _ns(incident.opened, t0_ns) or 0
    row.resolved_ns = _ns(incident.resolved, t0_ns)
    row.confidence = incident.confidence()
    row.n_members = len(incident.members)
    row.reason = incident.reason
    row.flaps = incident.flaps
    row.evidence = ",".join(sorted(incident.evidence))
    if incident.merged_into is not None:
        target = session.scalars(
            select(IncidentRow.id).where(IncidentRow.engine_key == f"{run_id}:{incident.merged_into}")
        ).one_or_none()
        row.merged_into_id = target
    session.flush()
    ids = topo.cam_ids
    cams = [
        {
            "incident_id": row.id,
            "camera_id": ids[c],
            "role": "member",
            "down_ns": _ns(incident.down_at.get(c), t0_ns),
            "joined_ns": _ns(joined, t0_ns),
        }
        for c, joined in incident.members.items()
    ]
    for role, group in (("unexplained", incident.unexplained), ("survivor", incident.survivors)):
        cams += [
            {"incident_id": row.id, "camera_id": ids[c], "role": role, "down_ns": None, "joined_ns": None}
            for c in sorted(group)
        ]
    mark = hash((row.id, tuple(tuple(c.values()) for c in cams)))
    if written is None or written.get(key) != mark:
        session.execute(delete(IncidentCamera).where(IncidentCamera.incident_id == row.id))
        insert_rows(session, _table(IncidentCamera), cams)
        if written is not None:
            written[key] = mark
    have = {
        (s.camera_id, s.field)
        for s in session.scalars(select(IncidentSuggestion).where(IncidentSuggestion.incident_id == row.id))
    }
    for s in incident.suggestions:
        if (s.camera, s.field) not in have:
            session.add(
                IncidentSuggestion(
                    incident_id=row.id,
                    camera_id=s.camera,
                    field=s.field,
                    registry_value=s.registry,
                    suggested_value=s.suggested,
                    status="open",
                )
            )
    session.flush()
    return row.id


def persist_records(*, session: Session, records: Iterable[Record], topo: Topology, run_id: str, t0_ns: int = 0) -> int:
    """Store what ``CorrelationEngine.drain()`` returned; each incident is written once per call."""
    return len(persist_records_ids(session=session, records=records, topo=topo, run_id=run_id, t0_ns=t0_ns))


def persist_records_ids(
    *,
    session: Session,
    records: Iterable[Record],
    topo: Topology,
    run_id: str,
    t0_ns: int = 0,
    written: dict[str, int] | None = None,
) -> list[int]:
    """Like ``persist_records`` but returns the row ids written (the live feed pushes them to the control room)."""
    latest: dict[int, Incident] = {}
    for rec in records:
        latest[rec.incident.id] = rec.incident
    ids: dict[int, int] = {}
    for inc in sorted(latest.values(), key=lambda i: i.id):
        ids[inc.id] = persist_incident(
            session=session, incident=inc, topo=topo, run_id=run_id, t0_ns=t0_ns, written=written
        )
    for inc in latest.values():  # a merged incident points at a later one: link it once that one is written
        if inc.merged_into is not None:
            persist_incident(session=session, incident=inc, topo=topo, run_id=run_id, t0_ns=t0_ns, written=written)
    return [ids[k] for k in sorted(ids)]


def _incident(session: Session, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise LookupError(f"no incident {incident_id}")
    return row


def acknowledge(*, session: Session, incident_id: int, actor: str, t_ns: int, text: str = "") -> None:
    """An operator has seen the incident. The first acknowledgement is kept on the incident; all are logged."""
    row = _incident(session, incident_id)
    if row.acknowledged_ns is None:
        row.acknowledged_ns = t_ns
        row.acknowledged_by = actor
    session.add(IncidentAction(incident_id=incident_id, t_ns=t_ns, actor=actor, action="ack", text=text))


def comment(*, session: Session, incident_id: int, actor: str, t_ns: int, text: str) -> None:
    """An operator's note on the incident."""
    if not text.strip():
        raise ValueError("a comment needs text")
    _incident(session, incident_id)
    session.add(IncidentAction(incident_id=incident_id, t_ns=t_ns, actor=actor, action="comment", text=text))


@audited(AuditAction.SUGGESTION_DECIDE)
def decide_suggestion(
    *, session: Session, audit: AuditWriter, actor: Actor, suggestion_id: int, accept: bool, t_ns: int
) -> IncidentSuggestion:
    """Accept (the registry is corrected) or reject a suggested correction; audited first, then logged on the
    incident. A suggestion for a camera outside the actor's districts does not exist for them."""
    sug = session.get(IncidentSuggestion, suggestion_id)
    cam = session.get(Camera, sug.camera_id) if sug is not None else None
    if sug is None or (cam is not None and not actor.sees(cam.district_id)) or (cam is None and actor.districts):
        raise NotVisible(f"no suggestion {suggestion_id}")
    if sug.status != "open":
        raise ValueError(f"suggestion {suggestion_id} is already {sug.status}")
    if accept:
        if cam is None:
            raise LookupError(f"camera {sug.camera_id} is not in the registry")
        model = Feeder if sug.field == "feeder" else Uplink
        if session.get(model, sug.suggested_value) is None:
            raise LookupError(f"{sug.field} {sug.suggested_value} is not in the registry")
    text = f"{sug.camera_id} {sug.field}: {sug.registry_value} -> {sug.suggested_value}"
    write_first(
        audit,
        actor,
        AuditAction.SUGGESTION_DECIDE,
        camera=sug.camera_id,
        details={"suggestion": suggestion_id, "accept": accept, "change": text},
    )
    if accept and cam is not None:
        setattr(cam, f"{sug.field}_id", sug.suggested_value)
        cam.revision += 1
        cam.updated_ns = t_ns
    sug.status = "accepted" if accept else "rejected"
    action = IncidentActionKind.ACCEPT_SUGGESTION if accept else IncidentActionKind.REJECT_SUGGESTION
    session.add(IncidentAction(incident_id=sug.incident_id, t_ns=t_ns, actor=actor.name, action=action, text=text))
    session.flush()
    return sug


class EvidenceSubjectNotFound(NotVisible):
    """No such feeder or site among the recorded cameras, or none of its cameras in the actor's districts."""


class EvidenceFeed(Protocol):
    """Where outside evidence goes: the live outage correlation (``health.feed.IncidentFeed``)."""

    @property
    def topo(self) -> Topology: ...

    def on_evidence(self, kind: str, subject: str, active: bool, at_ns: int) -> None: ...


@audited(AuditAction.EVIDENCE_SUBMIT)
def submit_evidence(
    *, feed: EvidenceFeed, audit: AuditWriter, actor: Actor, kind: str, subject: str, active: bool, t_ns: int
) -> None:
    """Outside evidence (a utility's feeder notice, a site's UPS) changes what the correlation concludes, so it is
    audited before the feed takes it, and only within the actor's districts: a feeder or site is theirs when one of
    its recorded cameras is (feeders span districts: a D-01 operator may report a feeder that also feeds D-02, never
    one that feeds none of D-01). Outside them it does not exist: the same :class:`EvidenceSubjectNotFound`, the same
    words, as an unknown name."""
    if kind not in EvidenceKind.__members__.values():
        raise ValueError(f"evidence is {' or '.join(EvidenceKind)}, not {kind!r}")
    # A feeder notice names a power group of the topology, a UPS its site.
    group, noun = (IncidentKind.POWER, "feeder") if kind == EvidenceKind.FEEDER else (IncidentKind.SITE, "site")
    topo = feed.topo
    gid = topo.groups[group].index.get(subject)
    if gid is None or not any(actor.sees(topo.district[c]) for c in topo.groups[group].members[gid]):
        raise EvidenceSubjectNotFound(f"no {noun} {subject!r} among the recorded cameras")
    write_first(
        audit,
        actor,
        AuditAction.EVIDENCE_SUBMIT,
        t_from_ns=t_ns,
        details={"kind": kind, "subject": subject, "active": active},
    )
    feed.on_evidence(kind, subject, active, t_ns)


def list_incidents(*, session: Session, open_only: bool = False, limit: int = 100) -> list[IncidentOut]:
    """Newest first, with their cameras, suggestions and the operators' actions."""
    query = select(IncidentRow).order_by(IncidentRow.opened_ns.desc(), IncidentRow.id.desc()).limit(limit)
    if open_only:
        query = query.where(IncidentRow.resolved_ns.is_(None))
    return [incident_out(session=session, row=row) for row in session.scalars(query)]


def get_incident(*, session: Session, incident_id: int) -> IncidentOut:
    """One incident with its cameras, suggestions and actions; LookupError when there is none."""
    return incident_out(session=session, row=_incident(session, incident_id))


def incident_out(*, session: Session, row: IncidentRow) -> IncidentOut:
    """The outward shape of a stored incident."""
    item = IncidentOut.model_validate(row)
    roles = session.execute(
        select(IncidentCamera.camera_id, IncidentCamera.role).where(IncidentCamera.incident_id == row.id)
    ).all()
    item.cameras = sorted(c for c, role in roles if role == "member")
    item.unexplained = sorted(c for c, role in roles if role == "unexplained")
    item.suggestions = [
        SuggestionOut.model_validate(s)
        for s in session.scalars(select(IncidentSuggestion).where(IncidentSuggestion.incident_id == row.id))
    ]
    item.actions = [
        ActionOut.model_validate(a)
        for a in session.scalars(
            select(IncidentAction).where(IncidentAction.incident_id == row.id).order_by(IncidentAction.t_ns)
        )
    ]
    return item


def close_stale_live(*, session: Session, run_prefix: str, keep_run: str, t_ns: int) -> int:
    """Resolve incidents a previous live run left open (its engine state died with the process; the new run opens
    fresh incidents for cameras still dark). Each closure is logged as an action by ``camgrid``."""
    rows = session.scalars(
        select(IncidentRow).where(
            IncidentRow.resolved_ns.is_(None),
            IncidentRow.engine_key.like(f"{run_prefix}%"),
            IncidentRow.engine_key.not_like(f"{keep_run}:%"),
        )
    ).all()
    for row in rows:
        row.resolved_ns = max(t_ns, row.opened_ns)
        session.add(
            IncidentAction(
                incident_id=row.id,
                t_ns=t_ns,
                actor="camgrid",
                action="closed_on_restart",
                text="the correlation restarted; cameras still dark are in a new incident",
            )
        )
    return len(rows)
