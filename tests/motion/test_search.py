"""Motion search's own parts (docs/design/motion-search.md, "Motion search"): the searched area is the region minus
the masks, keyframes compared inside it find the motion there and nowhere else, the pictures between keyframes are
decoded only in candidate windows, activity spans narrow what is decoded, and thumbnails are black under masks.
The recording is real H.264 (ffmpeg) cut by camgrid's fMP4 writer, its motion placed by tests/motion/media.py."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from camgrid.motion import search as ms
from camgrid.motion.service import candidate_spans
from camgrid.privacy.geometry import validate
from tests.motion import media as scene

T0 = 1_796_000_100 * scene.NS
END = T0 + scene.SECONDS * scene.NS
MASK = validate([[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]])  # the top-right quarter


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[ms.SourceSegment]:
    folder = tmp_path_factory.mktemp("motion")
    return [ms.SourceSegment(p, a, b) for p, a, b, _ in scene.write_recording(folder, T0)]


def _spans(out: ms.Outcome) -> list[tuple[float, float]]:
    return [((h.start_ns - T0) / scene.NS, (h.end_ns - T0) / scene.NS) for h in out.hits]


def _meets(spans: list[tuple[float, float]], a: float, b: float) -> bool:
    return any(s < b and e > a for s, e in spans)


def _picture(jpeg: bytes) -> np.ndarray:
    with av.open(io.BytesIO(jpeg)) as c:
        frame = next(c.decode(video=0))
        return frame.to_ndarray(format="gray")  # type: ignore[no-any-return]


def test_a_region_is_a_polygon_or_a_rectangle_and_bad_ones_are_refused() -> None:
    assert ms.region_polygon([0.1, 0.2, 0.5, 0.6]).bounds == pytest.approx((0.1, 0.2, 0.5, 0.6))
    assert ms.region_polygon([[0, 0], [1, 0], [0, 1]]).area == pytest.approx(0.5)
    for bad, words in (
        ([[0, 0], [1, 0]], "3 to"),
        ([[0, 0], [1.5, 0], [0, 1]], "fractions"),
        ([[0, 0], [1, 1], [1, 0], [0, 1]], "region: Self-intersection"),
        ([[i / 100, (i % 2) / 100] for i in range(65)], "at most 64"),
    ):
        with pytest.raises(ms.SearchError, match=words):
            ms.region_polygon(bad)


def test_the_searched_area_is_the_region_minus_the_masks() -> None:
    area = ms.search_area(ms.region_polygon(scene.WHOLE), MASK, 16, 8)
    assert not area[:4, 8:].any(), "the masked quarter is never searched"
    assert area[:4, :7].all() and area[4:, :].all()
    assert not ms.search_area(ms.region_polygon([0.6, 0.1, 0.9, 0.4]), MASK, 16, 8).any()


def test_change_is_the_share_of_the_area_that_moved() -> None:
    a = np.full((10, 10), 100, np.uint8)
    b = a.copy()
    b[0:2, 0:5] = 200  # 10 pixels moved
    area = np.ones((10, 10), bool)
    assert ms.change(a, a, area, 24) == (0.0, 0)
    assert ms.change(a, b, area, 24) == (0.1, 10)
    area[0:2, :] = False
    assert ms.change(a, b, area, 24) == (0.0, 0), "a change outside the area is not seen"


def test_motion_is_found_in_its_region_and_not_outside(segments: list[ms.SourceSegment]) -> None:
    tl = ms.search(segments, region=ms.region_polygon(scene.REGION_TL), masks=[], start_ns=T0, end_ns=END)
    assert _meets(_spans(tl), *scene.MOVES_TL)
    assert not _meets(_spans(tl), 11, scene.SECONDS), _spans(tl)
    assert all(s >= 3 and e <= 10 for s, e in _spans(tl)), _spans(tl)
    assert tl.keyframes == scene.SECONDS, "without activity data every keyframe is looked at"
    br = ms.search(segments, region=ms.region_polygon(scene.REGION_BR), masks=[], start_ns=T0, end_ns=END)
    assert br.hits == [], _spans(br)


def test_motion_only_under_a_mask_is_never_found_and_thumbnails_are_black_there(
    segments: list[ms.SourceSegment],
) -> None:
    whole = ms.region_polygon(scene.WHOLE)
    bare = ms.search(segments, region=whole, masks=[], start_ns=T0, end_ns=END)
    assert _meets(_spans(bare), *scene.MOVES_MASKED), "the box under the mask moves: unmasked, it is found"
    masked = ms.search(segments, region=whole, masks=MASK, start_ns=T0, end_ns=END)
    assert _meets(_spans(masked), *scene.MOVES_TL)
    assert not _meets(_spans(masked), scene.MOVES_MASKED[0] + 0.5, scene.MOVES_MASKED[1] - 0.5), _spans(masked)
    for hit in masked.hits:
        grey = _picture(hit.thumb)
        h, w = grey.shape
        assert grey[2 : h // 2 - 2, w // 2 + 2 : w - 2].max() < 24, "black under the mask"
        assert grey[h // 2 + 2 :, :].mean() > 60, "the picture elsewhere"
    with pytest.raises(ms.SearchError, match="under the camera's privacy masks"):
        ms.search(segments, region=ms.region_polygon([0.6, 0.1, 0.9, 0.4]), masks=MASK, start_ns=T0, end_ns=END)


def test_a_flash_between_two_keyframes_is_found_by_decoding_that_window_only(segments: list[ms.SourceSegment]) -> None:
    bl = ms.region_polygon(scene.REGION_BL)
    keys_only = ms.search(segments, region=bl, masks=[], start_ns=T0, end_ns=END, params=ms.SearchParams(max_refine=0))
    assert keys_only.hits == [] and keys_only.frames == 0, "the keyframes either side look alike"
    out = ms.search(segments, region=bl, masks=[], start_ns=T0, end_ns=END)
    assert _meets(_spans(out), *scene.FLASH_BL)
    (hit,) = out.hits
    assert (
        scene.FLASH_BL[0] - 0.1 <= (hit.start_ns - T0) / scene.NS
        and (hit.end_ns - T0) / scene.NS <= scene.FLASH_BL[1] + 0.1
    )
    assert 0 < out.frames <= out.refined * (scene.FPS - 1) < scene.SECONDS * (scene.FPS - 1), "only candidate windows"


@dataclass
class Series:
    start_s: int
    levels: bytes

    def windows(self, *, min_level: int, pad_s: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for i, v in enumerate(self.levels):
            if v > min_level:
                a, b = self.start_s + i - pad_s, self.start_s + i + 1 + pad_s
                out = [*out[:-1], (out[-1][0], b)] if out and a <= out[-1][1] else [*out, (a, b)]
        return out


def test_activity_spans_narrow_what_is_decoded(segments: list[ms.SourceSegment]) -> None:
    t0 = T0 // scene.NS
    levels = bytearray([65] * scene.SECONDS)
    levels[5:8] = bytes([140] * 3)  # the activity data saw the box move (5-8 s)
    levels[26:] = bytes(4)  # and has nothing for the last seconds (searched whole)
    narrowing = candidate_spans(Series(t0, bytes(levels)), min_level=72, pad_s=1)
    assert narrowing.spans == [((t0 + 4) * scene.NS, (t0 + 9) * scene.NS), ((t0 + 25) * scene.NS, (t0 + 31) * scene.NS)]
    assert (narrowing.active_s, narrowing.no_data_s) == (5, 4)
    tl = ms.region_polygon(scene.REGION_TL)
    out = ms.search(segments, region=tl, masks=[], start_ns=T0, end_ns=END, spans=narrowing.spans)
    assert _meets(_spans(out), *scene.MOVES_TL) and out.keyframes < scene.SECONDS // 2
    elsewhere = ms.search(segments, region=tl, masks=[], start_ns=T0, end_ns=END, spans=[(T0 + 20 * scene.NS, END)])
    assert elsewhere.hits == [], "what the activity data calls still is not decoded"
    assert candidate_spans(None, min_level=72, pad_s=1).spans is None
    assert candidate_spans(Series(t0, bytes(10)), min_level=72, pad_s=1).spans is None, "no data at all: all of it"


def test_hits_are_bounded_and_unreadable_segments_are_counted(segments: list[ms.SourceSegment], tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x08free" * 4)
    gone = ms.SourceSegment(tmp_path / "gone.mp4", END, END + scene.NS)
    params = ms.SearchParams(max_hits=1, merge_gap_s=0.0)
    out = ms.search(
        [*segments, ms.SourceSegment(junk, END, END + scene.NS), gone],
        region=ms.region_polygon(scene.WHOLE),
        masks=[],
        start_ns=T0,
        end_ns=END,
        params=params,
    )
    assert len(out.hits) == 1 and out.truncated and out.unreadable == 2
