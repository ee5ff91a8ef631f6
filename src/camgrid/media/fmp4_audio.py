"""A camera's audio as the second track of its fMP4 segments (docs/design/audio.md).

The video track is built by :mod:`camgrid.media.fmp4` and left byte for byte as it is: the two-track init is the
video init with an audio ``trak`` (and its ``trex``) added, and a two-track fragment is the video fragment with an
audio ``traf`` appended to its ``moof`` and the audio bytes to its ``mdat`` (the video ``trun``'s data offset moves
by the audio ``traf``'s size). Sample entries: ``mp4a``+``esds`` (AAC), ``Opus``+``dOps`` (Opus), ``alaw``/``ulaw``
(G.711, which browsers cannot play: exports carry it, players skip it). The audio track's timescale is its RTP
clock, so sample durations are exact.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from camgrid.media import fmp4
from camgrid.media.audio import AAC, OPUS, PCMA, PCMU, AudioTrack, parse_asc
from camgrid.media.nal import StreamInfo

VIDEO_TRACK = 1
AUDIO_TRACK = 2
_ENTRY = {AAC: b"mp4a", OPUS: b"Opus", PCMA: b"alaw", PCMU: b"ulaw"}
_CODEC_OF_ENTRY = {v: k for k, v in _ENTRY.items()}
box = fmp4.box
full_box = fmp4.full_box
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of the whole boxes in ``data[start:end]`` (32-bit sizes: camgrid writes no others)."""
    out = []
    i = start
    while i + 8 <= end:
        size = struct.unpack_from(">I", data, i)[0]
        if size < 8 or i + size > end:
            break
        out.append((data[i + 4 : i + 8], i, i + size))
        i += size
    return out


def _descriptor(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = bytes([0x80 | ((n >> 21) & 0x7F), 0x80 | ((n >> 14) & 0x7F), 0x80 | ((n >> 7) & 0x7F), n & 0x7F])
    return bytes([tag]) + size + body


def _esds(config: bytes) -> bytes:
    dsi = _descriptor(0x05, config)
    dcd = _descriptor(0x04, bytes([0x40, 0x15]) + bytes(3) + struct.pack(">II", 0, 0) + dsi)
    sl = _descriptor(0x06, b"\x02")
    return full_box(b"esds", 0, 0, _descriptor(0x03, struct.pack(">HB", 0, 0) + dcd + sl))


def _sample_entry(track: AudioTrack) -> bytes:
    channels = max(1, track.channels)
    rate = track.clock_rate
    head = bytes(6) + struct.pack(">H", 1) + bytes(8) + struct.pack(">HHHH", channels, 16, 0, 0)
    if track.codec == AAC:
        rate = parse_asc(track.config).sample_rate
        return box(b"mp4a", head, struct.pack(">I", (rate & 0xFFFF) << 16), _esds(track.config))
    if track.codec == OPUS:
        dops = box(b"dOps", struct.pack(">BBHIhB", 0, channels, 0, 48000, 0, 0))
        return box(b"Opus", head, struct.pack(">I", 48000 << 16), dops)
    return box(_ENTRY[track.codec], head, struct.pack(">I", (rate & 0xFFFF) << 16))


def audio_trak(track: AudioTrack, track_id: int = AUDIO_TRACK) -> bytes:
    tkhd = full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, track_id, 0, 0),
        bytes(8),
        struct.pack(">hhhH", 0, 1, 0x0100, 0),
        _MATRIX,
        struct.pack(">II", 0, 0),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, track.clock_rate, 0), struct.pack(">HH", 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"soun", bytes(12), b"camgrid\x00")
    smhd = full_box(b"smhd", 0, 0, struct.pack(">hH", 0, 0))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(track)),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", smhd, dinf, stbl)))


def add_audio_to_init(init: bytes, track: AudioTrack) -> bytes:
    """A video-only init (``ftyp``+``moov``) with the audio track added (track 2)."""
    boxes = _boxes(init, 0, len(init))
    if len(boxes) < 2 or boxes[0][0] != b"ftyp" or boxes[1][0] != b"moov":
        raise ValueError("not an init segment")
    ftyp = init[boxes[0][1] : boxes[0][2]]
    _, ms, me = boxes[1]
    children: list[bytes] = []
    for kind, s, e in _boxes(init, ms + 8, me):
        part = init[s:e]
        if kind == b"mvhd":
            part = part[:-4] + struct.pack(">I", AUDIO_TRACK + 1)  # next_track_ID
        elif kind == b"mvex":
            part = box(b"mvex", part[8:], full_box(b"trex", 0, 0, struct.pack(">IIIII", AUDIO_TRACK, 1, 0, 0, 0)))
            children.append(audio_trak(track))
        children.append(part)
    return ftyp + box(b"moov", *children)


def init_segment_av(info: StreamInfo, params: Sequence[bytes], track: AudioTrack | None) -> bytes:
    """The init of a segment: video only (byte for byte :func:`fmp4.init_segment`) when ``track`` is None."""
    init = fmp4.init_segment(info, params)
    return init if track is None else add_audio_to_init(init, track)


def _audio_traf(base_time: int, samples: Sequence[tuple[int, int]], data_offset: int) -> bytes:
    entries = b"".join(struct.pack(">II", dur, size) for dur, size in samples)
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", AUDIO_TRACK))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_time))
    trun = full_box(b"trun", 0, 0x000301, struct.pack(">Ii", len(samples), data_offset), entries)
    return box(b"traf", tfhd, tfdt, trun)


