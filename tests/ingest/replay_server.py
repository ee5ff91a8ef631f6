"""A small ONVIF replay server (Profile G over RTSP, TCP interleaved) for the replay client's tests.

Written from the ONVIF Streaming Specification, not from camgrid's client: it parses ``Range: clock=`` itself,
packetizes (single NAL units and FU-A) itself and writes the 0xABAC header extension itself. Its "card" holds a
real encoded clip (``camgrid.sim.clips``) recorded from ``card_start_ns`` (camera clock), one picture per 40 ms,
looped. PLAY sends the pictures from the keyframe at or before the range start up to the range end, then an RTCP
BYE. Faults for the tests: ``endless`` (ignores the range end), ``bad_extension_every`` (every n-th packet's
extension claims 65535 words, past any packet), ``no_extension``, ``no_bye`` (RTCP sender reports
after the last picture, never a BYE).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

NS = 1_000_000_000
NTP_UNIX = 2_208_988_800
PERIOD_NS = 40_000_000


@dataclass
class Card:
    frames: list[list[bytes]]
    keys: list[bool]
    params: list[bytes]
    card_start_ns: int  # camera clock of picture 0
    count: int  # pictures on the card
    missing: range = range(0)  # pictures the card lost (a hole in its recording): the next one has the D bit

    def time_of(self, i: int) -> int:
        return self.card_start_ns + i * PERIOD_NS

    def picture(self, i: int) -> tuple[list[bytes], bool]:
        k = i % len(self.frames)
        return self.frames[k], self.keys[k]


@dataclass
class ServerStats:
    plays: list[dict[str, str]] = field(default_factory=list)
    bytes_sent: int = 0
    teardowns: int = 0


def _parse_clock(text: str) -> int:
    dt = datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    frac = text[15:].rstrip("Z")
    ns = int((frac[1:] + "000000000")[:9]) if frac.startswith(".") else 0
    return int(dt.timestamp()) * NS + ns


def _ext(ntp_ns: int, clean: bool, words: int = 3, discontinuity: bool = False) -> bytes:
    secs, rest = divmod(ntp_ns, NS)
    frac = -(-(rest << 32) // NS)
    flags = (0x80 if clean else 0) | (0x20 if discontinuity else 0)
    return struct.pack(">HHIIBBH", 0xABAC, words, secs + NTP_UNIX, frac, flags, 0, 0)


def _payloads(nals: list[bytes], mtu: int = 1200) -> list[bytes]:
    out: list[bytes] = []
    for nal in nals:
        if len(nal) <= mtu:
            out.append(nal)
            continue
        head, body = nal[0], nal[1:]
        for i in range(0, len(body), mtu):
            s = 0x80 if i == 0 else 0
            e = 0x40 if i + mtu >= len(body) else 0
            out.append(bytes([(head & 0xE0) | 28, s | e | (head & 0x1F)]) + body[i : i + mtu])
    return out


class ReplayServer:
    def __init__(
        self,
        card: Card,
        *,
        endless: bool = False,
        bad_extension_every: int = 0,
        no_extension: bool = False,
        no_bye: bool = False,
    ) -> None:
        self.card = card
        self.endless = endless
        self.bad_every = bad_extension_every
        self.no_extension = no_extension
        self.no_bye = no_bye
        self.stats = ServerStats()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.url = f"rtsp://127.0.0.1:{self.port}/replay/rec1"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        playing: threading.Thread | None = None
        halt = threading.Event()
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                    while buf.startswith(b"$") and len(buf) >= 4:  # the client's RTCP
                        n = struct.unpack(">H", buf[2:4])[0]
                        if len(buf) < 4 + n:
                            break
                        buf = buf[4 + n :]
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, url = lines[0].split(" ")[:2]
                hdr = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
                cseq = hdr.get("cseq", "0")
                if method in ("DESCRIBE", "SETUP", "PLAY") and hdr.get("require") != "onvif-replay":
                    self._send(conn, f"RTSP/1.0 551 Option not supported\r\nCSeq: {cseq}\r\n\r\n")
                    continue
                if method == "DESCRIBE":
                    import base64

                    sprop = ",".join(base64.b64encode(p).decode() for p in self.card.params)
                    sdp = (
                        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=replay\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
                        f"a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets={sprop}\r\n"
                        "a=control:track1\r\na=recvonly\r\n"
                    )
                    self._send(
                        conn,
                        f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Base: {url}/\r\n"
                        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}",
                    )
                elif method == "SETUP":
                    self._send(
                        conn,
                        f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 4242;timeout=60\r\n"
                        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=0000ABCD\r\n\r\n",
                    )
                elif method == "PLAY":
                    self.stats.plays.append(hdr)
                    m = re.fullmatch(r"clock=(\S+?)-(\S*)", hdr.get("range", ""))
                    if m is None or hdr.get("rate-control") != "no":
                        self._send(conn, f"RTSP/1.0 457 Invalid Range\r\nCSeq: {cseq}\r\n\r\n")
                        continue
                    start = _parse_clock(m.group(1))
                    end = _parse_clock(m.group(2)) if m.group(2) else 1 << 62
                    self._send(
                        conn,
                        f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 4242\r\nRange: {hdr['range']}"
                        "\r\nRate-Control: no\r\n\r\n",
                    )
                    playing = threading.Thread(target=self._play, args=(conn, start, end, halt), daemon=True)
                    playing.start()
                elif method == "TEARDOWN":
                    self.stats.teardowns += 1
                    halt.set()
                    self._send(conn, f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n\r\n")
                    return
                else:
                    self._send(
                        conn,
                        f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nSession: 4242\r\n"
                        "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n\r\n",
                    )
        except OSError:
            return
        finally:
            halt.set()
            if playing is not None:
                playing.join(5)
            conn.close()

    _lock = threading.Lock()

    def _send(self, conn: socket.socket, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        with self._lock:
            conn.sendall(data)
        self.stats.bytes_sent += len(data)

    def _play(self, conn: socket.socket, start: int, end: int, halt: threading.Event) -> None:
        card = self.card
        i = max(0, (start - card.card_start_ns) // PERIOD_NS)
        while i > 0 and not card.picture(i)[1]:
            i -= 1  # from the keyframe at or before the start, as cameras do
        seq, n = 1000, 0
        try:
            while not halt.is_set() and (i < card.count or self.endless):
                t = card.time_of(i)
                if t >= end and not self.endless:
                    break
                if i in card.missing:
                    i += 1
                    continue
                after_hole = i > 0 and (i - 1) in card.missing
                nals, key = card.picture(i)
                if key:
                    nals = [*card.params, *nals]
                payloads = _payloads(nals)
                frames = []
                for k, p in enumerate(payloads):
                    n += 1
                    marker = 0x80 if k == len(payloads) - 1 else 0
                    if self.no_extension:
                        b0, ext = 0x80, b""
                    else:
                        b0 = 0x90
                        bad = self.bad_every and n % self.bad_every == 0
                        ext = _ext(t, key and k == 0, 0xFFFF if bad else 3, after_hole and k == 0)
                    rtp = struct.pack(">BBHII", b0, marker | 96, seq & 0xFFFF, (i * 3600) & 0xFFFFFFFF, 0xABCD)
                    pkt = rtp + ext + p
                    frames.append(b"$\x00" + struct.pack(">H", len(pkt)) + pkt)
                    seq += 1
                self._send(conn, b"".join(frames))
                i += 1
            if self.no_bye:  # sender reports only, as gst-rtsp-server does at the end of some replays
                sr = struct.pack(">BBHIIIIII", 0x80, 200, 6, 0xABCD, 0, 0, 0, 0, 0)
                while not halt.wait(0.2):
                    self._send(conn, b"$\x01" + struct.pack(">H", len(sr)) + sr)
                return
            bye = struct.pack(">BBHI", 0x81, 203, 1, 0xABCD)
            self._send(conn, b"$\x01" + struct.pack(">H", len(bye)) + bye)
        except OSError:
            return
