"""RTP payloads for H.264 (RFC 6184) and H.265 (RFC 7798): packetizing (simulator) and depacketizing (recorder).

The depacketizer is on the recorder's hot path: one call per RTP packet, no per-byte Python, one copy of each
payload. It yields access units as MP4 samples (4-byte length prefixes), ready to append to a fragment: a
picture ends at the marker bit, but more slices with the same timestamp (live555 marks every slice) come as
``continuation`` units that the holder of the picture appends (docs/design/packet-path.md, "Pictures, slices and
B-frames"); parameter sets or SEI alone are no picture and go with the next one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from camgrid.media.nal import H264, first_slice_in_picture, is_keyframe_nal, is_parameter_set, is_vcl

MTU_PAYLOAD = 1400
_LEN = struct.Struct(">I")
_SEQ_TS = struct.Struct(">HI")
_ZERO4 = bytes(4)
_MAX_PREFIX = 1 << 20  # non-picture NAL units held for the next picture, at most (a stream of SEI alone is dropped)


def packetize(codec: str, nals: list[bytes], mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """RTP payloads for one access unit (single NAL units and fragmentation units; no aggregation)."""
    out: list[bytes] = []
    for nal in nals:
        if len(nal) <= mtu:
            out.append(nal)
            continue
        if codec == H264:
            hdr, body = nal[0], nal[1:]
            indicator = bytes([(hdr & 0xE0) | 28])
            t = hdr & 0x1F
            step = mtu - 2
            for i in range(0, len(body), step):
                start = 0x80 if i == 0 else 0
                end = 0x40 if i + step >= len(body) else 0
                out.append(indicator + bytes([start | end | t]) + body[i : i + step])
        else:
            t = (nal[0] >> 1) & 0x3F
            body = nal[2:]
            payload_hdr = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]])
            step = mtu - 3
            for i in range(0, len(body), step):
                start = 0x80 if i == 0 else 0
                end = 0x40 if i + step >= len(body) else 0
                out.append(payload_hdr + bytes([start | end | t]) + body[i : i + step])
    return out


def rtp_header(seq: int, ts: int, ssrc: int, marker: bool, pt: int = 96) -> bytes:
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)


@dataclass(slots=True)
class AccessUnit:
    """One picture as an MP4 sample: ``data`` holds 4-byte length-prefixed NAL units."""

    ts: int  # RTP timestamp (32-bit, as received)
    data: bytes | bytearray
    key: bool
    params: list[bytes] = field(default_factory=list)  # parameter sets seen in this AU (SPS, PPS, VPS)
    arrival_ns: int = 0
    after_loss: bool = False  # pictures were lost just before this one: later ones may not decode until a keyframe
    # More slices of the picture emitted just before (same RTP timestamp, a marker after every slice: live555).
    # The consumer appends them to the picture it holds (:func:`merge_continuation`); one with ``after_loss`` says
    # the rest of that picture was lost: the held picture is incomplete and must be dropped.
    continuation: bool = False
    part: int = 0  # 1, 2, ... for the continuations of one picture (merging is idempotent per part)
    merged: int = 0  # the last part merged into this picture


def merge_continuation(held: AccessUnit, cont: AccessUnit) -> bool:
    """Append continuation ``cont`` to picture ``held`` (same RTP timestamp); False if it is not held's.

    Idempotent: the live hub and the segmenter hold the same picture object, and each merges what it sees.
    """
    if held.ts != cont.ts or not cont.continuation:
        return False
    if cont.part > held.merged:
        data = held.data if isinstance(held.data, bytearray) else bytearray(held.data)
        data += cont.data
        held.data = data
        held.key = held.key or cont.key
        if cont.params:
            held.params = [*held.params, *cont.params]
        held.merged = cont.part
    return True


class PictureJoiner:
    """Whole pictures for a consumer that cannot take continuations (a decoder: privacy masks).

    Pictures pass straight through until the stream is seen splitting one (a continuation); from then on each
    picture is held until the next one starts, with its slices merged: one picture of latency, for such cameras.
    """

    __slots__ = ("active", "held")

    def __init__(self) -> None:
        self.active = False
        self.held: tuple[AccessUnit, int, bool] | None = None

    def push(self, au: AccessUnit, ext: int, jump: bool) -> tuple[AccessUnit, int, bool] | None:
        """The picture now complete, if any (``au`` itself when the stream does not split pictures)."""
        if au.continuation:
            held = self.held
            if au.after_loss:
                self.held = None  # never a picture missing slices
            elif held is not None:
                merge_continuation(held[0], au)
            self.active = True
            return None
        if not self.active:
            return au, ext, jump
        prev, self.held = self.held, (au, ext, jump)
        return prev


class DepacketizeError(ValueError):
    """The stream is not RTP carrying the expected codec (a camera sending garbage)."""


class Depacketizer:
    """Reassembles access units from the RTP packets of one stream.

    Each access unit is built in place as an MP4 sample (4-byte length, NAL unit, ...): payload bytes are copied
    exactly once, from the receive buffer into the sample, and a fragmentation unit's length is patched when its
    last fragment arrives. No per-NAL lists, no joins.
    """

    __slots__ = (
        "_au",
        "_bad",
        "_dropped",
        "_emitted_ts",
        "_fu_at",
        "_key",
        "_last_seq",
        "_params",
        "_part",
        "_skip",
        "_ts",
        "_vcl",
        "codec",
        "h264",
        "lost",
        "ready",
        "sliced",
    )

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self.h264 = codec == H264
        self._ts: int | None = None
        self._au = bytearray()
        self._fu_at = -1  # offset of the open fragmentation unit's NAL header in _au, or -1
        self._key = False
        self._params: list[bytes] = []
        self._last_seq: int | None = None
        self._skip = -1  # the sequence number of a stray packet dropped before the depacketizer (see consumed)
        self._bad = False
        self._dropped = False
        self._vcl = False  # the AU being built holds a slice (only those are pictures)
        self._emitted_ts: int | None = None  # RTP timestamp of the last AU emitted
        self._part = 0  # continuations emitted for it
        self.lost = 0
        self.sliced = False  # a marker was seen inside a picture (live555): the stream needs merging
        self.ready: list[AccessUnit] = []  # completed AUs; the caller drains this list after each push

    def expect_seq(self, seq: int) -> None:
        """The first sequence number to come (RTSP ``RTP-Info``), so that losing the very first packet is seen."""
        self._last_seq = (seq - 1) & 0xFFFF

    def consumed(self, seq: int) -> None:
        """A packet of this stream that carries no video (a stray payload type, Geovision) had sequence number
        ``seq``: if the next video packet skips exactly that number it is no loss (some cameras give the stray packet
        a number of its own, some reuse the next one). A hole around it still counts the numbers really missing."""
        self._skip = seq

    def _finish(self) -> None:
        if self._au and not self._bad and self._fu_at < 0 and not self._vcl and len(self._au) < _MAX_PREFIX:
            return  # parameter sets or SEI alone (a marker on an SEI: Tiandy): they go with the next picture
        if self._au and not self._bad and self._fu_at < 0 and self._ts is not None and self._vcl:
            au = AccessUnit(self._ts, self._au, self._key, self._params, after_loss=self._dropped)  # type: ignore[arg-type]
            if self._ts == self._emitted_ts:
                self._same_ts(au)
            else:
                self._emitted_ts = self._ts
                self._part = 0
            self.ready.append(au)
            self._au = bytearray()
            self._params = []
            self._dropped = False
        else:
            if self._ts is not None and self._ts == self._emitted_ts and (self._au or self.sliced):
                # The rest of the picture already emitted was lost: its holder must drop it whole.
                self._part += 1
                self.ready.append(AccessUnit(self._ts, b"", False, continuation=True, part=self._part, after_loss=True))
            self._dropped = True
            self._au.clear()
            self._params.clear()
        self._fu_at = -1
        self._key = False
        self._bad = False
        self._vcl = False

    def _same_ts(self, au: AccessUnit) -> None:
        """A picture with the timestamp of the one just emitted: more of its slices, or a new picture.

        Rare (once per extra slice on live555), so the NAL walk here costs nothing on ordinary streams.
        """
        data = au.data
        i = 0
        while i + 5 <= len(data):
            size = _LEN.unpack_from(data, i)[0]
            nal = bytes(data[i + 4 : i + 4 + min(size, 3)])
            t = (nal[0] & 0x1F) if self.h264 else (nal[0] >> 1) & 0x3F
            if is_vcl(self.codec, t):
                if first_slice_in_picture(self.codec, nal):
                    self._part = 0  # a new picture reusing the timestamp (a duplicate: the consumer times it)
                    return
                break
            i += 4 + size
        self.sliced = True
        self._part += 1
        au.continuation = True
        au.part = self._part

    def _type(self, first: int) -> None:
        t = (first & 0x1F) if self.h264 else (first >> 1) & 0x3F
        if is_keyframe_nal(self.codec, t):
            self._key = True
        if is_vcl(self.codec, t):
            self._vcl = True

    def push(self, pkt: bytes) -> None:
        """Take one RTP packet (a bytes-like object); completed access units are appended to ``ready``."""
        mv = memoryview(pkt)
        try:
            self.push_from(mv, 0, len(pkt))
        finally:
            mv.release()

    def push_from(self, mv: memoryview, start: int, end: int) -> None:
        """Take the RTP packet at ``mv[start:end]`` without copying it first (the recorder's hot path)."""
        if end - start < 12 or (mv[start] & 0xC0) != 0x80:
            raise DepacketizeError("not an RTP packet")
        b0 = mv[start]
        off = start + 12 + (b0 & 0x0F) * 4
        if b0 & 0x10:
            if end < off + 4:
                raise DepacketizeError("truncated RTP extension")
            off += 4 + ((mv[off + 2] << 8) | mv[off + 3]) * 4
        if b0 & 0x20:
            end -= mv[end - 1]
        if off >= end:
            return  # empty payload (keepalive)
        marker = mv[start + 1] & 0x80
        seq, ts = _SEQ_TS.unpack_from(mv, start + 2)
        last = self._last_seq
        hole = last is not None and seq != ((last + 1) & 0xFFFF)
        if hole:
            missing = (seq - last - 1) & 0xFFFF  # type: ignore[operator]
            if self._skip >= 0 and 0 < ((self._skip - last) & 0xFFFF) <= missing:  # type: ignore[operator]
                missing -= 1  # one of them was a stray packet's, dropped on purpose
            self._skip = -1
            hole = missing > 0
            self.lost += missing
            if hole:
                self._bad = True  # the unfinished AU (if any) may have lost its tail: never store it
        self._last_seq = seq
        if ts != self._ts:
            if self._au or self._bad:
                self._finish()  # the previous AU ended without a marker packet
            # Lost packets may have been the start of this AU just as well as the end of the last: never trust it.
            self._bad = hole
            self._ts = ts
        au = self._au
        first = mv[off]
        if (
            first == 0
            and end - off > 4
            and mv[off + 1] == 0
            and (mv[off + 2] == 1 or (mv[off + 2] == 0 and mv[off + 3] == 1))
        ):
            self._annexb(mv, off, end)  # V380: a start code in front of single NAL units (retina#68)
            if marker:
                self._finish()
            return
        if first & 0x80:
            raise DepacketizeError("forbidden bit set in a NAL unit header")
        if self.h264:
            t = first & 0x1F
            if t == 28:  # FU-A
                if end - off < 2:
                    raise DepacketizeError("truncated FU-A")
                fu = mv[off + 1]
                if fu & 0x80:
                    au += _ZERO4
                    self._fu_at = len(au)
                    hdr = (first & 0xE0) | (fu & 0x1F)
                    au.append(hdr)
                    self._type(hdr)
                elif self._fu_at < 0:
                    self._bad = True
                    return
                au += mv[off + 2 : end]
                if fu & 0x40:
                    _LEN.pack_into(au, self._fu_at - 4, len(au) - self._fu_at)
                    self._fu_at = -1
            elif 1 <= t <= 23:
                self._single(mv, off, end, t)
            elif t == 24:  # STAP-A
                self._aggregate(mv, off + 1, end)
            else:
                raise DepacketizeError(f"unsupported H.264 payload type {t}")
        else:
            if end - off < 3:
                raise DepacketizeError("truncated H.265 payload")
            t = (first >> 1) & 0x3F
            if t == 49:  # FU
                fu = mv[off + 2]
                if fu & 0x80:
                    au += _ZERO4
                    self._fu_at = len(au)
                    au.append((first & 0x81) | ((fu & 0x3F) << 1))
                    au.append(mv[off + 1])
                    self._type(au[self._fu_at])
                elif self._fu_at < 0:
                    self._bad = True
                    return
                au += mv[off + 3 : end]
                if fu & 0x40:
                    _LEN.pack_into(au, self._fu_at - 4, len(au) - self._fu_at)
                    self._fu_at = -1
            elif t < 48:
                self._single(mv, off, end, t)
            elif t == 48:  # AP
                self._aggregate(mv, off + 2, end)
            else:
                raise DepacketizeError(f"unsupported H.265 payload type {t}")
        if marker:
            self._finish()

    def _single(self, mv: memoryview, off: int, end: int, t: int) -> None:
        au = self._au
        au += _LEN.pack(end - off)
        au += mv[off:end]
        if is_parameter_set(self.codec, t):
            self._params.append(bytes(mv[off:end]))
        elif is_vcl(self.codec, t):
            self._vcl = True
            if is_keyframe_nal(self.codec, t):
                self._key = True

    def _annexb(self, mv: memoryview, off: int, end: int) -> None:
        """A payload in Annex B form (start codes, one or more NAL units): each unit is taken as a single NAL unit.
        Off the hot path: only cameras that send it (V380) pay for the search."""
        data = bytes(mv[off:end])
        starts = []
        i = data.find(b"\x00\x00\x01")
        while i >= 0:
            starts.append(i + 3)
            i = data.find(b"\x00\x00\x01", i + 3)
        for k, begin in enumerate(starts):
            stop = len(data)
            if k + 1 < len(starts):
                stop = starts[k + 1] - 3
                while stop > begin and data[stop - 1] == 0:
                    stop -= 1  # the zero of a four-byte start code (or trailing zeros) belongs to no NAL unit
            if stop - begin < (1 if self.h264 else 2) or data[begin] & 0x80:
                raise DepacketizeError("bad Annex B NAL unit in an RTP payload")
            t = (data[begin] & 0x1F) if self.h264 else (data[begin] >> 1) & 0x3F
            if (self.h264 and not 1 <= t <= 23) or (not self.h264 and t >= 48):
                raise DepacketizeError(f"unsupported NAL unit type {t} after an Annex B start code")
            self._single(memoryview(data), begin, stop, t)

    def _aggregate(self, mv: memoryview, i: int, end: int) -> None:
        while i + 2 <= end:
            size = (mv[i] << 8) | mv[i + 1]
            if size == 0 or i + 2 + size > end:
                raise DepacketizeError("bad aggregation packet")
            first = mv[i + 2]
            t = (first & 0x1F) if self.h264 else (first >> 1) & 0x3F
            self._single(mv, i + 2, i + 2 + size, t)
            i += 2 + size


def sample_nals(data: bytes) -> list[bytes]:
    """Split an MP4 sample (4-byte length prefixes) back into NAL units."""
    out = []
    i = 0
    while i + 4 <= len(data):
        size = _LEN.unpack_from(data, i)[0]
        out.append(data[i + 4 : i + 4 + size])
        i += 4 + size
    return out


# ONVIF replay (Profile G) -----------------------------------------------------------------------------------------
ONVIF_REPLAY_PROFILE = 0xABAC  # the RFC 3550 header extension of the ONVIF Streaming Specification, "Replay"
NTP_UNIX_OFFSET_S = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)


