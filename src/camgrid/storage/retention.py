"""Retention: what to delete (pure policy), how the database finds it (per camera, in SQL), and the runner.

Policy: a segment is deleted when it is older than its camera's retention (camera, else its district's row, else
``retention.district_days``, else ``retention.default_days``), or, oldest first across cameras, while this node's
recordings exceed the disk budget. A segment overlapping an active evidence hold is never deleted, and neither is a
segment still being written. Deleting is final and audited first: the audit entry (with the file's SHA-256), then
the file, then its index row, and a ``deletions`` row says what went and why.

Why in SQL: the database applies each camera's own cutoff and excludes held segments before the ``LIMIT``, so every
page it returns is deletable. Filtering a page of "oldest segments" afterwards starves: once that page is all long-
retention or held footage, nothing else is ever deleted and short-retention cameras keep video past their legal
limit. The pure functions (:func:`expired`, :func:`over_budget`, :func:`is_held`) stay as the oracle the tests judge
the SQL by. Design note: docs/design/retention.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, literal, or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from camgrid.auditing import Actor, AuditWriter, Entry
from camgrid.clock import Clock
from camgrid.config import RetentionConfig
from camgrid.db.engine import unit_of_work
from camgrid.registry.models import Camera, District
from camgrid.storage.models import Deletion, Hold, Segment
from camgrid.vocabulary import AuditAction, DeletionReason, SegmentStatus

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
DAY = 86400 * NS
Key = tuple[int, int]  # (end_ns, id): the order retention walks segments in, oldest first


# ---- policy (pure; the oracle of the SQL below) ------------------------------------------------------------------
@dataclass(frozen=True)
class SegInfo:
    id: int
    camera_id: str
    start_ns: int
    end_ns: int
    bytes: int
    path: str = field(default="", compare=False)  # the file, when read with the row (the policy does not use it)


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


# ---- selection in SQL ----------------------------------------------------------------------------------------------
_COLS = (Segment.id, Segment.camera_id, Segment.start_ns, Segment.end_ns, Segment.bytes, Segment.path)


def _retention_days(cfg: RetentionConfig) -> ColumnElement[Any]:
    """A segment's retention in days: the camera's, else its district row's, else the configuration's (0 or NULL: not
    set), else the default."""
    parts: list[Any] = [func.nullif(Camera.retention_days, 0.0), func.nullif(District.retention_days, 0.0)]
    by_config = {k: float(v) for k, v in cfg.district_days.items() if v}
    if by_config:
        parts.append(case(by_config, value=Camera.district_id))
    parts.append(literal(float(cfg.default_days)))
    return func.coalesce(*parts)


def _cutoff(session: Session, cfg: RetentionConfig, now_ns: int) -> tuple[ColumnElement[Any], int]:
    """Each segment's cutoff (deletable when it ended before it), as exact integer nanoseconds, and the latest of
    them (no segment ending at or after it can be deletable: the index range a page walks ends there).

    The few distinct retentions are read first and mapped to integer cutoffs computed here exactly as the oracle
    does (``int(days * DAY)``): multiplying days by 8.64e13 in SQL would round in floating point on either database.
    """
    days = _retention_days(cfg)
    distinct = set(
        session.scalars(
            select(days).select_from(Camera).outerjoin(District, District.id == Camera.district_id).distinct()
        )
    )
    default = now_ns - int(cfg.default_days * DAY)
    whens = {float(d): now_ns - int(d * DAY) for d in distinct if d is not None}
    latest = max([default, *whens.values()])
    return (case(whens, value=days, else_=default) if whens else literal(default)), latest


def _unheld(now_ns: int) -> ColumnElement[bool]:
    held = exists().where(
        Hold.camera_id == Segment.camera_id,
        Hold.start_ns < Segment.end_ns,
        Segment.start_ns < Hold.end_ns,
        or_(Hold.until_ns.is_(None), Hold.until_ns > now_ns),
    )
    return ~held


def _after(key: Key | None) -> ColumnElement[bool]:
    if key is None:
        return true()
    end_ns, seg_id = key
    # The plain lower bound first, so that both databases start the index range there (an OR alone may not).
    return and_(Segment.end_ns >= end_ns, or_(Segment.end_ns > end_ns, Segment.id > seg_id))


def _mine(node_id: str | None) -> ColumnElement[bool]:
    return Segment.node_id == node_id if node_id is not None else true()


def expired_page(
    session: Session, *, cfg: RetentionConfig, now_ns: int, node_id: str | None, after: Key | None, limit: int
) -> list[SegInfo]:
    """The next ``limit`` segments (oldest first, after ``after``) past their own camera's retention, not held."""
    cutoff, latest = _cutoff(session, cfg, now_ns)
    query = (
        select(*_COLS)
        .select_from(Segment)
        .outerjoin(Camera, Camera.id == Segment.camera_id)
        .outerjoin(District, District.id == Camera.district_id)
        .where(
            Segment.status == SegmentStatus.COMPLETE,
            _mine(node_id),
            Segment.end_ns < latest,
            Segment.end_ns < cutoff,
            _unheld(now_ns),
            _after(after),
        )
        .order_by(Segment.end_ns, Segment.id)
        .limit(limit)
    )
    return [SegInfo(*r) for r in session.execute(query)]


