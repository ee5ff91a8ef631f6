"""Recorded H.265 segments as H.264 for playback (live/segments.py): same presentation times, keyframes where the
recording has them, bounded and cached. The H.265 file is a fragmented MP4 from the real ffmpeg (libx265)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from camgrid.live.segments import SegmentBusy, SegmentTooBig, SegmentTranscodes, transcode_segment


@pytest.fixture(scope="module")
def h265_segment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seg") / "h265.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-t", "2",
         "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:log-level=error", "-tag:v", "hvc1",
         "-movflags", "frag_keyframe+empty_moov+default_base_moof", str(out)],
        check=True, timeout=60,
    )  # fmt: skip
    return out


def _pictures(path: Path) -> tuple[str, list[tuple[float, bool]]]:
    with av.open(str(path)) as f:
        v = f.streams.video[0]
        pics = [(float(p.pts * v.time_base), p.is_keyframe) for p in f.demux(v) if p.size]
        return v.codec_context.name, sorted(pics)


def test_same_times_and_keyframes_as_the_recording(h265_segment: Path, tmp_path: Path) -> None:
    out = tmp_path / "h264.mp4"
    out.write_bytes(transcode_segment(h265_segment))
    src_codec, src = _pictures(h265_segment)
    codec, got = _pictures(out)
    assert (src_codec, codec) == ("hevc", "h264")
    assert [round(t, 3) for t, _ in got] == [round(t, 3) for t, _ in src]
    assert [t for t, k in got if k] == pytest.approx([t for t, k in src if k], abs=1e-3)


def test_bounded_and_cached(h265_segment: Path) -> None:
    jobs = SegmentTranscodes(slots=1, cache=2, max_bytes=10 * 1024 * 1024)
    first = jobs.get(1, h265_segment, final=True)
    assert jobs.get(1, h265_segment, final=True) is first and jobs.done == 1  # a seek or a second viewer: cached
    jobs.get(2, h265_segment, final=False)
    jobs.get(2, h265_segment, final=False)
    assert jobs.done == 3  # a segment still being written is not cached
    with pytest.raises(SegmentTooBig):
        SegmentTranscodes(slots=1, cache=0, max_bytes=1000).get(3, h265_segment, final=True)
    with pytest.raises(SegmentBusy):
        SegmentTranscodes(slots=0, cache=0, max_bytes=10**9).get(4, h265_segment, final=True)
