"""Storing what a camera's card held: an ONVIF replay of an interval written as ``edge`` segments, exactly once.

The pictures come from ``ingest/replay.py`` with our time (the extension's camera time minus the clock offset);
they go through the live recorder's own segmenter and disk writer (``<start-ms>.edge.mp4`` beside the live files),
and a segment reaches the index only once its bytes are durable, as live ones do. A picture whose time falls inside
any segment already indexed (live or edge) is dropped, so a second call, an overlapping one, or one after a crash
writes nothing twice; each edge segment's row goes in with the gap rows shrunk to what is really lost, in one
transaction (docs/design/onvif.md, "Replay and storing what the card held").
"""

from __future__ import annotations

import bisect
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock, ns_to_iso
from camgrid.ingest.replay import ReplayError, ReplayPicture, replay
from camgrid.ingest.rtsp import Sdp
from camgrid.media import fmp4
from camgrid.storage.models import Gap, Segment
from camgrid.storage.paths import EDGE_SUFFIX, edge_segment_path, hour_dirs
from camgrid.storage.recovery import repair_file
from camgrid.storage.segmenter import OpenSegment, Segmenter
from camgrid.storage.writer import DiskWriter
from camgrid.vocabulary import SegmentSource, SegmentStatus

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
FOREVER = 1 << 62
# A hole in the card's recording longer than this ends the segment (live holds a frozen picture up to 2 s; a
# replay must not claim time the card does not hold); shorter ones are a picture or two lost on the way.
MAX_HOLD_S = 0.25
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class BackfillResult:
    recovered_ns: int
    segments: int
    pictures: int
    detail: str


@dataclass(frozen=True)
class _Durable:
    path: Path
    start_ns: int
    end_ns: int
    frames: int
    expected: int
    on_disk: int
    codec: str


