"""A simulated camera's privacy masks burned into the video it serves (as a real camera's encoder does).

A camera with masks sends a masked variant of its pre-rendered clip: every picture decoded once with PyAV, each
polygon filled with its colour, encoded once again (same codec, same GOP, no B-frames, parameter sets repeated) and
cached by the mask set, so that a camera whose masks do not change never encodes again and cameras with the same
clip and the same masks share one encode. The work runs on a worker thread, never on the simulator's event loop;
sessions switch to the new loop at their next loop boundary (a keyframe), so the RTSP stream never breaks
(:meth:`camgrid.sim.server.RtspConnection.send_due`). Coordinates are ONVIF's normalised ones: x and y in -1..1,
x to the right, y up (ONVIF Core 5.1.2.2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from camgrid.media.nal import H264
from camgrid.sim import quirks as q
from camgrid.sim import sendloop
from camgrid.sim.clips import Clip, parse

if TYPE_CHECKING:
    from camgrid.sim.server import CameraState

log = logging.getLogger("camgrid.sim")
MAX_MASKS = 8  # what GetMaskOptions announces (MaxMasks)
MAX_POINTS = 16  # MaxPoints per polygon
CACHE_CLIPS = 16  # burned clips kept in memory (small clips: a few MB each)
DEFAULT_COLOR = (16.0, 128.0, 128.0)  # YCbCr: black


@dataclass(frozen=True)
class SimMask:
    """One Media2 mask as the camera holds it."""

    token: str
    config_token: str  # the video source configuration it belongs to
    points: tuple[tuple[float, float], ...]  # ONVIF normalised: -1..1, y up
    color: tuple[float, float, float] = DEFAULT_COLOR  # YCbCr 0..255
    enabled: bool = True


def mask_key(masks: Sequence[SimMask]) -> str:
    """What the burned clip depends on: the enabled masks' polygons and colours (not their tokens)."""
    shapes = sorted((m.points, m.color) for m in masks if m.enabled)
    return hashlib.sha256(json.dumps(shapes).encode()).hexdigest()[:20] if shapes else ""


