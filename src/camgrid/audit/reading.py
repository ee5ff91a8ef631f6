"""Reading the audit log for auditors (read-only): search entries, look up signed checkpoints, the transparency report,
all within the reader's district scope.

An entry belongs to the district of its camera (the registry's current district of ``audit_entries.camera``); entries
without a camera (logins, users, imports) belong to no district and are seen only by auditors of every district.
Proofs are over the whole tree, so a scoped auditor's proof still verifies: its path holds only hashes of other
entries, never their content. Design note: docs/design/auditor-screen.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from camgrid.audit.models import AuditCheckpoint, AuditEntry
from camgrid.audit.transparency import COLUMNS, aggregate, month_range
from camgrid.auditing import Actor, NotVisible
from camgrid.registry.models import Camera

MAX_PAGE = 200
MAX_MONTHS = 24
_COUNTED = [str(a) for actions in COLUMNS.values() for a in actions]


@dataclass(frozen=True)
class EntryRow:
    index: int
    at_ns: int
    who: str
    action: str
    camera: str | None
    district: str | None
    data: str  # the canonical bytes the leaf hashes, as stored
    leaf_hash: bytes


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    at_ns: int
    note: str


def _scoped(q: Select[Any], actor: Actor) -> Select[Any]:
    if actor.districts:
        q = q.where(Camera.district_id.in_(actor.districts))
    return q


def _base() -> Select[Any]:
    return select(AuditEntry, Camera.district_id).outerjoin(Camera, Camera.id == AuditEntry.camera)


def _row(e: AuditEntry, district: str | None) -> EntryRow:
    return EntryRow(e.idx, e.at_ns, e.who, e.action, e.camera, district, e.data, bytes(e.leaf_hash))


def search(
    *,
    session: Session,
    actor: Actor,
    who: str | None = None,
    camera: str | None = None,
    action: str | None = None,
    from_ns: int | None = None,
    to_ns: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[EntryRow]:
    """Entries newest first (keyset on the index: ``before`` is the last index of the previous page)."""
    q = _scoped(_base(), actor)
    if who:
        q = q.where(AuditEntry.who == who)
    if camera:
        q = q.where(AuditEntry.camera == camera)
    if action:
        q = q.where(AuditEntry.action == action)
    if from_ns is not None:
        q = q.where(AuditEntry.at_ns >= from_ns)
    if to_ns is not None:
        q = q.where(AuditEntry.at_ns < to_ns)
    if before is not None:
        q = q.where(AuditEntry.idx < before)
    q = q.order_by(AuditEntry.idx.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return [_row(e, d) for e, d in session.execute(q)]


def entry(*, session: Session, actor: Actor, index: int) -> EntryRow:
    """One entry, or NotVisible (no such entry, or outside the actor's districts: the same answer)."""
    found = session.execute(_scoped(_base(), actor).where(AuditEntry.idx == index)).first()
    if found is None:
        raise NotVisible(f"no audit entry {index}")
    return _row(found[0], found[1])


def checkpoint(*, session: Session, size: int | None = None) -> CheckpointRow | None:
    """The signed checkpoint of exactly ``size`` entries, or the newest one (None: there is none)."""
    q = select(AuditCheckpoint.size, AuditCheckpoint.at_ns, AuditCheckpoint.note)
    q = q.where(AuditCheckpoint.size == size) if size is not None else q.order_by(AuditCheckpoint.size.desc()).limit(1)
    found = session.execute(q).first()
    return CheckpointRow(int(found[0]), int(found[1]), str(found[2])) if found else None


def checkpoints(*, session: Session, before: int | None = None, limit: int = 50) -> list[CheckpointRow]:
    """Signed checkpoints, biggest first (keyset on the size)."""
    q = select(AuditCheckpoint.size, AuditCheckpoint.at_ns, AuditCheckpoint.note)
    if before is not None:
        q = q.where(AuditCheckpoint.size < before)
    q = q.order_by(AuditCheckpoint.size.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return [CheckpointRow(int(s), int(a), str(n)) for s, a, n in session.execute(q)]


def months_ending(month: str, count: int) -> list[str]:
    """The ``count`` months up to and including ``month`` (YYYY-MM), oldest first; ValueError for a bad month."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    y, m = start.year, start.month
    out = []
    for _ in range(max(1, min(count, MAX_MONTHS))):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def transparency(*, session: Session, actor: Actor, months: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """{month: {district: {column: count}}} counted from the log, only the actor's districts (and "(no camera)" for
    auditors of every district)."""
    district_of = {c: d for c, d in session.execute(select(Camera.id, Camera.district_id))}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for month in months:
        t0, t1 = month_range(month)
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.camera, AuditEntry.data).where(
                AuditEntry.at_ns >= t0, AuditEntry.at_ns < t1, AuditEntry.action.in_(_COUNTED)
            )
        )
        counts = aggregate(((a, c, json.loads(d).get("details", {})) for a, c, d in rows), district_of)
        out[month] = {d: row for d, row in counts.items() if not actor.districts or d in actor.districts}
    return out


TRANSPARENCY_COLUMNS: tuple[str, ...] = (*COLUMNS, "deleted_gb")
