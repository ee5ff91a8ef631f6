"""A bare RTSP client for checking what a third-party server really puts on the wire (so each interop variant is
known to exercise what it claims): DESCRIBE, SETUP of the first video track over TCP, PLAY, then the interleaved RTP
packets for a while. Not camgrid's client: an independent, minimal one (no Digest: anonymous servers only)."""

from __future__ import annotations

import re
import socket
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin


@dataclass
class Packet:
    marker: bool
    pt: int
    seq: int
    timestamp: int
    payload: bytes


@dataclass
class Capture:
    describe: str  # the whole DESCRIBE answer (headers and SDP)
    setup: str
    packets: list[Packet] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the status lines of the keepalives' answers

    def nal_types(self) -> set[int]:
        """The H.264 NAL unit types of the packets' payload headers (24 = STAP-A, 28 = FU-A)."""
        return {p.payload[0] & 0x1F for p in self.packets if p.payload}

    def markers_per_timestamp(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for p in self.packets:
            out[p.timestamp] = out.get(p.timestamp, 0) + int(p.marker)
        return out


def _read_answer(sock: socket.socket, buf: bytearray) -> str:
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buf += chunk
    head_end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:head_end])
    m = re.search(rb"Content-Length: *(\d+)", head, re.IGNORECASE)
    length = int(m.group(1)) if m else 0
    while len(buf) < head_end + length:
        buf += sock.recv(65536)
    text = bytes(buf[: head_end + length]).decode(errors="replace")
    del buf[: head_end + length]
    return text


def capture(url: str, seconds: float, keepalive: str | None = None, every: float = 2.0) -> Capture:
    """Play ``url`` for ``seconds``, sending ``keepalive`` (an RTSP method, in the session) every ``every`` s."""
    host, port = re.match(r"rtsp://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        buf = bytearray()

        def ask(method: str, target: str, cseq: int, extra: str = "") -> str:
            sock.sendall(f"{method} {target} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode())
            return _read_answer(sock, buf)

        describe = ask("DESCRIBE", url, 1, "Accept: application/sdp\r\n")
        base = re.search(r"Content-Base: *(\S+)", describe)
        sdp = describe.split("\r\n\r\n", 1)[1]
        video = sdp.split("m=video", 1)[1].split("\nm=", 1)[0]
        control = re.search(r"a=control:(\S+)", video).group(1)  # type: ignore[union-attr]
        target = control if control.startswith("rtsp://") else urljoin(base.group(1) if base else url + "/", control)
        setup = ask("SETUP", target, 2, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        session = re.search(r"Session: *([^;\r]+)", setup).group(1)  # type: ignore[union-attr]
        ask("PLAY", url, 3, f"Session: {session}\r\nRange: npt=0.000-\r\n")
        out = Capture(describe, setup)
        end = time.monotonic() + seconds
        cseq, next_keepalive = 4, time.monotonic() + every
        while time.monotonic() < end:
            if keepalive and time.monotonic() >= next_keepalive:
                sock.sendall(f"{keepalive} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nSession: {session}\r\n\r\n".encode())
                cseq, next_keepalive = cseq + 1, next_keepalive + every
            while len(buf) >= 4 and buf[0] == 0x24:
                channel, length = buf[1], struct.unpack(">H", buf[2:4])[0]
                if len(buf) < 4 + length:
                    break
                frame = bytes(buf[4 : 4 + length])
                del buf[: 4 + length]
                if channel == 0 and len(frame) >= 12:
                    cc = frame[0] & 0x0F
                    seq, ts = struct.unpack(">HI", frame[2:8])
                    out.packets.append(Packet(bool(frame[1] & 0x80), frame[1] & 0x7F, seq, ts, frame[12 + 4 * cc :]))
            if buf and buf[0] != 0x24 and b"\r\n\r\n" in buf:
                # an RTSP message from the server (an answer to a keepalive, or a request)
                out.answers.append(_read_answer(sock, buf).split("\r\n", 1)[0])
                continue
            sock.settimeout(max(0.05, min(end, next_keepalive) - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            buf += chunk
        return out
