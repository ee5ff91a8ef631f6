"""Crash recovery: after ``kill -9`` or a power cut, keep every whole fragment and account for the downtime.

On start, before recording: every segment row still marked ``writing`` and every file on disk without a row (the
crash came between creating the file and indexing it) is scanned; the torn tail is cut off, the row is completed
from what the file really holds, and a file with no whole fragment is removed. The time between the last heartbeat
and now becomes a ``recorder_not_running`` gap for every camera.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from camgrid.media import fmp4
from camgrid.storage.models import Gap, Segment
from camgrid.storage.paths import hour_dirs, start_ns_from_name
from camgrid.vocabulary import UNKNOWN_CAMERA_STATE, GapReason

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000


@dataclass
class RecoveryReport:
    repaired: int = 0
    indexed: int = 0
    removed: int = 0
    bytes_cut: int = 0


def repair_file(path: Path) -> fmp4.ScanResult | None:
    """Cut a segment file back to its last whole fragment. None if nothing usable remains (file removed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    result = fmp4.scan(data)
    if not result.has_init or result.fragments == 0 or result.end_time is None:
        path.unlink(missing_ok=True)
        return None
    if result.valid_bytes < len(data):
        with path.open("r+b") as fh:
            fh.truncate(result.valid_bytes)
            fh.flush()
            os.fsync(fh.fileno())
    return result


def _codec_of(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return "h265" if b"hvc1" in head else "h264"


def recover(
    *, session: Session, root: Path, node_id: str, camera_ids: list[str], last_alive_ns: int | None, now_ns: int
) -> RecoveryReport:
    """Repair and index what the last run left. Never commits."""
    report = RecoveryReport()
    writing = session.scalars(select(Segment).where(and_(Segment.status == "writing", Segment.node_id == node_id)))
    known_paths: set[str] = set()
    earliest = now_ns
    for seg in list(writing):
        known_paths.add(seg.path)
        earliest = min(earliest, seg.start_ns)
        before = Path(seg.path).stat().st_size if Path(seg.path).exists() else 0
        result = repair_file(Path(seg.path))
        if result is None:
            session.execute(delete(Segment).where(Segment.id == seg.id))
            report.removed += 1
            continue
        report.bytes_cut += before - result.valid_bytes
        assert result.end_time is not None
        seg.end_ns = seg.start_ns + result.end_time * NS // fmp4.TIMESCALE
        seg.bytes = result.valid_bytes
        seg.frames = result.samples
        seg.status = "complete"
        report.repaired += 1
    # Files created but never indexed: look in the hours around the last run.
    since = (last_alive_ns or now_ns) - 2 * 3600 * NS
    since = min(since, earliest - 3600 * NS)
    for cam in camera_ids:
        for folder in hour_dirs(root, cam, since, now_ns):
            if not folder.is_dir():
                continue
            for f in folder.glob("*.mp4"):
                if str(f) in known_paths:
                    continue
                if session.scalar(select(func.count()).select_from(Segment).where(Segment.path == str(f))):
                    continue
                start = start_ns_from_name(f)
                if start is None:
                    continue
                result = repair_file(f)
                if result is None or result.end_time is None:
                    report.removed += 1
                    continue
                session.execute(
                    insert(Segment).values(
                        camera_id=cam,
                        start_ns=start,
                        end_ns=start + result.end_time * NS // fmp4.TIMESCALE,
                        path=str(f),
                        bytes=result.valid_bytes,
                        frames=result.samples,
                        codec=_codec_of(f),
                        status="complete",
                        node_id=node_id,
                    )
                )
                report.indexed += 1
    return report


def open_downtime_gaps(
    *, session: Session, node_id: str, camera_ids: list[str], last_alive_ns: int | None, now_ns: int
) -> dict[str, tuple[int, str]]:
    """Close the gaps the last run left open and open one per camera from its last recorded instant.

    Returns the open gaps {camera: (start_ns, reason)} that the recorder now owns.
    """
    crash_ns = last_alive_ns if last_alive_ns is not None else now_ns
    open_gaps = session.execute(
        select(Gap.id, Gap.camera_id, Gap.start_ns, Gap.reason).where(
            and_(Gap.end_ns.is_(None), Gap.node_id == node_id)
        )
    ).all()
    closed_at: dict[str, int] = {}
    adopted: dict[str, tuple[int, str]] = {}
    for gid, cam, start, reason in open_gaps:
        if reason in UNKNOWN_CAMERA_STATE and cam not in adopted:
            adopted[cam] = (start, reason)  # still true: nothing has recorded this camera since
            continue
        end = max(start, min(crash_ns, now_ns))
        session.execute(update(Gap).where(Gap.id == gid).values(end_ns=end))
        closed_at[cam] = max(closed_at.get(cam, 0), end)
    last_end: dict[str, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(Segment.camera_id, func.max(Segment.end_ns))
            .where(Segment.camera_id.in_(camera_ids))
            .group_by(Segment.camera_id)
        ).all()
    )
    gaps: dict[str, tuple[int, str]] = {}
    for cam in camera_ids:
        if cam in adopted:
            gaps[cam] = adopted[cam]
            continue
        known = cam in last_end or cam in closed_at
        if not known:
            start, reason = now_ns, GapReason.STARTING
        else:
            start = min(max(last_end.get(cam) or 0, closed_at.get(cam, 0)), now_ns)
            reason = GapReason.NOT_RUNNING
        session.execute(
            insert(Gap).values(camera_id=cam, start_ns=start, end_ns=None, reason=reason, detail="", node_id=node_id)
        )
        gaps[cam] = (start, reason)
    return gaps