def _camera_lock(camera_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(camera_id, threading.Lock())


def covered_spans(session: Session, camera_id: str, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
    """Merged [start, end) spans of [start_ns, end_ns) already held by a segment (live or edge; one being written
    covers everything after its start)."""
    rows = session.execute(
        select(Segment.start_ns, Segment.end_ns, Segment.status).where(
            and_(
                Segment.camera_id == camera_id,
                Segment.start_ns < end_ns,
                or_(Segment.end_ns > start_ns, Segment.status == SegmentStatus.WRITING),
            )
        )
    ).all()
    spans = sorted((s, FOREVER if status == SegmentStatus.WRITING else e) for s, e, status in rows)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class _Spans:
    """Lookups in merged spans: is an instant covered, where does the next covered span start."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self.starts = [s for s, _ in spans]

    def covers(self, t: int) -> bool:
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.spans[i][1]

    def next_start(self, t: int) -> int:
        i = bisect.bisect_right(self.starts, t)
        return self.starts[i] if i < len(self.starts) else FOREVER


def shrink_gaps(session: Session, camera_id: str, start_ns: int, end_ns: int, note: str) -> None:
    """Closed gap rows overlapping [start_ns, end_ns) lose that span: [a, b] becomes [a, start] and [end, b]."""
    gaps = (
        session.execute(
            select(Gap).where(
                and_(Gap.camera_id == camera_id, Gap.end_ns.is_not(None), Gap.start_ns < end_ns, Gap.end_ns > start_ns)
            )
        )
        .scalars()
        .all()
    )
    for gap in gaps:
        a, b = gap.start_ns, gap.end_ns
        assert b is not None
        detail = (gap.detail + "; " if gap.detail else "") + note
        if a >= start_ns and b <= end_ns:
            session.execute(delete(Gap).where(Gap.id == gap.id))
        elif a < start_ns and b > end_ns:
            session.execute(update(Gap).where(Gap.id == gap.id).values(end_ns=start_ns, detail=detail[:500]))
            session.execute(
                insert(Gap).values(
                    camera_id=camera_id,
                    start_ns=end_ns,
                    end_ns=b,
                    reason=gap.reason,
                    detail=detail[:500],
                    node_id=gap.node_id,
                )
            )
        elif a < start_ns:
            session.execute(update(Gap).where(Gap.id == gap.id).values(end_ns=start_ns, detail=detail[:500]))
        else:
            session.execute(update(Gap).where(Gap.id == gap.id).values(start_ns=end_ns, detail=detail[:500]))


def _remove_orphans(session: Session, recordings_dir: Path, camera_id: str, start_ns: int, end_ns: int) -> int:
    """Edge files of the interval with no row: a crash came between the file and its row. Removed (the replay
    writes them again)."""
    removed = 0
    for folder in hour_dirs(recordings_dir, camera_id, start_ns - 3600 * NS, end_ns):
        if not folder.is_dir():
            continue
        for f in folder.glob(f"*{EDGE_SUFFIX}"):
            if session.scalar(select(Segment.id).where(Segment.path == str(f))) is None:
                f.unlink(missing_ok=True)
                removed += 1
    return removed


class _Store:
    """The replay's pictures through a segmenter and a disk writer of their own; rows once durable."""

    def __init__(
        self,
        *,
        camera_id: str,
        start_ns: int,
        end_ns: int,
        clock_offset_ns: int,
        recordings_dir: Path,
        session_factory: sessionmaker[Session],
        node_id: str,
        covered: _Spans,
        segment_seconds: float,
    ) -> None:
        self.camera_id, self.start_ns, self.end_ns = camera_id, start_ns, end_ns
        self.offset, self.node_id, self.covered = clock_offset_ns, node_id, covered
        self.session_factory = session_factory
        self.writer = DiskWriter(fsync_interval_s=0, on_error=self._on_error)
        self.writer.collect_interval_s = 0.02
        self.seg = Segmenter(
            camera_id,
            recordings_dir,
            segment_seconds=segment_seconds,
            fragment_seconds=1.0,
            write_open=self._open,
            write_append=self._append,
            write_close=self._close,
            path_for=edge_segment_path,
            max_hold_seconds=MAX_HOLD_S,
        )
        self._durable: list[_Durable] = []
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self.segments = self.pictures = 0
        self.recovered_ns = 0
        self.skipped_covered = 0

    # segmenter callbacks (this thread) and the writer's (its thread) ------------------------------------------
    def _open(self, seg: OpenSegment, init: bytes) -> None:
        self.writer.open(seg.key, seg.path, init)

    def _append(self, seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        self.writer.append(seg.key, data)

    def _close(self, seg: OpenSegment, end_ns: int) -> None:
        path, start, frames, expected, codec = seg.path, seg.start_ns, seg.frames, seg.bytes, seg.codec
        # never over the next covered span, nor past the interval (the last picture's duration is a guess)
        end = min(end_ns, self.covered.next_start(start), self.end_ns)

        def done(on_disk: int) -> None:
            with self._lock:
                self._durable.append(_Durable(path, start, end, frames, expected, on_disk, codec))

        self.writer.close(seg.key, done)

    def _on_error(self, key: str, error: str, valid: int) -> None:
        self.errors.append(f"{key.split(':', 1)[-1]}: {error}")

    # pictures -------------------------------------------------------------------------------------------------
    def on_stream(self, sdp: Sdp) -> None:
        self.seg.set_codec(sdp.codec, sdp.params)

    def on_picture(self, p: ReplayPicture) -> None:
        if p.au.continuation:
            self.seg.push(p.au, p.ext, p.jump)
            return
        t = p.wall_ns
        if t < self.start_ns or t >= self.end_ns or self.covered.covers(t):
            self.skipped_covered += int(self.start_ns <= t < self.end_ns)
            self.seg.finish()  # what is open ends here: the next picture stored starts a new segment at a keyframe
            self.writer.submit()
            return
        self.seg.push(p.au, p.ext, p.jump)
        self.writer.submit()
        self.commit_durable()

    def finish(self) -> None:
        self.seg.finish()
        self.writer.stop()
        self.commit_durable()

    def commit_durable(self) -> None:
        with self._lock:
            ready, self._durable = self._durable, []
        for d in ready:
            self._index(d)

    def _index(self, d: _Durable) -> None:
        end, frames, size = d.end_ns, d.frames, d.on_disk
        if d.on_disk != d.expected:
            result = repair_file(d.path)
            if result is None or result.end_time is None:
                return
            end = min(end, d.start_ns + result.end_time * NS // fmp4.TIMESCALE)
            frames, size = result.samples, result.valid_bytes
        if end <= d.start_ns or frames == 0:
            d.path.unlink(missing_ok=True)
            return
        note = f"{ns_to_iso(d.start_ns)}-{ns_to_iso(end)} recovered from the camera's card"
        with self.session_factory() as session, session.begin():
            clash = session.scalar(
                select(Segment.id)
                .where(
                    and_(
                        Segment.camera_id == self.camera_id,
                        Segment.start_ns < end,
                        or_(Segment.end_ns > d.start_ns, Segment.status == SegmentStatus.WRITING),
                    )
                )
                .limit(1)
            )
            if clash is not None:  # indexed meanwhile (another node's backfill, a clock moved): never twice
                d.path.unlink(missing_ok=True)
                return
            session.execute(
                insert(Segment).values(
                    camera_id=self.camera_id,
                    start_ns=d.start_ns,
                    end_ns=end,
                    path=str(d.path),
                    bytes=size,
                    frames=frames,
                    codec=d.codec,
                    status=SegmentStatus.COMPLETE,
                    node_id=self.node_id,
                    source=SegmentSource.EDGE,
                    clock_offset_ns=self.offset,
                )
            )
            shrink_gaps(session, self.camera_id, d.start_ns, end, note)
        self.segments += 1
        self.pictures += frames
        self.recovered_ns += end - d.start_ns


def backfill_interval(
    *,
    camera_id: str,
    replay_uri: str,
    username: str,
    password: str,
    start_ns: int,
    end_ns: int,
    clock_offset_ns: int,
    recordings_dir: Path,
    session_factory: sessionmaker[Session],
    node_id: str,
    max_bytes_per_s: float,
    stop: threading.Event,
    clock: Clock,
    segment_seconds: float = 60.0,
    idle_timeout_s: float = 5.0,
) -> BackfillResult:
    """Replay [start_ns, end_ns) (our time) from the camera's card and store what no segment holds yet.

    Never raises for what the camera does: a refusal, garbage or a cut-off replay ends with what was stored so far
    and says why in ``detail``. Calls for one camera run one at a time (in this process).
    """
    if end_ns <= start_ns:
        return BackfillResult(0, 0, 0, "empty interval")
    with _camera_lock(camera_id):
        with session_factory() as session, session.begin():
            covered = _Spans(covered_spans(session, camera_id, start_ns, end_ns))
            orphans = _remove_orphans(session, recordings_dir, camera_id, start_ns, end_ns)
        if covered.spans and covered.spans[0][0] <= start_ns and covered.spans[0][1] >= end_ns:
            return BackfillResult(0, 0, 0, "already recorded: nothing to replay")
        store = _Store(
            camera_id=camera_id,
            start_ns=start_ns,
            end_ns=end_ns,
            clock_offset_ns=clock_offset_ns,
            recordings_dir=recordings_dir,
            session_factory=session_factory,
            node_id=node_id,
            covered=covered,
            segment_seconds=segment_seconds,
        )
        span_s = (end_ns - start_ns) / NS
        why = ""
        store.writer.start()
        try:
            outcome = replay(
                url=replay_uri,
                username=username,
                password=password,
                start_ns=start_ns + clock_offset_ns,
                end_ns=end_ns + clock_offset_ns,
                clock_offset_ns=clock_offset_ns,
                on_picture=store.on_picture,
                on_stream=store.on_stream,
                max_bytes_per_s=max_bytes_per_s,
                stop=stop,
                clock=clock,
                idle_timeout_s=idle_timeout_s,
                max_seconds=60.0 + 3 * span_s,
            )
            why = f"replay ended: {outcome.ended}"
            if outcome.bad_extensions:
                why += f"; {outcome.bad_extensions} packets with a malformed extension dropped"
            if outcome.unstamped:
                why += f"; {outcome.unstamped} pictures without a replay time dropped"
        except ReplayError as exc:
            why = f"replay failed: {exc.detail}"
        finally:
            store.finish()
        if store.errors:
            why += "; write errors: " + ", ".join(store.errors[:3])
        if orphans:
            why += f"; {orphans} unindexed edge files of an interrupted backfill removed"
        detail = f"{store.segments} segments, {store.recovered_ns / NS:.1f} s stored; {why}"
        log.info("camera %s: backfill %s", camera_id, detail)
        return BackfillResult(store.recovered_ns, store.segments, store.pictures, detail[:500])


__all__ = ["BackfillResult", "backfill_interval", "covered_spans", "shrink_gaps"]