def unheld_page(session: Session, *, now_ns: int, node_id: str | None, after: Key | None, limit: int) -> list[SegInfo]:
    """The next ``limit`` complete, unheld segments of any camera, oldest first (the budget pass's order)."""
    query = (
        select(*_COLS)
        .where(Segment.status == SegmentStatus.COMPLETE, _mine(node_id), _unheld(now_ns), _after(after))
        .order_by(Segment.end_ns, Segment.id)
        .limit(limit)
    )
    return [SegInfo(*r) for r in session.execute(query)]


def used_bytes(session: Session, node_id: str | None) -> int:
    """What the recordings take (every segment, the one being written too: it is on the disk)."""
    return int(session.scalar(select(func.coalesce(func.sum(Segment.bytes), 0)).where(_mine(node_id))) or 0)


# ---- deleting ------------------------------------------------------------------------------------------------------
def _sha256(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        return ""
    return h.hexdigest()


def _prune_dirs(folder: Path) -> None:
    for _ in range(4):  # HH, DD, MM, YYYY
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@dataclass
class Deleted:
    """What one call of :func:`delete_segments` did; ``refused`` says why it stopped early (then stop the run)."""

    segments: list[SegInfo] = field(default_factory=list)
    freed_bytes: int = 0
    refused: str | None = None


def delete_segments(
    *,
    session: Session,
    segments: Sequence[SegInfo],
    reason: DeletionReason,
    now_ns: int,
    audit: AuditWriter,
    actor: Actor,
) -> Deleted:
    """Audit, then remove the file, then the row; record each deletion. Never commits.

    Fail closed: when the audit log does not take an entry, that segment and the later ones are kept and
    ``refused`` says why; what was deleted before stays recorded (its files are gone). The audit entries are written
    in the log's own transaction and this session writes only at the end, so that SQLite is not locked against it.
    """
    out = Deleted()
    try:
        for s in segments:
            path = s.path or session.scalar(select(Segment.path).where(Segment.id == s.id))
            if path is None:
                continue
            entry = Entry(
                who=actor.name,
                action=AuditAction.RETENTION_DELETE,
                camera=s.camera_id,
                t_from_ns=s.start_ns,
                t_to_ns=s.end_ns,
                address=actor.address,
                details={"reason": str(reason), "bytes": s.bytes, "sha256": _sha256(path), "file": Path(path).name},
            )
            try:
                audit.append(entry)
            except Exception as exc:  # anything but a written entry refuses the deletion
                out.refused = f"audit log refused the entry: {exc}"
                log.warning("retention stopped, %s kept: %s", Path(path).name, out.refused)
                return out
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:  # audited but not deleted: keep the row so the index stays true, and stop
                out.refused = f"cannot delete {path}: {exc}"
                log.error("retention stopped: %s", out.refused)
                return out
            _prune_dirs(Path(path).parent)
            out.segments.append(s)
    finally:
        if out.segments:
            session.execute(delete(Segment).where(Segment.id.in_([s.id for s in out.segments])))
            session.execute(
                insert(Deletion),
                [
                    {
                        "camera_id": s.camera_id,
                        "start_ns": s.start_ns,
                        "end_ns": s.end_ns,
                        "bytes": s.bytes,
                        "reason": str(reason),
                        "deleted_ns": now_ns,
                    }
                    for s in out.segments
                ],
            )
            out.freed_bytes = sum(s.bytes for s in out.segments)
    return out


# ---- one page of a pass, and the runner -------------------------------------------------------------------------
@dataclass
class Page:
    """One page of a pass: what went, where the next page starts, whether the pass is over."""

    deleted: Deleted
    next_after: Key | None
    done: bool


def retention_page(
    *,
    session: Session,
    cfg: RetentionConfig,
    now_ns: int,
    reason: DeletionReason,
    audit: AuditWriter,
    actor: Actor,
    node_id: str | None,
    after: Key | None = None,
    batch: int = 2000,
) -> Page:
    """Delete one page of a pass (by age or by budget), after key ``after``. Never commits.

    ``node_id``: a recorder node deletes only the segments it recorded (its own disk; the budget is per node);
    None (the whole index) only where one machine records everything.
    """
    if batch < 1:
        raise ValueError("batch must be >= 1")
    excess = 0
    if reason is DeletionReason.AGE:
        page = expired_page(session, cfg=cfg, now_ns=now_ns, node_id=node_id, after=after, limit=batch)
        victims = page
    else:
        if cfg.disk_budget_gb <= 0:
            return Page(Deleted(), None, True)
        excess = used_bytes(session, node_id) - int(cfg.disk_budget_gb * 1024**3)
        if excess <= 0:
            return Page(Deleted(), None, True)
        page = unheld_page(session, now_ns=now_ns, node_id=node_id, after=after, limit=batch)
        victims = over_budget(page, (), now_ns, excess, 0)  # held ones are already excluded in SQL
    deleted = delete_segments(session=session, segments=victims, reason=reason, now_ns=now_ns, audit=audit, actor=actor)
    over = reason is DeletionReason.BUDGET and deleted.freed_bytes >= excess
    done = len(page) < batch or deleted.refused is not None or over
    return Page(deleted, (page[-1].end_ns, page[-1].id) if page else after, done)


@dataclass
class RetentionReport:
    age: int = 0
    budget: int = 0
    freed_bytes: int = 0
    refused: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"age": self.age, "budget": self.budget, "freed_bytes": self.freed_bytes}
        if self.refused:
            out["audit_refused"] = self.refused
        return out


