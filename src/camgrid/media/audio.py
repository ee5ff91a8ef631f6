"""Audio over RTP: the SDP of a camera's audio track and depacketizers for AAC, G.711 and Opus.

Recorded as sent (never transcoded): each depacketizer yields whole codec frames with their RTP timestamps and
durations (in ticks of the track's RTP clock), ready to become samples of a second fMP4 track.

- AAC, RFC 3640 ``mpeg4-generic`` (AAC-hbr): AU headers of ``sizelength``/``indexlength``/``indexdeltalength``
  bits, several AUs per packet or one AU fragmented over several (the marker bit ends it); the decoder
  configuration (AudioSpecificConfig) comes from the fmtp ``config=`` hex.
- G.711 A-law (``PCMA``, static payload type 8) and µ-law (``PCMU``, 0): one byte per sample at 8 kHz; a packet
  is one frame.
- Opus, RFC 7587: one Opus packet per RTP packet, 48 kHz clock; its duration is read from the TOC byte.

``MP4A-LATM`` (AAC in LATM, RFC 6416) is refused with a clear reason: its configuration is a StreamMuxConfig, and
cameras that send it usually offer ``mpeg4-generic`` too (docs/design/audio.md).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from urllib.parse import urljoin

AAC = "aac"
OPUS = "opus"
PCMA = "pcma"
PCMU = "pcmu"
AUDIO_CODECS = (AAC, OPUS, PCMA, PCMU)
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_STATIC = {0: (PCMU, 8000, 1), 8: (PCMA, 8000, 1)}
MAX_AU_BYTES = 1 << 16


class AudioUnsupported(ValueError):
    """The camera's audio cannot be recorded as sent (the message says why); its video is recorded all the same."""


class AudioDepacketizeError(ValueError):
    """An audio RTP packet that cannot be read (malformed header, AU headers beyond the packet)."""


@dataclass(frozen=True)
class AudioTrack:
    """What the SDP says about the audio track."""

    codec: str
    control: str
    payload_type: int
    clock_rate: int
    channels: int = 1
    config: bytes = b""  # AAC: AudioSpecificConfig
    size_length: int = 13
    index_length: int = 3
    index_delta_length: int = 3
    frame_length: int = 1024  # AAC samples per AU (960 with frameLengthFlag)


@dataclass(frozen=True, slots=True)
class AudioFrame:
    ts: int  # RTP timestamp (32-bit)
    data: bytes
    duration: int  # in ticks of the RTP clock
    after_loss: bool = False


@dataclass(frozen=True)
class AacConfig:
    object_type: int
    sample_rate: int
    channels: int
    frame_length: int


def parse_asc(config: bytes) -> AacConfig:
    """The fields of an AudioSpecificConfig (ISO 14496-3 1.6.2.1) a recorder needs."""
    bits = int.from_bytes(config, "big")
    total = len(config) * 8
    pos = 0

    def take(n: int) -> int:
        nonlocal pos
        if pos + n > total:
            raise AudioUnsupported("the AAC AudioSpecificConfig is truncated")
        pos += n
        return (bits >> (total - pos)) & ((1 << n) - 1)

    aot = take(5)
    if aot == 31:
        aot = 32 + take(6)
    idx = take(4)
    rate = take(24) if idx == 15 else (_AAC_RATES[idx] if idx < len(_AAC_RATES) else 0)
    if rate <= 0:
        raise AudioUnsupported(f"AAC sampling frequency index {idx} is reserved")
    channels = take(4)
    frame_length = 1024
    if aot in (1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23):
        frame_length = 960 if take(1) else 1024
    return AacConfig(aot, rate, channels, frame_length)


