"""The decode-mask-encode path for one masked camera (libav through PyAV), on its own thread.

Pictures as received are decoded in memory, the masked pixels are set to black in every plane, and the picture is
encoded again (same codec, no B-frames, a keyframe every GOP, parameter sets repeated) with the original timing.
The unmasked stream never leaves this object: no file, no queue to anything else. A mask change applies from the
next decoded picture; after a reconnect the first picture out is a keyframe.
"""

from __future__ import annotations

import logging
import queue
import struct
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Polygon

from camgrid.media.nal import H264, is_keyframe_nal, is_parameter_set, nal_type, split_annexb
from camgrid.media.rtp import AccessUnit
from camgrid.privacy.geometry import chroma, raster

log = logging.getLogger("camgrid.privacy")
_LEN = struct.Struct(">I")
Y_BLACK, UV_NEUTRAL = 16, 128


def avcc_to_annexb(data: bytes | bytearray) -> bytes:
    out = []
    i = 0
    while i + 4 <= len(data):
        size = _LEN.unpack_from(data, i)[0]
        out.append(b"\x00\x00\x00\x01")
        out.append(bytes(data[i + 4 : i + 4 + size]))
        i += 4 + size
    return b"".join(out)


class Masker:
    """A :class:`camgrid.storage.transform.PictureTransform` that burns privacy masks in."""

    def __init__(
        self,
        camera_id: str,
        codec: str | Callable[[], str],
        polygons: Sequence[Polygon],
        *,
        gop: int = 50,
        max_queue: int = 100,
    ) -> None:
        self.camera_id = camera_id
        self._codec_of = codec if callable(codec) else (lambda c=codec: c)
        self.codec = self._codec_of()
        self.gop = gop
        self._polygons = list(polygons)
        self._planes: tuple[int, int, NDArray[np.bool_], NDArray[np.bool_]] | None = None
        # Pictures and control messages in one queue, in order (a new mask applies from the next picture, never to
        # one submitted before it); only pictures are bounded, by the slots: a control message never waits, so the
        # ingest thread that calls reset()/close()/set_polygons() can never block behind a stuck masker.
        self._in: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(max_queue)
        self._out: list[tuple[AccessUnit, int, bool]] = []
        self._out_lock = threading.Lock()
        self._decoder: Any = None
        self._encoder: Any = None
        self._force_key = True
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"mask-{camera_id}", daemon=True)
        self._thread.start()

    # PictureTransform (ingest thread) --------------------------------------------------------------------------
    def submit(self, au: AccessUnit, ext: int, jump: bool) -> None:
        if not self._slots.acquire(blocking=False):
            self.dropped += 1  # the masker cannot keep up: never pass the picture on unmasked
            self._force_key = True
            return
        self._in.put(("au", (au, ext, jump)))

    def drain(self) -> list[tuple[AccessUnit, int, bool]]:
        if not self._out:
            return []
        with self._out_lock:
            out, self._out = self._out, []
        return out

    def reset(self) -> None:
        self._in.put(("reset", None))

    def close(self) -> None:
        self._in.put(("stop", None))

    def set_polygons(self, polygons: Sequence[Polygon]) -> None:
        """New mask from the next picture on (the rasters are rebuilt on the masker thread)."""
        self._in.put(("mask", list(polygons)))

    # masker thread ---------------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            kind, arg = self._in.get()
            if kind == "stop":
                return
            if kind == "reset":
                self._decoder = None
                self._force_key = True
                continue
            if kind == "mask":
                self._polygons = arg
                self._planes = None
                continue
            self._slots.release()
            au, ext, jump = arg
            try:
                self._picture(au, ext, jump)
            except (av.FFmpegError, ValueError) as exc:
                log.warning("camera %s: picture not masked (%s); dropped", self.camera_id, exc)
                self._failed()
            except Exception:  # a bug on one picture must not end the thread: the camera would go silent, no gap
                log.exception("camera %s: masking failed; picture dropped", self.camera_id)
                self._failed()

    def _failed(self) -> None:
        self.dropped += 1
        self._decoder = None
        self._force_key = True

    def _rasters(self, width: int, height: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        if self._planes is None or self._planes[:2] != (width, height):
            y = raster(self._polygons, width, height)
            self._planes = (width, height, y, chroma(y))
        return self._planes[2], self._planes[3]

    def _open_encoder(self, width: int, height: int) -> Any:
        name = "libx264" if self.codec == H264 else "libx265"
        enc: Any = av.CodecContext.create(name, "w")  # a VideoCodecContext
        enc.width, enc.height = width, height
        enc.pix_fmt = "yuv420p"
        enc.time_base = Fraction(1, 90_000)
        enc.framerate = Fraction(25, 1)
        if self.codec == H264:
            enc.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "bf": "0",
                "x264-params": f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:repeat-headers=1",
            }
        else:
            enc.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "x265-params": f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:bframes=0:repeat-headers=1"
                ":log-level=error",
            }
        enc.thread_count = 1
        return enc

    def _picture(self, au: AccessUnit, ext: int, jump: bool) -> None:
        self.frames_in += 1
        if self._decoder is None:
            if not au.key:
                return  # a decoder starts on a keyframe
            codec = self._codec_of()
            if codec != self.codec:
                self.codec, self._encoder = codec, None
            self._decoder = av.CodecContext.create("h264" if self.codec == H264 else "hevc", "r")
            self._decoder.thread_count = 1  # no frame threading: one picture in, one out, no added delay
        for frame in self._decoder.decode(av.Packet(avcc_to_annexb(au.data))):
            h, w = frame.height, frame.width
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            ymask, cmask = self._rasters(w, h)
            # Write into the decoded planes in place (no copy of the picture): rows are line_size apart.
            for plane, mask, value in ((0, ymask, Y_BLACK), (1, cmask, UV_NEUTRAL), (2, cmask, UV_NEUTRAL)):
                p = frame.planes[plane]
                rows = np.frombuffer(p, dtype=np.uint8).reshape(-1, p.line_size)[: mask.shape[0], : mask.shape[1]]
                rows[mask] = value
            out = frame
            out.pts = ext
            out.time_base = Fraction(1, 90_000)
            out.pict_type = av.video.frame.PictureType.NONE
            if self._encoder is None or (self._encoder.width, self._encoder.height) != (w, h):
                self._encoder = self._open_encoder(w, h)
            if self._force_key:
                out.pict_type = av.video.frame.PictureType.I
                self._force_key = False
            for pkt in self._encoder.encode(out):
                self._emit(bytes(pkt), au, ext, jump)

    def _emit(self, annexb: bytes, src: AccessUnit, ext: int, jump: bool) -> None:
        nals = split_annexb(annexb)
        key = any(is_keyframe_nal(self.codec, nal_type(self.codec, n)) for n in nals)
        params = [n for n in nals if is_parameter_set(self.codec, nal_type(self.codec, n))]
        data = b"".join(_LEN.pack(len(n)) + n for n in nals)
        masked = AccessUnit(src.ts, data, key, params, arrival_ns=src.arrival_ns)
        self.frames_out += 1
        with self._out_lock:
            self._out.append((masked, ext, jump))
