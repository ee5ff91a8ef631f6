"""A small real recording for export tests: an fMP4 segment of H.264 pictures (SPS/PPS from a real encode)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from camgrid.media import fmp4
from camgrid.media.nal import H264, nal_type, parse_sps, split_annexb
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE

NS = 1_000_000_000
FPS = 25


@cache
def _params() -> tuple[bytes, bytes]:
    nals = split_annexb(
        clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 25, "FMP4", 1), CLIP_CACHE).read_bytes()
    )
    return next(n for n in nals if nal_type(H264, n) == 7), next(n for n in nals if nal_type(H264, n) == 8)


def write_segment(path: Path, seconds: int) -> int:
    """One fragment per second, a keyframe at each; returns the file's size."""
    sps, pps = _params()
    data = fmp4.init_segment(parse_sps(H264, sps), [sps, pps])
    step = fmp4.TIMESCALE // FPS
    for s in range(seconds):
        samples = [(step, 8, i == 0) for i in range(FPS)]
        payload = [bytes([0, 0, 0, 4, 0x65 if i == 0 else 0x41, 0, 0, 0]) for i in range(FPS)]
        data += fmp4.fragment(s + 1, s * FPS * step, samples, payload)
    path.write_bytes(data)
    return len(data)
