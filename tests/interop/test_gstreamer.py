"""gst-rtsp-server (Debian's) in several configurations, recorded by camgrid's real recorder and compared with the
source picture by picture (docs/design/interop.md).

All variants are mounts of one server and cameras of one recorder, recorded together for three segments
(~14 s); each variant is then judged on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop import gst
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
