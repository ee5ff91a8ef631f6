"""Keyframe sampling without a thread per camera: a tap keeps each camera's latest keyframe, a small pool decodes one
per camera every ``tamper.interval_s`` into a :class:`~camgrid.motion.tamper.Look`.

Why this shape: decoding every picture of every camera is what makes other systems need a core per handful of
cameras; a keyframe decodes alone (its parameter sets first, ``skip_frame`` on the rest), so one every few seconds
costs about a millisecond per camera. The tap runs on the ingest thread and only stores a reference (O(1)); the
thread ``tamper`` schedules (at most ``2 x workers`` decodes in flight, one per camera) and hands each result to
``on_sample`` on its own thread; the workers ``tamper-decode_N`` decode and measure their CPU time
(``time.thread_time``), exported as ``camgrid_tamper_cpu_seconds_total``. The pictures are those the recorder
stores (after its privacy masks): the tamper check never sees what the recording does not. Design note:
docs/design/tamper.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from camgrid.clock import Clock
from camgrid.media.nal import H264, nal_type
from camgrid.media.rtp import AccessUnit
from camgrid.motion.tamper import Look, look_at
from camgrid.privacy.masker import avcc_to_annexb

log = logging.getLogger("camgrid.motion.tamper")
NS = 1_000_000_000
TICK_S = 0.2
STILL_WIDTH = 480  # incident stills: wide enough to see what happened, small enough to keep per incident


@dataclass(frozen=True)
class Sample:
    """One camera's keyframe, decoded and measured; ``au``/``params`` make its still on demand."""

    camera_id: str
    t_ns: int
    look: Look
    codec: str
    au: AccessUnit = field(repr=False)
    params: tuple[bytes, ...] = field(repr=False)

    def still(self) -> bytes:
        """This keyframe as a JPEG (decoded again: stills are rare, keeping pictures for them is not)."""
        return still_jpeg(self.codec, self.au, self.params)


def _frame(codec: str, au: AccessUnit, params: tuple[bytes, ...]) -> Any:
    import av

    dec: Any = av.CodecContext.create("h264" if codec == H264 else "hevc", "r")
    dec.thread_count = 1
    dec.skip_frame = "NONKEY"
    data = b"".join(b"\x00\x00\x00\x01" + p for p in params) + avcc_to_annexb(bytes(au.data))
    frames = list(dec.decode(av.Packet(data))) + list(dec.decode(None))
    return frames[0] if frames else None


def decode_luma(codec: str, au: AccessUnit, params: tuple[bytes, ...]) -> NDArray[np.uint8] | None:
    """One keyframe decoded on its own: its luma plane (a view of the decoder's buffer, copied), or None."""
    f = _frame(codec, au, params)
    if f is None:
        return None
    plane = f.planes[0]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return np.ascontiguousarray(rows[: f.height, : f.width])


