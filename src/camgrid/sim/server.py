"""The simulated city's RTSP server: one asyncio process serving every camera on one port.

Each camera replays its clip forever over RTSP/TCP (interleaved RTP), rewriting sequence numbers and timestamps
itself (a looped file would break them). Faults act on cameras the way the real world does: a power cut drops every
connection and refuses new ones; an uplink cut goes silent (no data, no reset); a stall stops the media but keeps the
connection; garbage replaces the stream with random bytes; a clock jump moves the RTP timestamps; an auth fault
refuses the password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import random
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from camgrid.media.nal import H264, nal_type, param_set_type
from camgrid.sim.clips import Clip
from camgrid.sim.layout import SimCameraSpec

log = logging.getLogger("camgrid.sim")
REALM = "camgrid-sim"
CLOCK = 90_000
MAX_WRITE_BUFFER = 4 * 1024 * 1024


@dataclass
class FrameTemplate:
    """Interleaved RTP packets of one access unit with seq/ts/ssrc left to patch in."""

    data: bytes
    offsets: list[int]  # offset of each RTP header inside ``data``


def build_templates(clip: Clip) -> list[FrameTemplate]:
    out = []
    for payloads in clip.payloads:
        parts, offsets, pos = [], [], 0
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            rtp = bytes([0x80, marker | 96]) + bytes(10) + payload
            parts.append(b"$\x00" + struct.pack(">H", len(rtp)) + rtp)
            offsets.append(pos + 4)
            pos += 4 + len(rtp)
        out.append(FrameTemplate(b"".join(parts), offsets))
    return out


@dataclass
class CameraState:
    spec: SimCameraSpec
    clip: Clip
    templates: list[FrameTemplate]
    sub_clip: Clip | None = None
    sub_templates: list[FrameTemplate] = field(default_factory=list)
    powered: bool = True
    uplink_up: bool = True
    stalled: bool = False
    garbage: bool = False
    refuse_auth: bool = False
    ts_jump: int = 0
    sessions: set[RtspConnection] = field(default_factory=set)
    frames_sent: int = 0
    bytes_sent: int = 0
    intervals: list[list[int]] = field(default_factory=list)  # [start_ns, end_ns] of continuous sending

    @property
    def reachable(self) -> bool:
        return self.powered and self.uplink_up


class RtspConnection(asyncio.Protocol):
    """One client connection."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.camera: CameraState | None = None
        self.nonce = os.urandom(8).hex()
        self.session_id = f"{random.getrandbits(48):012x}"
        self.playing = False
        self.seq = random.getrandbits(16)
        self.ts_base = random.getrandbits(32)
        self.ssrc = random.getrandbits(32)
        self.frame_no = 0
        self.next_due = 0.0
        self.interval: list[int] | None = None
        self.closed = False
        self.sub = False  # this connection plays the camera's substream

    # asyncio.Protocol ------------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.camera:
            self.camera.sessions.discard(self)
        self.playing = False
        self.interval = None

    def data_received(self, data: bytes) -> None:
        if self.camera is not None and not self.camera.uplink_up:
            return  # the uplink is cut: nothing arrives at the camera
        self.buf += data
        while self.buf:
            if self.buf[0] == 0x24:  # interleaved RTCP from the client
                if len(self.buf) < 4:
                    return
                size = struct.unpack_from(">H", self.buf, 2)[0]
                if len(self.buf) < 4 + size:
                    return
                del self.buf[: 4 + size]
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
            self.handle(head)
            if self.closed:
                return

    # helpers ---------------------------------------------------------------------------------------------------
    def abort(self) -> None:
        if self.transport and not self.closed:
            self.transport.abort()
        self.closed = True

    def reply(self, cseq: str, status: str, headers: dict[str, str] | None = None, body: str = "") -> None:
        lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", "Server: camgrid-sim"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body.encode())}")
        msg = "\r\n".join(lines) + "\r\n\r\n" + body
        if self.transport and not self.closed:
            self.transport.write(msg.encode())

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
        if method == "OPTIONS":
            self.reply(cseq, "200 OK", {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"})
            return
        if not self._authorized(cam, method, headers):
            self.reply(cseq, "401 Unauthorized", {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{self.nonce}"'})
            return
        base = url.split("/trackID")[0].rstrip("/")
        if method == "DESCRIBE":
            self.reply(
                cseq,
                "200 OK",
                {"Content-Type": "application/sdp", "Content-Base": base + "/"},
                sdp(cam, self.session_id, self.sub),
            )
        elif method == "SETUP":
            self.reply(
                cseq,
                "200 OK",
                {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", "Session": f"{self.session_id};timeout=60"},
            )
        elif method == "PLAY":
            self.reply(
                cseq,
                "200 OK",
                {
                    "Session": self.session_id,
                    "RTP-Info": f"url={base}/trackID=0;seq={self.seq};rtptime={self.ts_base & 0xFFFFFFFF}",
                },
            )
            self.playing = True
            self.frame_no = 0
            self.next_due = time.monotonic()
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self.reply(cseq, "200 OK", {"Session": self.session_id})
        elif method == "TEARDOWN":
            self.reply(cseq, "200 OK", {"Session": self.session_id})
            self.playing = False
            if self.transport:
                self.transport.close()
        else:
            self.reply(cseq, "405 Method Not Allowed")

    # media -----------------------------------------------------------------------------------------------------
    def send_due(self, now: float, wall_ns: int, frame_s: float) -> None:
        cam = self.camera
        if cam is None or not self.playing or self.transport is None or self.closed:
            return
        if not cam.reachable or cam.stalled:
            self.interval = None
            self.next_due = now + frame_s
            return
        if now - self.next_due > 1.0:
            self.next_due = now  # a late tick: skip ahead as a camera would
        while self.next_due <= now:
            self.next_due += frame_s
            if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
                self.interval = None
                self.frame_no += 1
                continue  # the client does not read: the camera drops the frame
            if cam.garbage:
                self.transport.write(os.urandom(2000))
                self.interval = None
                self.frame_no += 1
                continue
            templates = cam.sub_templates if self.sub and cam.sub_templates else cam.templates
            tmpl = templates[self.frame_no % len(templates)]
            ts = (self.ts_base + cam.ts_jump + self.frame_no * int(CLOCK * frame_s)) & 0xFFFFFFFF
            buf = bytearray(tmpl.data)
            for off in tmpl.offsets:
                struct.pack_into(">HII", buf, off + 2, self.seq, ts, self.ssrc)
                self.seq = (self.seq + 1) & 0xFFFF
            self.transport.write(buf)
            self.frame_no += 1
            if self.sub:
                continue  # what was sent is accounted for the main stream only (the one recorded)
            cam.frames_sent += 1
            cam.bytes_sent += len(buf)
            end_ns = wall_ns + int(frame_s * 1e9)
            if self.interval is None:
                self.interval = [wall_ns, end_ns]
                cam.intervals.append(self.interval)
            else:
                self.interval[1] = end_ns


def sdp(cam: CameraState, session_id: str, sub: bool = False) -> str:
    clip = cam.sub_clip if sub and cam.sub_clip is not None else cam.clip
    b64 = [base64.b64encode(p).decode() for p in clip.params]
    lines = [
        "v=0",
        f"o=- {int(session_id, 16)} 1 IN IP4 127.0.0.1",
        f"s=camgrid-sim {cam.spec.id}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "m=video 0 RTP/AVP 96",
    ]
    if clip.codec == H264:
        sps = next(p for p in clip.params if nal_type(H264, p) == param_set_type(H264, "sps"))
        lines.append("a=rtpmap:96 H264/90000")
        lines.append(
            f"a=fmtp:96 packetization-mode=1;profile-level-id={sps[1:4].hex()};sprop-parameter-sets={','.join(b64)}"
        )
    else:
        by_type = {nal_type(clip.codec, p): base64.b64encode(p).decode() for p in clip.params}
        lines.append("a=rtpmap:96 H265/90000")
        lines.append(
            f"a=fmtp:96 sprop-vps={by_type.get(32, '')};sprop-sps={by_type.get(33, '')};sprop-pps={by_type.get(34, '')}"
        )
    lines.append("a=control:trackID=0")
    return "\r\n".join(lines) + "\r\n"


class SimServer:
    """All simulated cameras, their faults, and the ticker that sends their frames."""

    def __init__(self, cameras: dict[str, CameraState], fps: int) -> None:
        self.cameras = cameras
        self.fps = fps
        self.connections: set[RtspConnection] = set()
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: RtspConnection(self), host, port, reuse_address=True)

    async def tick_forever(self) -> None:
        frame_s = 1.0 / self.fps
        while True:
            now = time.monotonic()
            wall = time.time_ns()
            for conn in list(self.connections):
                if conn.playing:
                    conn.send_due(now, wall, frame_s)
            await asyncio.sleep(0.01)

    # faults ----------------------------------------------------------------------------------------------------
    def cameras_where(self, key: str, value: str) -> list[CameraState]:
        return [c for c in self.cameras.values() if getattr(c.spec, key) == value]

    def drop(self, cams: list[CameraState]) -> None:
        for cam in cams:
            for conn in list(cam.sessions):
                conn.abort()
