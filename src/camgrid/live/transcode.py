"""H.265 → H.264 for viewers whose browser cannot decode H.265 (docs/design/h265-for-viewers.md).

One :class:`Transcoder` per camera stream (main or sub) that such viewers watch, shared by all of them. It is fed the
hub's access units (never the recording's: recordings stay H.265) through a bounded queue and works on its own
thread: PyAV decodes the H.265 picture and libx264 (ultrafast, zerolatency, no B-frames, one thread) encodes it with a
keyframe exactly where the source has one, so a viewer joining waits no longer than for native H.264. When the thread
falls behind, pictures are dropped up to the next source keyframe. A failing picture drops the decoder up to the next
keyframe; one camera's trouble never reaches another's thread.
"""

from __future__ import annotations

import logging
import queue
import struct
import threading
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import av

from camgrid.media.nal import H264, is_keyframe_nal, is_parameter_set, nal_type, split_annexb
from camgrid.media.rtp import AccessUnit

log = logging.getLogger("camgrid.live")
_LEN = struct.Struct(">I")
START = b"\x00\x00\x00\x01"
KEYINT = 600  # the encoder's own keyframe limit; in practice every keyframe is forced at the source's

Output = Callable[[AccessUnit, int, bool], None]


def avcc_to_annexb(data: bytes | bytearray) -> bytes:
    """4-byte length-prefixed NAL units (an MP4 sample) → Annex B (what the decoder parses)."""
    out = []
    i = 0
    while i + 4 <= len(data):
        size = _LEN.unpack_from(data, i)[0]
        out.append(START)
        out.append(bytes(data[i + 4 : i + 4 + size]))
        i += 4 + size
    return b"".join(out)


def h264_encoder(width: int, height: int, *, threads: int = 1) -> Any:
    """libx264 for one viewer stream: low latency, no B-frames, parameter sets in every keyframe."""
    enc: Any = av.CodecContext.create("libx264", "w")
    enc.width, enc.height = width, height
    enc.pix_fmt = "yuv420p"
    enc.time_base = Fraction(1, 90_000)
    enc.framerate = Fraction(25, 1)
    enc.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "bf": "0",
        "x264-params": f"keyint={KEYINT}:min-keyint=1:scenecut=0:repeat-headers=1:log-level=error",
    }
    enc.thread_count = threads
    return enc