def parse_audio_sdp(text: str, base: str) -> AudioTrack | None:
    """The first audio stream of an SDP description; None when there is none.

    Raises :class:`AudioUnsupported` when the first audio stream is in a codec camgrid does not record as sent.
    """
    in_audio = False
    found = False
    pts: list[int] = []
    rtpmap: dict[int, tuple[str, int, int]] = {}
    fmtp: dict[int, dict[str, str]] = {}
    control = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if in_audio:
                break
            in_audio = line.startswith("m=audio")
            if in_audio:
                found = True
                pts = [int(p) for p in line.split()[3:] if p.isdigit()]
        elif in_audio and line.startswith("a=rtpmap:"):
            num, _, enc = line[9:].partition(" ")
            parts = enc.strip().split("/")
            if num.strip().isdigit() and len(parts) >= 2 and parts[1].strip().isdigit():
                ch = int(parts[2]) if len(parts) > 2 and parts[2].strip().isdigit() else 1
                rtpmap[int(num)] = (parts[0].strip().lower(), int(parts[1]), ch)
        elif in_audio and line.startswith("a=fmtp:"):
            num, _, rest = line[7:].partition(" ")
            params: dict[str, str] = {}
            for item in rest.split(";"):
                key, _, value = item.strip().partition("=")
                if key:
                    params[key.strip().lower()] = value.strip()
            if num.strip().isdigit():
                fmtp[int(num)] = params
        elif in_audio and line.startswith("a=control:"):
            control = line[10:].strip()
    if not found or not pts:
        return None
    pt = pts[0]
    name, rate, channels = rtpmap.get(pt, ("", 0, 1))
    if not name and pt in _STATIC:
        name, rate, channels = _STATIC[pt]
    if not control or control == "*":
        url = base
    elif control.startswith("rtsp://") or control.startswith("rtsps://"):
        url = control
    else:
        url = urljoin(base if base.endswith("/") else base + "/", control)
    params = fmtp.get(pt, {})
    if name in (PCMA, PCMU):
        return AudioTrack(name, url, pt, rate or 8000, channels)
    if name == OPUS:
        stereo = params.get("sprop-stereo", params.get("stereo", "0")) == "1"
        return AudioTrack(OPUS, url, pt, 48000, 2 if stereo else 1)
    if name == "mpeg4-generic":
        mode = params.get("mode", "").lower()
        if mode and mode != "aac-hbr":
            raise AudioUnsupported(f"mpeg4-generic mode {params.get('mode')} is not AAC-hbr")
        try:
            config = bytes.fromhex(params.get("config", ""))
        except ValueError:
            raise AudioUnsupported("the AAC config in the SDP is not hex") from None
        if not config:
            raise AudioUnsupported("the AAC track has no config in its SDP")
        asc = parse_asc(config)
        size_length = int(params.get("sizelength", "13") or 13)
        if not 1 <= size_length <= 16:
            raise AudioUnsupported(f"AAC sizelength {size_length} is out of range")
        return AudioTrack(
            AAC,
            url,
            pt,
            rate or asc.sample_rate,
            asc.channels or channels,
            config,
            size_length,
            int(params.get("indexlength", "3") or 3),
            int(params.get("indexdeltalength", "3") or 3),
            asc.frame_length,
        )
    if name == "mp4a-latm":
        raise AudioUnsupported(
            "MP4A-LATM audio (AAC in LATM) is not recorded; set the camera to AAC (mpeg4-generic), G.711 or Opus"
        )
    raise AudioUnsupported(f"audio codec {name or pt} is not AAC, G.711 or Opus")


def rtp_payload(pkt: bytes | memoryview) -> tuple[int, int, bool, int, int]:
    """(sequence number, timestamp, marker, payload start, payload end) of an RTP packet."""
    n = len(pkt)
    if n < 12 or (pkt[0] & 0xC0) != 0x80:
        raise AudioDepacketizeError("not an RTP packet")
    first = pkt[0]
    marker = bool(pkt[1] & 0x80)
    seq, ts = struct.unpack_from(">HI", pkt, 2)
    start = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if start + 4 > n:
            raise AudioDepacketizeError("RTP header extension beyond the packet")
        start += 4 + 4 * struct.unpack_from(">H", pkt, start + 2)[0]
    end = n
    if first & 0x20:
        end -= pkt[n - 1]
    if start > end:
        raise AudioDepacketizeError("RTP header or padding beyond the packet")
    return seq, ts, marker, start, end


def opus_duration(data: bytes) -> int:
    """Samples at 48 kHz in one Opus packet (RFC 6716 3.1), from its TOC byte (and frame count byte)."""
    if not data:
        return 0
    toc = data[0]
    config = toc >> 3
    if config < 12:
        frame = (480, 960, 1920, 2880)[config & 3]
    elif config < 16:
        frame = (480, 960)[config & 1]
    else:
        frame = (120, 240, 480, 960)[config & 3]
    code = toc & 3
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        if len(data) < 2:
            raise AudioDepacketizeError("Opus packet of code 3 without its frame count")
        count = data[1] & 0x3F
    return frame * count