class ExtensionError(ValueError):
    """An RTP packet whose header extension does not fit in it (the packet is dropped and counted)."""


@dataclass(frozen=True, slots=True)
class ReplayStamp:
    """What the ONVIF replay extension says of a packet: the camera's wall time of its picture (Unix ns, the
    camera's clock) and the C (clean point: a keyframe starts here), E (last packet of a recorded span), D (a
    discontinuity before this packet: time jumped, a span began) bits, and the request's CSeq low byte."""

    ntp_ns: int
    clean_point: bool
    end: bool
    discontinuity: bool
    cseq: int = 0


def onvif_replay_extension(packet: bytes | bytearray | memoryview, start: int = 0, end: int = -1) -> ReplayStamp | None:
    """The ONVIF replay header extension of the RTP packet at ``packet[start:end]``, or None when it has none.

    RFC 3550 5.3.1: after the fixed header and the CSRCs, a 16-bit profile, a 16-bit length in 32-bit words, then the
    data. ONVIF: profile 0xABAC, at least 3 words: a 64-bit NTP timestamp (seconds since 1900 and a 32-bit
    fraction), then a byte ``C E D T mbz(4)`` and the CSeq byte. Every offset is checked before it is read: a
    length that runs past the packet raises :class:`ExtensionError` (the live depacketizer skips extensions alone;
    nothing here changes it).
    """
    if end < 0:
        end = len(packet)
    if end - start < 12:
        raise ExtensionError("not an RTP packet")
    b0 = packet[start]
    if b0 & 0xC0 != 0x80:
        raise ExtensionError("not an RTP packet")
    if not b0 & 0x10:
        return None
    off = start + 12 + (b0 & 0x0F) * 4
    if off + 4 > end:
        raise ExtensionError("the header extension runs past the packet")
    profile = (packet[off] << 8) | packet[off + 1]
    words = (packet[off + 2] << 8) | packet[off + 3]
    data = off + 4
    if data + words * 4 > end:
        raise ExtensionError(f"the header extension ({words} words) runs past the packet")
    if profile != ONVIF_REPLAY_PROFILE:
        return None
    if words < 3:
        raise ExtensionError(f"an ONVIF replay extension of {words} words (3 expected)")
    secs = int.from_bytes(packet[data : data + 4], "big")
    frac = int.from_bytes(packet[data + 4 : data + 8], "big")
    flags = packet[data + 8]
    # Rounded, not truncated: writers truncate (gst, most cameras) or round up, and either way the nearest nanosecond
    # is the one they meant (a fraction step is 0.23 ns), so 40 ms stays 40,000,000 ns, not 39,999,999.
    ntp_ns = (secs - NTP_UNIX_OFFSET_S) * 1_000_000_000 + ((frac * 1_000_000_000 + (1 << 31)) >> 32)
    return ReplayStamp(ntp_ns, bool(flags & 0x80), bool(flags & 0x40), bool(flags & 0x20), packet[data + 9])


def onvif_replay_header(
    ntp_ns: int, *, clean_point: bool, end: bool = False, discontinuity: bool = False, cseq: int = 0
) -> bytes:
    """The extension's bytes (profile, length, data) for a packet of a picture at ``ntp_ns`` (Unix ns)."""
    secs, rest = divmod(ntp_ns, 1_000_000_000)
    frac = -(-(rest << 32) // 1_000_000_000)  # rounded up: the reader's floor gives back the same nanosecond
    flags = (0x80 if clean_point else 0) | (0x40 if end else 0) | (0x20 if discontinuity else 0)
    return struct.pack(
        ">HHIIBBH", ONVIF_REPLAY_PROFILE, 3, (secs + NTP_UNIX_OFFSET_S) & 0xFFFFFFFF, frac, flags, cseq & 0xFF, 0
    )
