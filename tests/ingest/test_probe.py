"""Camera diagnostics (docs/design/camera-probe.md): ``probe`` against the real simulator on loopback, and its
statistics on pictures whose truth is known.

Against the simulator the probe must find the clip's resolution, its frame rate within 10 % and its keyframe
interval exactly; a wrong password must end in a clear ``auth_refused`` that never carries the password; the window
is bounded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camgrid.clock import SystemClock
from camgrid.cluster.certs import issue_node_cert
from camgrid.config import RecorderConfig
from camgrid.ingest.loop import CameraSource
from camgrid.ingest.probe import PROBE_MAX_S, Sample, check_seconds, probe, redact_sdp, sdp_tracks, summarise, unwrap
from camgrid.vocabulary import GapReason, RtspQuirk, RtspTransport
from tests.backends import free_port
from tests.ingest import test_transports as transports
from tests.ingest.simthread import FPS, GOP, HEIGHT, PASSWORD, USER, WIDTH, Sim, running_sim, spec

SECONDS = 2.5  # holds three keyframes of the 1 s GOP
CFG = RecorderConfig()


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with running_sim([spec("cam-p", 0), spec("cam-q", 1, codec="h265"), spec("cam-open", 2, password="")]) as s:
        yield s


@pytest.mark.parametrize("camera", ["cam-p", "cam-q"])
def test_probe_measures_what_the_simulator_sends(sim: Sim, camera: str) -> None:
    result = probe(
        CameraSource(camera, sim.url(camera), USER, PASSWORD), seconds=SECONDS, clock=SystemClock(), config=CFG
    )
    assert result.ok, result.error
    assert (result.width, result.height) == (WIDTH, HEIGHT)
    assert result.fps is not None and abs(result.fps - FPS) <= 0.1 * FPS
    assert result.fps_arrival is not None and abs(result.fps_arrival - FPS) <= 0.1 * FPS
    assert result.gop_pictures == GOP
    assert result.gop_seconds is not None and abs(result.gop_seconds - GOP / FPS) < 0.01
    assert result.codec == sim.cameras[camera].spec.codec
    assert result.codec_string.startswith("avc1." if camera == "cam-p" else "hvc1.")
    assert result.transport == RtspTransport.TCP and not result.tls
    assert result.server == "camgrid-sim"
    assert "DESCRIBE" in result.public and "GET_PARAMETER" in result.public
    assert [t.kind for t in result.tracks] == ["video"]
    assert result.bitrate_kbps is not None and result.bitrate_kbps > 0
    assert result.rtp_lost == 0 and result.rtp_packets >= result.pictures > 0
    assert result.drift_ppm is not None and abs(result.drift_ppm) < 20_000  # loopback, a 2.5 s window
    assert result.quirks == []
    assert PASSWORD not in result.model_dump_json()


def test_wrong_password_is_a_clear_refusal_without_the_password(sim: Sim) -> None:
    wrong = "not-the-password-42"
    result = probe(CameraSource("cam-p", sim.url("cam-p"), USER, wrong), seconds=1.0, clock=SystemClock(), config=CFG)
    assert not result.ok
    assert result.error is not None and result.error.reason == GapReason.AUTH_REFUSED
    assert "refused the registered credentials" in result.error.detail
    assert result.server == "camgrid-sim" and result.pictures == 0 and result.width is None
    assert wrong not in result.model_dump_json()


def test_no_credentials_where_the_camera_wants_them(sim: Sim) -> None:
    result = probe(CameraSource("cam-p", sim.url("cam-p")), seconds=1.0, clock=SystemClock(), config=CFG)
    assert result.error is not None and result.error.reason == GapReason.AUTH_REFUSED
    assert "none are registered" in result.error.detail


def test_camera_without_password_and_credentials_in_the_url_are_redacted(sim: Sim) -> None:
    url = sim.url("cam-open").replace("rtsp://", "rtsp://someone:url-secret-9@")
    result = probe(CameraSource("cam-open", url), seconds=1.0, clock=SystemClock(), config=CFG)
    assert result.ok, result.error
    assert "url-secret-9" not in result.model_dump_json()
    assert result.url.startswith("rtsp://127.0.0.1:")


def test_unreachable_camera() -> None:
    result = probe(
        CameraSource("gone", f"rtsp://127.0.0.1:{free_port()}/x"), seconds=1.0, clock=SystemClock(), config=CFG
    )
    assert result.error is not None and result.error.reason == GapReason.UNREACHABLE
    assert not result.ok and result.pictures == 0


@pytest.mark.parametrize("seconds", [0.0, 0.5, PROBE_MAX_S + 0.1, float("nan"), -1.0])
def test_window_is_bounded(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds must be between"):
        check_seconds(seconds)
    with pytest.raises(ValueError):
        probe(CameraSource("x", "rtsp://127.0.0.1:9/x"), seconds=seconds, clock=SystemClock(), config=CFG)


# pure parts ----------------------------------------------------------------------------------------------------
def pictures(n: int, fps: float, gop: int, *, ppm: float = 0.0, ts0: int = 0, size: int = 1000) -> list[Sample]:
    """``n`` pictures at ``fps`` of RTP time, arriving at the local clock's rate with the camera off by ``ppm``."""
    step = 90_000 / fps
    return [
        Sample((ts0 + round(i * step)) & 0xFFFFFFFF, i % gop == 0, size, 100.0 + i / fps / (1 + ppm / 1e6))
        for i in range(n)
    ]


