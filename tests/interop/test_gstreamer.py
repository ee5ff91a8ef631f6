"""gst-rtsp-server (Debian's) in several configurations, recorded by camgrid's real recorder and compared with the
source picture by picture (docs/design/interop.md).

All variants are mounts of two servers (the Digest one apart) and cameras of one recorder, recorded together for
two complete segments of 3 s (~8 s); each variant is then judged on its own.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.interop import gst, wire
from tests.interop.harness import SEGMENT_SECONDS, Camera, Result, record, recorder_city

VARIANTS = gst.variants(seconds=40.0)


@dataclass
class Session:
    results: dict[str, Result]  # camgrid's recording of each variant, judged
    caps: dict[str, wire.Capture]  # what a bare client got from each anonymous variant, meanwhile
    challenge: str  # the Digest server's answer to a DESCRIBE without credentials


def _capture_all(cameras: list[Camera]) -> tuple[dict[str, wire.Capture], str]:
    by_name = {c.id.removeprefix("gst-"): c for c in cameras}
    anonymous = [n for n in by_name if n != "h264-digest"]
    # the timeout variants for longer than their timeout: without keepalives a client is cut off, and
    # GET_PARAMETER keeps it alive on one and not on the other
    plan: dict[str, tuple[str, float, str | None]] = {n: (by_name[n].url, 2.0, None) for n in anonymous}
    plan["h264-timeout"] = (by_name["h264-timeout"].url, 7.0, None)
    plan["h264-get-parameter-501"] = (by_name["h264-get-parameter-501"].url, 7.0, "GET_PARAMETER")
    plan["keepalive"] = (by_name["h264-timeout"].url, 7.0, "GET_PARAMETER")
    with ThreadPoolExecutor(len(plan)) as pool:
        captured = pool.map(lambda n: wire.capture(*plan[n]), list(plan))
        caps = dict(zip(list(plan), captured, strict=True))
    digest = by_name["h264-digest"]
    host, port = digest.url.split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"DESCRIBE {digest.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        challenge = sock.recv(4096).decode(errors="replace")
    return caps, challenge


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    why = gst.gst_available()
    if why is not None:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("gst")
    servers, cameras = gst.serve(VARIANTS, folder)
    try:
        with ThreadPoolExecutor(1) as pool:
            wire_check = pool.submit(_capture_all, cameras)  # the bare client while camgrid records
            city = recorder_city(folder / "rec")
            # at least two of the timeout variants' 5 s timeouts: a keepalive that does not work is cut off
            results = record(city, cameras, segments=2, timeout=60, min_seconds=13.0)
            caps, challenge = wire_check.result()
        yield Session(results, caps, challenge)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_gst_rtsp_server_records_picture_exact(session: Session, variant: gst.GstVariant) -> None:
    """Every source picture once, in order, with its duration; the index inside the recording's wall-clock window."""
    result = session.results[f"gst-{variant.name}"]
    assert result.segments, f"{variant.what}: nothing recorded\n{result.summary}"
    assert result.exact, f"{variant.what}\n{result.summary}"
    # at least two whole segments at 25 fps: the recording is long enough to mean something
    assert result.comparison is not None and result.comparison.matched >= 2 * SEGMENT_SECONDS * 25


def _stap_slices(payload: bytes) -> int:
    """How many slices (VCL NAL units) a STAP-A packet carries."""
    count, pos = 0, 1
    while pos + 2 <= len(payload):
        size = int.from_bytes(payload[pos : pos + 2], "big")
        nal = payload[pos + 2 : pos + 2 + size]
        count += int(bool(nal) and 1 <= (nal[0] & 0x1F) <= 5)
        pos += 2 + size
    return count


def test_gst_variants_are_what_they_claim(session: Session) -> None:
    """Each variant really exercises what it says, on the wire (an independent bare client, tests/interop/wire.py)."""
    caps, challenge = session.caps, session.challenge
    for name, cap in caps.items():
        assert len(cap.packets) > 20, f"{name}: {len(cap.packets)} packets"
        assert all(n <= 1 for n in cap.markers_per_timestamp().values()), f"{name}: one marker per picture"
    inband = caps["h264-inband"]
    assert "a=fmtp:96" in inband.describe and "sprop-parameter-sets" not in inband.describe
    assert 7 in inband.nal_types() and 8 in inband.nal_types(), "SPS and PPS in-band"
    assert "sprop-parameter-sets" in caps["h264-aac"].describe
    stapa = caps["h264-stapa"]
    assert 24 in stapa.nal_types()
    assert any(p.payload[0] & 0x1F == 24 and _stap_slices(p.payload) == 2 for p in stapa.packets)
    assert "m=audio" in caps["h264-aac"].describe and "MPEG4-GENERIC" in caps["h264-aac"].describe.upper()
    assert re.search(r"m=audio \d+ RTP/AVP 8", caps["h264-pcma"].describe) and "PCMA/8000" in caps["h264-pcma"].describe
    assert "H265/90000" in caps["h265"].describe

    def span(cap: wire.Capture) -> float:
        stamps = sorted({p.timestamp for p in cap.packets})
        return (stamps[-1] - stamps[0]) / 90_000

    assert re.search(r"Session: *[^\r]*;timeout=5\b", caps["h264-timeout"].setup)
    assert 4.0 < span(caps["h264-timeout"]) < 6.5, "without keepalives the stream stops after ~5 s"
    assert span(caps["keepalive"]) > 6.5 and set(caps["keepalive"].answers) == {"RTSP/1.0 200 OK"}
    refused = caps["h264-get-parameter-501"]
    assert 4.0 < span(refused) < 6.5 and set(refused.answers) == {"RTSP/1.0 501 Not Implemented"}
    assert challenge.startswith("RTSP/1.0 401") and "WWW-Authenticate: Digest" in challenge
    assert "Basic" not in challenge
