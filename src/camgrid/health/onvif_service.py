"""Persisting and reading what cameras say of themselves over ONVIF: events and clock readings.

Keyword-only arguments; never commits (the watcher's unit of work does). Not audited: like health transitions, these
are observations camgrid makes, not actions anyone takes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from camgrid.db.bulk import insert_rows
from camgrid.health.models import DETAIL_CHARS, TOPIC_CHARS, CameraClockRow, CameraEventRow
from camgrid.onvif.clock import ClockReading
from camgrid.onvif.events import CameraEvent
from camgrid.vocabulary import CameraCondition, CameraEventKind

MAX_EVENTS = 5000  # one answer never carries more (a motion-happy camera can say a lot)
# event kinds that are a condition of the camera while active (motion is not trouble)
CONDITION_KINDS: dict[str, CameraCondition] = {
    CameraEventKind.TAMPER: CameraCondition.TAMPER,
    CameraEventKind.VIDEO_LOSS: CameraCondition.VIDEO_LOSS,
    CameraEventKind.STORAGE_FAILURE: CameraCondition.STORAGE_FAILURE,
}


def _table() -> Table:
    table = CameraEventRow.__table__
    assert isinstance(table, Table)
    return table


def record_camera_events(*, session: Session, events: Sequence[CameraEvent]) -> int:
    """Store events as the consumer turned them out (topic and detail bounded again: the table's widths)."""
    rows = [
        {
            "camera_id": e.camera_id[:64],
            "kind": str(e.kind),
            "active": e.active,
            "camera_ns": e.camera_ns,
            "received_ns": e.received_ns,
            "topic": e.topic[:TOPIC_CHARS],
            "detail": e.detail[:DETAIL_CHARS],
        }
        for e in events
    ]
    return insert_rows(session, _table(), rows) if rows else 0


def record_clock(*, session: Session, camera_id: str, reading: ClockReading) -> None:
    """Keep the camera's last clock reading (one row per camera)."""
    row = session.get(CameraClockRow, camera_id)
    if row is None:
        row = CameraClockRow(camera_id=camera_id, offset_ns=0, measured_ns=0, round_trip_ns=0)
        session.add(row)
    row.offset_ns = reading.offset_ns
    row.measured_ns = reading.measured_ns
    row.round_trip_ns = reading.round_trip_ns
    session.flush()


def prune_camera_events(*, session: Session, before_ns: int) -> int:
    """Forget events received before ``before_ns`` (``onvif.event_days``)."""
    result = session.execute(delete(CameraEventRow).where(CameraEventRow.received_ns < before_ns))
    return int(getattr(result, "rowcount", 0) or 0)


def camera_events_between(
    *, session: Session, camera_id: str, start_ns: int, end_ns: int, limit: int = MAX_EVENTS
) -> list[CameraEventRow]:
    """A camera's events received in [start, end), oldest first (bounded)."""
    q = (
        select(CameraEventRow)
        .where(
            CameraEventRow.camera_id == camera_id,
            CameraEventRow.received_ns >= start_ns,
            CameraEventRow.received_ns < end_ns,
        )
        .order_by(CameraEventRow.received_ns, CameraEventRow.id)
        .limit(limit)
    )
    return list(session.scalars(q))


def last_states(*, session: Session, camera_ids: Collection[str]) -> dict[str, dict[str, bool]]:
    """Per camera, each topic's latest state as stored (a consumer started anew then repeats nothing)."""
    out: dict[str, dict[str, bool]] = {}
    ids = list(camera_ids)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        latest = (
            select(CameraEventRow.camera_id, CameraEventRow.topic, func.max(CameraEventRow.id).label("last"))
            .where(CameraEventRow.camera_id.in_(chunk))
            .group_by(CameraEventRow.camera_id, CameraEventRow.topic)
            .subquery()
        )
        for row in session.scalars(select(CameraEventRow).join(latest, CameraEventRow.id == latest.c.last)):
            out.setdefault(row.camera_id, {})[row.topic] = row.active
    return out


@dataclass
class OnvifStatus:
    """What a camera's ONVIF side says now: its clock and its active conditions."""

    clock_offset_ns: int | None = None
    clock_measured_ns: int | None = None
    clock_round_trip_ns: int | None = None
    conditions: list[CameraCondition] = field(default_factory=list)
    since_ns: dict[str, int] = field(default_factory=dict)  # condition -> when it became active (our time)


def onvif_status(*, session: Session, camera_ids: Collection[str], clock_tolerance_ns: int) -> dict[str, OnvifStatus]:
    """Per camera: its clock offset ("clock off" beyond the tolerance) and its tamper, video-loss and storage
    conditions (each one's latest event is active). Cameras with nothing known are left out."""
    ids = list(camera_ids)
    out: dict[str, OnvifStatus] = {}
    if not ids:
        return out
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in session.scalars(select(CameraClockRow).where(CameraClockRow.camera_id.in_(chunk))):
            st = out.setdefault(row.camera_id, OnvifStatus())
            st.clock_offset_ns = row.offset_ns
            st.clock_measured_ns = row.measured_ns
            st.clock_round_trip_ns = row.round_trip_ns
            if abs(row.offset_ns) > clock_tolerance_ns:
                st.conditions.append(CameraCondition.CLOCK_OFF)
                st.since_ns[CameraCondition.CLOCK_OFF] = row.measured_ns
        latest = (
            select(CameraEventRow.camera_id, CameraEventRow.kind, func.max(CameraEventRow.id).label("last"))
            .where(CameraEventRow.camera_id.in_(chunk), CameraEventRow.kind.in_(list(CONDITION_KINDS)))
            .group_by(CameraEventRow.camera_id, CameraEventRow.kind)
            .subquery()
        )
        q = select(CameraEventRow).join(latest, CameraEventRow.id == latest.c.last).order_by(CameraEventRow.id)
        for ev in session.scalars(q):
            if ev.active:
                st = out.setdefault(ev.camera_id, OnvifStatus())
                cond = CONDITION_KINDS[ev.kind]
                st.conditions.append(cond)
                st.since_ns[cond] = ev.received_ns
    return out
