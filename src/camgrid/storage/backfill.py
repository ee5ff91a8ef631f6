"""Edge backfill's jobs: found, claimed (audited first), finished, shown. Never commits (the caller's unit of work).

A job is one closed gap of a camera whose SD card may hold the video (docs/design/onvif.md, "Edge backfill"). The
``backfill_jobs`` row is unique per (camera, gap start), so a gap is replayed at most once however many passes or
processes find it; a job that was running when its process stopped is pending again at the next start, and the
writer (``storage.backfill_writer``) skips what is already stored. The runner is ``storage.backfill_runner``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.registry.models import Camera
from camgrid.storage.backfill_plan import CameraInfo, GapInfo
from camgrid.storage.models import BackfillJob, Gap
from camgrid.vocabulary import BACKFILL_REASONS, AuditAction, BackfillState

NS = 1_000_000_000
MAX_LISTED = 500


@dataclass(frozen=True)
class JobOut:
    """A job as the control room shows it."""

    id: int
    camera_id: str
    start_ns: int
    end_ns: int
    state: str
    recovered_ns: int
    attempts: int
    detail: str
    created_ns: int
    updated_ns: int
    node_id: str


def recent_gaps(session: Session, *, now_ns: int, max_age_s: float) -> list[GapInfo]:
    """Closed gaps with a backfill reason that ended within ``max_age_s`` (index query; the full rule, touching gaps
    joined, is ``backfill_plan.candidates``)."""
    rows = session.execute(
        select(Gap.camera_id, Gap.start_ns, Gap.end_ns, Gap.reason).where(
            Gap.end_ns.is_not(None),
            Gap.end_ns >= now_ns - int(max_age_s * NS),
            Gap.reason.in_([str(r) for r in BACKFILL_REASONS]),
        )
    ).all()
    return [GapInfo(c, s, e, r) for c, s, e, r in rows]


def camera_infos(session: Session, ids: Iterable[str], *, live: set[str]) -> dict[str, CameraInfo]:
    """Uplink and ONVIF address of the cameras named; ``live``: those recording now."""
    wanted = sorted(set(ids))
    out: dict[str, CameraInfo] = {}
    for i in range(0, len(wanted), 500):
        for cid, uplink, url in session.execute(
            select(Camera.id, Camera.uplink_id, Camera.onvif_url).where(Camera.id.in_(wanted[i : i + 500]))
        ):
            out[cid] = CameraInfo(cid, uplink, onvif=bool(url), live=cid in live)
    return out


def open_gap_cameras(session: Session, ids: Iterable[str]) -> set[str]:
    """The cameras named that have an open gap now (not recording)."""
    wanted = sorted(set(ids))
    out: set[str] = set()
    for i in range(0, len(wanted), 500):
        out.update(
            session.scalars(select(Gap.camera_id).where(Gap.end_ns.is_(None), Gap.camera_id.in_(wanted[i : i + 500])))
        )
    return out


def known_jobs(session: Session, gaps: Sequence[GapInfo]) -> dict[str, list[tuple[int, int]]]:
    """The job intervals (on any node) of the cameras of the gaps named, back to the oldest of those gaps."""
    out: dict[str, list[tuple[int, int]]] = {}
    cams = sorted({g.camera_id for g in gaps})
    oldest = min((g.start_ns for g in gaps), default=0)
    for i in range(0, len(cams), 500):
        for c, s, e in session.execute(
            select(BackfillJob.camera_id, BackfillJob.start_ns, BackfillJob.end_ns).where(
                BackfillJob.camera_id.in_(cams[i : i + 500]), BackfillJob.end_ns > oldest
            )
        ):
            out.setdefault(c, []).append((s, e))
    return out


def add_jobs(session: Session, gaps: Sequence[GapInfo], *, node_id: str, now_ns: int) -> int:
    """Pending jobs for the gaps (the caller chose them with ``backfill_plan.candidates``): camgrid's bookkeeping,
    nothing replayed or released yet (each job is audited when it starts)."""
    for g in gaps:
        assert g.end_ns is not None
        session.add(
            BackfillJob(
                camera_id=g.camera_id,
                start_ns=g.start_ns,
                end_ns=g.end_ns,
                state=BackfillState.PENDING,
                recovered_ns=0,
                attempts=0,
                detail="",
                created_ns=now_ns,
                updated_ns=now_ns,
                node_id=node_id,
            )
        )
    session.flush()
    return len(gaps)


def requeue_running(session: Session, *, node_id: str, now_ns: int) -> int:
    """At start: this node's jobs left ``running`` by a stop or crash are pending again, due at once (the
    interrupted attempt is not counted; the writer skips what was stored before)."""
    result = session.execute(
        update(BackfillJob)
        .where(BackfillJob.node_id == node_id, BackfillJob.state == BackfillState.RUNNING)
        .values(
            state=BackfillState.PENDING,
            attempts=BackfillJob.attempts - 1,
            updated_ns=now_ns,
            detail="interrupted by a stop; pending again",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def due_jobs(
    session: Session, *, node_id: str, now_ns: int, retry_after_s: float, max_attempts: int, limit: int = 200
) -> list[BackfillJob]:
    """This node's pending jobs that may run now, oldest gap first (a retried job waits ``retry_after_s``)."""
    return list(
        session.scalars(
            select(BackfillJob)
            .where(
                BackfillJob.node_id == node_id,
                BackfillJob.state == BackfillState.PENDING,
                BackfillJob.attempts < max_attempts,
                or_(
                    BackfillJob.attempts == 0,
                    BackfillJob.updated_ns <= now_ns - int(retry_after_s * NS),
                ),
            )
            .order_by(BackfillJob.start_ns, BackfillJob.id)
            .limit(limit)
        )
    )