def test_statistics_of_a_known_stream() -> None:
    stats = summarise(pictures(250, 25.0, 50, size=10_000))
    assert stats.pictures == 250 and stats.keyframes == 5
    assert stats.fps == pytest.approx(25.0) and stats.fps_arrival == pytest.approx(25.0)
    assert stats.gop_pictures == 50 and stats.gop_seconds == pytest.approx(2.0)
    assert stats.bitrate_kbps == pytest.approx(10_000 * 8 * 25 / 1000)
    assert stats.drift_ppm == pytest.approx(0.0, abs=1.0)


def test_drift_and_timestamp_wrap() -> None:
    stats = summarise(pictures(300, 25.0, 25, ppm=250.0, ts0=0xFFFFFFFF - 90_000))
    assert stats.drift_ppm == pytest.approx(250.0, abs=5.0)
    assert stats.fps == pytest.approx(25.0)
    assert unwrap([0xFFFFFF00, 0x10, 0x20]) == [0xFFFFFF00, 0x1_0000_0010, 0x1_0000_0020]


def test_too_little_to_tell() -> None:
    assert summarise([]).fps is None
    one_key = summarise(pictures(20, 25.0, 1000))
    assert one_key.gop_pictures is None and one_key.keyframes == 1 and one_key.drift_ppm is None


SDP = """v=0\r
o=- 1 1 IN IP4 10.0.0.9\r
s=Media Presentation\r
u=rtsp://admin:hunter2@10.0.0.9/doc\r
a=control:*\r
m=video 0 RTP/AVP 96\r
a=rtpmap:96 H264/90000\r
a=fmtp:96 packetization-mode=1;profile-level-id=4d401f\r
a=framerate:25.000000\r
a=control:rtsp://admin:hunter2@10.0.0.9/Streaming/trackID=1\r
m=audio 0 RTP/AVP 8\r
a=control:trackID=2\r
m=audio 0 RTP/AVP 97\r
a=rtpmap:97 MPEG4-GENERIC/48000/2\r
a=fmtp:97 streamtype=5;mode=AAC-hbr;config=1190\r
"""


def test_sdp_tracks_and_redaction() -> None:
    tracks, framerate = sdp_tracks(SDP)
    assert framerate == 25.0
    assert [(t.kind, t.codec, t.clock_rate, t.channels) for t in tracks] == [
        ("video", "H264", 90_000, None),
        ("audio", "PCMA", 8000, 1),
        ("audio", "MPEG4-GENERIC", 48_000, 2),
    ]
    shown = redact_sdp(SDP)
    assert "hunter2" not in shown and "admin:" not in shown
    assert "rtsp://10.0.0.9/Streaming/trackID=1" in shown


# a camera that offers RTP over UDP only ------------------------------------------------------------------------
UDP_ONLY_SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=vlc\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtoBQBbsBEAAAAMAQAAADKPFi6g=,aM48gA==\r\n"
    "a=control:trackID=0\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=1\r\n"
)


