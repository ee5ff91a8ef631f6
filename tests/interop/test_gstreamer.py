"""gst-rtsp-server (Debian's) in several configurations, recorded by camgrid's real recorder and compared with the
source picture by picture (docs/design/interop.md).

All variants are mounts of one server and cameras of one recorder, recorded together for three segments
(~14 s); each variant is then judged on its own.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.interop import gst, wire
from tests.interop.harness import Result, record, recorder_city

VARIANTS = gst.variants(seconds=40.0)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Result]]:
    why = gst.gst_available()
    if why is not None:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("gst")
    servers, cameras = gst.serve(VARIANTS, folder)
    try:
        city = recorder_city(folder / "rec")
        yield record(city, cameras, segments=3, timeout=60)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_gst_rtsp_server_records_picture_exact(results: dict[str, Result], variant: gst.GstVariant) -> None:
    """Every source picture once, in order, with its duration; the index inside the recording's wall-clock window."""
    result = results[f"gst-{variant.name}"]
    assert result.segments, f"{variant.what}: nothing recorded\n{result.summary}"
    assert result.exact, f"{variant.what}\n{result.summary}"
    # three segments of 4 s at 25 fps: the recording is long enough to mean something
    assert result.comparison is not None and result.comparison.matched >= 2 * 4 * 25


def _stap_slices(payload: bytes) -> int:
    """How many slices (VCL NAL units) a STAP-A packet carries."""
    count, pos = 0, 1
    while pos + 2 <= len(payload):
        size = int.from_bytes(payload[pos : pos + 2], "big")
        nal = payload[pos + 2 : pos + 2 + size]
        count += int(bool(nal) and 1 <= (nal[0] & 0x1F) <= 5)
        pos += 2 + size
    return count


def test_gst_variants_are_what_they_claim(tmp_path: Path) -> None:
    """Each variant really exercises what it says, on the wire (an independent bare client, tests/interop/wire.py)."""
    why = gst.gst_available()
    if why is not None:
        pytest.skip(why)
    servers, cameras = gst.serve(VARIANTS, tmp_path)
    try:
        by_name = {c.id.removeprefix("gst-"): c for c in cameras}
        anonymous = [n for n in by_name if n != "h264-digest"]
        with ThreadPoolExecutor(len(anonymous) + 1) as pool:
            # the timeout variants for longer than their timeout: without keepalives a client is cut off, and
            # GET_PARAMETER keeps it alive on one and not on the other
            plan = {n: (2.0, None) for n in anonymous}
            plan["h264-timeout"] = (8.0, None)
            plan["h264-get-parameter-501"] = (8.0, "GET_PARAMETER")
            checks = [*anonymous, "keepalive"]
            plan["keepalive"] = (8.0, "GET_PARAMETER")
            urls = {**{n: by_name[n].url for n in anonymous}, "keepalive": by_name["h264-timeout"].url}
            captured = pool.map(lambda n: wire.capture(urls[n], plan[n][0], plan[n][1]), checks)
            caps = dict(zip(checks, captured, strict=True))
        digest = by_name["h264-digest"]
        host, port = digest.url.split("/")[2].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"DESCRIBE {digest.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            challenge = sock.recv(4096).decode(errors="replace")
    finally:
        for server in servers:
            server.stop()
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
    assert 4.0 < span(caps["h264-timeout"]) < 7.0, "without keepalives the stream stops after ~5 s"
    assert span(caps["keepalive"]) > 7.5 and set(caps["keepalive"].answers) == {"RTSP/1.0 200 OK"}
    refused = caps["h264-get-parameter-501"]
    assert 4.0 < span(refused) < 7.0 and set(refused.answers) == {"RTSP/1.0 501 Not Implemented"}
    assert challenge.startswith("RTSP/1.0 401") and "WWW-Authenticate: Digest" in challenge
    assert "Basic" not in challenge
