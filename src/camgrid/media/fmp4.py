"""Fragmented MP4 (ISO BMFF) for one video track: init segment, fragments, and a reader for crash recovery.

A segment file is ``ftyp moov (moof mdat)*``. Each ``moof+mdat`` pair is written with one ``write()``, so a crash
leaves whole fragments plus at most one torn tail, which :func:`scan` finds and recovery cuts off.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from camgrid.media.nal import H264, H265, StreamInfo, nal_type, param_set_type

TIMESCALE = 90_000  # the RTP clock of H.264/H.265, so sample durations are exact
SAMPLE_KEY = 0x02000000  # sample_depends_on = 2 (an I picture)
SAMPLE_DELTA = 0x01010000  # depends on others, non-sync
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _avcc(sps: Sequence[bytes], pps: Sequence[bytes]) -> bytes:
    first = sps[0]
    out = bytes([1, first[1], first[2], first[3], 0xFF, 0xE0 | len(sps)])
    for s in sps:
        out += struct.pack(">H", len(s)) + s
    out += bytes([len(pps)])
    for p in pps:
        out += struct.pack(">H", len(p)) + p
    return box(b"avcC", out)


def _hvcc(info: StreamInfo, vps: Sequence[bytes], sps: Sequence[bytes], pps: Sequence[bytes]) -> bytes:
    out = bytes([1]) + info.ptl[:12].ljust(12, b"\x00")
    out += struct.pack(">H", 0xF000)  # min_spatial_segmentation_idc = 0
    out += bytes([0xFC, 0xFC | (info.chroma_format & 3)])
    out += bytes([0xF8 | ((info.bit_depth_luma - 8) & 7), 0xF8 | ((info.bit_depth_chroma - 8) & 7)])
    out += struct.pack(">H", 0)  # avgFrameRate unknown
    out += bytes([0x0F])  # constantFrameRate 0, numTemporalLayers 1, temporalIdNested 1, lengthSizeMinusOne 3
    arrays = [(32, vps), (33, sps), (34, pps)]
    out += bytes([len(arrays)])
    for t, nals in arrays:
        out += bytes([0x80 | t]) + struct.pack(">H", len(nals))
        for n in nals:
            out += struct.pack(">H", len(n)) + n
    return box(b"hvcC", out)


def init_segment(info: StreamInfo, params: Sequence[bytes]) -> bytes:
    """``ftyp`` + ``moov`` for one video track described by its parameter sets."""
    if info.codec == H264:
        sps = [p for p in params if nal_type(H264, p) == param_set_type(H264, "sps")]
        pps = [p for p in params if nal_type(H264, p) == param_set_type(H264, "pps")]
        config = _avcc(sps, pps)
        entry_kind = b"avc1"
    else:
        vps = [p for p in params if nal_type(info.codec, p) == param_set_type(H265, "vps")]
        sps = [p for p in params if nal_type(info.codec, p) == param_set_type(H265, "sps")]
        pps = [p for p in params if nal_type(info.codec, p) == param_set_type(H265, "pps")]
        config = _hvcc(info, vps, sps, pps)
        entry_kind = b"hvc1"
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6mp41")
    mvhd = full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 0),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, 0),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", info.width << 16, info.height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, 0), struct.pack(">HH", 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"camgrid\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    sample_entry = box(
        entry_kind,
        bytes(6),
        struct.pack(">H", 1),
        bytes(16),
        struct.pack(">HH", info.width, info.height),
        struct.pack(">II", 0x480000, 0x480000),
        bytes(4),
        struct.pack(">H", 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
        config,
    )
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    minf = box(b"minf", vmhd, dinf, stbl)
    mdia = box(b"mdia", mdhd, hdlr, minf)
    trak = box(b"trak", tkhd, mdia)
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


def fragment_parts(
    seq: int,
    base_time: int,
    samples: Sequence[tuple[int, int, bool]],
    payload: Sequence[bytes | bytearray],
    ctos: Sequence[int] | None = None,
) -> list[bytes | bytearray]:
    """One ``moof`` + ``mdat`` as a list of buffers (header, then the samples), for ``os.writev`` without a join.

    ``samples`` are (duration, size, key) in decode order; ``payload`` their bytes in order. ``ctos``: composition
    offsets (presentation - decode, in ticks; B-frames), written in a version-1 ``trun`` (signed); None or all
    zero writes no offsets, as for every stream without B-frames.
    """
    if ctos is not None and any(ctos):
        entries = b"".join(
            struct.pack(">IIIi", dur, size, SAMPLE_KEY if key else SAMPLE_DELTA, cto)
            for (dur, size, key), cto in zip(samples, ctos, strict=True)
        )
        version, flags = 1, 0x000F01
    else:
        entries = b"".join(
            struct.pack(">III", dur, size, SAMPLE_KEY if key else SAMPLE_DELTA) for dur, size, key in samples
        )
        version, flags = 0, 0x000701
    trun_len = 8 + 4 + 8 + len(entries)
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_time))
    traf_len = 8 + len(tfhd) + len(tfdt) + trun_len
    moof_len = 8 + 16 + traf_len  # mfhd is 16 bytes
    data_offset = moof_len + 8
    trun = full_box(b"trun", version, flags, struct.pack(">Ii", len(samples), data_offset), entries)
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", seq)), box(b"traf", tfhd, tfdt, trun))
    mdat_len = 8 + sum(len(p) for p in payload)
    return [moof + struct.pack(">I", mdat_len) + b"mdat", *payload]


def fragment(
    seq: int,
    base_time: int,
    samples: Sequence[tuple[int, int, bool]],
    payload: Sequence[bytes | bytearray],
    ctos: Sequence[int] | None = None,
) -> bytes:
    """One ``moof`` + ``mdat`` as a single bytes object."""
    return b"".join(fragment_parts(seq, base_time, samples, payload, ctos))


@dataclass
class ScanResult:
    """What a segment file holds: where whole fragments end, and their media time in TIMESCALE ticks."""

    valid_bytes: int
    has_init: bool
    fragments: int
    samples: int
    first_time: int | None
    end_time: int | None  # base time of the last fragment + its durations
    key_first: bool


def _iter_boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out = []
    i = start
    while i + 8 <= end:
        size = struct.unpack_from(">I", data, i)[0]
        kind = data[i + 4 : i + 8]
        if size == 1 and i + 16 <= end:
            size = struct.unpack_from(">Q", data, i + 8)[0]
        if size < 8 or i + size > end:
            break
        out.append((kind, i, i + size))
        i += size
    return out


def _parse_moof(data: bytes, start: int, end: int) -> tuple[int, int, int, bool] | None:
    """(base_time, total_duration, sample_count, first_is_key) of a moof, or None if malformed."""
    for kind, s, e in _iter_boxes(data, start + 8, end):
        if kind != b"traf":
            continue
        base = None
        total = count = 0
        first_key = False
        for k2, s2, _e2 in _iter_boxes(data, s + 8, e):
            if k2 == b"tfdt":
                version = data[s2 + 8]
                base = struct.unpack_from(">Q" if version == 1 else ">I", data, s2 + 12)[0]
            elif k2 == b"trun":
                flags = struct.unpack_from(">I", data, s2 + 8)[0] & 0xFFFFFF
                count = struct.unpack_from(">I", data, s2 + 12)[0]
                pos = s2 + 16
                if flags & 0x1:
                    pos += 4
                if flags & 0x4:
                    pos += 4
                fields = [flags & b for b in (0x100, 0x200, 0x400, 0x800)]
                per = 4 * sum(1 for f in fields if f)
                for n in range(count):
                    p = pos + n * per
                    dur = struct.unpack_from(">I", data, p)[0] if fields[0] else 0
                    total += dur
                    if n == 0 and fields[2]:
                        off = p + (4 if fields[0] else 0) + (4 if fields[1] else 0)
                        first_key = struct.unpack_from(">I", data, off)[0] == SAMPLE_KEY
        if base is None:
            return None
        return base, total, count, first_key
    return None


def scan(data: bytes) -> ScanResult:
    """Find the longest prefix of whole boxes: ftyp, moov, then complete moof+mdat pairs."""
    boxes = _iter_boxes(data, 0, len(data))
    valid = 0
    has_init = False
    frags = samples = 0
    first_time = end_time = None
    key_first = False
    i = 0
    if len(boxes) >= 2 and boxes[0][0] == b"ftyp" and boxes[1][0] == b"moov":
        has_init = True
        valid = boxes[1][2]
        i = 2
    else:
        return ScanResult(0, False, 0, 0, None, None, False)
    while i + 1 < len(boxes) and boxes[i][0] == b"moof" and boxes[i + 1][0] == b"mdat":
        parsed = _parse_moof(data, boxes[i][1], boxes[i][2])
        if parsed is None:
            break
        base, dur, count, first_key = parsed
        if first_time is None:
            first_time = base
            key_first = first_key
        end_time = base + dur
        frags += 1
        samples += count
        valid = boxes[i + 1][2]
        i += 2
    return ScanResult(valid, has_init, frags, samples, first_time, end_time, key_first)


@dataclass(frozen=True)
class Sample:
    time: int  # decode time in TIMESCALE ticks from the file's start
    duration: int
    key: bool
    data: bytes
    cto: int = 0  # composition offset: presented at time + cto (B-frames)


def init_bytes(data: bytes) -> bytes:
    """The ``ftyp``+``moov`` of a segment file."""
    boxes = _iter_boxes(data, 0, len(data))
    if len(boxes) < 2 or boxes[0][0] != b"ftyp" or boxes[1][0] != b"moov":
        raise ValueError("not a fragmented MP4 written by camgrid")
    return data[: boxes[1][2]]


def _is_video_traf(data: bytes, start: int, end: int) -> bool:
    """Whether a ``traf`` is of track 1, the video (a segment with audio has a second ``traf``, track 2)."""
    for kind, s, _e in _iter_boxes(data, start + 8, end):
        if kind == b"tfhd":
            return bool(struct.unpack_from(">I", data, s + 12)[0] == 1)
    return True


def read_samples(data: bytes) -> list[Sample]:
    """Every sample of a camgrid segment file (whole fragments only), with its decode time and bytes."""
    out: list[Sample] = []
    boxes = _iter_boxes(data, 0, len(data))
    i = 0
    while i + 1 < len(boxes):
        kind, start, end = boxes[i]
        if kind != b"moof" or boxes[i + 1][0] != b"mdat":
            i += 1
            continue
        base = 0
        entries: list[tuple[int, int, int, int]] = []
        data_offset = 0
        for k, s, e in _iter_boxes(data, start + 8, end):
            if k != b"traf" or not _is_video_traf(data, s, e):
                continue  # the audio track (media/fmp4_audio.py) is read by its own reader
            for k2, s2, _e2 in _iter_boxes(data, s + 8, e):
                if k2 == b"tfdt":
                    version = data[s2 + 8]
                    base = struct.unpack_from(">Q" if version == 1 else ">I", data, s2 + 12)[0]
                elif k2 == b"trun":
                    flags = struct.unpack_from(">I", data, s2 + 8)[0] & 0xFFFFFF
                    signed = data[s2 + 8] == 1
                    count = struct.unpack_from(">I", data, s2 + 12)[0]
                    pos = s2 + 16
                    if flags & 0x1:
                        data_offset = struct.unpack_from(">i", data, pos)[0]
                        pos += 4
                    if flags & 0x4:
                        pos += 4
                    for _ in range(count):
                        dur = size = cto = 0
                        sflags = SAMPLE_DELTA
                        if flags & 0x100:
                            dur = struct.unpack_from(">I", data, pos)[0]
                            pos += 4
                        if flags & 0x200:
                            size = struct.unpack_from(">I", data, pos)[0]
                            pos += 4
                        if flags & 0x400:
                            sflags = struct.unpack_from(">I", data, pos)[0]
                            pos += 4
                        if flags & 0x800:
                            cto = struct.unpack_from(">i" if signed else ">I", data, pos)[0]
                            pos += 4
                        entries.append((dur, size, sflags, cto))
        offset = start + data_offset
        t = base
        for dur, size, sflags, cto in entries:
            out.append(Sample(t, dur, sflags == SAMPLE_KEY, data[offset : offset + size], cto))
            offset += size
            t += dur
        i += 2
    return out
