"""RTP payloads for H.264 (RFC 6184) and H.265 (RFC 7798): packetizing (simulator) and depacketizing (recorder).

The depacketizer is on the recorder's hot path: one call per RTP packet, no per-byte Python, one copy of each
payload. It yields whole access units as MP4 samples (4-byte length prefixes), ready to append to a fragment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from camgrid.media.nal import H264, is_keyframe_nal, is_parameter_set

MTU_PAYLOAD = 1400
_LEN = struct.Struct(">I")


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
    data: bytes
    key: bool
    params: list[bytes] = field(default_factory=list)  # parameter sets seen in this AU (SPS, PPS, VPS)
    arrival_ns: int = 0


class DepacketizeError(ValueError):
    """The stream is not RTP carrying the expected codec (a camera sending garbage)."""


class Depacketizer:
    """Reassembles access units from RTP packets of one stream."""

    __slots__ = (
        "_bad",
        "_chunks",
        "_fu",
        "_fu_len",
        "_key",
        "_last_seq",
        "_params",
        "_ts",
        "codec",
        "lost",
        "ready",
    )

    def __init__(self, codec: str) -> None:
        self.codec = codec
        self._ts: int | None = None
        self._chunks: list[bytes] = []
        self._fu: list[bytes] | None = None
        self._fu_len = 0
        self._key = False
        self._params: list[bytes] = []
        self._last_seq: int | None = None
        self._bad = False
        self.lost = 0
        self.ready: list[AccessUnit] = []  # completed AUs; the caller drains this list after each push

    def _finish(self) -> None:
        if self._chunks and not self._bad and self._ts is not None:
            self.ready.append(AccessUnit(self._ts, b"".join(self._chunks), self._key, self._params))
        self._chunks = []
        self._fu = None
        self._key = False
        self._params = []
        self._bad = False

    def _nal(self, nal: bytes) -> None:
        chunks = self._chunks
        chunks.append(_LEN.pack(len(nal)))
        chunks.append(nal)
        t = (nal[0] & 0x1F) if self.codec == H264 else (nal[0] >> 1) & 0x3F
        if is_keyframe_nal(self.codec, t):
            self._key = True
        elif is_parameter_set(self.codec, t):
            self._params.append(nal)

    def push(self, pkt: bytes) -> None:
        """Take one RTP packet; completed access units are appended to ``ready``."""
        n = len(pkt)
        if n < 12 or (pkt[0] & 0xC0) != 0x80:
            raise DepacketizeError("not an RTP packet")
        b0 = pkt[0]
        off = 12 + (b0 & 0x0F) * 4
        if b0 & 0x10:
            if n < off + 4:
                raise DepacketizeError("truncated RTP extension")
            off += 4 + ((pkt[off + 2] << 8) | pkt[off + 3]) * 4
        end = n - pkt[-1] if b0 & 0x20 else n
        if off >= end:
            return  # empty payload (keepalive); nothing to do
        marker = pkt[1] & 0x80
        seq = (pkt[2] << 8) | pkt[3]
        ts = (pkt[4] << 24) | (pkt[5] << 16) | (pkt[6] << 8) | pkt[7]
        hole = self._last_seq is not None and seq != ((self._last_seq + 1) & 0xFFFF)
        if hole:
            self.lost += (seq - self._last_seq - 1) & 0xFFFF  # type: ignore[operator]
            self._bad = True  # the unfinished AU (if any) may have lost its tail: never store it
            self._fu = None
        self._last_seq = seq
        if self._ts is not None and ts != self._ts:
            if self._chunks or self._bad:
                self._finish()  # the previous AU ended without a marker packet
            self._bad = False
        elif hole:
            self._bad = True
        self._ts = ts
        if self.codec == H264:
            self._h264(pkt, off, end)
        else:
            self._h265(pkt, off, end)
        if marker:
            self._finish()

    def _h264(self, pkt: bytes, off: int, end: int) -> None:
        t = pkt[off] & 0x1F
        if 1 <= t <= 23:
            self._nal(pkt[off:end])
        elif t == 28:  # FU-A
            if end - off < 2:
                raise DepacketizeError("truncated FU-A")
            fu = pkt[off + 1]
            if fu & 0x80:
                self._fu = [bytes([(pkt[off] & 0xE0) | (fu & 0x1F)]), pkt[off + 2 : end]]
            elif self._fu is None:
                self._bad = True
                return
            else:
                self._fu.append(pkt[off + 2 : end])
            if fu & 0x40:
                self._nal(b"".join(self._fu))
                self._fu = None
        elif t == 24:  # STAP-A
            i = off + 1
            while i + 2 <= end:
                size = (pkt[i] << 8) | pkt[i + 1]
                if size == 0 or i + 2 + size > end:
                    raise DepacketizeError("bad STAP-A")
                self._nal(pkt[i + 2 : i + 2 + size])
                i += 2 + size
        else:
            raise DepacketizeError(f"unsupported H.264 payload type {t}")

    def _h265(self, pkt: bytes, off: int, end: int) -> None:
        if end - off < 3:
            raise DepacketizeError("truncated H.265 payload")
        t = (pkt[off] >> 1) & 0x3F
        if t < 48:
            self._nal(pkt[off:end])
        elif t == 49:  # FU
            fu = pkt[off + 2]
            if fu & 0x80:
                hdr = bytes([(pkt[off] & 0x81) | ((fu & 0x3F) << 1), pkt[off + 1]])
                self._fu = [hdr, pkt[off + 3 : end]]
            elif self._fu is None:
                self._bad = True
                return
            else:
                self._fu.append(pkt[off + 3 : end])
            if fu & 0x40:
                self._nal(b"".join(self._fu))
                self._fu = None
        elif t == 48:  # AP
            i = off + 2
            while i + 2 <= end:
                size = (pkt[i] << 8) | pkt[i + 1]
                if size == 0 or i + 2 + size > end:
                    raise DepacketizeError("bad aggregation packet")
                self._nal(pkt[i + 2 : i + 2 + size])
                i += 2 + size
        else:
            raise DepacketizeError(f"unsupported H.265 payload type {t}")


def sample_nals(data: bytes) -> list[bytes]:
    """Split an MP4 sample (4-byte length prefixes) back into NAL units."""
    out = []
    i = 0
    while i + 4 <= len(data):
        size = _LEN.unpack_from(data, i)[0]
        out.append(data[i + 4 : i + 4 + size])
        i += 4 + size
    return out
