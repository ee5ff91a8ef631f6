"""fMP4 writing and the crash-recovery scanner: a file cut anywhere keeps exactly its whole fragments."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from camgrid.media import fmp4
from camgrid.media.nal import H264, nal_type, parse_sps, split_annexb
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE

_NALS = split_annexb(clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 25, "FMP4", 1), CLIP_CACHE).read_bytes())
SPS = next(n for n in _NALS if nal_type(H264, n) == 7)
PPS = next(n for n in _NALS if nal_type(H264, n) == 8)
INFO = parse_sps(H264, SPS)


def build(fragments: int, per: int) -> tuple[bytes, list[int]]:
    data = fmp4.init_segment(INFO, [SPS, PPS])
    ends = [len(data)]
    t = 0
    for f in range(fragments):
        samples = [(3600, 10 + i, i == 0) for i in range(per)]
        payload = [bytes([0, 0, 0, 6 + i, 0x65 if i == 0 else 0x41]) + bytes(5 + i) for i in range(per)]
        data += fmp4.fragment(f + 1, t, samples, payload)
        t += 3600 * per
        ends.append(len(data))
    return data, ends


@given(st.integers(1, 6), st.integers(1, 5), st.data())
@settings(max_examples=200, deadline=None)
def test_scan_keeps_whole_fragments_only(fragments: int, per: int, data: st.DataObject) -> None:
    blob, ends = build(fragments, per)
    cut = data.draw(st.integers(0, len(blob)))
    result = fmp4.scan(blob[:cut])
    whole = [e for e in ends if e <= cut]
    if not whole:
        assert result.valid_bytes == 0 and not result.has_init
        return
    assert result.valid_bytes == whole[-1]
    assert result.fragments == len(whole) - 1
    assert result.samples == (len(whole) - 1) * per
    if result.fragments:
        assert result.end_time == 3600 * per * result.fragments
        assert result.key_first


def test_init_segment_is_readable_by_ffprobe(tmp_path: Path) -> None:
    blob, _ = build(2, 3)
    path = tmp_path / "x.mp4"
    path.write_bytes(blob)
    r = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
    )
    assert r.stdout.strip() == "h264,320,240"
