"""SPS parsing and access-unit grouping on clips encoded by the real ffmpeg (libx264, libx265)."""

from __future__ import annotations

import pytest

from camgrid.media.nal import H264, H265, access_units, nal_type, parse_sps, split_annexb
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE


@pytest.mark.parametrize(("codec", "w", "h"), [(H264, 640, 360), (H265, 640, 360), (H264, 1280, 720), (H265, 320, 240)])
def test_sps_dimensions_from_real_encoders(codec: str, w: int, h: int) -> None:
    spec = clips.ClipSpec(codec, w, h, 25, 500, 25, 50, "SPS-TEST", 3)
    path = clips.encode(spec, CLIP_CACHE)
    nals = split_annexb(path.read_bytes())
    sps = next(n for n in nals if nal_type(codec, n) == (7 if codec == H264 else 33))
    info = parse_sps(codec, sps)
    assert (info.width, info.height) == (w, h)
    aus = access_units(codec, nals)
    assert len(aus) == 50


def test_id_cells_encode_the_index() -> None:
    for index in (0, 1, 7, 300, 65535):
        cells = clips.id_cells(index)
        assert cells[0] == 1 and cells[-1] == 0 and len(cells) == 18
        assert int("".join(map(str, cells[1:17])), 2) == index
