"""A minimal ONVIF replay reader for the simulator's tests: RTSP requests on one socket, interleaved RTP with the
replay header extension parsed by hand (independently of camgrid.sim.replay), pictures put back together."""

from __future__ import annotations

import base64
import socket
import struct
import time
from dataclasses import dataclass, field

from camgrid.media.nal import H264
from camgrid.sim.sendloop import picture_digest

NTP_EPOCH_S = 2_208_988_800


@dataclass
class ExtPacket:
    seq: int
    ts: int
    marker: bool
    ntp_ns: int  # the extension's NTP time as Unix ns (rounded to the nearest ns)
    flags: int
    cseq: int
    profile: int
    words: int
    payload: bytes


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class ReplayReader:
    host: str
    port: int
    camera_id: str
    user: str
    password: str
    sock: socket.socket = field(init=False)
    buf: bytearray = field(default_factory=bytearray)
    cseq: int = 0
    session: str = ""
    packets: list[ExtPacket] = field(default_factory=list)
    rtcp: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=5)

    @property
    def url(self) -> str:
        return f"rtsp://{self.host}:{self.port}/replay/{self.camera_id}"

    def send(self, method: str, url: str | None = None, **headers: str) -> int:
        self.cseq += 1
        auth = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        lines = [f"{method} {url or self.url} RTSP/1.0", f"CSeq: {self.cseq}", f"Authorization: Basic {auth}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.cseq

    def request(self, method: str, url: str | None = None, *, timeout: float = 5.0, **headers: str) -> Reply:
        self.send(method, url, **headers)
        reply = self.next_reply(timeout)
        if reply.headers.get("session") and not self.session:
            self.session = reply.headers["session"].split(";")[0]
        return reply

    def _fill(self, deadline: float) -> bool:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(1 << 20)
        except TimeoutError:
            return False
        if not data:
            raise ConnectionError("closed")
        self.buf += data
        return True

    def _frames(self) -> Reply | None:
        """Consume what is buffered: interleaved packets into ``packets``/``rtcp``; a reply is returned."""
        while self.buf:
            if self.buf[0] == 0x24:
                if len(self.buf) < 4:
                    return None
                ch, size = self.buf[1], struct.unpack_from(">H", self.buf, 2)[0]
                if len(self.buf) < 4 + size:
                    return None
                pkt = bytes(self.buf[4 : 4 + size])
                del self.buf[: 4 + size]
                if ch % 2:
                    self.rtcp.append(pkt)
                else:
                    self.packets.append(parse_rtp(pkt))
                continue
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = self.buf[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + n:
                return None
            body = bytes(self.buf[end + 4 : end + 4 + n])
            del self.buf[: end + 4 + n]
            return Reply(int(lines[0].split(" ")[1]), headers, body)
        return None

    def next_reply(self, timeout: float = 5.0) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            reply = self._frames()
            if reply is not None:
                return reply
            if time.monotonic() >= deadline or not self._fill(deadline):
                raise TimeoutError("no reply")

    def read_until_bye(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(is_bye(p) for p in self.rtcp):
            self._frames()
            if any(is_bye(p) for p in self.rtcp):
                break
            if time.monotonic() >= deadline:
                raise TimeoutError("no BYE")
            self._fill(deadline)

    def close(self) -> None:
        self.sock.close()


def parse_rtp(pkt: bytes) -> ExtPacket:
    b0, b1, seq, ts, _ssrc = struct.unpack_from(">BBHII", pkt)
    assert b0 >> 6 == 2, "RTP version 2"
    off = 12 + 4 * (b0 & 0x0F)
    profile = words = flags = cseq = 0
    ntp_ns = -1
    if b0 & 0x10:
        profile, words = struct.unpack_from(">HH", pkt, off)
        secs, frac, flags, cseq = struct.unpack_from(">IIBB", pkt, off + 4)
        ntp_ns = (secs - NTP_EPOCH_S) * 1_000_000_000 + ((frac * 1_000_000_000 + (1 << 31)) >> 32)
        off += 4 + 4 * words
    return ExtPacket(seq, ts, bool(b1 & 0x80), ntp_ns, flags, cseq, profile, words, pkt[off:])


def is_bye(rtcp: bytes) -> bool:
    """A compound RTCP packet holding a BYE (PT 203)."""
    at = 0
    while at + 4 <= len(rtcp):
        pt, length = rtcp[at + 1], struct.unpack_from(">H", rtcp, at + 2)[0]
        if pt == 203:
            return True
        at += 4 * (length + 1)
    return False


def h264_nals(payloads: list[bytes]) -> list[bytes]:
    """NAL units of one picture's RTP payloads (single NAL units, STAP-A, FU-A)."""
    nals: list[bytes] = []
    for p in payloads:
        kind = p[0] & 0x1F
        if kind == 28:
            if p[1] & 0x80:
                nals.append(bytes([(p[0] & 0xE0) | (p[1] & 0x1F)]) + p[2:])
            else:
                nals[-1] += p[2:]
        elif kind == 24:
            at = 1
            while at + 2 <= len(p):
                n = struct.unpack_from(">H", p, at)[0]
                nals.append(p[at + 2 : at + 2 + n])
                at += 2 + n
        else:
            nals.append(p)
    return nals


def pictures(packets: list[ExtPacket]) -> list[tuple[int, list[ExtPacket], str]]:
    """(NTP time, its packets, picture digest) per picture, in arrival order (grouped by the extension's time)."""
    out: list[tuple[int, list[ExtPacket], str]] = []
    for p in packets:
        if out and out[-1][0] == p.ntp_ns:
            out[-1][1].append(p)
        else:
            out.append((p.ntp_ns, [p], ""))
    return [(t, ps, picture_digest(H264, h264_nals([p.payload for p in ps]))) for t, ps, _ in out]