class RetentionRunner:
    """Retention as the recorder, a cluster node and ``camgrid recordings retention`` all run it.

    It owns its units of work, one per page: each page's audit entries are committed by the log before its files go,
    and the page's rows are committed before the next page's entries are written (SQLite allows one writer).
    ``audit`` and ``actor`` are required: no deletion without an audit entry naming who ran it (``SYSTEM`` for the
    recorder's own pass, ``cli_actor()`` for an operator).
    """

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        cfg: RetentionConfig,
        audit: AuditWriter,
        actor: Actor,
        clock: Clock,
        node_id: str | None,
        batch: int = 2000,
        first_delay_s: float = 5.0,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.factory = factory
        self.cfg = cfg
        self.audit = audit
        self.actor = actor
        self.clock = clock
        self.node_id = node_id
        self.batch = batch
        self._next_run = clock.monotonic() + first_delay_s
        self._listeners: list[Callable[[Sequence[SegInfo]], None]] = []

    def add_listener(self, fn: Callable[[Sequence[SegInfo]], None]) -> None:
        """``fn`` gets the segments of each page once their deletion is committed (what is kept beside the video,
        e.g. activity levels, goes with it). A failing listener is logged; retention goes on."""
        self._listeners.append(fn)

    def _tell(self, deleted: Sequence[SegInfo]) -> None:
        for fn in self._listeners:
            try:
                fn(deleted)
            except Exception:
                log.exception("retention listener %s failed", getattr(fn, "__qualname__", fn))

    def run(self) -> RetentionReport:
        """One full run: every page of the age pass, then the budget pass until the recordings fit."""
        report = RetentionReport()
        now_ns = self.clock.wall_ns()
        for reason in (DeletionReason.AGE, DeletionReason.BUDGET):
            after: Key | None = None
            while True:
                with unit_of_work(self.factory) as session:
                    page = retention_page(
                        session=session,
                        cfg=self.cfg,
                        now_ns=now_ns,
                        reason=reason,
                        audit=self.audit,
                        actor=self.actor,
                        node_id=self.node_id,
                        after=after,
                        batch=self.batch,
                    )
                n = len(page.deleted.segments)
                if reason is DeletionReason.AGE:
                    report.age += n
                else:
                    report.budget += n
                report.freed_bytes += page.deleted.freed_bytes
                if page.deleted.segments:
                    self._tell(page.deleted.segments)
                if page.deleted.refused is not None:
                    report.refused = page.deleted.refused
                    return self._logged(report)
                if page.done:
                    break
                after = page.next_after
        return self._logged(report)

    def tick(self) -> RetentionReport | None:
        """Run when ``retention.interval_s`` has passed since the last run (the recorder's housekeeping hook)."""
        if self.clock.monotonic() < self._next_run:
            return None
        self._next_run = self.clock.monotonic() + self.cfg.interval_s
        return self.run()

    @staticmethod
    def _logged(report: RetentionReport) -> RetentionReport:
        if report.age or report.budget:
            log.info(
                "retention: %d by age, %d by budget, %d MB freed", report.age, report.budget, report.freed_bytes >> 20
            )
        return report