def still_jpeg(codec: str, au: AccessUnit, params: tuple[bytes, ...], width: int = STILL_WIDTH) -> bytes:
    """A keyframe as a JPEG at most ``width`` wide (b"" if it does not decode)."""
    import av

    f = _frame(codec, au, params)
    if f is None:
        return b""
    w = min(width, f.width) // 2 * 2
    h = max(2, round(f.height * w / f.width) // 2 * 2)
    small = f.reformat(width=w, height=h, format="yuvj420p")
    enc: Any = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = w, h, "yuvj420p"
    enc.time_base = Fraction(1, 25)
    enc.options = {"qscale": "5"}
    enc.open()
    return b"".join(bytes(p) for p in [*enc.encode(small), *enc.encode(None)])


@dataclass
class _Cam:
    params: dict[int, bytes] = field(default_factory=dict)
    latest: AccessUnit | None = None
    latest_ns: int = 0
    taken: AccessUnit | None = None  # the last keyframe handed to a worker
    due_ns: int = 0
    busy: Future[Sample | None] | None = None


class KeyframeSampler:
    """Each camera's latest keyframe, decoded every ``interval_s`` by ``workers`` threads; ``on_sample`` gets the
    results and ``on_round`` is called once per ``interval_s`` (both on the thread ``tamper``)."""

    def __init__(
        self,
        *,
        clock: Clock,
        codec_of: Callable[[str], str],
        interval_s: float,
        workers: int,
        on_sample: Callable[[Sample], None],
        on_session: Callable[[str, bool, int], None] | None = None,
        on_round: Callable[[], None] | None = None,
        wanted: Callable[[str], bool] | None = None,
    ) -> None:
        """``wanted``: the cameras to decode (the recorder's own; its taps also see live-only substreams)."""
        self.clock = clock
        self.wanted = wanted
        self.codec_of = codec_of
        self.interval_ns = round(interval_s * NS)
        self.workers = workers
        self.on_sample = on_sample
        self.on_session = on_session
        self.on_round = on_round
        self.cpu_s = 0.0  # decode and measure time of the workers (time.thread_time), all cameras
        self.decoded = 0
        self.failed = 0
        self._cams: dict[str, _Cam] = {}  # keys added on the ingest thread only
        self._cpu_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # ingest thread ---------------------------------------------------------------------------------------------
    def tap(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        """``Recorder.add_tap``: keep the parameter sets and the latest keyframe (a reference, no copy)."""
        cam = self._cams.get(camera_id)
        if cam is None:
            cam = self._cams[camera_id] = _Cam()
        if au.params:
            codec = self.codec_of(camera_id) or H264
            for p in au.params:
                cam.params[nal_type(codec, p)] = bytes(p)
        if au.key and not au.continuation:
            cam.latest, cam.latest_ns = au, au.arrival_ns

    def session(self, camera_id: str, up: bool, reason: str, at_ns: int) -> None:
        """``Recorder.add_session_listener``: a camera that went away has no current picture to judge."""
        cam = self._cams.get(camera_id)
        if cam is not None and not up:
            cam.latest = None
        if self.on_session is not None:
            self.on_session(camera_id, up, at_ns)

    # life cycle ------------------------------------------------------------------------------------------------
    def start(self, *, schedule: bool = True) -> None:
        """The workers, and (``schedule``) the thread ``tamper`` that calls :meth:`step` (else the caller does)."""
        if self._pool is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tamper-decode")
        if schedule:
            self._thread = threading.Thread(target=self._run, name="tamper", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def gauges(self) -> dict[str, float]:
        """For /metrics: CPU seconds the decoding took and the cameras sampled."""
        return {
            "camgrid_tamper_cpu_seconds_total": self.cpu_s,
            "camgrid_tamper_cameras": float(
                sum(1 for i, c in list(self._cams.items()) if c.latest is not None and self._wants(i))
            ),
            "camgrid_tamper_keyframes_decoded_total": float(self.decoded),
        }

    def _wants(self, camera_id: str) -> bool:
        return self.wanted is None or self.wanted(camera_id)

    # thread "tamper" -------------------------------------------------------------------------------------------
    def _run(self) -> None:
        next_round = time.monotonic()
        while not self._stop.wait(TICK_S):
            try:
                self.step()
                if self.on_round is not None and time.monotonic() >= next_round:
                    next_round = time.monotonic() + self.interval_ns / NS
                    self.on_round()
            except Exception:  # the sampler outlives one bad round (logged; the next round tries again)
                log.exception("tamper sampling round failed")

    def step(self) -> int:
        """Hand finished samples to ``on_sample`` and start due decodes; returns how many started."""
        assert self._pool is not None
        now = self.clock.wall_ns()
        in_flight = 0
        for cid, cam in list(self._cams.items()):
            if cam.busy is not None:
                if not cam.busy.done():
                    in_flight += 1
                    continue
                fut, cam.busy = cam.busy, None
                try:
                    sample = fut.result()
                except Exception as exc:  # an undecodable keyframe is no verdict: the next one is tried
                    self.failed += 1
                    log.debug("camera %s: keyframe not decoded (%s)", cid, exc)
                    sample = None
                if sample is not None:
                    self.on_sample(sample)
        started = 0
        for cid, cam in list(self._cams.items()):
            au = cam.latest
            if in_flight >= 2 * self.workers:
                break
            if au is None or au is cam.taken or cam.busy is not None or now < cam.due_ns:
                continue
            if not self._wants(cid):
                continue
            cam.taken, cam.due_ns = au, now + self.interval_ns
            params = tuple(cam.params[t] for t in sorted(cam.params))
            cam.busy = self._pool.submit(self._decode, cid, au, params, cam.latest_ns or now)
            in_flight += 1
            started += 1
        return started

    # workers ---------------------------------------------------------------------------------------------------
    def _decode(self, cid: str, au: AccessUnit, params: tuple[bytes, ...], t_ns: int) -> Sample | None:
        t0 = time.thread_time()
        try:
            codec = self.codec_of(cid) or H264
            y = decode_luma(codec, au, params)
            sample = None if y is None else Sample(cid, t_ns, look_at(y), codec, au, params)
            self.decoded += 1
            return sample
        finally:
            spent = time.thread_time() - t0
            with self._cpu_lock:
                self.cpu_s += spent
