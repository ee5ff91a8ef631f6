"""Retention: what to delete (pure policy) and the loop that deletes it.

Policy: a segment is deleted when it is older than its camera's retention (camera, else district, else default),
or, oldest first, while the recordings exceed the disk budget. A segment overlapping an active evidence hold is
never deleted, and neither is a segment still being written. Deleting is final: the file, then its index row, and a
``deletions`` row says what went and why.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, delete, func, insert, or_, select, true
from sqlalchemy.orm import Session

from camgrid.config import RetentionConfig
from camgrid.registry.models import Camera, District
from camgrid.storage.models import Deletion, Hold, Segment

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
DAY = 86400 * NS


@dataclass(frozen=True)
class SegInfo:
    id: int
    camera_id: str
    start_ns: int
    end_ns: int
    bytes: int


@dataclass(frozen=True)
class HoldInfo:
    camera_id: str
    start_ns: int
    end_ns: int
    until_ns: int | None


def is_held(seg: SegInfo, holds: Sequence[HoldInfo], now_ns: int) -> bool:
    return any(
        h.camera_id == seg.camera_id
        and h.start_ns < seg.end_ns
        and seg.start_ns < h.end_ns
        and (h.until_ns is None or h.until_ns > now_ns)
        for h in holds
    )


def expired(
    segments: Sequence[SegInfo], holds: Sequence[HoldInfo], now_ns: int, keep_ns: dict[str, int], default_ns: int
) -> list[SegInfo]:
    """Segments past their camera's retention, not held."""
    return [
        s
        for s in segments
        if s.end_ns < now_ns - keep_ns.get(s.camera_id, default_ns) and not is_held(s, holds, now_ns)
    ]


def over_budget(
    oldest_first: Sequence[SegInfo], holds: Sequence[HoldInfo], now_ns: int, used_bytes: int, budget_bytes: int
) -> list[SegInfo]:
    """Oldest unheld segments to delete until the recordings fit the budget."""
    out = []
    excess = used_bytes - budget_bytes
    for s in oldest_first:
        if excess <= 0:
            break
        if is_held(s, holds, now_ns):
            continue
        out.append(s)
        excess -= s.bytes
    return out


def retention_ns_by_camera(session: Session, cfg: RetentionConfig) -> dict[str, int]:
    """Per-camera retention: the camera's own, else its district's (database or config), else the default."""
    district_days = {d.id: d.retention_days for d in session.scalars(select(District))}
    out = {}
    for cid, days, district in session.execute(select(Camera.id, Camera.retention_days, Camera.district_id)):
        d = days or district_days.get(district) or cfg.district_days.get(district) or cfg.default_days
        out[cid] = int(d * DAY)
    return out


def active_holds(session: Session, now_ns: int) -> list[HoldInfo]:
    rows = session.execute(
        select(Hold.camera_id, Hold.start_ns, Hold.end_ns, Hold.until_ns).where(
            or_(Hold.until_ns.is_(None), Hold.until_ns > now_ns)
        )
    )
    return [HoldInfo(*r) for r in rows]


OnDelete = Callable[[SegInfo, str, str, str], None]  # (segment, reason, path, sha256) -> raises to refuse


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        return ""
    return h.hexdigest()


def delete_segments(
    *, session: Session, segments: Sequence[SegInfo], reason: str, now_ns: int, on_delete: OnDelete | None = None
) -> int:
    """Remove files, then rows; record each deletion. Returns bytes freed. Never commits.

    ``on_delete`` is told of each deletion (with the file's SHA-256) before the file goes, so that the audit log
    holds it; if it raises, the segment is kept.
    """
    freed = 0
    done: list[tuple[SegInfo, str]] = []
    try:
        for s in segments:
            path = session.scalar(select(Segment.path).where(Segment.id == s.id))
            if path is None:
                continue
            # The audit entry first (in its own transaction: this session writes nothing until the end, so that a
            # SQLite database is not locked against it), then the file; a refusal keeps this and later segments.
            if on_delete is not None:
                on_delete(s, reason, path, _sha256(path))
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            _prune_dirs(Path(path).parent)
            done.append((s, path))
    finally:
        for s, _path in done:
            session.execute(delete(Segment).where(Segment.id == s.id))
            session.execute(
                insert(Deletion).values(
                    camera_id=s.camera_id,
                    start_ns=s.start_ns,
                    end_ns=s.end_ns,
                    bytes=s.bytes,
                    reason=reason,
                    deleted_ns=now_ns,
                )
            )
            freed += s.bytes
    return freed


def _prune_dirs(folder: Path) -> None:
    for _ in range(4):  # HH, DD, MM, YYYY
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _seg_rows(session: Session, query: object) -> list[SegInfo]:
    return [SegInfo(*r) for r in session.execute(query)]  # type: ignore[call-overload]


def run_retention(
    *,
    session: Session,
    cfg: RetentionConfig,
    now_ns: int,
    batch: int = 2000,
    on_delete: OnDelete | None = None,
    passes: tuple[str, ...] = ("age", "budget"),
    node_id: str | None = None,
) -> dict[str, int]:
    """One retention pass; returns counts. Never commits (the caller commits per pass).

    ``node_id``: a recorder node of a cluster deletes only the segments it recorded (its own disk; the disk budget
    is per node); None (a single machine) takes every segment of the index.
    """
    cols = (Segment.id, Segment.camera_id, Segment.start_ns, Segment.end_ns, Segment.bytes)
    mine = Segment.node_id == node_id if node_id is not None else true()
    holds = active_holds(session, now_ns)
    keep = retention_ns_by_camera(session, cfg)
    default_ns = int(cfg.default_days * DAY)
    shortest = min([default_ns, *keep.values()])
    candidates = _seg_rows(
        session,
        select(*cols)
        .where(and_(Segment.status == "complete", Segment.end_ns < now_ns - shortest, mine))
        .order_by(Segment.end_ns)
        .limit(batch),
    )
    by_age = expired(candidates, holds, now_ns, keep, default_ns) if "age" in passes else []
    freed_age = delete_segments(session=session, segments=by_age, reason="age", now_ns=now_ns, on_delete=on_delete)
    freed_budget = 0
    n_budget = 0
    if cfg.disk_budget_gb > 0 and "budget" in passes:
        budget = int(cfg.disk_budget_gb * 1024**3)
        used = int(session.scalar(select(func.coalesce(func.sum(Segment.bytes), 0)).where(mine)) or 0)
        if used > budget:
            oldest = _seg_rows(
                session,
                select(*cols).where(and_(Segment.status == "complete", mine)).order_by(Segment.end_ns).limit(batch),
            )
            victims = over_budget(oldest, holds, now_ns, used, budget)
            n_budget = len(victims)
            freed_budget = delete_segments(
                session=session, segments=victims, reason="budget", now_ns=now_ns, on_delete=on_delete
            )
    if by_age or n_budget:
        log.info(
            "retention: %d by age, %d by budget, %d MB freed", len(by_age), n_budget, (freed_age + freed_budget) >> 20
        )
    return {"age": len(by_age), "budget": n_budget, "freed_bytes": freed_age + freed_budget}
