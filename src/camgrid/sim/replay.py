"""ONVIF replay (Profile G) of a simulated camera's SD card over RTSP: ``rtsp://<host>:<port>/replay/<camera>``.

Per the ONVIF Streaming Specification (replay): PLAY needs ``Require: onvif-replay`` (else 551 Option not supported,
with ``Unsupported:``), takes ``Range: clock=<from>-<to>`` in the camera's clock and ``Rate-Control: no`` (as fast as
the client reads, capped at :data:`MAX_RATE` times real time so that one replay cannot eat the simulator; the
default, ``yes``, is real time). Every RTP packet carries the replay header extension (RFC 3550 extension, profile
0xABAC, length 3): the picture's NTP time in the camera's clock, then the C (clean point), E (last packet before a
gap), D (first picture after a gap) bits and the low byte of the PLAY's CSeq. Replay starts at the keyframe at or
before the range's start, skips the time the card does not hold, and ends with an RTCP BYE; the session stays open
until TEARDOWN. The pictures are the clip anchored to the epoch (:class:`camgrid.sim.sdcard.Cadence`).

Sending runs in one asyncio task per replay, which yields after every picture and waits while the connection's
write buffer is full (backpressure), so live cameras keep their pace.
"""

from __future__ import annotations

import asyncio
import calendar
import re
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camgrid.sim.sdcard import Cadence, SdCard
from camgrid.sim.sdp import sdp_for

if TYPE_CHECKING:
    from camgrid.sim.server import CameraState, RtspConnection

PATH = "replay"
MAX_RATE = 32.0  # Rate-Control: no sends at most this many times real time (default of sim.replay_max_rate)
HIGH_WATER = 512 * 1024  # bytes queued on the connection before the replay waits for the client
CLOCK = 90_000
NTP_EPOCH_S = 2_208_988_800
C_BIT, E_BIT, D_BIT = 0x80, 0x40, 0x20
_EXT = struct.Struct(">HHIIBBH")  # profile 0xABAC, length 3, NTP seconds, NTP fraction, flags, CSeq, mbz
_CLOCK_RE = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{1,9}))?Z$")


def replay_url(host: str, port: int, camera_id: str) -> str:
    return f"rtsp://{host}:{port}/{PATH}/{camera_id}"


def parse_clock(value: str) -> int:
    """``YYYYMMDDTHHMMSS(.fff)Z`` (UTC) in ns since the epoch; ValueError when malformed."""
    m = _CLOCK_RE.match(value.strip())
    if m is None:
        raise ValueError(f"bad clock time {value[:40]!r}")
    secs = calendar.timegm(time.strptime(m.group(1), "%Y%m%dT%H%M%S"))
    frac = (m.group(2) or "").ljust(9, "0")
    return secs * 1_000_000_000 + int(frac)


def format_clock(ns: int) -> str:
    secs, rest = divmod(ns, 1_000_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(secs)) + f".{rest // 1_000_000:03d}Z"


def parse_range(header: str) -> tuple[int | None, int | None]:
    """``clock=<from>-<to>`` (either side may be empty) in ns; ValueError for other units or bad times."""
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "clock":
        raise ValueError(f"unsupported range unit {unit[:20]!r}")
    lo, sep, hi = spec.partition("-")
    if not sep:
        raise ValueError("range without '-'")
    return (parse_clock(lo) if lo.strip() else None, parse_clock(hi) if hi.strip() else None)


def ntp_parts(ns: int) -> tuple[int, int]:
    secs, rest = divmod(ns, 1_000_000_000)
    return (secs + NTP_EPOCH_S) & 0xFFFFFFFF, (rest << 32) // 1_000_000_000


def cadence_of(cam: CameraState) -> Cadence:
    """When the camera's main-stream pictures happen (what its card holds)."""
    loop = cam.loops["main"]
    keys = tuple(i for i, k in enumerate(cam.clip.keys[: loop.pictures]) if k) or (0,)
    return Cadence(loop.pictures, round(loop.seconds * 1e9), keys)


def install_cards(cameras: dict[str, CameraState], now_ns: int) -> int:
    """Give every camera whose model records (``onvif.sd_card``) an SD card, recording from ``now_ns``; how many."""
    n = 0
    for cam in cameras.values():
        if cam.onvif.sd_card and cam.card is None:
            cam.card = SdCard(int(cam.onvif.sd_capacity_s * 1e9), cam.onvif.battery, cadence_of(cam))
            cam.card.start(now_ns)
            n += 1
    return n