def _scripted_camera(sock: socket.socket, cseq_of: Callable[[str], str] = lambda c: c) -> None:
    """Answers like VLC's RTSP server: DESCRIBE with its SDP, SETUP over TCP with 461 (a real TCP peer);
    ``cseq_of`` may garble the CSeq it echoes."""
    conn, _ = sock.accept()
    with conn:
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                method = lines[0].split()[0]
                cseq = next(v for k, _, v in (x.partition(": ") for x in lines[1:]) if k.lower() == "cseq")
                common = f"CSeq: {cseq_of(cseq)}\r\nServer: VLC/3.0.21\r\n"
                if method == "DESCRIBE":
                    body = UDP_ONLY_SDP.encode()
                    conn.sendall(
                        f"RTSP/1.0 200 OK\r\n{common}Content-Type: application/sdp\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                elif method == "SETUP":
                    conn.sendall(f"RTSP/1.0 461 Unsupported transport\r\n{common}\r\n".encode())
                else:
                    conn.sendall(f"RTSP/1.0 200 OK\r\n{common}\r\n".encode())


@contextlib.contextmanager
def scripted_camera(cseq_of: Callable[[str], str] = lambda c: c) -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=_scripted_camera, args=(server, cseq_of), daemon=True)
    thread.start()
    try:
        yield f"rtsp://127.0.0.1:{server.getsockname()[1]}/stream"
    finally:
        thread.join(5)
        server.close()


def test_a_udp_only_camera_is_measured_over_udp() -> None:
    """VLC's kind: 461 to TCP interleaved, then RTP over UDP, one packet lost, several out of order."""
    cam = transports.Camera(udp_only=True)
    try:
        result = probe(
            CameraSource("vlc", f"rtsp://127.0.0.1:{cam.port}/"), seconds=1.0, clock=SystemClock(), config=CFG
        )
    finally:
        cam.close()
    assert result.ok, result.error
    assert result.transport == RtspTransport.UDP and RtspQuirk.UDP_ONLY in result.quirks
    assert result.rtp_lost == 1 and result.rtp_reordered > 0
    assert result.pictures >= transports.COUNT - 2
    assert result.fps is not None and abs(result.fps - 25.0) <= 2.5  # 3600 ticks of 90 kHz a picture


def test_a_udp_only_camera_set_to_tcp_says_so() -> None:
    cam = transports.Camera(udp_only=True)
    try:
        source = CameraSource("vlc", f"rtsp://127.0.0.1:{cam.port}/", transport=RtspTransport.TCP)
        result = probe(source, seconds=1.0, clock=SystemClock(), config=CFG)
    finally:
        cam.close()
    assert result.error is not None and result.error.reason == GapReason.REFUSED
    assert "461 to TCP interleaved" in result.error.detail
    assert [(t.kind, t.codec) for t in result.tracks] == [("video", "H264")]


@pytest.mark.parametrize("trust", ["ca", "pin", "none"])
def test_rtsps_with_the_recorders_trust(tmp_path: Path, trust: str) -> None:
    now = dt.datetime.now(dt.UTC)
    cert, key = issue_node_cert(tmp_path, node_id="cam", hosts=["127.0.0.1"], out=tmp_path / "cam", now=now)
    ca = tmp_path / "keys" / "cluster-ca.pem"
    cfg = {
        "ca": RecorderConfig(rtsps_ca_file=str(ca)),
        "pin": RecorderConfig(
            rtsps_pins={"tls1": hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()}
        ),
        "none": CFG,
    }[trust]
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    cam = transports.Camera(tls_ctx=server)
    try:
        result = probe(
            CameraSource("tls1", f"rtsps://127.0.0.1:{cam.port}/"), seconds=1.0, clock=SystemClock(), config=cfg
        )
    finally:
        cam.close()
    if trust == "none":
        assert result.error is not None and result.error.reason == GapReason.REFUSED
        assert "not trusted" in result.error.detail and not result.ok
    else:
        assert result.ok, result.error
        assert result.tls and result.transport == RtspTransport.TCP and result.pictures >= transports.COUNT - 2


def test_a_malformed_answer_is_a_result_not_an_exception() -> None:
    """A camera echoing a CSeq that is not a number is a broken stream: the probe answers with the reason instead of
    failing its caller."""
    with scripted_camera(lambda c: "x" + c) as url:
        result = probe(CameraSource("odd", url), seconds=1.0, clock=SystemClock(), config=CFG)
    assert result.error is not None and result.error.reason == GapReason.BAD_STREAM
    assert "CSeq" in result.error.detail