@audited(AuditAction.BACKFILL)
def begin_job(
    *,
    session: Session,
    audit: AuditWriter,
    actor: Actor,
    camera_id: str,
    start_ns: int,
    end_ns: int,
    node_id: str,
    now_ns: int,
) -> int:
    """Audit the replay of a camera's gap from its card, then mark its job running (made if absent) and count the
    attempt; returns the job's id. Video enters the recordings only after this entry is written."""
    job = session.scalar(
        select(BackfillJob).where(and_(BackfillJob.camera_id == camera_id, BackfillJob.start_ns == start_ns))
    )
    write_first(
        audit,
        actor,
        AuditAction.BACKFILL,
        camera=camera_id,
        t_from_ns=start_ns,
        t_to_ns=end_ns,
        details={"node": node_id, "attempt": (job.attempts if job else 0) + 1, "source": "edge"},
    )
    if job is None:
        job = BackfillJob(
            camera_id=camera_id, start_ns=start_ns, end_ns=end_ns, recovered_ns=0, attempts=0, detail="",
            created_ns=now_ns, node_id=node_id, state=BackfillState.RUNNING, updated_ns=now_ns,
        )  # fmt: skip
        session.add(job)
    job.state = BackfillState.RUNNING
    job.attempts += 1
    job.updated_ns = now_ns
    session.flush()
    return job.id


def finish_job(
    session: Session,
    *,
    job_id: int,
    state: BackfillState,
    recovered_ns: int,
    detail: str,
    now_ns: int,
    interrupted: bool = False,
) -> None:
    """Record how a job ended (or that it waits for another attempt: ``state`` pending). ``interrupted``: this
    process stopped it; the attempt is not counted, so the job is due again at once."""
    job = session.get(BackfillJob, job_id)
    if job is None:
        return
    if interrupted:
        job.attempts = max(0, job.attempts - 1)
    job.state = state
    job.recovered_ns = max(job.recovered_ns, recovered_ns)
    job.detail = detail[:500]
    job.updated_ns = now_ns


def jobs_of(session: Session, *, camera_id: str, limit: int = 100) -> list[JobOut]:
    """A camera's jobs, newest gap first (the caller scoped the camera)."""
    rows = session.scalars(
        select(BackfillJob)
        .where(BackfillJob.camera_id == camera_id)
        .order_by(BackfillJob.start_ns.desc(), BackfillJob.id.desc())
        .limit(max(1, min(limit, MAX_LISTED)))
    )
    return [
        JobOut(
            id=j.id,
            camera_id=j.camera_id,
            start_ns=j.start_ns,
            end_ns=j.end_ns,
            state=j.state,
            recovered_ns=j.recovered_ns,
            attempts=j.attempts,
            detail=j.detail,
            created_ns=j.created_ns,
            updated_ns=j.updated_ns,
            node_id=j.node_id,
        )
        for j in rows
    ]
