"""The simulator's packet path: a camera's whole loop rendered once, sent a tick at a time with one write.

A :class:`SendLoop` holds every packet of one loop of a camera's stream (video, and audio when the client set it
up), already framed for RTSP interleaving (``$``, channel, length, RTP header, payload), in one ``bytes`` blob, and
beside it numpy arrays: each packet's offset, track, sequence and timestamp offsets within the loop and when it is
due after the loop starts. A session sends a tick's worth of packets (everything due by now) as one slice of the
blob, with sequence numbers, timestamps and SSRCs patched into a copy by a handful of vectorised numpy operations:
no Python per packet or per picture on the hot path. Loops are shared between the cameras (and sessions) that send
the same clip with the same quirks.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from camgrid.media.nal import H264, is_vcl, nal_type, param_set_type
from camgrid.media.rtp import packetize
from camgrid.sim import quirks as q
from camgrid.sim.audio import AudioTrack
from camgrid.sim.clips import Clip

CLOCK = 90_000
VIDEO, AUDIO = 0, 1
I64 = npt.NDArray[np.int64]
_AR10 = np.arange(10, dtype=np.int64)
SPS_GARBAGE = b"\xde\xad\xbe\xef"


def picture_digest(codec: str, nals: list[bytes]) -> str:
    """SHA-256 of a picture's VCL NAL units in order (no AUD, SEI or parameter sets), each with trailing zero bytes
    left out and a 4-byte length before it: the digest of tests/interop/pictures.py, so ground truth compares."""
    h = hashlib.sha256()
    for nal in nals:
        if is_vcl(codec, nal_type(codec, nal)):
            body = nal.rstrip(b"\x00")
            h.update(struct.pack(">I", len(body)))
            h.update(body)
    return h.hexdigest()


@dataclass
class _Packet:
    due: float
    track: int
    seq: int
    ts: int
    marker: bool
    pt: int
    payload: bytes
    picture: int = -1  # index of the picture this packet starts


def _fua_type_change(codec: str, payloads: list[bytes]) -> list[bytes]:
    out = []
    for p in payloads:
        if codec == H264 and p[0] & 0x1F == 28 and not p[1] & 0x80:
            t = p[1] & 0x1F
            p = p[:1] + bytes([(p[1] & 0xE0) | (1 if t != 1 else 5)]) + p[2:]
        elif codec != H264 and (p[0] >> 1) & 0x3F == 49 and not p[2] & 0x80:
            t = p[2] & 0x3F
            p = p[:2] + bytes([(p[2] & 0xC0) | (1 if t != 1 else 19)]) + p[3:]
        out.append(p)
    return out


def with_trailing_sps(clip: Clip) -> Clip:
    """The ``sps-trailing`` quirk: every SPS, in-band and in the SDP, with garbage bytes after its stop bit."""
    sps_t = param_set_type(clip.codec, "sps")

    def fix(nal: bytes) -> bytes:
        return nal + SPS_GARBAGE if nal_type(clip.codec, nal) == sps_t else nal

    return Clip(
        clip.codec,
        clip.info,
        [fix(n) for n in clip.params],
        [[fix(n) for n in au] for au in clip.frames],
        clip.keys,
        clip.pts,
    )


@dataclass
class SendLoop:
    """One loop of a stream, rendered: see the module's docstring."""

    blob: bytes
    start: I64  # offset of each packet's '$'
    end: I64  # offset just past each packet
    track: I64  # VIDEO or AUDIO
    seq: I64  # sequence number offset within the loop (per track)
    ts: I64  # timestamp offset within the loop (per track's clock)
    due: npt.NDArray[np.float64]  # seconds after the loop's start
    pic_first: I64  # index of the first packet of each picture
    pic_ts: I64  # each picture's timestamp offset
    pic_digest: list[str]
    seconds: float
    seq_per_loop: I64  # per track
    ts_per_loop: I64  # per track
    codec: str
    clock_rates: tuple[int, int] = (CLOCK, CLOCK)
    pictures: int = 0
    bytes_per_loop: int = 0
    _channels: dict[tuple[int, int], bytes] = field(default_factory=dict)

    @property
    def packets(self) -> int:
        return len(self.start)

    def position(self, loop_no: int, index: int) -> float:
        """Seconds after the session's start at which packet ``index`` of loop ``loop_no`` is due."""
        if index >= self.packets:
            return (loop_no + 1) * self.seconds
        return loop_no * self.seconds + float(self.due[index])

    def due_by(self, elapsed: float) -> tuple[int, int]:
        """The (loop, index) of the first packet not yet due ``elapsed`` seconds after the session's start."""
        k = int(elapsed // self.seconds)
        j = int(np.searchsorted(self.due, elapsed - k * self.seconds, side="right"))
        return k, j

    def render(
        self,
        i: int,
        j: int,
        loop_no: int,
        seq0: I64,
        ts0: I64,
        ssrc: I64,
        channels: I64 | None = None,
        ts_extra: I64 | None = None,
    ) -> bytearray:
        """Packets [i, j) of loop ``loop_no``, interleaved, with the session's numbers patched in (one copy)."""
        a0 = int(self.start[i])
        buf = bytearray(self.blob[a0 : int(self.end[j - 1])])
        arr = np.frombuffer(buf, dtype=np.uint8)
        rel = self.start[i:j] - a0
        tr = self.track[i:j]
        seq = (seq0[tr] + loop_no * self.seq_per_loop[tr] + self.seq[i:j]) & 0xFFFF
        ts = ts0[tr] + loop_no * self.ts_per_loop[tr] + self.ts[i:j]
        if ts_extra is not None:
            ts = ts + ts_extra
        hdr = np.empty((j - i, 10), dtype=np.uint8)
        hdr[:, 0] = seq >> 8
        hdr[:, 1] = seq & 0xFF
        hdr[:, 2:6] = (ts & 0xFFFFFFFF).astype(">u4").view(np.uint8).reshape(-1, 4)
        hdr[:, 6:10] = ssrc[tr].astype(">u4").view(np.uint8).reshape(-1, 4)
        arr[(rel + 6)[:, None] + _AR10] = hdr
        if channels is not None:
            arr[rel + 1] = channels[tr]
        return buf

    def pictures_in(self, i: int, j: int) -> tuple[int, int]:
        """The pictures whose first packet is among packets [i, j): indices [a, b)."""
        a = int(np.searchsorted(self.pic_first, i, side="left"))
        b = int(np.searchsorted(self.pic_first, j, side="left"))
        return a, b


def build(
    clip: Clip,
    fps: float,
    quirk_set: frozenset[str] = frozenset(),
    audio: AudioTrack | None = None,
    *,
    video_channel: int = 0,
    audio_channel: int = 2,
) -> SendLoop:
    """Render one loop of ``clip`` (sent at ``fps``) and ``audio`` with the quirks that shape packets."""
    send_fps = q.SHORT_FPS if "fps-short" in quirk_set else fps
    n = len(clip.frames)
    seconds = n / send_fps
    packets: list[_Packet] = []
    seq = 0
    digests: list[str] = []
    pic_ts: list[int] = []
    for f, au in enumerate(clip.frames):
        due = f / send_fps
        ts = clip.pts[f] if clip.pts is not None else round(f * CLOCK / send_fps)
        digests.append(picture_digest(clip.codec, au))
        pic_ts.append(ts)
        per_nal = [packetize(clip.codec, [nal]) for nal in au]
        if "fua-type-change" in quirk_set:
            per_nal = [_fua_type_change(clip.codec, p) for p in per_nal]
        first = True
        for k, (nal, payloads) in enumerate(zip(au, per_nal, strict=True)):
            slice_end = "slice-markers" in quirk_set and is_vcl(clip.codec, nal_type(clip.codec, nal))
            for m, payload in enumerate(payloads):
                last = m == len(payloads) - 1 and (k == len(au) - 1 or slice_end)
                packets.append(_Packet(due, VIDEO, seq, ts, last, 96, payload, f if first else -1))
                first = False
                seq += 1
        if "stray-pt" in quirk_set and f % q.STRAY_EVERY == q.STRAY_EVERY - 1:
            payload = hashlib.sha256(f"stray {f}".encode()).digest()[:20]
            packets.append(_Packet(due, VIDEO, seq, ts, False, q.STRAY_PT, payload))
            seq += 1
    video_seq = seq
    video_ts = round(n * CLOCK / send_fps)
    audio_seq = audio_ts = 0
    if audio is not None:
        count = max(1, round(seconds / audio.packet_seconds))
        for a in range(count):
            payload = audio.payloads[a % len(audio.payloads)]
            due, ts = a * audio.packet_seconds, a * audio.samples_per_packet
            packets.append(_Packet(due, AUDIO, a, ts, True, audio.payload_type, payload))
        audio_seq, audio_ts = count, count * audio.samples_per_packet
    packets.sort(key=lambda p: p.due)  # stable: video before audio at the same instant, each track in order
    parts: list[bytes] = []
    starts, ends = [], []
    pos = 0
    channel = (video_channel, audio_channel)
    for p in packets:
        rtp = bytes([0x80, (0x80 if p.marker else 0) | p.pt]) + bytes(10) + p.payload
        parts.append(struct.pack(">BBH", 0x24, channel[p.track], len(rtp)) + rtp)
        starts.append(pos)
        pos += 4 + len(rtp)
        ends.append(pos)
    pic_first = [i for i, p in enumerate(packets) if p.picture >= 0]
    return SendLoop(
        blob=b"".join(parts),
        start=np.array(starts, dtype=np.int64),
        end=np.array(ends, dtype=np.int64),
        track=np.array([p.track for p in packets], dtype=np.int64),
        seq=np.array([p.seq for p in packets], dtype=np.int64),
        ts=np.array([p.ts for p in packets], dtype=np.int64),
        due=np.array([p.due for p in packets], dtype=np.float64),
        pic_first=np.array(pic_first, dtype=np.int64),
        pic_ts=np.array(pic_ts, dtype=np.int64),
        pic_digest=digests,
        seconds=seconds,
        seq_per_loop=np.array([video_seq, audio_seq], dtype=np.int64),
        ts_per_loop=np.array([video_ts, audio_ts], dtype=np.int64),
        codec=clip.codec,
        clock_rates=(CLOCK, audio.clock_rate if audio else CLOCK),
        pictures=n,
        bytes_per_loop=pos,
    )


def sender_report(ssrc: int, rtp_ts: int, packets: int, octets: int, wall_ns: int, channel: int = 1) -> bytes:
    """An RTCP sender report (RFC 3550 6.4.1) framed for interleaving on ``channel``."""
    secs = wall_ns // 1_000_000_000 + 2_208_988_800
    frac = ((wall_ns % 1_000_000_000) << 32) // 1_000_000_000
    body = struct.pack(">BBHIIIIII", 0x80, 200, 6, ssrc, secs & 0xFFFFFFFF, frac, rtp_ts & 0xFFFFFFFF, packets, octets)
    return struct.pack(">BBH", 0x24, channel, len(body)) + body
