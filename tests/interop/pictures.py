"""Picture-by-picture comparison of what a camera sent with what camgrid recorded (the interop oracle).

A *picture* is identified by the sha256 of its VCL NAL units (slices) only, in order, each prefixed with its 4-byte
length (trailing zero bytes left out): access unit delimiters, SEI and parameter sets are left out, since a recorder
may legitimately add, move or drop them (in-band parameter sets versus the init segment). Two slices of one picture
make one picture, never two.

This module is deliberately independent of ``camgrid.media``: it is the oracle the recorder is judged by, so it
has its own Annex B splitter, its own slice-header check and its own fMP4 reader (ISO BMFF boxes, read by the
standard, not by camgrid's writer). See docs/design/interop.md.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

NS = 1_000_000_000
H264, H265 = "h264", "h265"


@dataclass(frozen=True)
class Picture:
    digest: str  # sha256 of the picture's VCL NAL units, in order (4-byte length before each)
    duration_ns: int
    start_ns: int


# Annex B ------------------------------------------------------------------------------------------------------------
def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (3- or 4-byte start codes; trailing zero bytes dropped)."""
    out: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j < 0 else j
        nal = data[start:end].rstrip(b"\x00") if j >= 0 else data[start:end]
        if nal:
            out.append(nal)
        i = j
    return out


def is_vcl(codec: str, nal: bytes) -> bool:
    if codec == H264:
        return 1 <= (nal[0] & 0x1F) <= 5
    return ((nal[0] >> 1) & 0x3F) < 32


def starts_picture(codec: str, nal: bytes) -> bool:
    """first_mb_in_slice == 0 (H.264: ue(v) 0 is a single 1 bit) / first_slice_segment_in_pic_flag (H.265)."""
    if codec == H264:
        return len(nal) > 1 and bool(nal[1] & 0x80)
    return len(nal) > 2 and bool(nal[2] & 0x80)


def _digest(slices: Iterable[bytes]) -> str:
    """Trailing zero bytes (cabac_zero_words, trailing_zero_8bits) are not picture content and where a NAL unit ends
    among them differs between muxers and packetizers: they are left out on both sides."""
    h = hashlib.sha256()
    for s in slices:
        s = s.rstrip(b"\x00")
        h.update(struct.pack(">I", len(s)))
        h.update(s)
    return h.hexdigest()


def picture_slices(codec: str, nals: Iterable[bytes]) -> list[list[bytes]]:
    """The VCL NAL units grouped into pictures by their slice headers (never by anything a transport adds)."""
    pictures: list[list[bytes]] = []
    for nal in nals:
        if not nal or not is_vcl(codec, nal):
            continue
        if starts_picture(codec, nal) or not pictures:
            pictures.append([nal])
        else:
            pictures[-1].append(nal)
    return pictures


def source_pictures(annexb: bytes, codec: str, fps: float) -> list[Picture]:
    """The pictures of an encoded Annex B clip, each lasting 1/fps (start 0-based)."""
    if codec not in (H264, H265):
        raise ValueError(f"unknown codec {codec!r}")
    out: list[Picture] = []
    for i, slices in enumerate(picture_slices(codec, split_annexb(annexb))):
        start = round(i * NS / fps)
        out.append(Picture(_digest(slices), round((i + 1) * NS / fps) - start, start))
    return out


# fMP4 ---------------------------------------------------------------------------------------------------------------
def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in data[start:end]; a torn tail stops the walk."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            break
        out.append((kind, pos + head, pos + size))
        pos += size
    return out


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, s, e in _boxes(data, start, end):
        if k == kind:
            return s, e
    return None


@dataclass
class _Track:
    track_id: int
    timescale: int
    codec: str
    default_duration: int = 0
    default_size: int = 0


