"""A raw RTSP client for the simulator's own tests: what really goes over the wire, in order.

The simulator runs in the test's event loop on loopback with an injected clock (``Harness.advance`` sends what is
due); the client is a plain socket and a byte parser, so the tests see exactly what a recorder would receive:
RTSP replies and interleaved packets in the order they came.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from camgrid.sim.layout import SimCameraSpec
from camgrid.sim.server import CameraState, SimServer
from camgrid.sim.service import prepare
from tests.backends import free_port
from tests.conftest import CLIP_CACHE

FPS = 25


def spec(camera_id: str, quirks: tuple[str, ...] = (), codec: str = "h264") -> SimCameraSpec:
    return SimCameraSpec(camera_id, 1, camera_id, 27.7, 85.3, "d", "s", "f", "u", codec, "", "", 0.0, quirks)


@dataclass
class Rtp:
    channel: int
    marker: bool
    pt: int
    seq: int
    ts: int
    ssrc: int
    payload: bytes


@dataclass
class Reply:
    status: int
    head: str
    body: str

    def header(self, name: str) -> str:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return ""


@dataclass
class Client:
    """One RTSP connection; ``events`` is everything received, replies and packets, in arrival order."""

    harness: Harness
    url: str
    sock: socket.socket
    buf: bytearray = field(default_factory=bytearray)
    events: list[Reply | Rtp] = field(default_factory=list)
    cseq: int = 0
    session: str = ""
    closed: bool = False

    def pump(self) -> None:
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                break
            if not data:
                self.closed = True
                break
            self.buf += data
        self._parse()

    def _parse(self) -> None:
        while self.buf:
            if self.buf[0] == 0x24:
                if len(self.buf) < 4:
                    return
                ch, size = self.buf[1], struct.unpack_from(">H", self.buf, 2)[0]
                if len(self.buf) < 4 + size:
                    return
                pkt = bytes(self.buf[4 : 4 + size])
                del self.buf[: 4 + size]
                _b0, b1, seq, ts, ssrc = struct.unpack_from(">BBHII", pkt)
                self.events.append(Rtp(ch, bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc, pkt[12:]))
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n"):
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length].decode("latin-1")
            del self.buf[: end + 4 + length]
            self.events.append(Reply(int(head.split(" ")[1]), head, body))

    def request(self, method: str, url: str | None = None, **headers: str) -> Reply:
        self.cseq += 1
        lines = [f"{method} {url or self.url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        seen = len(self.replies())
        deadline = time.monotonic() + 5
        while len(self.replies()) == seen:
            assert time.monotonic() < deadline, f"no reply to {method}"
            self.harness.spin()
            self.pump()
        reply = self.replies()[-1]
        if reply.header("Session") and not self.session:
            self.session = reply.header("Session").split(";")[0]
        return reply

    def replies(self) -> list[Reply]:
        return [e for e in self.events if isinstance(e, Reply)]

    def packets(self, channel: int | None = 0) -> list[Rtp]:
        return [e for e in self.events if isinstance(e, Rtp) and (channel is None or e.channel == channel)]

    def play(self, *, audio: bool = False) -> Reply:
        self.request("DESCRIBE", Accept="application/sdp")
        self.request("SETUP", self.url + "/trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
        if audio:
            self.request("SETUP", self.url + "/trackID=1", Transport="RTP/AVP/TCP;unicast;interleaved=2-3")
        return self.request("PLAY")

    def close(self) -> None:
        self.sock.close()
        self.closed = True
        self.harness.spin()


class Harness:
    """A simulator in this thread's event loop, paced by a fake monotonic clock."""

    def __init__(self, specs: list[SimCameraSpec], clip_seconds: float = 2.0) -> None:
        self.cameras: dict[str, CameraState] = prepare(
            specs,
            cache_dir=CLIP_CACHE,
            width=320,
            height=240,
            fps=FPS,
            bitrate_kbps=300,
            gop_seconds=1.0,
            clip_seconds=clip_seconds,
            shared_clip=True,
        )
        self.now = 1000.0
        self.aio = asyncio.new_event_loop()
        self.sim = SimServer(self.cameras, FPS)
        self.sim.clock = lambda: self.now
        self.port = free_port()
        self.aio.run_until_complete(self.sim.start("127.0.0.1", self.port))
        self.clients: list[Client] = []

    def spin(self) -> None:
        for _ in range(3):
            self.aio.run_until_complete(asyncio.sleep(0))

    def connect(self, camera_id: str) -> Client:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setblocking(False)
        client = Client(self, f"rtsp://127.0.0.1:{self.port}/h264/{camera_id}", sock)
        self.clients.append(client)
        self.spin()
        return client

    def advance(self, seconds: float, step: float = 0.04) -> None:
        """Let ``seconds`` of camera time pass: every playing session sends what is due, the clients read it."""
        for _ in range(round(seconds / step)):
            self.now += step
            for conn in list(self.sim.connections):
                if conn.playing:
                    conn.send_due(self.now, time.time_ns(), 1.0 / FPS)
            self.sim.scenes.poll(self.now)  # motions that are over (the simulator polls ten times a second)
            self.spin()
            for c in self.clients:
                if not c.closed:
                    c.pump()

    def close(self) -> None:
        for c in self.clients:
            c.sock.close()
        for conn in list(self.sim.connections):
            conn.abort()
        if self.sim.server is not None:
            self.sim.server.close()
        self.spin()
        self.aio.close()


def pictures(packets: list[Rtp]) -> Iterator[list[Rtp]]:
    """Video packets grouped by RTP timestamp, in arrival order."""
    cur: list[Rtp] = []
    for p in packets:
        if cur and p.ts != cur[0].ts:
            yield cur
            cur = []
        cur.append(p)
    if cur:
        yield cur
