"""The recorder: ingest sessions -> segmenters -> disk writer and index, with honest gaps.

Threads: ingest (all sockets, segmenting), disk writer, index writer, housekeeping (heartbeat, free space, registry
reload, retention). Every instant of a camera known to this recorder is either inside a segment or inside a gap row
with a reason; gaps open at the end of the last recorded sample and close at the start of the next segment.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import Settings
from camgrid.db.engine import unit_of_work
from camgrid.ingest.loop import CameraSource, IngestLoop
from camgrid.media import fmp4
from camgrid.media.rtp import AccessUnit
from camgrid.registry.models import Camera
from camgrid.storage import index as ix
from camgrid.storage.recovery import RecoveryReport, open_downtime_gaps, recover
from camgrid.storage.segmenter import OpenSegment, Segmenter
from camgrid.storage.transform import PictureTransform
from camgrid.storage.writer import DiskWriter

log = logging.getLogger("camgrid.storage")
NS = 1_000_000_000
DISK_FULL = "disk_full"
DISK_SLOW = "disk_slow"
NOT_RUNNING = "recorder_not_running"
PACKET_LOSS = "packet_loss"


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


def load_sources(session: Session, node_id: str) -> list[CameraSource]:
    """Active cameras assigned to this node (or to no node, which a single-machine recorder takes)."""
    rows = session.scalars(
        select(Camera)
        .where(Camera.status == "active")
        .where(or_(Camera.recorder_node.is_(None), Camera.recorder_node == node_id))
        .order_by(Camera.id)
    )
    return [
        CameraSource(c.id, c.rtsp_url, c.username, c.password, c.feeder_id, c.site_id, c.sub_rtsp_url) for c in rows
    ]


class Recorder:
    """Records the cameras assigned to this node. Its ports come in through the constructor (the index writer, the
    camera filter) and a few registration methods (taps, listeners, hooks, transforms), called before :meth:`start`
    by the composition root (``camgrid.runtime``); nothing outside ``camgrid.storage`` touches its fields."""

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
        self._transforms: dict[str, PictureTransform] = {}
        self._recovery: RecoveryReport | None = None
        self._hooks: list[Callable[[], None]] = []  # housekeeping hooks (retention)
        # Other consumers of the same packets (the live view): one connection per camera serves them all.
        # Called on the ingest thread; must not block.
        self._taps: list[Callable[[str, AccessUnit, int, bool], None]] = []
        # State changes for the control room: (camera, state "recording"|"offline", reason, since_ns).
        self._state_listeners: list[Callable[[str, str, str, int], None]] = []
        # Every ingest session's up/down, recorded or not (live-only substreams too): (id, up, reason, at_ns).
        self._session_listeners: list[Callable[[str, bool, str, int], None]] = []
        # Cluster mode (camgrid.cluster): record only these cameras (the node's leases); None = every assigned one.
        self._only: set[str] | None = None if only is None else set(only)
        # Gaps to open for cameras the next reload (re)starts, instead of "starting": {camera: (start, reason, detail)}.
        self._pending_gaps: dict[str, tuple[int, str, str]] = {}
        # Cameras the next reload removes because another node records them now: no gap (they are not unrecorded).
        self._handed_over: set[str] = set()
        # Each session's codec and parameter sets, as ingest reports them before its first access unit.
        self._streams: dict[str, tuple[str, list[bytes]]] = {}

    # ports (the composition root registers these before start) -------------------------------------------------
    def add_tap(self, tap: Callable[[str, AccessUnit, int, bool], None]) -> None:
        """Another consumer of the same packets (the live view): one connection per camera serves them all.
        Called on the ingest thread with (camera, access unit, extended timestamp, jump); must not block."""
        self._taps.append(tap)

    def add_state_listener(self, listener: Callable[[str, str, str, int], None]) -> None:
        """Recorded cameras' state changes (camera, "recording"|"offline", gap reason, since_ns); ingest thread."""
        self._state_listeners.append(listener)

    def add_session_listener(self, listener: Callable[[str, bool, str, int], None]) -> None:
        """Every ingest session's up/down, recorded or not (live-only substreams too): (id, up, reason, at_ns)."""
        self._session_listeners.append(listener)

    def add_hook(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` on every housekeeping round (retention, mask sync, a cluster node's lease work), in the order
        registered; one failing hook never stops the others."""
        self._hooks.append(hook)

    def record_only(self, cameras: Iterable[str] | None) -> None:
        """Restrict recording to ``cameras`` (None: every assigned camera); applies at the next registry reload.
        Housekeeping thread (or before start)."""
        self._only = None if cameras is None else set(cameras)

    def take_over(self, camera_id: str, start_ns: int, reason: str, detail: str) -> None:
        """The next reload starts ``camera_id`` with an open gap from ``start_ns`` (why it was unrecorded before this
        node took it) instead of a fresh "starting" gap. Housekeeping thread."""
        self._pending_gaps[camera_id] = (start_ns, reason, detail)

    def hand_over(self, camera_id: str) -> None:
        """Another node records ``camera_id`` now: the next reload stops it here without a gap (it is not
        unrecorded). Housekeeping thread."""
        self._handed_over.add(camera_id)

    # what others may ask ---------------------------------------------------------------------------------------
    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def restricted(self) -> bool:
        """True when this recorder records only some cameras (a cluster's node or central node)."""
        return self._only is not None

    @property
    def recovery(self) -> RecoveryReport | None:
        """What crash recovery did at the last start."""
        return self._recovery

    def records(self, camera_id: str) -> bool:
        """Whether this recorder records ``camera_id`` (its connection then also serves the live view)."""
        return camera_id in self._cams

    def codec_of(self, camera_id: str) -> str:
        """The codec of the camera's current (or last) session, as ingest reported it; "" before any."""
        stream = self._streams.get(camera_id)
        return stream[0] if stream is not None else ""

    def transform_of(self, camera_id: str) -> PictureTransform | None:
        return self._transforms.get(camera_id)

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
        sources = load_sources(session, self._node_id)
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
        log.info("recording %d cameras on node %s into %s", len(sources), self._node_id, self._root)

    def stop(self) -> None:
        """Close every segment at its last whole fragment; the downtime that follows is a gap."""
        self._stop.set()
        self._loop.stop()  # sessions end -> on_state(down, recorder_stopped) closes segments and opens gaps
        if self._house is not None:
            self._house.join(10)
        self._writer.stop()
        self._index.stop()
        self._heartbeat()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    def _add_camera(self, src: CameraSource, gap: tuple[int, str] | None) -> None:
        seg = Segmenter(
            src.id,
            self._root,
            segment_seconds=self._cfg.segment_seconds,
            fragment_seconds=self._cfg.fragment_seconds,
            write_open=self._seg_open,
            write_append=self._seg_append,
            write_close=self._seg_close,
        )
        self._cams[src.id] = _Cam(seg, gap)
        self._sources[src.id] = src

    # segment callbacks (ingest thread) -------------------------------------------------------------------------
    def _seg_open(self, seg: OpenSegment, init: bytes) -> None:
        cam = self._cams[seg.key.split(":", 1)[0]]
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
        for listener in self._state_listeners:
            listener(cam.seg.camera_id, "offline", reason, start_ns)

    def _close_gap(self, cam: _Cam, end_ns: int) -> None:
        if cam.gap is None:
            return
        end_ns = max(end_ns, cam.gap[0])
        self._index.put(ix.GapClose(cam.seg.camera_id, end_ns))
        cam.stats.gap_seconds_closed += (end_ns - cam.gap[0]) / NS
        cam.gap = None
        for listener in self._state_listeners:
            listener(cam.seg.camera_id, "recording", "", end_ns)

    def _stop_recording(self, cam: _Cam, reason: str, detail: str, at_ns: int) -> None:
        end = cam.seg.finish()
        # The gap starts where the recording really ends (never earlier: no instant is both recorded and missing).
        self._open_gap(cam, end if end is not None else at_ns, reason, detail)

    # IngestSink ------------------------------------------------------------------------------------------------
    def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        transform = self._transforms.get(camera_id)
        if transform is not None:
            # A masked camera: its pictures go to the transform first; nothing else ever sees them as received.
            transform.submit(au, ext_ts, jump)
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
            self._stop_recording(cam, PACKET_LOSS, "the camera dropped pictures", au.arrival_ns)
        if self._writer.backlog_bytes > self._max_backlog:
            self._stop_recording(cam, DISK_SLOW, "the disk does not keep up", au.arrival_ns)
            return
        cam.seg.push(au, ext_ts, jump)

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        for listener in self._session_listeners:
            listener(camera_id, up, reason, at_ns)
        cam = self._cams.get(camera_id)
        if cam is None:
            return
        cam.stats.up = up
        if up:
            return  # the gap closes when the first segment opens (a keyframe is needed)
        if reason == "removed" and camera_id in self._handed_over:
            self._handed_over.discard(camera_id)
            cam.codec_known = False
            cam.seg.finish()
            cam.gap = None
            return
        if reason in ("recorder_stopped", "removed", "reconfigured"):
            reason = NOT_RUNNING
        cam.codec_known = False
        transform = self._transforms.get(camera_id)
        if transform is not None:
            transform.reset()
        self._stop_recording(cam, reason, detail, at_ns)

    def on_tick(self) -> None:
        for camera_id, transform in list(self._transforms.items()):
            for au, ext, jump in transform.drain():
                self._deliver(camera_id, au, ext, jump, transformed=True)
        self._writer.submit()

    def on_stream(self, camera_id: str, codec: str, params: Sequence[bytes]) -> None:
        """A session's codec and SDP parameter sets, reported by ingest before its first access unit."""
        self._streams[camera_id] = (codec, list(params))

    # writer errors (writer thread) -----------------------------------------------------------------------------
    def _on_write_error(self, key: str, error: str, valid_bytes: int) -> None:
        log.error("write failed for %s: %s (kept %d bytes)", key.split(":", 1)[0], error, valid_bytes)
        self._paused = DISK_FULL

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
                    if self._paused != DISK_FULL:
                        log.error("free space %d MB below the floor: recording paused", free >> 20)
                    self._paused = DISK_FULL
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
            return CameraSource(c.id, c.rtsp_url, c.username, c.password, c.feeder_id, c.site_id, c.sub_rtsp_url)

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
                start, reason, detail = pending or (self._clock.wall_ns(), "starting", "")
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
                "gap_seconds": gap_s,
                "segments": float(cam.stats.segments),
                "recording": 1.0 if cam.seg.seg is not None else 0.0,
                "state": "recording" if cam.seg.seg is not None else (gap[1] if gap else "idle"),
            }
        return out
