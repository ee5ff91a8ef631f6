"""Reading a recorded segment for motion search: its sample table without its video, and pictures decoded on demand.

A camera-hour is hundreds of megabytes of video but its keyframes are a small part of it: the table of samples comes
from the ``moof`` boxes alone (the ``mdat`` payloads are skipped with a seek), and only the samples asked for are
read and decoded (PyAV, the codec's configuration from the segment's own ``moov``). Pictures are shrunk to a small
grey picture by libswscale (area averaging, which also calms sensor noise) before anything looks at them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

NS = 1_000_000_000
TIMESCALE = 90_000  # camgrid's video track (media/fmp4.py)
SAMPLE_KEY = 0x02000000
MAX_BOX = 64 << 20  # a moof or moov larger than this is not a camgrid segment: refuse rather than read it


class SegmentUnreadable(ValueError):
    """Not a camgrid fMP4 segment (or torn before its first fragment)."""


@dataclass(frozen=True, slots=True)
class SampleRef:
    """One picture of a segment: UTC time, whether it is a keyframe, where its bytes are."""

    t_ns: int
    dur_ns: int
    key: bool
    offset: int
    size: int


@dataclass(frozen=True)
class SegmentTable:
    path: Path
    codec: str  # "h264" or "hevc" (the PyAV decoder's name)
    extradata: bytes  # the avcC / hvcC record
    width: int
    height: int
    samples: list[SampleRef]


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, i)
        if size < 8 or i + size > end:
            return
        yield kind, i, i + size
        i += size


def _find(data: bytes, start: int, end: int, path: Iterable[bytes]) -> tuple[int, int] | None:
    """The (start, end) of the box reached by following ``path`` of kinds from [start, end)."""
    lo, hi = start, end
    for kind in path:
        hit = next(((s, e) for k, s, e in _boxes(data, lo, hi) if k == kind), None)
        if hit is None:
            return None
        lo, hi = hit[0] + 8, hit[1]
    return lo - 8, hi


def _codec_of(moov: bytes) -> tuple[str, bytes, int, int]:
    stsd = _find(moov, 0, len(moov), [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    if stsd is None:
        raise SegmentUnreadable("no sample description")
    entry_start = stsd[0] + 16  # full box header + entry count
    for kind, s, e in _boxes(moov, entry_start, stsd[1]):
        codec = {b"avc1": "h264", b"hvc1": "hevc", b"hev1": "hevc", b"avc3": "h264"}.get(kind)
        if codec is None:
            continue
        width, height = struct.unpack_from(">HH", moov, s + 32)
        for k2, s2, e2 in _boxes(moov, s + 86, e):  # the visual sample entry is 78 bytes after its header
            if k2 in (b"avcC", b"hvcC"):
                return codec, moov[s2 + 8 : e2], width, height
    raise SegmentUnreadable("no H.264 or H.265 video track")


def _moof_samples(moof: bytes, moof_at: int, seg_start_ns: int) -> list[SampleRef]:
    out: list[SampleRef] = []
    for kind, s, e in _boxes(moof, 8, len(moof)):
        if kind != b"traf":
            continue
        base = 0
        video = True
        runs: list[tuple[int, int]] = []
        for k2, s2, e2 in _boxes(moof, s + 8, e):
            if k2 == b"tfhd":
                video = struct.unpack_from(">I", moof, s2 + 12)[0] == 1  # track 2 is audio (media/fmp4_audio.py)
            elif k2 == b"tfdt":
                base = struct.unpack_from(">Q" if moof[s2 + 8] == 1 else ">I", moof, s2 + 12)[0]
            elif k2 == b"trun":
                runs.append((s2, e2))
        if not video:
            continue
        t = base
        for s2, _e2 in runs:
            flags = struct.unpack_from(">I", moof, s2 + 8)[0] & 0xFFFFFF
            count = struct.unpack_from(">I", moof, s2 + 12)[0]
            pos = s2 + 16
            offset = moof_at
            if flags & 0x1:
                offset += struct.unpack_from(">i", moof, pos)[0]
                pos += 4
            if flags & 0x4:
                pos += 4
            for _ in range(count):
                dur = size = 0
                sflags = 0
                if flags & 0x100:
                    dur = struct.unpack_from(">I", moof, pos)[0]
                    pos += 4
                if flags & 0x200:
                    size = struct.unpack_from(">I", moof, pos)[0]
                    pos += 4
                if flags & 0x400:
                    sflags = struct.unpack_from(">I", moof, pos)[0]
                    pos += 4
                if flags & 0x800:
                    pos += 4
                out.append(
                    SampleRef(
                        seg_start_ns + t * NS // TIMESCALE, dur * NS // TIMESCALE, sflags == SAMPLE_KEY, offset, size
                    )
                )
                offset += size
                t += dur
    return out


def read_table(path: Path, start_ns: int) -> SegmentTable:
    """The segment's codec and every picture's time, type and place (whole fragments only), reading headers only."""
    samples: list[SampleRef] = []
    moov: bytes | None = None
    with path.open("rb") as fh:
        size = path.stat().st_size
        at = 0
        while at + 8 <= size:
            fh.seek(at)
            head = fh.read(16)
            if len(head) < 8:
                break
            box_size, kind = struct.unpack_from(">I4s", head)
            if box_size == 1 and len(head) == 16:
                box_size = struct.unpack_from(">Q", head, 8)[0]
            if box_size < 8 or at + box_size > size:
                break  # a torn tail (recovery cuts it off): the fragments before it are whole
            if kind in (b"moov", b"moof"):
                if box_size > MAX_BOX:
                    raise SegmentUnreadable(f"{kind.decode()} of {box_size} bytes")
                fh.seek(at)
                body = fh.read(box_size)
                if kind == b"moov":
                    moov = body
                else:
                    samples += _moof_samples(body, at, start_ns)
            at += box_size
    if moov is None:
        raise SegmentUnreadable("no moov box")
    codec, extradata, width, height = _codec_of(moov)
    samples = [s for s in samples if s.offset + s.size <= size]
    return SegmentTable(path, codec, extradata, width, height, samples)


def work_size(width: int, height: int, work_width: int) -> tuple[int, int]:
    """The small picture's size: ``work_width`` wide (never wider than the picture), even, the aspect kept."""
    w = min(work_width, width) // 2 * 2
    h = max(2, round(height * w / max(1, width)) // 2 * 2)
    return w, h


class Decoder:
    """One segment's decoder: pictures fed in decode order, each returned as (grey small picture, the frame)."""

    def __init__(self, table: SegmentTable, work: tuple[int, int]) -> None:
        import av  # lazy: only a search decodes

        self.table = table
        self.work = work
        self._fh = table.path.open("rb")
        ctx: Any = av.CodecContext.create(table.codec, "r")
        ctx.extradata = table.extradata
        ctx.thread_count = 1
        ctx.options = {"skip_loop_filter": "all"}  # deblocking only smooths edges; a change is as visible without it
        self._ctx = ctx
        self._packet = av.Packet
        self.decoded = 0

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Decoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, ref: SampleRef) -> bytes:
        self._fh.seek(ref.offset)
        return self._fh.read(ref.size)

    def decode(self, ref: SampleRef) -> tuple[NDArray[np.uint8], Any] | None:
        """The picture of ``ref`` (which must follow what it depends on), or None when it did not decode."""
        try:
            frames = list(self._ctx.decode(self._packet(self.read(ref))))
        except Exception:  # a damaged picture: searched as missing, never a failed search (av.FFmpegError & co)
            return None
        if not frames:
            return None
        self.decoded += 1
        frame = frames[-1]
        return shrink(frame, self.work), frame


