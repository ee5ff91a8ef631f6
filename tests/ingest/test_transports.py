"""RTP over UDP and RTSP over TLS through the real ingest loop, real sockets and a tiny camera in the test.

The camera here is a few dozen lines on purpose: it answers as a UDP-only server does (461 to TCP interleaved, as
VLC's does), sends its packets out of order with one lost, or speaks RTSP inside TLS with a certificate made by the
test. docs/design/packet-path.md, "Transports".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from camgrid.clock import SystemClock
from camgrid.cluster.certs import issue_node_cert
from camgrid.config import RecorderConfig
from camgrid.ingest.loop import CameraSource, IngestLoop
from camgrid.media.rtp import AccessUnit, rtp_header
from camgrid.vocabulary import GapReason

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=control:trackID=0\r\n"
)
SSRC = 0x5EED
COUNT = 120
LOST = 50  # the one packet the camera never sends
WAIT = 20.0


def _pkt(seq: int) -> bytes:
    return rtp_header(seq, 1000 + seq * 3600, SSRC, True) + b"\x65" + bytes([seq & 0xFF]) * 30


def _send_order() -> list[int]:
    """0..COUNT-1, every fourth pair swapped, one packet never sent."""
    order = list(range(COUNT))
    for i in range(0, COUNT - 1, 8):
        order[i], order[i + 1] = order[i + 1], order[i]
    order.remove(LOST)
    return order


class Camera:
    """A one-connection RTSP server: UDP only (461 to TCP), or TCP interleaved inside TLS."""

    def __init__(self, *, udp_only: bool = False, tls_ctx: ssl.SSLContext | None = None, media: bool = True) -> None:
        self.udp_only = udp_only
        self.media = media
        self.tls_ctx = tls_ctx
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtcp.bind(("127.0.0.1", 0))
        self.rtcp.settimeout(0.2)
        self.requests: list[str] = []
        self.punches: list[bytes] = []
        self.reports: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(5)
        self.rtp.close()
        self.rtcp.close()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if self.tls_ctx is not None:
            try:
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        conn.settimeout(0.2)
        buf = b""
        client_ports: tuple[int, int] | None = None
        with conn:
            while not self.stop.is_set():
                try:
                    data = conn.recv(65536)
                except (TimeoutError, ssl.SSLError):
                    self._collect_rtcp()
                    continue
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    while buf.startswith(b"$") and len(buf) >= 4:  # interleaved RTCP from the recorder
                        n = 4 + struct.unpack_from(">H", buf, 2)[0]
                        if len(buf) < n:
                            break
                        self.reports.append(buf[4:n])
                        buf = buf[n:]
                    if b"\r\n\r\n" not in buf:
                        break
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    text = head.decode()
                    self.requests.append(text)
                    method = text.split(" ", 1)[0]
                    cseq = next(line.split(":", 1)[1].strip() for line in text.split("\r\n") if line.startswith("CSeq"))
                    if method == "DESCRIBE":
                        body = SDP.encode()
                        conn.sendall(
                            b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Base: rtsp://127.0.0.1/\r\n"
                            b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
                            % (cseq.encode(), len(body), body)
                        )
                    elif method == "SETUP":
                        transport = next(ln for ln in text.split("\r\n") if ln.startswith("Transport"))
                        if "interleaved" in transport and self.udp_only:
                            conn.sendall(b"RTSP/1.0 461 Unsupported Transport\r\nCSeq: %s\r\n\r\n" % cseq.encode())
                            continue
                        if "client_port=" in transport:
                            a, b = transport.split("client_port=")[1].split(";")[0].split("-")
                            client_ports = (int(a), int(b))
                            server = f"{self.rtp.getsockname()[1]}-{self.rtcp.getsockname()[1]}"
                            reply = f"RTP/AVP;unicast;client_port={a}-{b};server_port={server};ssrc={SSRC:X}"
                        else:
                            reply = "RTP/AVP/TCP;unicast;interleaved=0-1"
                        conn.sendall(
                            b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nSession: 99;timeout=60\r\nTransport: %s\r\n\r\n"
                            % (cseq.encode(), reply.encode())
                        )
                    elif method == "PLAY":
                        conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nSession: 99\r\n\r\n" % cseq.encode())
                        if self.media:
                            self._play(conn, client_ports)
                    else:
                        conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: %s\r\nSession: 99\r\n\r\n" % cseq.encode())

    def _play(self, conn: socket.socket, client_ports: tuple[int, int] | None) -> None:
        if client_ports is None:
            conn.sendall(b"".join(b"$\x00" + struct.pack(">H", len(p)) + p for p in map(_pkt, range(COUNT))))
            return
        self.rtp.settimeout(2.0)
        try:  # the recorder's punches arrive first: proof that it opened the path
            self.punches.append(self.rtp.recv(2048))
        except TimeoutError:
            pass
        dest = ("127.0.0.1", client_ports[0])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.bind(("127.0.0.2", 0))
            stranger.sendto(_pkt(0), dest)  # from another address: must be filtered out
        for seq in _send_order():
            self.rtp.sendto(_pkt(seq), dest)

    def _collect_rtcp(self) -> None:
        try:
            self.reports.append(self.rtcp.recv(2048))
        except (TimeoutError, OSError):
            pass


class Sink:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.aus: list[AccessUnit] = []
        self.states: list[tuple[bool, str, str]] = []

    def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
        with self.cond:
            self.aus.append(au)
            self.cond.notify_all()

    def on_stream(self, camera_id: str, codec: str, params: Sequence[bytes]) -> None:
        pass

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        with self.cond:
            self.states.append((up, reason, detail))
            self.cond.notify_all()

    def on_tick(self) -> None:
        pass


def _run(cfg: RecorderConfig, source: CameraSource, until: object) -> tuple[Sink, IngestLoop]:
    sink = Sink()
    loop = IngestLoop(sink=sink, config=cfg, clock=SystemClock(), sources=[source], seed=1)
    loop.start()
    deadline = time.monotonic() + WAIT
    with sink.cond:  # the camera's side changes without notifying: look again every 20 ms
        while not until(sink, loop) and time.monotonic() < deadline:  # type: ignore[operator]
            sink.cond.wait(0.02)
    return sink, loop


@pytest.fixture
def udp_camera() -> Iterator[Camera]:
    cam = Camera(udp_only=True)
    yield cam
    cam.close()


def test_a_udp_only_camera_is_recorded_in_order_with_its_loss_counted(udp_camera: Camera) -> None:
    """SETUP answered 461 to TCP interleaved (VLC's server): it was ``refused``. Now the recorder sets up RTP over
    UDP on an even/odd pair in the loop's own selector, punches, drops a stranger's datagram, puts swapped packets
    back in order and counts the one lost."""
    cfg = RecorderConfig(reorder_delay_ms=50, rtcp_interval_s=1.0)
    src = CameraSource("udp1", f"rtsp://127.0.0.1:{udp_camera.port}/")
    expected = COUNT - 3  # one lost, the next not trusted, the last maybe held until a next picture
    before = threading.active_count()  # what earlier tests and the fixture's camera left running
    sink, loop = _run(cfg, src, lambda s, lp: len(s.aus) >= expected and any(len(r) >= 32 for r in udp_camera.reports))
    try:
        snap = loop.snapshot()["udp1"]
        assert threading.active_count() - before <= 1, "no thread per camera: the loop's own only"
        assert len(sink.aus) >= expected, sink.states
        seqs = [au.ts for au in sink.aus]
        assert seqs == sorted(seqs), "delivered in sequence order"
        assert (1000 + LOST * 3600) not in seqs
        assert snap["transport"] == "udp" and "udp_only" in snap["quirks"]  # type: ignore[operator]
        # of 15 swaps, those held behind the loss (or at the start) are not counted as reordered
        assert snap["lost_packets"] == 1 and int(snap["reordered_packets"]) >= 8  # type: ignore[call-overload]
        assert snap["foreign_datagrams"] == 1
        setups = [r for r in udp_camera.requests if r.startswith("SETUP")]
        assert "interleaved=0-1" in setups[0] and "client_port=" in setups[1]
        a, b = (int(p) for p in setups[1].split("client_port=")[1].split("\r\n")[0].split("-"))
        assert a % 2 == 0 and b == a + 1
        assert udp_camera.punches, "the recorder punched through to the camera's RTP port"
        full = [r for r in udp_camera.reports if len(r) >= 32]
        rr = full[-1]
        assert rr[1] == 201 and struct.unpack_from(">I", rr, 8)[0] == SSRC  # a receiver report on the RTCP port
    finally:
        loop.stop()


def test_no_rtp_on_udp_is_a_stall_that_says_firewall() -> None:
    """The camera accepts UDP and nothing arrives (a firewall): the gap says so, it is not a silent hang."""
    cam = Camera(udp_only=True, media=False)  # PLAY answered, nothing sent
    cfg = RecorderConfig(stall_timeout_s=0.5)
    src = CameraSource("udp2", f"rtsp://127.0.0.1:{cam.port}/", transport="udp")
    sink, loop = _run(cfg, src, lambda s, lp: any(not up and r for up, r, _ in s.states))
    try:
        down = [(r, d) for up, r, d in sink.states if not up and r]
        assert down and down[0][0] == GapReason.STALLED and "no RTP on UDP" in down[0][1], down
        assert "firewall" in down[0][1]
    finally:
        loop.stop()
        cam.close()


# TLS ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    now = dt.datetime.now(dt.UTC)
    cert, key = issue_node_cert(tmp_path, node_id="cam", hosts=["127.0.0.1"], out=tmp_path / "cam", now=now)
    return tmp_path / "keys" / "cluster-ca.pem", cert, key


def _tls_camera(cert: Path, key: Path) -> Camera:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return Camera(tls_ctx=ctx)


def _fingerprint(cert: Path) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()


@pytest.mark.parametrize("trust", ["ca", "pin"])
def test_rtsps_records_with_a_trusted_or_pinned_certificate(tls_files: tuple[Path, Path, Path], trust: str) -> None:
    ca, cert, key = tls_files
    cam = _tls_camera(cert, key)
    cfg = (
        RecorderConfig(rtsps_ca_file=str(ca))
        if trust == "ca"
        else RecorderConfig(rtsps_pins={"tls1": "sha256:" + _fingerprint(cert)})
    )
    src = CameraSource("tls1", f"rtsps://127.0.0.1:{cam.port}/")
    sink, loop = _run(cfg, src, lambda s, lp: len(s.aus) >= COUNT - 2)
    try:
        assert len(sink.aus) >= COUNT - 2, sink.states
        snap = loop.snapshot()["tls1"]
        assert snap["tls"] is True and snap["transport"] == "tcp" and snap["lost_packets"] == 0
    finally:
        loop.stop()
        cam.close()


@pytest.mark.parametrize("pin", ["", "0" * 64])
def test_rtsps_refuses_an_untrusted_certificate_by_default(tls_files: tuple[Path, Path, Path], pin: str) -> None:
    """The safe default: a self-signed (or unknown CA's) certificate is refused and the gap says why; a pin that
    does not match is refused too."""
    _, cert, key = tls_files
    cam = _tls_camera(cert, key)
    cfg = RecorderConfig(rtsps_pins={"tls2": pin}) if pin else RecorderConfig()
    src = CameraSource("tls2", f"rtsps://127.0.0.1:{cam.port}/")
    sink, loop = _run(cfg, src, lambda s, lp: any(not up and r for up, r, _ in s.states))
    try:
        down = [(r, d) for up, r, d in sink.states if not up and r]
        assert down and down[0][0] == GapReason.REFUSED, down
        assert ("not trusted" if not pin else "not the pinned one") in down[0][1]
        assert not sink.aus
    finally:
        loop.stop()
        cam.close()


def test_a_pin_must_be_a_sha256_fingerprint() -> None:
    pin = "AB:" * 31 + "AB"
    assert RecorderConfig(rtsps_pins={"c": "sha256:" + pin}).rtsps_pins == {"c": "ab" * 32}
    with pytest.raises(ValueError, match="not a SHA-256 fingerprint"):
        RecorderConfig(rtsps_pins={"c": "md5:1234"})


def test_a_stall_with_only_stray_packets_says_what_was_dropped() -> None:
    """Packets came, none usable (another session's SSRC, another payload type): the gap says so."""
    from camgrid.ingest.auth import Credentials
    from camgrid.ingest.loop import _Session
    from camgrid.ingest.rtsp import RtspClient

    loop = IngestLoop(sink=Sink(), config=RecorderConfig(stall_timeout_s=2.0), clock=SystemClock())
    sess = _Session(CameraSource("c", "rtsp://127.0.0.1/"))
    sess.client = RtspClient("rtsp://127.0.0.1/", Credentials("", ""), lambda au: None)
    sess.client.dropped_ssrc, sess.client.dropped_pt = 7, 3
    assert loop._stall_detail(sess) == (
        "no usable RTP within 2.0 s: 7 packets of another SSRC and 3 of another payload type than the SDP's dropped"
    )
    loop.selector.close()
