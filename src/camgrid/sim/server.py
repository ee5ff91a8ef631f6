"""The simulated city's RTSP server: one asyncio process serving every camera on one port.

Each camera replays its clip forever over RTSP/TCP (interleaved RTP), rewriting sequence numbers and timestamps
itself (a looped file would break them): each session sends what is due every tick with one write of a pre-rendered
loop (:mod:`camgrid.sim.sendloop`). Cameras can misbehave as real ones do (:mod:`camgrid.sim.quirks`). Faults act
on cameras the way the real world does: a power cut drops every connection and refuses new ones; an uplink cut goes
silent (no data, no reset); a stall stops the media but keeps the connection; garbage replaces the stream with
random bytes; a clock jump moves the RTP timestamps; an auth fault refuses the password.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import contextlib
import hashlib
import logging
import os
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from camgrid.sim import replay
from camgrid.sim.audio import AudioTrack
from camgrid.sim.clips import Clip
from camgrid.sim.layout import OnvifTraits, SimCameraSpec
from camgrid.sim.masked_clips import SimMask
from camgrid.sim.quirks import SHORT_TIMEOUT_S, TS_BACKSTEP, TS_JUMP_AFTER_S, TS_JUMP_S
from camgrid.sim.sdcard import SdCard
from camgrid.sim.sdp import sdp_for
from camgrid.sim.sendloop import AUDIO, VIDEO, SendLoop, sender_report

if TYPE_CHECKING:
    from camgrid.sim.scene_director import SceneDirector
    from camgrid.sim.scenes import SceneBank
log = logging.getLogger("camgrid.sim")
REALM = "camgrid-sim"
CLOCK = 90_000
MAX_WRITE_BUFFER = 4 * 1024 * 1024
TRUTH_PICTURES = 90_000  # the ground truth keeps the last hour (at 25 fps) of pictures per camera


@dataclass
class CameraState:
    spec: SimCameraSpec
    clip: Clip
    loops: dict[str, SendLoop]  # "main", "main+audio", "sub": see :func:`loop_key`
    sub_clip: Clip | None = None
    audio: AudioTrack | None = None
    quirks: frozenset[str] = frozenset()
    record_truth: bool = False
    powered: bool = True
    uplink_up: bool = True
    stalled: bool = False
    garbage: bool = False
    refuse_auth: bool = False
    ts_jump: int = 0
    tampered: bool = False  # ONVIF events: the scene is covered or moved (fault camera_tamper)
    motion_until_ns: int = 0  # ONVIF events: motion is seen until this wall time (fault camera_motion)
    sessions: set[RtspConnection] = field(default_factory=set)
    frames_sent: int = 0
    bytes_sent: int = 0
    intervals: list[list[int]] = field(default_factory=list)  # [start_ns, end_ns] of continuous sending
    # quirks' memory across sessions
    stale_pending: bool = False  # stale-session: the next SETUP is answered 454
    last_numbers: tuple[int, int, int] | None = None  # old-session-leak: (ssrc, next seq, next ts) of the last session
    sessions_played: int = 0
    # ground truth: (session number, RTP timestamp, picture digest, wall time sent in ns) of each picture sent
    truth: deque[tuple[int, int, str, int]] = field(default_factory=lambda: deque(maxlen=TRUTH_PICTURES))
    # ONVIF (camgrid.sim.onvif): what the camera's model can do, and how far its clock is from true time
    onvif: OnvifTraits = field(default_factory=OnvifTraits)
    clock_offset_ns: int = 0
    # Media2 privacy masks (sim/onvif/masks.py): the masks the camera lists, the loops with them burned in (None
    # while none or while they are being burned), and the fault that stops burning them in while they stay listed
    camera_masks: list[SimMask] = field(default_factory=list)
    mask_key: str = ""
    mask_loops: dict[str, SendLoop] | None = None
    mask_tamper: bool = False
    card: SdCard | None = None  # the SD card (cameras with Profile G): :mod:`camgrid.sim.sdcard`
    # scene cameras (camgrid.sim.scenes, scene_director): the variant's loops (None: the still picture) and a
    # generation bumped on each change, so that sessions switch at their next keyframe; the truth line that waits
    # for the switch on the wire; when a motion ends (server clock)
    scene_bank: SceneBank | None = None
    variant: str = "still"
    variant_loops: dict[str, SendLoop] | None = None
    loop_gen: int = 0
    scene_pending: dict[str, Any] | None = None
    scene_until: float | None = None
    scene_request: int = 0

    @property
    def sd_failed(self) -> bool:
        return self.card is not None and self.card.failed

    @property
    def reachable(self) -> bool:
        return self.powered and self.uplink_up

    def has(self, quirk: str) -> bool:
        return quirk in self.quirks

    def serving_loop(self, key: str) -> SendLoop:
        """The loop a session of this camera sends now: a scene camera's variant, else with its masks burned in
        unless the camera is tampered."""
        variant = self.variant_loops
        if variant is not None and key in variant:
            return variant[key]
        masked = self.mask_loops
        if masked is not None and not self.mask_tamper and key in masked:
            return masked[key]
        return self.loops[key]


def loop_key(sub: bool, audio: bool) -> str:
    return "sub" if sub else ("main+audio" if audio else "main")


class RtspConnection(asyncio.Protocol):
    """One client connection (and its session: the simulator serves one session per connection)."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.camera: CameraState | None = None
        self.nonce = os.urandom(8).hex()
        self.session_id = f"{random.getrandbits(48):012x}"
        self.playing = False
        self.closed = False
        self.sub = False  # this connection plays the camera's substream
        # per track (video, audio): first sequence number, first timestamp, SSRC, interleaved channel
        self.seq0 = [random.getrandbits(16), random.getrandbits(16)]
        self.ts0 = [random.getrandbits(32), random.getrandbits(32)]
        self.ssrc_ = [random.getrandbits(32), random.getrandbits(32)]
        self.channels = [0, 2]
        self.tracks: set[int] = set()
        self.udp: dict[int, tuple[socket.socket, tuple[str, int]]] = {}  # track -> (socket, client address)
        self.udp_ports: list[tuple[socket.socket, socket.socket]] = []
        self.loop: SendLoop | None = None
        self.t0 = 0.0  # monotonic time at which loop 0 of this session started
        self.loop_no = 0
        self.index = 0  # next packet of the loop to send
        self.loop_gen = 0  # the camera's loop_gen this session sends (another: switch at the next keyframe)
        self.session_no = 0
        self.interval: list[int] | None = None
        self.last_alive = server.clock()
        self.next_sr = 0.0
        self.packets_sent = 0
        self.octets_sent = 0
        self.replay: replay.ReplaySession | None = None  # set on the replay URI: :mod:`camgrid.sim.replay`

    @property
    def seq(self) -> int:
        return int(self.seq0[0])

    @property
    def ssrc(self) -> int:
        return int(self.ssrc_[0])

    # the next packet's due time (tests pace a session by setting it)
    @property
    def next_due(self) -> float:
        return self.t0 + (self.loop.position(self.loop_no, self.index) if self.loop else 0.0)

    @next_due.setter
    def next_due(self, value: float) -> None:
        self.t0 = value - (self.loop.position(self.loop_no, self.index) if self.loop else 0.0)

    # asyncio.Protocol ------------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        cam = self.camera
        if cam:
            cam.sessions.discard(self)
            if self.loop is not None:
                cam.stale_pending = cam.has("stale-session")
                cam.last_numbers = self._next_numbers()
        self.playing = False
        self.interval = None
        self._close_udp()
        if self.replay is not None:
            self.replay.stop()

    def data_received(self, data: bytes) -> None:
        if self.camera is not None and not self.camera.uplink_up:
            return  # the uplink is cut: nothing arrives at the camera
        self.buf += data
        while self.buf:
            if self.buf[0] == 0x24:  # interleaved RTCP from the client: a sign of life
                if len(self.buf) < 4:
                    return
                size = struct.unpack_from(">H", self.buf, 2)[0]
                if len(self.buf) < 4 + size:
                    return
                del self.buf[: 4 + size]
                self.last_alive = self.server.clock()
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.abort()
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1].strip() or 0)
            if len(self.buf) < end + 4 + length:
                return
            del self.buf[: end + 4 + length]
            self.last_alive = self.server.clock()
            self.handle(head)
            if self.closed:
                return

    # helpers ---------------------------------------------------------------------------------------------------
    def abort(self) -> None:
        if self.transport and not self.closed:
            self.transport.abort()
        self.closed = True
        self._close_udp()

    def _close_udp(self) -> None:
        for pair in self.udp_ports:
            for sock in pair:
                sock.close()
        self.udp_ports.clear()
        self.udp.clear()

    def write(self, data: bytes | bytearray) -> None:
        if self.transport and not self.closed:
            self.transport.write(data)

    def reply(self, cseq: str, status: str, headers: dict[str, str] | None = None, body: str = "") -> None:
        cam = self.camera
        cseq_line = f"CSeq:  {cseq} " if cam is not None and cam.has("cseq-space") else f"CSeq: {cseq}"
        lines = [f"RTSP/1.0 {status}", cseq_line, "Server: camgrid-sim"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body.encode())}")
        self.write(("\r\n".join(lines) + "\r\n\r\n" + body).encode())

    def _authorized(self, cam: CameraState, method: str, headers: dict[str, str]) -> bool:
        if not cam.spec.password:
            return True
        if cam.refuse_auth:
            return False
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return user == cam.spec.username and pw == cam.spec.password
        if not auth.startswith("Digest "):
            return False
        fields = {}
        for part in auth[7:].split(","):
            key, _, value = part.strip().partition("=")
            fields[key.lower()] = value.strip().strip('"')
        ha1 = hashlib.md5(f"{cam.spec.username}:{REALM}:{cam.spec.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{fields.get('uri', '')}".encode()).hexdigest()
        if "qop" in fields:
            expect = f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields['qop']}:{ha2}"
        else:
            expect = f"{ha1}:{fields.get('nonce')}:{ha2}"
        ok = fields.get("username") == cam.spec.username and fields.get("nonce") == self.nonce
        return ok and fields.get("response") == hashlib.md5(expect.encode()).hexdigest()

    def handle(self, head: str) -> None:
        lines = head.split("\r\n")
        try:
            method, url, _version = lines[0].split(" ", 2)
        except ValueError:
            self.abort()
            return
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        cseq = headers.get("cseq", "0")
        path = urlsplit(url).path.rstrip("/")
        parts = [p for p in path.split("/") if p and not p.startswith("trackID")]
        cam_id = parts[1] if len(parts) >= 2 else (parts[0] if parts else "")
        if len(parts) >= 3 and parts[2] == "sub":
            self.sub = True
        cam = self.server.cameras.get(cam_id)
        if cam is None:
            self.reply(cseq, "404 Not Found")
            return
        if self.camera is None:
            self.camera = cam
            cam.sessions.add(self)
        if not cam.powered:
            self.abort()  # powered off: the connection dies
            return
        if not cam.uplink_up:
            return  # silent
        no_get = cam.has("no-get-parameter")
        if method == "OPTIONS":
            public = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN" + ("" if no_get else ", GET_PARAMETER")
            self.reply(cseq, "200 OK", {"Public": public})
            return
        if not self._authorized(cam, method, headers):
            self.reply(cseq, "401 Unauthorized", {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{self.nonce}"'})
            return
        base = url.split("/trackID")[0].rstrip("/")
        if parts and parts[0] == replay.PATH:
            replay.handle(self, cam, method, base, headers, cseq)
            return
        if method == "DESCRIBE":
            content_base = base + "/"
            if cam.has("content-base-no-scheme"):
                content_base = content_base.split("://", 1)[-1]
            hdrs = {"Content-Base": content_base}
            if not cam.has("no-content-type"):
                hdrs = {"Content-Type": "application/sdp", **hdrs}
            self.reply(cseq, "200 OK", hdrs, sdp_for(cam, self.session_id, self.sub))
        elif method == "SETUP":
            self._setup(cam, cseq, url, headers.get("transport", ""))
        elif method == "PLAY":
            self._play(cam, cseq, base)
        elif method == "SET_PARAMETER" and cam.has("set-parameter-drops"):
            self.abort()
        elif method == "GET_PARAMETER" and no_get:
            self.reply(cseq, "501 Not Implemented")
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self.reply(cseq, "200 OK", {"Session": self.session_id})
        elif method == "TEARDOWN" and cam.has("teardown-500"):
            self.reply(cseq, "500 Internal Server Error")
        elif method == "TEARDOWN":
            self.reply(cseq, "200 OK", {"Session": self.session_id})
            self.playing = False
            if self.transport:
                self.transport.close()
        else:
            self.reply(cseq, "405 Method Not Allowed")

    def _setup(self, cam: CameraState, cseq: str, url: str, transport: str) -> None:
        track = AUDIO if url.rstrip("/").endswith("trackID=1") and cam.audio is not None and not self.sub else VIDEO
        if cam.stale_pending:
            cam.stale_pending = False
            self.reply(cseq, "454 Session Not Found")
            return
        tcp = "TCP" in transport.upper().split(";", 1)[0] or not transport
        timeout = SHORT_TIMEOUT_S if cam.has("short-session-timeout") else 60
        if cam.has("session-id-change") and self.tracks:
            self.session_id = f"{random.getrandbits(48):012x}"  # (requests are not checked against it)
        session = f"{self.session_id};timeout={timeout}"
        if cam.has("odd-ssrc"):
            self.ssrc_[track] &= 0xFFFF
        ssrc = int(self.ssrc_[track])
        if tcp and cam.has("udp-only"):
            self.reply(cseq, "461 Unsupported Transport")
            return
        if tcp:
            chans = _param(transport, "interleaved") or f"{2 * track}-{2 * track + 1}"
            self.channels[track] = int(chans.split("-")[0])
            value = f"RTP/AVP/TCP;unicast;interleaved={chans}"
        else:
            ports = _param(transport, "client_port")
            if not ports:
                self.reply(cseq, "461 Unsupported Transport")
                return
            host = self.transport.get_extra_info("peername")[0] if self.transport else "127.0.0.1"
            rtp, rtcp = _udp_pair(self.server.host)
            self.udp_ports.append((rtp, rtcp))
            self.udp[track] = (rtp, (host, int(ports.split("-")[0])))
            server_ports = f"{rtp.getsockname()[1]}-{rtcp.getsockname()[1]}"
            value = f"RTP/AVP;unicast;client_port={ports};server_port={server_ports}"
        value = f"RTP/AVP/TCP;ssrc={ssrc:04X};" + value.split(";", 1)[1] if cam.has("odd-ssrc") and tcp else value
        if not cam.has("odd-ssrc"):
            value += f";ssrc={ssrc:08X}"
        self.tracks.add(track)
        self.reply(cseq, "200 OK", {"Transport": value, "Session": session})

    def _play(self, cam: CameraState, cseq: str, base: str) -> None:
        loop = cam.serving_loop(loop_key(self.sub, AUDIO in self.tracks))
        self.loop, self.loop_no, self.index = loop, 0, 0
        self.loop_gen = cam.loop_gen
        self.t0 = self.server.clock()
        if cam.scene_pending is not None and not self.sub:  # a variant nobody saw yet: this session starts with it
            self.server.scenes.switched(cam, self.t0, time.time_ns())
        self.last_alive = self.t0
        cam.sessions_played += 1
        self.session_no = cam.sessions_played
        if cam.has("rtcp-before-play"):
            self.write(sender_report(self.ssrc, int(self.ts0[0]), 0, 0, time.time_ns(), int(self.channels[0]) + 1))
        if cam.has("data-before-play"):
            self.playing = True
            first_end = loop.pic_first[1] if loop.pictures > 1 else loop.packets
            self._send(loop, 0, first_end, time.time_ns())
            self.index = first_end
        seq, rtptime = (0, 0) if cam.has("bogus-rtp-info") else (self.seq, int(self.ts0[0]))
        info = f"url={base}/trackID=0;seq={seq};rtptime={rtptime}"
        if cam.has("rtp-info-trailing"):
            info = f"url={base}/trackID=0;seq={seq};rtptime=;"
        if AUDIO in self.tracks:
            info += f",url={base}/trackID=1;seq={int(self.seq0[1])};rtptime={int(self.ts0[1])}"
        self.reply(cseq, "200 OK", {"Session": self.session_id, "RTP-Info": info})
        if cam.has("old-session-leak") and cam.last_numbers is not None:
            ssrc, seq, ts = cam.last_numbers
            old = loop.render(
                0, min(3, loop.packets), 0, _pair(seq), _pair(ts), _pair(ssrc), self.channels if not self.udp else None
            )
            self._write_packets(loop, 0, min(3, loop.packets), old)
        self.playing = True
        self.next_sr = self.t0 + 1.0

    def _next_numbers(self) -> tuple[int, int, int]:
        loop = self.loop
        assert loop is not None
        seq = self.seq0[0] + self.loop_no * loop.seq_per_loop[0]
        ts = self.ts0[0] + self.loop_no * loop.ts_per_loop[0]
        if self.index < loop.packets:
            seq += loop.seq[self.index]
            ts += loop.ts[self.index]
        return self.ssrc, seq & 0xFFFF, ts & 0xFFFFFFFF

    # media -----------------------------------------------------------------------------------------------------
    def send_due(self, now: float, wall_ns: int, frame_s: float = 0.0) -> None:
        """Send what is due by ``now`` (monotonic seconds): at most one write per loop boundary crossed."""
        cam, loop = self.camera, self.loop
        if cam is None or loop is None or not self.playing or self.transport is None or self.closed:
            return
        if cam.has("short-session-timeout") and now - self.last_alive > SHORT_TIMEOUT_S + 0.5:
            log.info("%s: no keepalive for %d s: the session ends", cam.spec.id, SHORT_TIMEOUT_S)
            self.abort()
            return
        if not cam.reachable or cam.stalled:
            self.interval = None
            self.next_due = now + (frame_s or 1.0 / self.server.fps)  # media and RTP clock pause together
            return
        if now - self.next_due > 1.0:
            self.next_due = now  # a late tick: skip ahead as a camera would
        k, j = loop.due_by(now - self.t0)
        if (self.loop_no, self.index) >= (k, j):
            return
        if now >= self.next_sr and (cam.has("rtcp-unknown-ssrc") or cam.has("unassigned-channel")):
            self.next_sr = now + 1.0
            if cam.has("rtcp-unknown-ssrc"):
                self.write(sender_report(random.getrandbits(32), 0, 0, 0, wall_ns, self.channels[0] + 1))
            if cam.has("unassigned-channel"):
                self.write(b"$\x06\x00\x14\x80\x60" + os.urandom(18))
        while (self.loop_no, self.index) < (k, j):
            end = j if self.loop_no == k else loop.packets
            if self.loop_gen != cam.loop_gen:  # a scene variant waits: send up to the next keyframe, then switch
                cut = loop.next_key(self.index)
                if cut < end:
                    if self.index < cut:
                        self._send(loop, self.index, cut, wall_ns)
                    self.index = cut
                    self._switch_loop(cam, now, wall_ns)
                    loop = self.loop
                    assert loop is not None
                    k, j = loop.due_by(now - self.t0)
                    continue
            if self.index < end:
                self._send(loop, self.index, end, wall_ns)
            self.index = end
            if self.index >= loop.packets:
                self.loop_no += 1
                self.index = 0
                if self._switch_loop(cam, now, wall_ns):  # masks changed: the next loop is the other variant
                    loop = self.loop
                    assert loop is not None
                    k, j = loop.due_by(now - self.t0)

    def _switch_loop(self, cam: CameraState, now: float, wall_ns: int) -> bool:
        """At a keyframe (``self.index`` is a keyframe's first packet or 0): switch to the variant the camera serves
        now, sequence numbers continuing; a scene camera's main stream tells the simulator the picture changed."""
        old = self.loop
        new = cam.serving_loop(loop_key(self.sub, AUDIO in self.tracks))
        if self.loop_gen != cam.loop_gen:
            self.loop_gen = cam.loop_gen
            if not self.sub:  # what the camera shows changes here (the main stream is the one recorded)
                self.server.scenes.switched(cam, now, wall_ns)
        if old is None or new is old or new.ts_per_loop != old.ts_per_loop or new.seconds != old.seconds:
            return False
        if new.pictures != old.pictures:
            return False
        cut = self.index
        at = new.pic_first[bisect.bisect_left(old.pic_first, cut)] if cut else 0
        for t in (VIDEO, AUDIO):
            step = old.next_seq(t, cut) - new.next_seq(t, at)
            self.seq0[t] += self.loop_no * (old.seq_per_loop[t] - new.seq_per_loop[t]) + step
        self.loop, self.index = new, at
        return True

    def _send(self, loop: SendLoop, i: int, j: int, wall_ns: int) -> None:
        cam = self.camera
        assert cam is not None and self.transport is not None
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.interval = None
            return  # the client does not read: the camera drops what was due
        if cam.garbage:
            self.write(os.urandom(2000))
            self.interval = None
            return
        ts_jump = None
        if cam.has("ts-jump") or cam.has("ts-backstep"):
            ts_jump = (TS_JUMP_AFTER_S, TS_JUMP_S * CLOCK if cam.has("ts-jump") else TS_BACKSTEP)
        ts0 = self.ts0
        if cam.ts_jump:
            ts0 = [ts0[0] + cam.ts_jump, ts0[1]]
        channels = self.channels if (self.channels[0] != 0 or self.channels[1] != 2) else None
        data = loop.render(i, j, self.loop_no, self.seq0, ts0, self.ssrc_, channels, ts_jump)
        self._write_packets(loop, i, j, data)
        if self.sub:
            return  # what was sent is accounted for the main stream only (the one recorded)
        a, b = loop.pictures_in(i, j)
        cam.frames_sent += b - a
        cam.bytes_sent += len(data)
        self.packets_sent += j - i
        self.octets_sent += len(data)
        if cam.record_truth and b > a:
            for pic in range(a, b):
                rel = loop.start[loop.pic_first[pic]] - loop.start[i] + 8
                cam.truth.append(
                    (self.session_no, int.from_bytes(data[rel : rel + 4], "big"), loop.pic_digest[pic], wall_ns)
                )
        end_ns = wall_ns + int(1e9 * (loop.due[j - 1] - loop.due[i])) + 40_000_000
        if self.interval is None:
            self.interval = [wall_ns, end_ns]
            cam.intervals.append(self.interval)
        else:
            self.interval[1] = end_ns

    def _write_packets(self, loop: SendLoop, i: int, j: int, data: bytearray) -> None:
        if not self.udp:
            self.write(data)
            return
        base = loop.start[i]
        for s, e, t in zip(loop.start[i:j], loop.end[i:j], loop.track[i:j], strict=True):
            if t in self.udp:
                sock, addr = self.udp[t]
                with contextlib.suppress(OSError):  # a full socket buffer drops the datagram, as UDP does
                    sock.sendto(data[s - base + 4 : e - base], addr)


def _param(transport: str, name: str) -> str:
    for part in transport.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == name:
            return value.strip()
    return ""


def _pair(value: int) -> list[int]:
    return [value, value]


def _udp_pair(host: str) -> tuple[socket.socket, socket.socket]:
    out = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        sock.setblocking(False)
        out.append(sock)
    return out[0], out[1]


class SimServer:
    """All simulated cameras, their faults, and the ticker that sends their frames."""

    def __init__(self, cameras: dict[str, CameraState], fps: int, *, tick_s: float = 0.01) -> None:
        self.cameras = cameras
        self.fps = fps
        self.tick_s = tick_s
        self.host = "127.0.0.1"
        self.clock: Callable[[], float] = time.monotonic
        self.connections: set[RtspConnection] = set()
        self.server: asyncio.AbstractServer | None = None
        self.replay_max_rate = replay.MAX_RATE  # ONVIF replay with Rate-Control: no (sim.replay_max_rate)
        from camgrid.sim.scene_director import SceneDirector

        self.scenes: SceneDirector = SceneDirector(self)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self.scenes.attach(loop)
        self.host = host
        self.server = await loop.create_server(lambda: RtspConnection(self), host, port, reuse_address=True)

    async def tick_forever(self) -> None:
        frame_s = 1.0 / self.fps
        while True:
            now = time.monotonic()
            wall = time.time_ns()
            for conn in list(self.connections):
                if conn.playing:
                    conn.send_due(now, wall, frame_s)
            await asyncio.sleep(max(0.001, self.tick_s - (time.monotonic() - now)))

    # faults ----------------------------------------------------------------------------------------------------
    def cameras_where(self, key: str, value: str) -> list[CameraState]:
        return [c for c in self.cameras.values() if getattr(c.spec, key) == value]

    def drop(self, cams: list[CameraState]) -> None:
        for cam in cams:
            for conn in list(cam.sessions):
                conn.abort()