@dataclass
class AudioDepacketizer:
    """Frames of one audio track from its RTP packets: ``push(packet)`` returns the frames it completed."""

    track: AudioTrack
    lost: int = 0
    _last_seq: int | None = None
    _frag: bytearray = field(default_factory=bytearray)
    _frag_size: int = 0
    _frag_ts: int = 0
    _after_loss: bool = False

    def push(self, pkt: bytes | memoryview) -> list[AudioFrame]:
        seq, ts, marker, start, end = rtp_payload(pkt)
        if self._last_seq is not None:
            gap = (seq - self._last_seq - 1) & 0xFFFF
            if gap and gap < 0x8000:
                self.lost += gap
                self._after_loss = True
                self._frag.clear()  # a fragmented AU missing a piece is never whole
                self._frag_size = 0
            elif gap >= 0x8000:
                return []  # late or duplicate
        self._last_seq = seq
        payload = bytes(pkt[start:end])
        codec = self.track.codec
        if codec == AAC:
            frames = self._aac(ts, marker, payload)
        elif codec == OPUS:
            frames = [AudioFrame(ts, payload, opus_duration(payload))] if payload else []
        else:
            ch = max(1, self.track.channels)
            frames = [AudioFrame(ts, payload, len(payload) // ch)] if payload else []
        if frames and self._after_loss:
            frames[0] = AudioFrame(frames[0].ts, frames[0].data, frames[0].duration, True)
            self._after_loss = False
        return frames

    def _aac(self, ts: int, marker: bool, payload: bytes) -> list[AudioFrame]:
        t = self.track
        if len(payload) < 2:
            raise AudioDepacketizeError("AAC packet without AU headers")
        header_bits = struct.unpack_from(">H", payload, 0)[0]
        header_bytes = (header_bits + 7) // 8
        if 2 + header_bytes > len(payload):
            raise AudioDepacketizeError("AAC AU headers beyond the packet")
        bits = int.from_bytes(payload[2 : 2 + header_bytes], "big")
        total = header_bytes * 8
        pos = 0
        sizes: list[int] = []
        first = True
        while header_bits - pos >= t.size_length + (t.index_length if first else t.index_delta_length):
            pos += t.size_length
            sizes.append((bits >> (total - pos)) & ((1 << t.size_length) - 1))
            pos += t.index_length if first else t.index_delta_length
            first = False
        data = payload[2 + header_bytes :]
        if self._frag and ts != self._frag_ts:
            self._frag.clear()  # a new AU before the last piece of the fragmented one: that one is lost
            self._frag_size = 0
            self._after_loss = True
        if self._frag:
            # The rest of a fragmented AU: one AU header giving the whole size, then a piece of it.
            self._frag += data
            if len(self._frag) >= self._frag_size or marker:
                whole = bytes(self._frag[: self._frag_size])
                ok = len(self._frag) == self._frag_size
                self._frag.clear()
                self._frag_size = 0
                return [AudioFrame(self._frag_ts, whole, t.frame_length)] if ok else []
            return []
        if len(sizes) == 1 and sizes[0] > len(data):
            if sizes[0] > MAX_AU_BYTES:
                raise AudioDepacketizeError("AAC AU larger than any real frame")
            if marker:
                self._after_loss = True  # the last piece of an AU whose first pieces were lost
                return []
            self._frag = bytearray(data)
            self._frag_size = sizes[0]
            self._frag_ts = ts
            return []
        out: list[AudioFrame] = []
        offset = 0
        for i, size in enumerate(sizes):
            if offset + size > len(data):
                raise AudioDepacketizeError("AAC AU beyond the packet")
            out.append(AudioFrame((ts + i * t.frame_length) & 0xFFFFFFFF, data[offset : offset + size], t.frame_length))
            offset += size
        return out


def packetize_aac(frames: list[bytes], size_length: int = 13, index_length: int = 3) -> bytes:
    """One RFC 3640 AAC-hbr payload carrying ``frames`` (for tests and the simulator: index deltas are 0)."""
    bits = 0
    nbits = 0
    for f in frames:
        bits = (bits << size_length) | len(f)
        bits <<= index_length  # index (first) and index delta (the others) are 0, of the same width here
        nbits += size_length + index_length
    pad = (-nbits) % 8
    header = (bits << pad).to_bytes((nbits + pad) // 8, "big") if nbits else b""
    return struct.pack(">H", nbits) + header + b"".join(frames)