_TAPS: dict[tuple[int, int, int, int, int], NDArray[np.intp]] = {}


def _taps(width: int, height: int, stride: int, w: int, h: int) -> NDArray[np.intp]:
    """Where in the luma plane the four samples of each small pixel are (a quarter of a cell either side of its
    centre), as offsets into the plane's bytes: shape (4, h, w)."""
    key = (width, height, stride, w, h)
    if key not in _TAPS:
        cx, cy = width / w, height / h
        xs = (np.arange(w) + 0.5) * cx
        ys = (np.arange(h) + 0.5) * cy
        out = []
        for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
            rows = np.clip((ys + dy * cy / 4).astype(np.intp), 0, height - 1)
            cols = np.clip((xs + dx * cx / 4).astype(np.intp), 0, width - 1)
            out.append(rows[:, None] * stride + cols[None, :])
        _TAPS[key] = np.stack(out)
    return _TAPS[key]


def shrink(frame: Any, work: tuple[int, int]) -> NDArray[np.uint8]:
    """The small grey picture: four luma samples averaged per pixel, read straight from the decoded plane (a tenth
    of what libswscale's area scaling costs at 720p; the average still calms compression and sensor noise)."""
    w, h = work
    if frame.format.name not in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"):
        scaled = frame.reformat(width=w, height=h, format="gray", interpolation="AREA").to_ndarray()
        return np.ascontiguousarray(scaled[:h, :w])
    plane = frame.planes[0]
    taps = _taps(frame.width, frame.height, plane.line_size, w, h)
    samples: NDArray[np.uint16] = np.frombuffer(plane, np.uint8).take(taps).astype(np.uint16)
    mean: NDArray[np.uint8] = ((samples.sum(axis=0) + 2) >> 2).astype(np.uint8)
    return mean


def thumbnail(frame: Any, hidden: NDArray[np.bool_] | None, width: int) -> bytes:
    """A small JPEG of ``frame`` with every ``hidden`` pixel (a privacy mask, rasterised at that size) black."""
    import av

    w, h = work_size(frame.width, frame.height, width)
    rgb = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()[:h, :w].copy()
    if hidden is not None:
        rgb[hidden] = 0
    picture = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
    enc: Any = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = w, h, "yuvj420p"
    enc.time_base = Fraction(1, 25)
    enc.options = {"q:v": "5"}
    out = b"".join(bytes(p) for p in enc.encode(picture))
    return out + b"".join(bytes(p) for p in enc.encode(None))
