"""SPS parsing and access-unit grouping on clips encoded by the real ffmpeg (libx264, libx265)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from camgrid.media.nal import (
    H264,
    H265,
    PARAM_SET_TYPES,
    access_units,
    is_parameter_set,
    nal_type,
    param_set_type,
    parse_sps,
    split_annexb,
)
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE


@pytest.mark.parametrize(("codec", "w", "h"), [(H264, 640, 360), (H265, 640, 360), (H264, 1280, 720), (H265, 320, 240)])
def test_sps_dimensions_from_real_encoders(codec: str, w: int, h: int) -> None:
    spec = clips.ClipSpec(codec, w, h, 25, 500, 25, 50, "SPS-TEST", 3)
    path = clips.encode(spec, CLIP_CACHE)
    nals = split_annexb(path.read_bytes())
    sps = next(n for n in nals if nal_type(codec, n) == param_set_type(codec, "sps"))
    info = parse_sps(codec, sps)
    assert (info.width, info.height) == (w, h)
    aus = access_units(codec, nals)
    assert len(aus) == 50


@pytest.mark.parametrize("codec", [H264, H265])
def test_parameter_sets_of_real_encoders(codec: str) -> None:
    """The one spelling of parameter-set NAL types finds exactly the encoder's VPS/SPS/PPS (and no slice, SEI...)."""
    path = clips.encode(clips.ClipSpec(codec, 320, 240, 25, 500, 25, 25, "PS-TEST", 3), CLIP_CACHE)
    types = [nal_type(codec, n) for n in split_annexb(path.read_bytes())]
    found = {t for t in types if is_parameter_set(codec, t)}
    assert found == set(PARAM_SET_TYPES[codec].values())
    assert any(not is_parameter_set(codec, t) for t in types)
    with pytest.raises(KeyError):
        param_set_type(H264, "vps")  # H.264 has none


def test_id_cells_encode_the_index() -> None:
    for index in (0, 1, 7, 300, 65535):
        cells = clips.id_cells(index)
        assert cells[0] == 1 and cells[-1] == 0 and len(cells) == 18
        assert int("".join(map(str, cells[1:17])), 2) == index


@pytest.mark.parametrize("codec", [H264, H265])
@pytest.mark.parametrize("tail", [b"\x00\x00\x00", b"\xff\x13\x37\x00\x80", bytes(64)])
def test_an_sps_with_trailing_bytes_still_parses(codec: str, tail: bytes) -> None:
    """Reolink sends SPS NAL units with bytes after the RBSP stop bit: read what is needed, ignore the rest."""
    spec = clips.ClipSpec(codec, 640, 360, 25, 500, 25, 50, "SPS-TEST", 3)
    nals = split_annexb(clips.encode(spec, CLIP_CACHE).read_bytes())
    sps = next(n for n in nals if nal_type(codec, n) == param_set_type(codec, "sps"))
    info = parse_sps(codec, sps + tail)
    assert (info.width, info.height) == (640, 360)


@pytest.mark.parametrize("codec", [H264, H265])
@pytest.mark.parametrize("bframes", [0, 2])
def test_the_sps_declares_the_reorder_depth(codec: str, bframes: int, tmp_path: Path) -> None:
    """B-frames: how many pictures may come before one shown earlier (the decode timeline starts that far back)."""
    out = tmp_path / f"clip.{codec}"
    src = "testsrc2=size=160x120:rate=25"
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", src, "-t", "0.4", "-pix_fmt", "yuv420p"]
    if codec == H264:
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-bf", str(bframes), "-f", "h264", str(out)]
    else:
        params = f"bframes={bframes}:log-level=error"
        cmd += ["-c:v", "libx265", "-preset", "veryfast", "-x265-params", params, "-f", "hevc", str(out)]
    subprocess.run(cmd, check=True, timeout=60)
    sps = next(n for n in split_annexb(out.read_bytes()) if nal_type(codec, n) == param_set_type(codec, "sps"))
    assert parse_sps(codec, sps).reorder == bframes