def raster(points: Sequence[tuple[float, float]], width: int, height: int) -> NDArray[np.bool_]:
    """Pixels whose centre lies inside the polygon (even-odd rule), for a picture of ``width`` x ``height``."""
    xs = (np.arange(width) + 0.5) / width * 2.0 - 1.0
    ys = 1.0 - (np.arange(height) + 0.5) / height * 2.0
    gx, gy = np.meshgrid(xs, ys)
    inside = np.zeros((height, width), dtype=bool)
    n = len(points)
    for k in range(n):
        x1, y1 = points[k]
        x2, y2 = points[(k + 1) % n]
        if y1 == y2:
            continue
        crosses = (gy < y1) != (gy < y2)
        x_at = x1 + (gy - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (gx < x_at)
    return inside


def _planes(masks: Sequence[SimMask], width: int, height: int) -> list[tuple[NDArray[np.bool_], NDArray[np.bool_]]]:
    out = []
    for m in masks:
        if not m.enabled:
            continue
        y = raster(m.points, width, height)
        hh, ww = (height + 1) // 2 * 2, (width + 1) // 2 * 2
        pad = np.zeros((hh, ww), dtype=bool)
        pad[:height, :width] = y
        c = pad[0::2, 0::2] | pad[1::2, 0::2] | pad[0::2, 1::2] | pad[1::2, 1::2]
        out.append((y, c))
    return out


def burn(clip: Clip, masks: Sequence[SimMask], fps: int) -> Clip:
    """``clip`` with every enabled mask filled in every picture (decoded and encoded once, with PyAV)."""
    import av  # libav only when a camera has masks

    codec = clip.codec
    keys = [i for i, k in enumerate(clip.keys) if k]
    gop = keys[1] - keys[0] if len(keys) > 1 else len(clip.frames)
    dec: Any = av.CodecContext.create("h264" if codec == H264 else "hevc", "r")
    enc: Any = None
    out: list[bytes] = []
    fills: list[tuple[NDArray[np.bool_], NDArray[np.bool_]]] | None = None
    colored = [m for m in masks if m.enabled]
    n = 0
    for au in clip.frames:
        data = b"".join(b"\x00\x00\x00\x01" + nal for nal in au)
        for frame in dec.decode(av.Packet(data)):
            frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
            w, h = frame.width, frame.height
            if fills is None:
                fills = _planes(masks, w, h)
            for (ymask, cmask), m in zip(fills, colored, strict=True):
                for plane, mk, value in ((0, ymask, m.color[0]), (1, cmask, m.color[1]), (2, cmask, m.color[2])):
                    p = frame.planes[plane]
                    rows = np.frombuffer(p, dtype=np.uint8).reshape(-1, p.line_size)[: mk.shape[0], : mk.shape[1]]
                    rows[mk] = round(value)
            if enc is None:
                enc = _encoder(codec, w, h, fps, gop)
            frame.pts = n
            frame.pict_type = av.video.frame.PictureType.NONE
            n += 1
            out.extend(bytes(p) for p in enc.encode(frame))
    if enc is not None:
        out.extend(bytes(p) for p in enc.encode(None))
    burned = parse(b"".join(out), codec)
    if len(burned.frames) != len(clip.frames):
        raise ValueError(f"masked clip has {len(burned.frames)} pictures, the clip {len(clip.frames)}")
    return burned


def _encoder(codec: str, width: int, height: int, fps: int, gop: int) -> Any:
    import av

    enc: Any = av.CodecContext.create("libx264" if codec == H264 else "libx265", "w")
    enc.width, enc.height = width, height
    enc.pix_fmt = "yuv420p"
    enc.time_base = Fraction(1, fps)
    enc.framerate = Fraction(fps, 1)
    enc.thread_count = 1
    # A camera's encoder is not camgrid's: "superfast" (CABAC, other decisions) where the recorder's Masker uses
    # "ultrafast", so that a stored picture tells whether the camera or the recorder encoded it (tests rely on it).
    if codec == H264:
        enc.options = {
            "preset": "superfast",
            "tune": "zerolatency",
            "bf": "0",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1",
        }
    else:
        enc.options = {
            "preset": "superfast",
            "tune": "zerolatency",
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1:log-level=error",
        }
    return enc


@dataclass
class MaskBurner:
    """Burns cameras' masks into their clips on one worker thread and installs the masked loops when ready."""

    fps: int
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="sim-masks"))
    _cache: OrderedDict[tuple[int, str], Clip] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def masks_changed(self, cam: CameraState) -> Future[None] | None:
        """The camera's mask set changed: build its masked loops off the event loop (None: nothing to build)."""
        key = mask_key(cam.camera_masks)
        cam.mask_key = key
        if not key:
            cam.mask_loops = None
            return None
        return self._pool.submit(self._build, cam, key)

    def _clip(self, clip: Clip, masks: Sequence[SimMask], key: str) -> Clip:
        ck = (id(clip), key)
        with self._lock:
            hit = self._cache.get(ck)
            if hit is not None:
                self._cache.move_to_end(ck)
                return hit
        burned = burn(clip, masks, self.fps)
        with self._lock:
            self._cache[ck] = burned
            while len(self._cache) > CACHE_CLIPS:
                self._cache.popitem(last=False)
        return burned

    def _build(self, cam: CameraState, key: str) -> None:
        from camgrid.sim.server import loop_key

        masks = list(cam.camera_masks)
        try:
            shaping = cam.quirks & q.PACKET_QUIRKS
            main = self._clip(cam.clip, masks, key)
            loops = {loop_key(False, False): sendloop.build(main, self.fps, shaping)}
            if cam.audio is not None:
                loops[loop_key(False, True)] = sendloop.build(main, self.fps, shaping, cam.audio)
            if cam.sub_clip is not None:
                loops[loop_key(True, False)] = sendloop.build(self._clip(cam.sub_clip, masks, key), self.fps)
        except Exception:  # a camera whose masks cannot be burned keeps serving; the mask set stays listed
            log.exception("%s: masks not burned in", cam.spec.id)
            return
        if cam.mask_key == key:  # a later change supersedes this one
            cam.mask_loops = loops

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
