"""The interop oracle itself (tests/interop/pictures.py): it must recognise an exact recording and fail every way a
recording can be wrong (docs/design/interop.md)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from tests.interop.harness import Clip, annexb, mp4
from tests.interop.pictures import (
    NS,
    Picture,
    _digest,
    compare,
    index_problems,
    is_vcl,
    picture_slices,
    recorded_pictures,
    source_pictures,
    split_annexb,
)

TWO_SLICES = Clip("h264", seconds=2.0, slices=2, width=160, height=128)
H265 = Clip("h265", seconds=2.0, width=160, height=128)


def fragmented(clip: Clip, out: Path, start_s: float = 0.0) -> Path:
    """The clip as a fragmented MP4 written by ffmpeg (a muxer that is not camgrid's), from ``start_s``."""
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{start_s}", "-i", str(mp4(clip))]
    cmd += ["-c", "copy", "-movflags", "frag_keyframe+empty_moov+default_base_moof", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


def test_two_slices_are_one_picture() -> None:
    data = annexb(TWO_SLICES).read_bytes()
    slices = [n for n in split_annexb(data) if is_vcl("h264", n)]
    pictures = source_pictures(data, "h264", 25)
    assert len(pictures) == 50 and len(slices) == 100
    assert all(p.duration_ns == 40_000_000 for p in pictures)
    assert [p.start_ns for p in pictures[:3]] == [0, 40_000_000, 80_000_000]


@pytest.mark.parametrize("clip", [TWO_SLICES, H265], ids=["h264-two-slices", "h265"])
def test_another_muxers_fragments_match_the_source_exactly(clip: Clip, tmp_path: Path) -> None:
    source = source_pictures(annexb(clip).read_bytes(), clip.codec, clip.fps)
    recorded = recorded_pictures([fragmented(clip, tmp_path / "a.mp4")])
    result = compare(source, recorded)
    assert result.exact, result.summary
    assert result.matched == len(source) and result.first_source_index == 0


def test_segments_with_index_starts(tmp_path: Path) -> None:
    seg = fragmented(TWO_SLICES, tmp_path / "a.mp4")
    pictures = recorded_pictures([seg, seg], starts=[10 * NS, 20 * NS])
    assert pictures[0].start_ns == 10 * NS and pictures[50].start_ns == 20 * NS
    assert pictures[1].start_ns == 10 * NS + 40_000_000
    source = source_pictures(annexb(TWO_SLICES).read_bytes(), "h264", 25)
    # the whole clip twice is the looped source, exact; its last ten pictures again are ten duplicates
    assert compare(source, pictures).exact
    replay = compare(source, pictures[:50] + pictures[40:50])
    assert replay.duplicated == 10 and not replay.exact


def test_pictures_stored_slice_by_slice_are_not_source_pictures() -> None:
    """The live555 finding: a picture stored as two samples (one per slice) is two unknown half-pictures."""
    data = annexb(TWO_SLICES).read_bytes()
    halves = [s for pic in picture_slices("h264", split_annexb(data)) for s in pic]
    recorded = [Picture(_digest([s]), 40_000_000, i * 40_000_000) for i, s in enumerate(halves)]
    result = compare(source_pictures(data, "h264", 25), recorded)
    assert not result.exact and result.unknown == 100 and result.matched == 0


def synthetic(n: int) -> list[Picture]:
    return [Picture(f"p{i}", 40_000_000, i * 40_000_000) for i in range(n)]


def test_a_run_across_the_loop_is_exact() -> None:
    source = synthetic(10)
    recorded = source[7:] + source + source[:4]
    result = compare(source, recorded)
    assert result.exact, result.summary
    assert result.first_source_index == 7 and result.matched == 17


def test_a_duplicated_picture_fails() -> None:
    source = synthetic(10)
    result = compare(source, [*source[:5], source[4], *source[5:]])
    assert not result.exact and result.duplicated == 1 and result.missing == 0
    assert "repeats source picture 4" in result.summary


def test_a_swapped_pair_fails() -> None:
    source = synthetic(10)
    recorded = [*source[:3], source[4], source[3], *source[5:]]
    result = compare(source, recorded)
    assert not result.exact and result.out_of_order == 1 and result.missing == 0 and result.duplicated == 0


def test_a_missing_picture_fails() -> None:
    source = synthetic(10)
    result = compare(source, source[:3] + source[5:])
    assert not result.exact and result.missing == 2 and result.holes == [(3, 2)]


def test_a_wrong_duration_fails() -> None:
    source = synthetic(10)
    recorded = list(source)
    recorded[6] = dataclasses.replace(recorded[6], duration_ns=20_000_000)
    result = compare(source, recorded)
    assert not result.exact and result.bad_durations == 1
    assert "lasts 20000000 ns" in result.summary


def test_a_foreign_picture_and_an_empty_recording_fail() -> None:
    source = synthetic(10)
    assert compare(source, [*source[:3], Picture("x", 40_000_000, 0)]).unknown == 1
    assert not compare(source, []).exact


def test_index_times_must_lie_in_the_recording_window() -> None:
    t0, t1 = 100 * NS, 130 * NS
    assert index_problems([(100 * NS, 104 * NS), (104 * NS, 108 * NS)], (t0, t1)) == []
    future = index_problems([(100 * NS, 104 * NS), (104 * NS, 160 * NS)], (t0, t1))
    assert future and "in the future" in future[0]
    assert index_problems([(90 * NS, 104 * NS)], (t0, t1))
    assert "before the previous one ends" in index_problems([(101 * NS, 105 * NS), (104 * NS, 108 * NS)], (t0, t1))[0]


def test_a_stopped_recordings_last_picture_may_end_where_the_last_shown_ends() -> None:
    """Only the last picture of a stopped recording: longer by at most two frames (a reordered stream), or shorter
    (the recorder never lets the index end in the future), but never empty."""
    src = [Picture(f"p{i}", 40_000_000, i * 40_000_000) for i in range(10)]
    longer = [*src[:9], Picture("p9", 84_000_000, 360_000_000)]
    assert not compare(src, longer).exact
    assert compare(src, longer, stopped=True).exact
    shorter = [*src[:9], Picture("p9", 1_000_000, 360_000_000)]
    assert compare(src, shorter, stopped=True).exact and not compare(src, shorter).exact
    empty = [*src[:9], Picture("p9", 0, 360_000_000)]
    assert not compare(src, empty, stopped=True).exact
    much_longer = [*src[:9], Picture("p9", 125_000_000, 360_000_000)]
    assert not compare(src, much_longer, stopped=True).exact
    middle = [*src[:4], Picture("p4", 84_000_000, 160_000_000), *src[5:]]
    assert not compare(src, middle, stopped=True).exact
