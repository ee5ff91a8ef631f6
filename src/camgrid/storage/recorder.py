"""The recorder: ingest sessions -> segmenters -> disk writer and index, with honest gaps.

Threads: ingest (all sockets, segmenting), disk writer, index writer, housekeeping (heartbeat, free space, registry
reload, retention), and a watchdog that restarts any of them that died (``thread_status()``). Every instant of a
camera known to this recorder is either inside a segment or inside a gap row with a reason; gaps open at the end of
the last recorded sample and close at the start of the next segment. camgrid's own failure on one camera's data is
that camera's ``internal_error`` gap, never the others' (docs/design/gaps-and-recovery.md).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import Settings
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.ingest.loop import ENDED_RECONFIGURED, ENDED_REMOVED, ENDED_STOPPED, CameraSource, IngestLoop
from camgrid.media import fmp4
from camgrid.media.audio import AudioFrame, AudioTrack
from camgrid.media.rtp import AccessUnit, PictureJoiner
from camgrid.registry.models import Camera
from camgrid.storage import index as ix
from camgrid.storage.recorder_ports import RecorderPorts
from camgrid.storage.recorder_threads import THREADS as THREADS
from camgrid.storage.recorder_threads import ThreadSupervision
from camgrid.storage.recovery import RecoveryReport, open_downtime_gaps, recover
from camgrid.storage.segmenter import OpenSegment, Segmenter
from camgrid.storage.sources import camera_source as camera_source
from camgrid.storage.sources import load_sources as load_sources
from camgrid.storage.transform import PictureTransform
from camgrid.storage.watchdog import ThreadWatch
from camgrid.storage.writer import DiskWriter
from camgrid.vocabulary import CameraState, GapReason

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000


@dataclass
class CameraStats:
    gap_seconds_closed: float = 0.0
    segments: int = 0
    up: bool = False


@dataclass
class _Cam:
    seg: Segmenter
    gap: tuple[int, str] | None = None  # open gap (start_ns, reason)
    stats: CameraStats = field(default_factory=CameraStats)
    codec_known: bool = False
    crash: str = ""  # the kind and place of camgrid's last failure on this camera's pictures (traceback logged once)


class Recorder(ThreadSupervision, RecorderPorts):
    """Records the cameras assigned to this node. Its ports come in through the constructor (the index writer, the
    camera filter) and a few registration methods (taps, listeners, hooks, transforms), called before :meth:`start`
    by the composition root (``camgrid.runtime``); nothing outside ``camgrid.storage`` touches its fields."""

    _watch: ThreadWatch | None = None  # set by start()
    _watchdog: threading.Thread | None = None

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        factory: sessionmaker[Session],
        clock: Clock,
        index: ix.IndexWriter | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        """``index``: where index rows go (default: straight to the database; a cluster node passes its outbox).
        ``only``: record only these cameras (a cluster node's leases; empty: none, the central node's live-only
        recorder); None records every camera assigned to this node."""
        super().__init__(only=only)
        self._settings = settings
        self._cfg = settings.recorder
        self._engine = engine
        self._factory = factory
        self._clock = clock
        self._node_id = self._cfg.node_id
        self._root = settings.recordings_dir
        self._root.mkdir(parents=True, exist_ok=True)
        self._run_dir = settings.home / "run"
        self._run_dir.mkdir(parents=True, exist_ok=True)
        self._box = SecretBox(settings.secrets_key_path)
        self._heartbeat_path = self._run_dir / f"recorder-{self._node_id}.heartbeat"
        self._cams: dict[str, _Cam] = {}
        self._index = index if index is not None else ix.IndexWriter(engine)
        self._writer = DiskWriter(fsync_interval_s=self._cfg.fsync_interval_s, on_error=self._on_write_error)
        self._loop = IngestLoop(sink=self, config=self._cfg, clock=clock)
        self._paused: str = ""  # non-empty: not writing (disk_full), with the reason
        self._max_backlog = 64 * 1024 * 1024
        self._stop = threading.Event()
        self._house: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._sources: dict[str, CameraSource] = {}
        self._live_only: set[str] = set()
        self._joiners: dict[str, PictureJoiner] = {}  # masked cameras: whole pictures for their transform
        self._recovery: RecoveryReport | None = None

    # what others may ask ---------------------------------------------------------------------------------------
    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def recovery(self) -> RecoveryReport | None:
        """What crash recovery did at the last start."""
        return self._recovery

    def records(self, camera_id: str) -> bool:
        """Whether this recorder records ``camera_id`` (its connection then also serves the live view)."""
        return camera_id in self._cams

    def session_counters(self) -> dict[str, dict[str, object]]:
        """Per-session ingest counters (bytes, frames, reconnects, state): what a cluster node's bitrates count."""
        return self._loop.snapshot()

    def gauges(self) -> dict[str, float]:
        """Process-wide gauges for the metrics endpoint."""
        return {
            "camgrid_recorder_disk_free_bytes": float(shutil.disk_usage(self._root).free),
            "camgrid_recorder_paused": 1.0 if self._paused else 0.0,
            "camgrid_recorder_index_pending": float(self._index.pending()),
            "camgrid_recorder_write_backlog_bytes": float(self._writer.backlog_bytes),
            # the write pattern a hard disk sees (docs/design/packet-path.md, "Hard disks")
            "camgrid_recorder_write_calls_total": float(self._writer.write_calls),
            "camgrid_recorder_flushes_total": float(self._writer.flushes),
            "camgrid_recorder_flush_seconds_total": self._writer.flush_seconds,
            "camgrid_recorder_unflushed_seconds": self._writer.unflushed_seconds(),
            **self.thread_gauges(),
        }

    # life cycle ------------------------------------------------------------------------------------------------
    def _lock(self) -> None:
        path = self._run_dir / f"recorder-{self._node_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"another recorder {self._node_id!r} is running on {self._settings.home}") from None
        self._lock_fd = fd

    def _last_alive(self) -> int | None:
        try:
            return int(self._heartbeat_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _heartbeat(self) -> None:
        tmp = self._heartbeat_path.with_suffix(".tmp")
        tmp.write_text(str(self._clock.wall_ns()))
        tmp.replace(self._heartbeat_path)

    def _load(self, session: Session) -> list[CameraSource]:
        sources = load_sources(session, self._node_id, self._box)
        if self._only is not None:
            sources = [s for s in sources if s.id in self._only]
        return sources

    def start(self) -> None:
        self._lock()
        now = self._clock.wall_ns()
        with unit_of_work(self._factory) as session:
            sources = self._load(session)
            ids = [s.id for s in sources]
            self._recovery = recover(
                session=session,
                root=self._root,
                node_id=self._node_id,
                camera_ids=ids,
                last_alive_ns=self._last_alive(),
                now_ns=now,
            )
            gaps = open_downtime_gaps(
                session=session, node_id=self._node_id, camera_ids=ids, last_alive_ns=self._last_alive(), now_ns=now
            )
        rep = self._recovery
        log.info(
            "recovery: %d segments repaired, %d indexed, %d removed, %d torn bytes cut",
            rep.repaired,
            rep.indexed,
            rep.removed,
            rep.bytes_cut,
        )
        for src in sources:
            self._add_camera(src, gaps.get(src.id))
        self._heartbeat()
        self._index.start()
        self._writer.start()
        for src in sources:
            self._loop.add(src)
        self._loop.start()
        self._house = threading.Thread(target=self._housekeeping, name="housekeeping", daemon=True)
        self._house.start()
        self._start_watchdog()
        log.info("recording %d cameras on node %s into %s", len(sources), self._node_id, self._root)

    def stop(self) -> None:
        """Close every segment at its last whole fragment; the downtime that follows is a gap.

        A recorder whose start never got its threads going only lets go of its lock: a heartbeat written now would
        tell the next start that it had been recording until now."""
        if self._house is None:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            return
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(10)  # before the others stop: a stopped thread is not a dead one
        self._loop.stop()  # sessions end -> on_state(down, recorder_stopped) closes segments and opens gaps
        if self._house is not None:
            self._house.join(10)
        self._writer.stop()
        self._index.stop()
        self._heartbeat()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    def _add_camera(self, src: CameraSource, gap: tuple[int, str] | None) -> None:
        self._cams[src.id] = _Cam(self._new_segmenter(src.id), gap)
        self._sources[src.id] = src

    def _new_segmenter(self, camera_id: str) -> Segmenter:
        return Segmenter(
            camera_id,
            self._root,
            segment_seconds=self._cfg.segment_seconds,
            fragment_seconds=self._cfg.fragment_seconds,
            write_open=self._seg_open,
            write_append=self._seg_append,
            write_close=self._seg_close,
        )

    # segment callbacks (ingest thread) -------------------------------------------------------------------------
    def _seg_open(self, seg: OpenSegment, init: bytes) -> None:
        cam = self._cams[seg.key.split(":", 1)[0]]
        last_end = cam.seg.last_end_ns
        if cam.gap is None and last_end is not None and seg.start_ns > last_end:
            # Never a hole: time between two segments with no gap open is a pause of the camera's media.
            self._open_gap(cam, last_end, GapReason.STALLED, self._pause_detail(cam))
        self._index.put(ix.SegOpen(cam.seg.camera_id, seg.start_ns, str(seg.path), seg.codec, self._node_id))
        self._writer.open(seg.key, seg.path, init)
        self._close_gap(cam, seg.start_ns)
        cam.stats.segments += 1

    def _seg_append(self, seg: OpenSegment, data: list[bytes | bytearray]) -> None:
        self._writer.append(seg.key, data)

    def _seg_close(self, seg: OpenSegment, end_ns: int) -> None:
        expected = seg.bytes
        path = seg.path
        start = seg.start_ns
        frames = seg.frames

        def done(on_disk: int) -> None:  # writer thread
            if on_disk == expected:
                self._index.put(ix.SegClose(str(path), end_ns, on_disk, frames))
                return
            # A write failed (disk full): index what the file really holds.
            try:
                result = fmp4.scan(path.read_bytes())
            except OSError:
                result = None
            if result is None or result.end_time is None:
                path.unlink(missing_ok=True)
                self._index.put(ix.SegDrop(str(path)))
            else:
                real_end = start + result.end_time * NS // fmp4.TIMESCALE
                self._index.put(ix.SegClose(str(path), real_end, result.valid_bytes, result.samples))

        self._writer.close(seg.key, done)

    # gaps (ingest thread) --------------------------------------------------------------------------------------
    def _open_gap(self, cam: _Cam, start_ns: int, reason: str, detail: str = "") -> None:
        if cam.gap is not None:
            if cam.gap[1] == reason:
                return
            # The reason changed while the camera stays unrecorded: split the gap where we learnt it.
            split = max(cam.gap[0], min(start_ns, self._clock.wall_ns()))
            self._close_gap(cam, split)
            start_ns = split
        self._index.put(ix.GapOpen(cam.seg.camera_id, start_ns, reason, detail, self._node_id))
        cam.gap = (start_ns, reason)
        self._tell(self._state_listeners, cam.seg.camera_id, CameraState.OFFLINE, reason, start_ns)

    def _close_gap(self, cam: _Cam, end_ns: int) -> None:
        if cam.gap is None:
            return
        end_ns = max(end_ns, cam.gap[0])
        self._index.put(ix.GapClose(cam.seg.camera_id, end_ns))
        cam.stats.gap_seconds_closed += (end_ns - cam.gap[0]) / NS
        cam.gap = None
        self._tell(self._state_listeners, cam.seg.camera_id, CameraState.RECORDING, "", end_ns)

    @staticmethod
    def _tell(listeners: list[Callable[..., None]], *args: object) -> None:
        """A listener (the control room, the live view) that fails is logged; the camera's recording goes on."""
        for listener in listeners:
            try:
                listener(*args)
            except Exception:
                log.exception("listener %s failed", getattr(listener, "__qualname__", listener))

    def _stop_recording(self, cam: _Cam, reason: str, detail: str, at_ns: int) -> None:
        try:
            end = cam.seg.finish()
        except Exception:
            log.exception("camera %s: its segment could not be closed; recovery completes it", cam.seg.camera_id)
            end = self._drop_segmenter(cam)
        if end is None and cam.gap is None:
            end = cam.seg.last_end_ns  # a segment cut earlier (a pause) with no gap yet: the gap starts there
        # The gap starts where the recording really ends (never earlier: no instant is both recorded and missing).
        self._open_gap(cam, end if end is not None else at_ns, reason, detail)

    def _drop_segmenter(self, cam: _Cam) -> int | None:
        """A segmenter that failed is replaced; its file is closed as it stands (recovery scans it at the next
        start). Returns where its recording is known to end."""
        old = cam.seg
        if old.seg is not None:
            self._writer.close(old.seg.key)
        cam.seg = self._new_segmenter(old.camera_id)
        cam.seg.last_end_ns = old.last_end_ns
        return old.last_end_ns

    def _pause_detail(self, cam: _Cam) -> str:
        return f"the camera's media paused for {cam.seg.pause_ns / NS:.1f} s"

    def _camera_failed(self, camera_id: str, cam: _Cam | None, exc: Exception) -> None:
        """camgrid failed on this camera's pictures: an ``internal_error`` gap, and its session retried."""
        detail = f"{type(exc).__name__}: {exc}"[:300]
        where = traceback.extract_tb(exc.__traceback__)[-1:]
        key = f"{type(exc).__name__} at {where[0].filename}:{where[0].lineno}" if where else detail
        if cam is None or cam.crash != key:
            log.error("camera %s: internal error on its pictures; session retried", camera_id, exc_info=exc)
        else:
            log.warning("camera %s: internal error on its pictures again (%s)", camera_id, detail)
        if cam is not None:
            cam.crash = key
            cam.codec_known = False
            self._stop_recording(cam, GapReason.INTERNAL_ERROR, detail, self._clock.wall_ns())
        transform = self._transforms.get(camera_id)
        if transform is not None:
            try:
                transform.reset()
            except Exception:
                log.exception("camera %s: its picture transform could not be reset", camera_id)
        self._loop.fail(camera_id, GapReason.INTERNAL_ERROR, detail)

    # IngestSink ------------------------------------------------------------------------------------------------
    def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        transform = self._transforms.get(camera_id)
        if transform is not None:
            # A masked camera: its pictures go to the transform first; nothing else ever sees them as received.
            # Its decoder needs whole pictures: slices sent as separate access units (live555) are joined first.
            joined = self._joiners.setdefault(camera_id, PictureJoiner()).push(au, ext_ts, jump)
            if joined is not None:
                transform.submit(*joined)
            return
        self._deliver(camera_id, au, ext_ts, jump, transformed=False)

    def set_transform(self, camera_id: str, transform: PictureTransform | None) -> None:
        """Install (or remove) a picture transform for a camera, e.g. privacy masks; applies from the next picture."""
        old = self._transforms.get(camera_id)
        if transform is None:
            self._transforms.pop(camera_id, None)
        else:
            self._transforms[camera_id] = transform
        if old is not None and old is not transform:
            old.close()

    def _deliver(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool, *, transformed: bool) -> None:
        for tap in self._taps:
            tap(camera_id, au, ext_ts, jump)
        cam = self._cams.get(camera_id)
        if cam is None:
            return  # a live-only session (a substream): nothing to record
        if au.continuation:
            cam.seg.push(au, ext_ts, jump)  # more slices of the held picture, or news that its rest was lost
            return
        if not cam.codec_known:
            stream = self._streams.get(camera_id)
            if stream is not None:
                # Transformed pictures carry their own parameter sets; the camera's would describe another stream.
                cam.seg.set_codec(stream[0], [] if transformed else stream[1])
                cam.codec_known = True
        if self._paused:
            if cam.seg.seg is not None or cam.gap is None or cam.gap[1] != self._paused:
                self._stop_recording(cam, self._paused, "free space below the floor", au.arrival_ns)
            return
        if au.after_loss and cam.seg.seg is not None:
            # Pictures were lost: what follows may not decode until a keyframe, so the segment ends here.
            self._stop_recording(cam, GapReason.PACKET_LOSS, "the camera dropped pictures", au.arrival_ns)
        if self._writer.backlog_bytes > self._max_backlog:
            self._stop_recording(cam, GapReason.DISK_SLOW, "the disk does not keep up", au.arrival_ns)
            return
        cam.seg.push(au, ext_ts, jump)
        if cam.seg.cut_on_pause and cam.gap is None and cam.seg.last_end_ns is not None:
            # The camera paused too long for its last picture to stand for the time: stalled from its end.
            self._open_gap(cam, cam.seg.last_end_ns, GapReason.STALLED, self._pause_detail(cam))

    def on_audio_stream(self, camera_id: str, track: AudioTrack | None) -> None:
        """The session's audio track: recorded from its next segment on (docs/design/audio.md)."""
        for tap in self._audio_taps:
            self._tell([tap.audio_stream], camera_id, track)
        cam = self._cams.get(camera_id)
        src = self._sources.get(camera_id)
        if cam is not None:
            cam.seg.set_audio(track if src is not None and src.audio else None)

    def on_audio_frame(self, camera_id: str, frame: AudioFrame, wall_ns: int, ext_ts: int, jump: bool) -> None:
        for tap in self._audio_taps:
            self._tell([tap.audio_frame], camera_id, frame, wall_ns, ext_ts, jump)
        cam = self._cams.get(camera_id)
        if cam is not None and not self._paused:
            cam.seg.push_audio(frame, wall_ns, ext_ts, jump)

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        self._tell(self._session_listeners, camera_id, up, reason, at_ns)
        cam = self._cams.get(camera_id)
        if cam is None:
            return
        cam.stats.up = up
        if up:
            return  # the gap closes when the first segment opens (a keyframe is needed)
        if reason == ENDED_REMOVED and camera_id in self._handed_over:
            self._handed_over.discard(camera_id)
            cam.codec_known = False
            cam.seg.finish()
            cam.seg.last_end_ns = None  # another node records it now: the time until it comes back is no hole
            cam.gap = None
            return
        if reason in (ENDED_STOPPED, ENDED_REMOVED, ENDED_RECONFIGURED):
            reason = GapReason.NOT_RUNNING
        cam.codec_known = False
        transform = self._transforms.get(camera_id)
        if transform is not None:
            transform.reset()
        self._stop_recording(cam, reason, detail, at_ns)

    def on_tick(self) -> None:
        for camera_id, transform in list(self._transforms.items()):
            try:
                for au, ext, jump in transform.drain():
                    self._deliver(camera_id, au, ext, jump, transformed=True)
            except Exception as exc:  # one camera's pictures never stop the others'
                self._camera_failed(camera_id, self._cams.get(camera_id), exc)
        self._writer.submit()

    # writer errors (writer thread) -----------------------------------------------------------------------------
    def _on_write_error(self, key: str, error: str, valid_bytes: int) -> None:
        log.error("write failed for %s: %s (kept %d bytes)", key.split(":", 1)[0], error, valid_bytes)
        self._paused = GapReason.DISK_FULL

    def _on_write_bug(self, key: str, error: str) -> None:
        """The writer failed on one file (a bug, already logged): that camera's segment ends with an internal error."""
        self._loop.call(lambda: self._cut_segment(key, error))

    def _cut_segment(self, key: str, error: str) -> None:  # ingest thread
        cam = self._cams.get(key.split(":", 1)[0])
        if cam is not None and cam.seg.seg is not None and cam.seg.seg.key == key:
            cam.codec_known = False
            self._stop_recording(
                cam, GapReason.INTERNAL_ERROR, f"the disk writer failed: {error}", self._clock.wall_ns()
            )

    # thread supervision ----------------------------------------------------------------------------------------
    @property
    def paused(self) -> str:
        """Why nothing is being written (``disk_full``), or "" while recording."""
        return self._paused

    def _start_watchdog(self) -> None:
        self._writer.on_internal_error = self._on_write_bug
        watch = ThreadWatch(clock=self._clock)
        watch.watch("ingest", alive=self._loop.is_running, restart=self._loop.start)
        watch.watch("disk-writer", alive=self._writer.is_running, restart=self._restart_writer)
        watch.watch("index-writer", alive=self._index.is_running, restart=self._index.restart)
        watch.watch("housekeeping", alive=self._house_running, restart=self._restart_housekeeping)
        self._watch = watch
        self._watchdog = threading.Thread(
            target=watch.run, args=(self._stop, self._cfg.heartbeat_interval_s), name="watchdog", daemon=True
        )
        self._watchdog.start()

    def _house_running(self) -> bool:
        return self._house is not None and self._house.is_alive()

    def _restart_housekeeping(self) -> None:
        self._house = threading.Thread(target=self._housekeeping, name="housekeeping", daemon=True)
        self._house.start()

    def _restart_writer(self) -> None:
        """Operations the dead thread held may be lost: every open segment ends, with an internal error gap."""
        self._writer.restart()
        self._loop.call(self._cut_all_segments)

    def _cut_all_segments(self) -> None:  # ingest thread
        for cam in list(self._cams.values()):
            if cam.seg.seg is not None:
                cam.codec_known = False
                detail = "the disk writer stopped and was restarted"
                self._stop_recording(cam, GapReason.INTERNAL_ERROR, detail, self._clock.wall_ns())

    # housekeeping ----------------------------------------------------------------------------------------------
    def free_bytes(self) -> int:
        return shutil.disk_usage(self._root).free

    def _housekeeping(self) -> None:
        floor = self._cfg.free_space_floor_mb * 1024 * 1024
        reload_every = 10.0
        next_reload = self._clock.monotonic() + reload_every
        while not self._stop.wait(self._cfg.heartbeat_interval_s):
            try:
                self._heartbeat()
                free = self.free_bytes()
                if free < floor:
                    if self._paused != GapReason.DISK_FULL:
                        log.error("free space %d MB below the floor: recording paused", free >> 20)
                    self._paused = GapReason.DISK_FULL
                elif self._paused and free > floor * 1.1 + 16 * 1024 * 1024:
                    log.warning("free space is back (%d MB): recording resumes", free >> 20)
                    self._paused = ""
            except Exception:
                log.exception("housekeeping failed; will retry")
            # Each step on its own: the registry (the database) being away must not stop a cluster node's heartbeat
            # on the bus, nor one failing hook the others.
            if self._clock.monotonic() >= next_reload:
                next_reload = self._clock.monotonic() + reload_every
                try:
                    self.reload_registry()
                except Exception as exc:
                    log.warning("registry reload failed (%s); recording what it has", exc)
            for hook in self._hooks:
                try:
                    hook()
                except Exception:
                    log.exception("housekeeping hook %s failed; will retry", getattr(hook, "__qualname__", hook))

    def open_live_session(self, key: str, source: CameraSource) -> None:
        """Start an ingest session that is watched but not recorded (a camera's substream); idempotent."""
        if key in self._live_only:
            return
        self._live_only.add(key)
        self._loop.add(source)

    def close_live_session(self, key: str) -> None:
        if key in self._live_only:
            self._live_only.discard(key)
            self._loop.remove(key)

    def source_of(self, camera_id: str) -> CameraSource | None:
        return self._sources.get(camera_id)

    def live_source(self, camera_id: str) -> CameraSource | None:
        """Any active camera of the registry, recorded here or not (a cluster's central node watches cameras that
        recorder nodes record)."""
        src = self._sources.get(camera_id)
        if src is not None:
            return src
        with unit_of_work(self._factory) as session:
            c = session.get(Camera, camera_id)
            if c is None or c.status != "active":
                return None
            return camera_source(c, self._box)

    def reload_registry(self) -> None:
        """Pick up imported, changed and removed cameras without a restart."""
        with unit_of_work(self._factory) as session:
            sources = {s.id: s for s in self._load(session)}
        for cid, src in sources.items():
            old = self._sources.get(cid)
            if old == src:
                continue
            pending = self._pending_gaps.pop(cid, None) if old is None else None
            if cid not in self._cams or pending is not None:
                start, reason, detail = pending or (self._clock.wall_ns(), GapReason.STARTING, "")
                if cid not in self._cams:
                    self._add_camera(src, None)
                self._index.put(ix.GapOpen(cid, start, reason, detail, self._node_id))
                self._cams[cid].gap = (start, reason)
            self._sources[cid] = src
            self._loop.add(src)
        for cid in set(self._sources) - set(sources):
            del self._sources[cid]
            self._loop.remove(cid)

    # metrics ---------------------------------------------------------------------------------------------------
    def metrics(self) -> dict[str, dict[str, float | str]]:
        snap = self._loop.snapshot()
        now = self._clock.wall_ns()
        out: dict[str, dict[str, float | str]] = {}
        for cid, cam in list(self._cams.items()):
            s = snap.get(cid, {})
            gap_s = cam.stats.gap_seconds_closed
            gap = cam.gap
            if gap is not None:
                gap_s += max(0, now - gap[0]) / NS
            out[cid] = {
                "bytes": float(s.get("bytes", 0)),  # type: ignore[arg-type]
                "frames": float(s.get("frames", 0)),  # type: ignore[arg-type]
                "reconnects": float(s.get("reconnects", 0)),  # type: ignore[arg-type]
                "lost_packets": float(s.get("lost_packets", 0)),  # type: ignore[arg-type]
                "dropped_packets": float(s.get("dropped_packets", 0)),  # type: ignore[arg-type]
                "reordered_packets": float(s.get("reordered_packets", 0)),  # type: ignore[arg-type]
                "gap_seconds": gap_s,
                "segments": float(cam.stats.segments),
                "recording": 1.0 if cam.seg.seg is not None else 0.0,
                "state": CameraState.RECORDING if cam.seg.seg is not None else (gap[1] if gap else "idle"),
            }
        return out
