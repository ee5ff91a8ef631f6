"""The simulator's packet path: a camera's whole loop rendered once, sent a tick at a time with one write.

A :class:`SendLoop` holds every packet of one loop of a camera's stream (video, and audio when the client set it
up), already framed for RTSP interleaving (``$``, channel, length, RTP header, payload), in one ``bytes`` blob, and
beside it each packet's offset, track, sequence and timestamp offsets within the loop and when it is due after the
loop starts. A session sends a tick's worth of packets (everything due by now) as one slice of the blob, copied
once, with sequence numbers, timestamps and SSRCs patched in by one ``struct.pack_into`` per packet, and written
with one call. (A numpy version, vectorised over the packets, cost 39 µs per picture against 5 µs: a tick holds
only a few packets, and numpy's per-call overhead dominates.) Loops are shared between the cameras (and sessions)
that send the same clip with the same quirks.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from camgrid.media.nal import H264, is_vcl, nal_type, param_set_type
from camgrid.media.rtp import packetize
from camgrid.sim import quirks as q
from camgrid.sim.audio import AudioTrack
from camgrid.sim.clips import Clip

CLOCK = 90_000
VIDEO, AUDIO = 0, 1
_HDR = struct.Struct(">HII")  # sequence number, timestamp, SSRC at offset 2 of the RTP header
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


def _empty_fu(codec: str, payloads: list[bytes]) -> list[bytes]:
    """After a fragmentation unit's start fragment, one with the same headers, neither S nor E, and no payload."""
    if len(payloads) < 2:
        return payloads  # a NAL unit sent whole
    first = payloads[0]
    empty = first[:1] + bytes([first[1] & 0x1F]) if codec == H264 else first[:2] + bytes([first[2] & 0x3F])
    return [first, empty, *payloads[1:]]


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
    """One loop of a stream, rendered: see the module's docstring. Per packet, plain lists (indexing a list and
    ``struct.pack_into`` cost less than numpy's per-call overhead on a tick's few packets)."""

    blob: bytes
    start: list[int]  # offset of each packet's '$'
    end: list[int]  # offset just past each packet
    track: list[int]  # VIDEO or AUDIO
    seq: list[int]  # sequence number offset within the loop (per track)
    ts: list[int]  # timestamp offset within the loop (per track's clock)
    due: list[float]  # seconds after the loop's start
    pic_first: list[int]  # index of the first packet of each picture
    pic_digest: list[str]
    seconds: float
    seq_per_loop: tuple[int, int]  # per track
    ts_per_loop: tuple[int, int]  # per track
    codec: str
    clock_rates: tuple[int, int] = (CLOCK, CLOCK)
    single_track: bool = True
    key_first: list[int] = field(default_factory=list)  # index of the first packet of each keyframe
    view: memoryview = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.view = memoryview(self.blob)

    @property
    def packets(self) -> int:
        return len(self.start)

    @property
    def pictures(self) -> int:
        return len(self.pic_first)

    def position(self, loop_no: int, index: int) -> float:
        """Seconds after the session's start at which packet ``index`` of loop ``loop_no`` is due."""
        if index >= self.packets:
            return (loop_no + 1) * self.seconds
        return loop_no * self.seconds + self.due[index]

    def due_by(self, elapsed: float) -> tuple[int, int]:
        """The (loop, index) of the first packet not yet due ``elapsed`` seconds after the session's start."""
        k = int(elapsed // self.seconds)
        return k, bisect.bisect_right(self.due, elapsed - k * self.seconds)

    def render(
        self,
        i: int,
        j: int,
        loop_no: int,
        seq0: Sequence[int],
        ts0: Sequence[int],
        ssrc: Sequence[int],
        channels: Sequence[int] | None = None,
        ts_jump: tuple[float, int] | None = None,
    ) -> bytearray:
        """Packets [i, j) of loop ``loop_no``, interleaved, with the session's numbers patched in (one copy).

        ``ts_jump`` (after, amount): video packets due ``after`` seconds or more into the session carry ``amount``
        more in their timestamps."""
        a0 = self.start[i]
        buf = bytearray(self.view[a0 : self.end[j - 1]])
        start, seq, ts, pack = self.start, self.seq, self.ts, _HDR.pack_into
        if self.single_track and channels is None and ts_jump is None:
            s_base = seq0[0] + loop_no * self.seq_per_loop[0]
            t_base = ts0[0] + loop_no * self.ts_per_loop[0]
            ss = ssrc[0]
            for p in range(i, j):
                pack(buf, start[p] - a0 + 6, (s_base + seq[p]) & 0xFFFF, (t_base + ts[p]) & 0xFFFFFFFF, ss)
            return buf
        s_base2 = (seq0[0] + loop_no * self.seq_per_loop[0], seq0[1] + loop_no * self.seq_per_loop[1])
        t_base2 = (ts0[0] + loop_no * self.ts_per_loop[0], ts0[1] + loop_no * self.ts_per_loop[1])
        offset = loop_no * self.seconds
        for p in range(i, j):
            t = self.track[p]
            stamp = t_base2[t] + ts[p]
            if ts_jump is not None and t == VIDEO and offset + self.due[p] >= ts_jump[0]:
                stamp += ts_jump[1]
            at = start[p] - a0
            pack(buf, at + 6, (s_base2[t] + seq[p]) & 0xFFFF, stamp & 0xFFFFFFFF, ssrc[t])
            if channels is not None:
                buf[at + 1] = channels[t]
        return buf

    def next_key(self, i: int) -> int:
        """The first packet of the first keyframe at or after packet ``i`` (``packets``: the next loop's start)."""
        k = bisect.bisect_left(self.key_first, i)
        return self.key_first[k] if k < len(self.key_first) else self.packets

    def next_seq(self, track: int, i: int) -> int:
        """The sequence offset of ``track``'s first packet at or after packet ``i`` (a switch between loops keeps
        each track's numbers continuing from there)."""
        for p in range(i, self.packets):
            if self.track[p] == track:
                return self.seq[p]
        return self.seq_per_loop[track]

    def pictures_in(self, i: int, j: int) -> tuple[int, int]:
        """The pictures whose first packet is among packets [i, j): indices [a, b)."""
        return bisect.bisect_left(self.pic_first, i), bisect.bisect_left(self.pic_first, j)


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
    for f, au in enumerate(clip.frames):
        due = f / send_fps
        ts = clip.pts[f] if clip.pts is not None else round(f * CLOCK / send_fps)
        digests.append(picture_digest(clip.codec, au))
        per_nal = [packetize(clip.codec, [nal]) for nal in au]
        if "fua-type-change" in quirk_set:
            per_nal = [_fua_type_change(clip.codec, p) for p in per_nal]
        if "empty-fu" in quirk_set:
            per_nal = [_empty_fu(clip.codec, p) for p in per_nal]
        if "annexb-in-rtp" in quirk_set:
            per_nal = [[b"\x00\x00\x00\x01" + p[0]] if len(p) == 1 else p for p in per_nal]
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
        start=starts,
        end=ends,
        track=[p.track for p in packets],
        seq=[p.seq for p in packets],
        ts=[p.ts for p in packets],
        due=[p.due for p in packets],
        pic_first=pic_first,
        pic_digest=digests,
        seconds=seconds,
        seq_per_loop=(video_seq, audio_seq),
        ts_per_loop=(video_ts, audio_ts),
        codec=clip.codec,
        clock_rates=(CLOCK, audio.clock_rate if audio else CLOCK),
        single_track=audio is None,
        key_first=[pic_first[f] for f, key in enumerate(clip.keys) if key],
    )


def sender_report(ssrc: int, rtp_ts: int, packets: int, octets: int, wall_ns: int, channel: int = 1) -> bytes:
    """An RTCP sender report (RFC 3550 6.4.1) framed for interleaving on ``channel``."""
    secs = wall_ns // 1_000_000_000 + 2_208_988_800
    frac = ((wall_ns % 1_000_000_000) << 32) // 1_000_000_000
    body = struct.pack(">BBHIIIIII", 0x80, 200, 6, ssrc, secs & 0xFFFFFFFF, frac, rtp_ts & 0xFFFFFFFF, packets, octets)
    return struct.pack(">BBH", 0x24, channel, len(body)) + body