def audio_fragment(seq: int, base_time: int, samples: Sequence[tuple[int, int]], payload: Sequence[bytes]) -> bytes:
    """A ``moof``+``mdat`` of the audio track alone (the live view sends audio as it comes, between pictures)."""
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", seq))
    moof_len = 8 + len(mfhd) + len(_audio_traf(base_time, samples, 0))
    moof = box(b"moof", mfhd, _audio_traf(base_time, samples, moof_len + 8))
    body = b"".join(payload)
    return moof + struct.pack(">I", 8 + len(body)) + b"mdat" + body


def add_audio_to_fragment(
    parts: list[bytes | bytearray],
    audio_base: int,
    audio_samples: Sequence[tuple[int, int]],
    audio_payload: Sequence[bytes],
) -> list[bytes | bytearray]:
    """A video fragment (``fmp4.fragment_parts``' buffers) with an audio ``traf`` and the audio bytes added."""
    if not audio_samples:
        return parts
    header = bytes(parts[0])
    moof = header[:-8]
    video_bytes = struct.unpack_from(">I", header, len(header) - 8)[0] - 8
    traf_len = len(_audio_traf(audio_base, audio_samples, 0))
    moof_len = len(moof) + traf_len
    buf = bytearray(moof)
    struct.pack_into(">I", buf, 0, moof_len)
    for kind, s, e in _boxes(moof, 8, len(moof)):
        if kind != b"traf":
            continue
        for k2, s2, _e2 in _boxes(moof, s + 8, e):
            if k2 == b"trun" and struct.unpack_from(">I", moof, s2 + 8)[0] & 0x1:
                old = struct.unpack_from(">i", moof, s2 + 16)[0]
                struct.pack_into(">i", buf, s2 + 16, old + traf_len)
    audio_len = sum(len(p) for p in audio_payload)
    traf = _audio_traf(audio_base, audio_samples, moof_len + 8 + video_bytes)
    mdat = struct.pack(">I", 8 + video_bytes + audio_len) + b"mdat"
    return [bytes(buf) + traf + mdat, *parts[1:], *audio_payload]


def fragment_parts_av(
    seq: int,
    base_time: int,
    samples: Sequence[tuple[int, int, bool]],
    payload: Sequence[bytes | bytearray],
    audio_base: int = 0,
    audio_samples: Sequence[tuple[int, int]] = (),
    audio_payload: Sequence[bytes] = (),
) -> list[bytes | bytearray]:
    """One ``moof``+``mdat`` of both tracks; without audio samples, byte for byte :func:`fmp4.fragment_parts`."""
    parts = fmp4.fragment_parts(seq, base_time, samples, payload)
    return add_audio_to_fragment(parts, audio_base, audio_samples, audio_payload)


def _track_id(data: bytes, start: int, end: int) -> int:
    for kind, s, _e in _boxes(data, start + 8, end):
        if kind == b"tfhd":
            return int(struct.unpack_from(">I", data, s + 12)[0])
    return 0


def read_track(data: bytes, track_id: int = AUDIO_TRACK) -> list[fmp4.Sample]:
    """Every sample of one track of a segment file, its time in that track's timescale (``key`` always True)."""
    out: list[fmp4.Sample] = []
    boxes = _boxes(data, 0, len(data))
    for i in range(len(boxes) - 1):
        kind, start, end = boxes[i]
        if kind != b"moof" or boxes[i + 1][0] != b"mdat":
            continue
        for k, s, e in _boxes(data, start + 8, end):
            if k != b"traf" or _track_id(data, s, e) != track_id:
                continue
            base = 0
            for k2, s2, _e2 in _boxes(data, s + 8, e):
                if k2 == b"tfdt":
                    version = data[s2 + 8]
                    base = struct.unpack_from(">Q" if version == 1 else ">I", data, s2 + 12)[0]
                elif k2 == b"trun":
                    flags = struct.unpack_from(">I", data, s2 + 8)[0] & 0xFFFFFF
                    count = struct.unpack_from(">I", data, s2 + 12)[0]
                    pos = s2 + 16
                    offset = start
                    if flags & 0x1:
                        offset += struct.unpack_from(">i", data, pos)[0]
                        pos += 4
                    if flags & 0x4:
                        pos += 4
                    for _ in range(count):
                        dur = size = 0
                        if flags & 0x100:
                            dur = struct.unpack_from(">I", data, pos)[0]
                            pos += 4
                        if flags & 0x200:
                            size = struct.unpack_from(">I", data, pos)[0]
                            pos += 4
                        pos += 4 * bool(flags & 0x400) + 4 * bool(flags & 0x800)
                        out.append(fmp4.Sample(base, dur, True, data[offset : offset + size]))
                        offset += size
                        base += dur
    return out


def audio_of_init(init: bytes) -> tuple[str, int, bytes] | None:
    """(codec, timescale, the audio ``trak`` bytes) of an init's audio track, or None for a video-only init."""
    boxes = _boxes(init, 0, len(init))
    if len(boxes) < 2 or boxes[1][0] != b"moov":
        return None
    for kind, s, e in _boxes(init, boxes[1][1] + 8, boxes[1][2]):
        if kind != b"trak" or init.find(b"soun", s, e) < 0:
            continue
        mdhd = init.find(b"mdhd", s, e)
        timescale = struct.unpack_from(">I", init, mdhd + 4 + 12)[0] if mdhd > 0 else 0
        for entry, codec in _CODEC_OF_ENTRY.items():
            if init.find(entry, s, e) >= 0:
                return codec, int(timescale), init[s:e]
    return None


def audio_codec_string(track: AudioTrack) -> str:
    """RFC 6381 ``codecs`` value of the audio track (``mp4a.40.2``, ``opus``, ``alaw``, ``ulaw``)."""
    if track.codec == AAC:
        return f"mp4a.40.{parse_asc(track.config).object_type}"
    return {OPUS: "opus", PCMA: "alaw", PCMU: "ulaw"}[track.codec]
