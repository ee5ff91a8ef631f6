"""Recorded H.265 segments as H.264, for a playback viewer whose browser cannot decode H.265.

The recording is never changed: a segment file is read, decoded and encoded again in memory (libx264 ultrafast, no
B-frames, a keyframe exactly where the recording has one, the recording's timestamps) into a fragmented MP4 whose
media time matches the original's, so the player places it exactly as the native file. Bounded: at most
``live.max_segment_transcodes`` at once (a request waits ``WAIT_S`` for a slot, then 503), inputs up to
``live.max_segment_bytes``, and the last ``live.segment_cache`` results kept for repeat requests (seeks, a second
viewer). Segments still being written are transcoded as far as they are written and not cached.
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from camgrid.live.transcode import h264_encoder
from camgrid.media import fmp4
from camgrid.media.nal import H264, H264_SPS, is_keyframe_nal, is_parameter_set, nal_type, parse_sps, split_annexb

_LEN = struct.Struct(">I")
WAIT_S = 30.0  # a request waits this long for a transcode slot before it is told the server is busy


class SegmentBusy(Exception):
    """Every playback transcode slot stayed taken for ``WAIT_S``."""


class SegmentTooBig(Exception):
    """The recorded segment is larger than ``live.max_segment_bytes``."""


def transcode_segment(path: Path) -> bytes:
    """One recorded fMP4 (H.265) → fMP4 (H.264, video only, one fragment per GOP) with the same presentation times.

    Written with camgrid's own fMP4 writer (not libav's muxer, which moves the first picture to time 0): each
    picture keeps its recorded presentation time, in 90 kHz ticks, as its decode time (no B-frames out)."""
    encoder: Any = None
    params: dict[int, bytes] = {}
    pictures: list[tuple[int, bytes, bool]] = []  # (presentation ticks, avcc sample, key)
    with av.open(str(path)) as src:
        vin = src.streams.video[0]
        tb = vin.time_base or Fraction(1, fmp4.TIMESCALE)
        frames = 0

        def collect(packets: Any) -> None:
            for pkt in packets:
                nals = split_annexb(bytes(pkt))
                key = any(is_keyframe_nal(H264, nal_type(H264, n)) for n in nals)
                for n in nals:
                    if is_parameter_set(H264, nal_type(H264, n)):
                        params[nal_type(H264, n)] = n
                data = b"".join(_LEN.pack(len(n)) + n for n in nals)
                pictures.append((int(pkt.pts * tb * fmp4.TIMESCALE), data, key))

        for packet in src.demux(vin):  # the last, empty packet flushes the decoder (B-frames held back)
            for frame in packet.decode():
                key = frame.key_frame  # the picture's own flag: with B-frames it leaves the decoder later
                if frame.format.name != "yuv420p":
                    frame = frame.reformat(format="yuv420p")
                if encoder is None:
                    encoder = h264_encoder(frame.width, frame.height)
                    encoder.time_base = tb
                frame.pts = frame.pts if frame.pts is not None else frames
                frame.time_base = tb
                # keyframes where the recording has them: seeks land where they would in the original
                frame.pict_type = av.video.frame.PictureType.I if key else av.video.frame.PictureType.NONE
                frames += 1
                collect(encoder.encode(frame))
        if encoder is not None:
            collect(encoder.encode(None))
    if not pictures or H264_SPS not in params:
        raise ValueError("no pictures")
    return _fmp4(pictures, params)


def _fmp4(pictures: list[tuple[int, bytes, bool]], params: dict[int, bytes]) -> bytes:
    pictures.sort(key=lambda p: p[0])
    info = parse_sps(H264, params[H264_SPS])
    out = [fmp4.init_segment(info, [params[t] for t in sorted(params)])]
    gops: list[list[tuple[int, bytes, bool]]] = []
    for pic in pictures:
        if pic[2] or not gops:
            gops.append([])
        gops[-1].append(pic)
    last_dur = 3600
    for seq, gop in enumerate(gops, 1):
        samples = []
        for i, (t, data, key) in enumerate(gop):
            nxt = gop[i + 1][0] if i + 1 < len(gop) else (gops[seq][0][0] if seq < len(gops) else t + last_dur)
            last_dur = max(1, nxt - t)
            samples.append((last_dur, len(data), key))
        out.append(fmp4.fragment(seq, max(0, gop[0][0]), samples, [d for _, d, _ in gop]))
    return b"".join(out)


class SegmentTranscodes:
    """The process's playback transcodes: a slot limit and a small cache of results."""

    def __init__(self, *, slots: int, cache: int, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(max(slots, 1)) if slots > 0 else None
        self._cache_size = cache
        self._cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.done = 0  # transcodes run (tests, stats)

    def get(self, segment_id: int, path: Path, *, final: bool) -> bytes:
        """The H.264 file of ``segment_id`` (read from ``path``); ``final`` when the segment is closed (cacheable)."""
        size = path.stat().st_size
        if size > self.max_bytes:
            raise SegmentTooBig(f"segment is {size} bytes, more than live.max_segment_bytes ({self.max_bytes})")
        key = (segment_id, size)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        if self._slots is None or not self._slots.acquire(timeout=WAIT_S):
            raise SegmentBusy("transcode limit reached: the server is transcoding other H.265 recordings")
        try:
            out = transcode_segment(path)
            self.done += 1
        finally:
            self._slots.release()
        if final and self._cache_size > 0:
            with self._lock:
                self._cache[key] = out
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out