def _video_track(data: bytes, moov: tuple[int, int]) -> _Track:
    trex: dict[int, tuple[int, int]] = {}
    mvex = _child(data, *moov, b"mvex")
    if mvex:
        for k, s, _e in _boxes(data, *mvex):
            if k == b"trex":
                tid, _desc, dur, size = struct.unpack_from(">IIII", data, s + 4)
                trex[tid] = (dur, size)
    for k, s, e in _boxes(data, *moov):
        if k != b"trak":
            continue
        tkhd = _child(data, s, e, b"tkhd")
        mdia = _child(data, s, e, b"mdia")
        if not tkhd or not mdia:
            continue
        version = data[tkhd[0]]
        tid = struct.unpack_from(">I", data, tkhd[0] + (20 if version == 1 else 12))[0]
        hdlr = _child(data, *mdia, b"hdlr")
        mdhd = _child(data, *mdia, b"mdhd")
        if not hdlr or not mdhd or data[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        mversion = data[mdhd[0]]
        timescale = struct.unpack_from(">I", data, mdhd[0] + (20 if mversion == 1 else 12))[0]
        minf = _child(data, *mdia, b"minf")
        stbl = _child(data, *minf, b"stbl") if minf else None
        stsd = _child(data, *stbl, b"stsd") if stbl else None
        entry = data[stsd[0] + 12 : stsd[0] + 16] if stsd else b""
        codec = H264 if entry in (b"avc1", b"avc3") else H265 if entry in (b"hvc1", b"hev1") else ""
        if not codec:
            raise ValueError(f"video sample entry {entry!r} is neither H.264 nor H.265")
        dur, size = trex.get(tid, (0, 0))
        return _Track(tid, timescale, codec, dur, size)
    raise ValueError("no video track in the init segment")


def _video_samples(data: bytes) -> tuple[_Track, list[tuple[int, int, bytes]]]:
    """The video track and its samples as (decode time in track ticks, duration in ticks, bytes)."""
    top = _boxes(data, 0, len(data))
    moov = next(((s, e) for k, s, e in top if k == b"moov"), None)
    if moov is None:
        raise ValueError("no moov (init segment) at the start of the segment")
    track = _video_track(data, moov)
    samples: list[tuple[int, int, bytes]] = []
    next_time = 0
    for kind, s, e in top:
        if kind != b"moof":
            continue
        moof_start = s - 8
        for k, ts, te in _boxes(data, s, e):
            if k != b"traf":
                continue
            tfhd = _child(data, ts, te, b"tfhd")
            if tfhd is None:
                continue
            flags = int.from_bytes(data[tfhd[0] + 1 : tfhd[0] + 4], "big")
            tid = struct.unpack_from(">I", data, tfhd[0] + 4)[0]
            if tid != track.track_id:
                continue
            pos = tfhd[0] + 8
            base = moof_start  # default-base-is-moof (and the first traf of a moof without base offset)
            if flags & 0x01:
                base = struct.unpack_from(">Q", data, pos)[0]
                pos += 8
            if flags & 0x02:
                pos += 4
            dflt_dur = track.default_duration
            dflt_size = track.default_size
            if flags & 0x08:
                dflt_dur = struct.unpack_from(">I", data, pos)[0]
                pos += 4
            if flags & 0x10:
                dflt_size = struct.unpack_from(">I", data, pos)[0]
                pos += 4
            tfdt = _child(data, ts, te, b"tfdt")
            if tfdt is not None:
                v = data[tfdt[0]]
                next_time = (
                    struct.unpack_from(">Q", data, tfdt[0] + 4)[0]
                    if v == 1
                    else struct.unpack_from(">I", data, tfdt[0] + 4)[0]
                )
            for k2, rs, _re in _boxes(data, ts, te):
                if k2 != b"trun":
                    continue
                tflags = int.from_bytes(data[rs + 1 : rs + 4], "big")
                count = struct.unpack_from(">I", data, rs + 4)[0]
                p = rs + 8
                offset = 0
                if tflags & 0x01:
                    offset = struct.unpack_from(">i", data, p)[0]
                    p += 4
                if tflags & 0x04:
                    p += 4
                at = base + offset
                for _ in range(count):
                    dur, size = dflt_dur, dflt_size
                    if tflags & 0x100:
                        dur = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    if tflags & 0x200:
                        size = struct.unpack_from(">I", data, p)[0]
                        p += 4
                    if tflags & 0x400:
                        p += 4
                    if tflags & 0x800:
                        p += 4
                    if at + size > len(data):
                        raise ValueError("a sample runs past the end of the file")
                    samples.append((next_time, dur, data[at : at + size]))
                    at += size
                    next_time += dur
    return track, samples


def _sample_nals(sample: bytes) -> list[bytes]:
    nals, pos = [], 0
    while pos + 4 <= len(sample):
        n = struct.unpack_from(">I", sample, pos)[0]
        if n == 0 or pos + 4 + n > len(sample):
            raise ValueError("a sample's NAL length runs past its end")
        nals.append(sample[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return nals


def recorded_pictures(segment_paths: Sequence[Path], starts: Sequence[int] | None = None) -> list[Picture]:
    """The pictures of camgrid's fMP4 segments, one per video sample, in file order.

    ``start_ns`` runs from 0 across the segments (each picture starts where the previous ended) unless ``starts``
    gives each segment's start (the index's ``start_ns``): then a picture starts at its segment's start plus its
    decode time since the segment's first sample."""
    out: list[Picture] = []
    clock = 0
    for i, path in enumerate(segment_paths):
        track, samples = _video_samples(Path(path).read_bytes())
        first = samples[0][0] if samples else 0
        for t, dur, data in samples:
            dur_ns = dur * NS // track.timescale
            start = starts[i] + (t - first) * NS // track.timescale if starts is not None else clock
            slices = [n for n in _sample_nals(data) if is_vcl(track.codec, n)]
            out.append(Picture(_digest(slices), dur_ns, start))
            clock = start + dur_ns
    return out


# comparison ---------------------------------------------------------------------------------------------------------
@dataclass
class Comparison:
    """How a recording matches the looped source. ``exact`` when every source picture of the covered run appears
    once, in order, with its duration, and nothing else appears."""

    source_count: int
    recorded_count: int
    matched: int = 0  # recorded pictures in their place (in order, once)
    missing: int = 0  # source pictures inside the recorded run that never appear
    duplicated: int = 0  # recorded pictures already recorded once
    out_of_order: int = 0  # recorded pictures that came after a later source picture
    unknown: int = 0  # recorded pictures that are no source picture at all (or half of one)
    bad_durations: int = 0  # pictures whose recorded duration differs from the source's
    first_source_index: int | None = None
    holes: list[tuple[int, int]] = field(default_factory=list)  # (recorded index, source pictures skipped there)
    notes: list[str] = field(default_factory=list)  # the first few problems of each kind, readable
    _per_kind: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def exact(self) -> bool:
        return (
            self.recorded_count > 0
            and self.matched == self.recorded_count
            and not (self.missing or self.duplicated or self.out_of_order or self.unknown or self.bad_durations)
        )

    @property
    def summary(self) -> str:
        head = (
            f"{'exact' if self.exact else 'NOT exact'}: {self.recorded_count} recorded pictures against a source "
            f"of {self.source_count}: matched={self.matched} missing={self.missing} duplicated={self.duplicated} "
            f"out_of_order={self.out_of_order} unknown={self.unknown} bad_durations={self.bad_durations}"
        )
        more = {k: n - 3 for k, n in self._per_kind.items() if n > 3}
        tail = "".join(f"\n  - ... and {n} more {k}" for k, n in more.items())
        return head + "".join(f"\n  - {n}" for n in self.notes) + tail

    def _note(self, kind: str, text: str) -> None:
        seen = self._per_kind.get(kind, 0)
        self._per_kind[kind] = seen + 1
        if seen < 3:
            self.notes.append(text)


def compare(
    source: Sequence[Picture], recorded: Sequence[Picture], tolerance_ns: int = 1_000_000, *, stopped: bool = False
) -> Comparison:
    """Judge ``recorded`` as a contiguous run of ``source`` played in a loop.

    Each recorded picture is placed at the source position (modulo the loop) nearest the one expected next; a
    position already seen is a duplicate, one behind the expected place that was skipped earlier is out of order,
    and skipped positions never filled are missing. Durations must equal the source's within ``tolerance_ns``.

    ``stopped``: the recorder was stopped after the last recorded picture, so no next picture fixed its duration: a
    reordered stream (B-frames) ends it where the latest picture shown ends, later than its own decode step; and the
    recorder shortens it when the stream ran ahead of the wall clock, so that the index never ends in the future
    (``Segmenter.finish``: "end where the anchor says"; seen under load on the audio cameras: 1 ms). That one picture
    must last more than nothing and at most two frames more than the source's."""
    n = len(source)
    cmp = Comparison(n, len(recorded))
    if n == 0:
        raise ValueError("empty source")
    where: dict[str, int] = {}
    for i, p in enumerate(source):
        if p.digest in where:
            raise ValueError(f"source pictures {where[p.digest]} and {i} are identical: a loop would be ambiguous")
        where[p.digest] = i
    expected: int | None = None  # absolute position (laps * n + index) expected next
    seen: set[int] = set()
    lo = hi = 0
    for r, pic in enumerate(recorded):
        idx = where.get(pic.digest)
        if idx is None:
            cmp.unknown += 1
            cmp._note("unknown", f"recorded picture {r} is no source picture (a part of one, or foreign)")
            continue
        if expected is None:
            cmp.first_source_index = idx
            pos = idx
            lo = hi = pos
        else:
            lap = (expected - idx + n // 2) // n  # nearest lap to the expected position
            pos = lap * n + idx
        if pos in seen:
            cmp.duplicated += 1
            cmp._note("duplicated", f"recorded picture {r} repeats source picture {idx}")
            continue
        seen.add(pos)
        if expected is None or pos == expected:
            cmp.matched += 1
        elif pos > expected:
            cmp.holes.append((r, pos - expected))
            cmp._note(
                "missing",
                f"before recorded picture {r}: {pos - expected} source picture(s) skipped (from {expected % n})",
            )
            cmp.matched += 1
        else:
            cmp.out_of_order += 1
            cmp._note("out_of_order", f"recorded picture {r} (source {idx}) comes after a later source picture")
        if expected is None or pos >= expected:
            expected = pos + 1
        lo, hi = min(lo, pos), max(hi, pos)
        want = source[idx].duration_ns
        if stopped and r == len(recorded) - 1:
            off = pic.duration_ns <= 0 or pic.duration_ns > 3 * want + tolerance_ns
        else:
            off = abs(pic.duration_ns - want) > tolerance_ns
        if off:
            cmp.bad_durations += 1
            cmp._note(
                "bad_durations", f"recorded picture {r} (source {idx}) lasts {pic.duration_ns} ns, the source {want} ns"
            )
    if seen:
        cmp.missing = (hi - lo + 1) - len(seen)
    # a picture counted as matched past a hole is in order; but an out-of-order one fills an earlier hole
    return cmp


def index_problems(segments: Sequence[tuple[int, int]], window: tuple[int, int], slack_ns: int = NS // 2) -> list[str]:
    """What is wrong with the index times of ``segments`` ((start_ns, end_ns) in order) recorded during the
    wall-clock ``window`` (t0, t1): each must lie inside it (within ``slack_ns``), and none may overlap the next."""
    t0, t1 = window
    out = []
    prev_end: int | None = None
    for i, (start, end) in enumerate(segments):
        if start < t0 - slack_ns:
            out.append(f"segment {i} starts {(t0 - start) / NS:.3f} s before the recording began")
        if end > t1 + slack_ns:
            out.append(f"segment {i} ends {(end - t1) / NS:.3f} s after the recording stopped (in the future)")
        if end < start:
            out.append(f"segment {i} ends before it starts")
        if prev_end is not None and start < prev_end:
            out.append(f"segment {i} starts {(prev_end - start) / NS:.3f} s before the previous one ends")
        prev_end = end
    return out