def sections(spans: list[tuple[int, int]], cad: Cadence, start: int | None, end: int | None) -> list[tuple[int, int]]:
    """The pictures to replay, ``[g0, g1)`` per held span met by ``[start, end)``: each from the keyframe at or
    before the range's start (within the span), to the last picture before the range's or span's end."""
    out = []
    for s, e in spans:
        lo = s if start is None else max(s, start)
        hi = e if end is None else min(e, end)
        if hi <= lo:
            continue
        g0 = cad.key_at_or_before(lo)
        if cad.time_of(g0) < s:
            g0 = cad.key_at_or_after(s)
        g1 = cad.at_or_after(hi)
        if g1 > g0:
            out.append((g0, g1))
    return out


@dataclass
class ReplaySession:
    """One replay connection's state and its sending task."""

    conn: RtspConnection
    cam: CameraState
    cadence: Cadence
    channel: int = 0
    setup: bool = False
    task: asyncio.Task[None] | None = None
    finished: bool = False  # the last replay ended (BYE sent)

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None

    def render(self, g: int, t_ns: int, t_first: int, flags: int, cseq_byte: int, seq: int) -> tuple[bytes, int]:
        """Picture ``g`` (held at ``t_ns``) as interleaved RTP packets with the replay extension; next seq."""
        loop = self.cam.loops["main"]
        p = self.cadence.frame(g)
        a = loop.pic_first[p]
        b = loop.pic_first[p + 1] if p + 1 < loop.pictures else loop.packets
        secs, frac = ntp_parts(t_ns + self.cam.clock_offset_ns)
        nominal = p * loop.ts_per_loop[0] // loop.pictures  # B-frame clips: keep each picture's pts offset
        ts = (self.conn.ts0[0] + (t_ns - t_first) * CLOCK // 1_000_000_000 + loop.ts[a] - nominal) & 0xFFFFFFFF
        ssrc = int(self.conn.ssrc_[0])
        out = bytearray()
        for i in range(a, b):
            raw = loop.view[loop.start[i] + 4 : loop.end[i]]
            f = flags & C_BIT
            if i == a:
                f |= flags & D_BIT
            if i == b - 1:
                f |= flags & E_BIT
            ext = _EXT.pack(0xABAC, 3, secs, frac, f, cseq_byte, 0)
            head = struct.pack(">BBHII", raw[0] | 0x10, raw[1], seq & 0xFFFF, ts, ssrc)
            size = len(head) + len(ext) + len(raw) - 12
            out += struct.pack(">BBH", 0x24, self.channel, size) + head + ext + raw[12:]
            seq += 1
        return bytes(out), seq

    async def run(self, parts: list[tuple[int, int]], rate: float, cseq_byte: int) -> None:
        conn, cam, cad = self.conn, self.cam, self.cadence
        aio = asyncio.get_running_loop()
        t_first = cad.time_of(parts[0][0])
        mono0 = aio.time()
        seq = conn.seq
        last_ts = int(conn.ts0[0])
        for n, (g0, g1) in enumerate(parts):
            for g in range(g0, g1):
                t = cad.time_of(g)
                wait = mono0 + (t - t_first) / 1e9 / rate - aio.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    await asyncio.sleep(0)  # never starve the live cameras
                while not cam.reachable or _queued(conn) > HIGH_WATER:
                    if conn.closed:
                        return
                    # the uplink is cut (silence until it returns) or the client reads slowly
                    await asyncio.sleep(0.005 if cam.reachable else 0.1)
                if conn.closed:
                    return
                flags = C_BIT if cad.is_key(g) else 0
                if g == g0 and n > 0:
                    flags |= D_BIT
                if g == g1 - 1:
                    flags |= E_BIT
                data, seq = self.render(g, t, t_first, flags, cseq_byte, seq)
                conn.write(data)
                last_ts = int(conn.ts0[0]) + (t - t_first) * CLOCK // 1_000_000_000
        conn.write(_bye(int(conn.ssrc_[0]), last_ts, self.channel + 1))
        self.finished = True


def _queued(conn: RtspConnection) -> int:
    return conn.transport.get_write_buffer_size() if conn.transport is not None else 0


def _bye(ssrc: int, rtp_ts: int, channel: int) -> bytes:
    """An RTCP compound packet: an empty sender report, then BYE (RFC 3550 6.6), framed for interleaving."""
    secs, frac = ntp_parts(time.time_ns())
    sr = struct.pack(">BBHIIIIII", 0x80, 200, 6, ssrc, secs, frac, rtp_ts & 0xFFFFFFFF, 0, 0)
    bye = struct.pack(">BBHI", 0x81, 203, 1, ssrc)
    return struct.pack(">BBH", 0x24, channel, len(sr) + len(bye)) + sr + bye


def handle(conn: RtspConnection, cam: CameraState, method: str, base: str, headers: dict[str, str], cseq: str) -> None:
    """One RTSP request on the replay URI (the camera is reachable and the client authorised)."""
    card = cam.card
    if card is None:
        conn.reply(cseq, "404 Not Found")
        return
    if conn.replay is None:
        conn.replay = ReplaySession(conn, cam, cadence_of(cam))
    session = conn.replay
    if method == "DESCRIBE":
        sdp = sdp_for(cam, conn.session_id)
        sdp = sdp.split("m=audio", 1)[0]  # the card holds the main video only
        conn.reply(cseq, "200 OK", {"Content-Type": "application/sdp", "Content-Base": base + "/"}, sdp)
    elif method == "SETUP":
        transport = headers.get("transport", "")
        if "TCP" not in transport.upper().split(";", 1)[0]:
            conn.reply(cseq, "461 Unsupported Transport")
            return
        chans = next((p.split("=", 1)[1] for p in transport.split(";") if p.strip().startswith("interleaved=")), "0-1")
        try:
            session.channel = int(chans.split("-")[0]) & 0xFF
        except ValueError:
            conn.reply(cseq, "400 Bad Request")
            return
        session.setup = True
        value = f"RTP/AVP/TCP;unicast;interleaved={session.channel}-{session.channel + 1};ssrc={conn.ssrc:08X}"
        conn.reply(cseq, "200 OK", {"Transport": value, "Session": f"{conn.session_id};timeout=60"})
    elif method == "PLAY":
        _play(conn, cam, session, base, headers, cseq)
    elif method == "PAUSE":
        session.stop()
        conn.reply(cseq, "200 OK", {"Session": conn.session_id})
    elif method == "TEARDOWN":
        session.stop()
        conn.reply(cseq, "200 OK", {"Session": conn.session_id})
        if conn.transport is not None:
            conn.transport.close()
    elif method in ("GET_PARAMETER", "SET_PARAMETER"):
        conn.reply(cseq, "200 OK", {"Session": conn.session_id})
    else:
        conn.reply(cseq, "405 Method Not Allowed")


def _play(
    conn: RtspConnection, cam: CameraState, session: ReplaySession, base: str, headers: dict[str, str], cseq: str
) -> None:
    require = [t.strip().lower() for t in headers.get("require", "").split(",") if t.strip()]
    if "onvif-replay" not in require:
        conn.reply(cseq, "551 Option not supported", {"Unsupported": headers.get("require") or "onvif-replay"})
        return
    if not session.setup:
        conn.reply(cseq, "455 Method Not Valid in This State")
        return
    offset = cam.clock_offset_ns
    try:
        lo, hi = parse_range(headers["range"]) if headers.get("range") else (None, None)
    except ValueError:
        conn.reply(cseq, "457 Invalid Range")
        return
    assert cam.card is not None
    now = time.time_ns()
    parts = sections(
        cam.card.held(now), session.cadence, None if lo is None else lo - offset, None if hi is None else hi - offset
    )
    if not parts:
        conn.reply(cseq, "457 Invalid Range")
        return
    fast = headers.get("rate-control", "yes").strip().lower() == "no"
    rate = conn.server.replay_max_rate if fast else 1.0
    session.stop()
    session.finished = False
    cad = session.cadence
    first, last = cad.time_of(parts[0][0]), cad.time_of(parts[-1][1])
    info = f"url={base}/trackID=0;seq={conn.seq};rtptime={int(conn.ts0[0])}"
    rng = f"clock={format_clock(first + offset)}-{format_clock(last + offset)}"
    conn.reply(cseq, "200 OK", {"Session": conn.session_id, "Range": rng, "RTP-Info": info})
    try:
        cseq_byte = int(cseq) & 0xFF
    except ValueError:
        cseq_byte = 0
    session.task = asyncio.get_running_loop().create_task(session.run(parts, rate, cseq_byte))
