"""VLC's RTSP server, which streams RTP over UDP only (SETUP with RTP/AVP/TCP gets 461 Unsupported transport),
recorded by camgrid's real recorder and compared with the source picture by picture (docs/design/interop.md)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop import vlc
from tests.interop.harness import SEGMENT_SECONDS, Clip, Result, record, recorder_city
from tests.interop.pictures import NS, compare, recorded_pictures

CLIP = Clip("h264", seconds=40.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[vlc.Server, vlc.Camera]]:
    why = vlc.missing()
    if why is not None:
        pytest.skip(why)
    srv, camera = vlc.serve(CLIP, tmp_path_factory.mktemp("vlc"))
    try:
        yield srv, camera
    finally:
        srv.stop()


def test_vlc_serves_the_source_pictures_over_udp(server: tuple[vlc.Server, vlc.Camera], tmp_path: Path) -> None:
    """The control: ffmpeg, over UDP, receives from VLC exactly the source's pictures (so what the recorder test
    below finds is camgrid's doing, not VLC's), and VLC answers a TCP transport with 461."""
    _srv, camera = server
    out = tmp_path / "ffmpeg.mp4"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-rtsp_transport", "udp", "-i", camera.url, "-t", "4"]
    cmd += ["-c", "copy", "-movflags", "frag_keyframe+empty_moov+default_base_moof", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    result = compare(camera.source, recorded_pictures([out]), tolerance_ns=NS)  # ffmpeg's own durations: not judged
    assert result.exact and result.matched >= 75, result.summary
    tcp = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", camera.url], capture_output=True, text=True, timeout=60
    )
    assert "461" in tcp.stderr, tcp.stderr


@pytest.fixture(scope="module")
def result(server: tuple[vlc.Server, vlc.Camera], tmp_path_factory: pytest.TempPathFactory) -> Result:
    _srv, camera = server
    city = recorder_city(tmp_path_factory.mktemp("vlc-rec"))
    return record(city, [camera], segments=2, timeout=60)[camera.id]


def test_vlc_udp_only_is_picture_exact(result: Result) -> None:
    assert result.segments, f"nothing recorded\n{result.summary}"
    assert result.exact, result.summary
    assert result.comparison is not None and result.comparison.matched >= 2 * SEGMENT_SECONDS * 25