class Transcoder:
    """One stream's H.264 for viewers. :meth:`feed` is called on the ingest thread; ``out`` on this one's thread."""

    def __init__(self, key: str, out: Output, *, max_queue: int = 50, threads: int = 1, max_lag_s: float = 0.5) -> None:
        """``max_lag_s``: a picture that waited longer than this in the queue (the thread is behind: a busy machine)
        is dropped, and so is every picture up to the next keyframe: viewers skip ahead instead of drifting late."""
        self.key = key
        self._max_lag_s = max_lag_s
        self._behind = False  # own thread: skipping to the next keyframe
        self._out = out
        self._threads = threads
        self._in: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max_queue)
        self._skip_to_key = True  # ingest thread: drop until a keyframe (start, or after a full queue)
        self._decoder: Any = None
        self._encoder: Any = None
        self._arrivals: dict[int, int] = {}  # pts → arrival of the source picture (for the stream's origin)
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self.failures = 0
        self.busy_s = 0.0  # thread time spent decoding and encoding
        self.stopped = False
        self._thread = threading.Thread(target=self._run, name=f"transcode-{key}", daemon=True)
        self._thread.start()

    # ingest thread ---------------------------------------------------------------------------------------------
    def feed(self, codec: str, au: AccessUnit, ext: int, jump: bool, params: Sequence[bytes]) -> None:
        """One source picture; ``params`` are the stream's parameter sets (prepended to keyframes for the decoder)."""
        if self._skip_to_key:
            if not au.key:
                self.dropped += 1
                return
            self._skip_to_key = False
        try:
            self._in.put_nowait(("au", (codec, au, ext, jump, list(params) if au.key else [], time.monotonic())))
        except queue.Full:
            self.dropped += 1
            self._skip_to_key = True  # behind: the pictures queued are decoded, then the next keyframe

    def reset(self) -> None:
        """The source session ended: the next picture decoded is a keyframe of the new one."""
        self._skip_to_key = True
        try:
            self._in.put_nowait(("reset", None))
        except queue.Full:
            pass

    def stop(self) -> None:
        self.stopped = True
        while True:  # make room for the stop sentinel; what is queued is for no one now
            try:
                self._in.put_nowait(("stop", None))
                return
            except queue.Full:
                try:
                    self._in.get_nowait()
                except queue.Empty:
                    pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    # own thread ------------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            kind, arg = self._in.get()
            if kind == "stop" or self.stopped:
                return  # what is still queued is for viewers that left (a new twin may already be running)
            if kind == "reset":
                self._decoder = None
                continue
            *picture, queued = arg
            if self._late(picture[1], queued):
                continue
            t0 = time.thread_time()
            try:
                self._picture(*picture)
            except (av.FFmpegError, ValueError) as exc:
                log.warning("transcode %s: picture dropped (%s)", self.key, exc)
                self._failed()
            except Exception:  # a bug on one picture must not end the thread: the viewers would freeze
                log.exception("transcode %s: picture dropped", self.key)
                self._failed()
            finally:
                self.busy_s += time.thread_time() - t0

    def _late(self, au: AccessUnit, queued: float) -> bool:
        """True when this picture is dropped: it waited too long, or a keyframe is awaited after one that did."""
        if self._behind and not au.key:
            self.dropped += 1
            return True
        if time.monotonic() - queued > self._max_lag_s:
            self._behind = True
            self._decoder = None  # start again at the next keyframe, as a new viewer does
            self.dropped += 1
            return True
        self._behind = False
        return False

    def _failed(self) -> None:
        self.failures += 1
        self._decoder = None

    def _picture(self, codec: str, au: AccessUnit, ext: int, jump: bool, params: list[bytes]) -> None:
        self.frames_in += 1
        if codec == H264:  # the source is H.264 already (a substream may be): viewers get it as it is
            if self.stopped:
                return
            self.frames_out += 1
            self._out(au, ext, jump)
            return
        if self._decoder is None:
            if not au.key:
                return  # a decoder starts on a keyframe
            self._decoder = av.CodecContext.create("hevc", "r")
            self._decoder.thread_count = 1  # one picture in, one out: no frame-threading delay
        data = b"".join(START + p for p in params) + avcc_to_annexb(au.data)
        packet = av.Packet(data)
        packet.pts = ext
        packet.time_base = Fraction(1, 90_000)
        self._arrivals[ext] = au.arrival_ns
        if len(self._arrivals) > 64:
            self._arrivals.pop(next(iter(self._arrivals)))
        for frame in self._decoder.decode(packet):
            pts = frame.pts if frame.pts is not None else ext
            key = frame.key_frame  # the picture's own flag (a source with B-frames hands pictures out later)
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            if self._encoder is None or (self._encoder.width, self._encoder.height) != (frame.width, frame.height):
                self._encoder = h264_encoder(frame.width, frame.height, threads=self._threads)
            frame.pts = pts
            frame.time_base = Fraction(1, 90_000)
            # GOP aligned to the source: a keyframe out exactly where one came in (viewers join there)
            frame.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
            for pkt in self._encoder.encode(frame):
                self._emit(bytes(pkt), au, pts, jump)

    def _emit(self, annexb: bytes, src: AccessUnit, pts: int, jump: bool) -> None:
        if self.stopped:
            return
        nals = split_annexb(annexb)
        key = any(is_keyframe_nal(H264, nal_type(H264, n)) for n in nals)
        params = [n for n in nals if is_parameter_set(H264, nal_type(H264, n))]
        data = b"".join(_LEN.pack(len(n)) + n for n in nals)
        arrival = self._arrivals.get(pts, src.arrival_ns)
        self.frames_out += 1
        self._out(AccessUnit(src.ts, data, key, params, arrival_ns=arrival), pts, jump)
