"""The tamper detectors (camgrid/motion/tamper.py, docs/design/tamper.md) scored by tables of real pictures:
ffmpeg-made H.264 keyframes of testsrc2 and of what tampering does to it, decoded by PyAV."""

from __future__ import annotations

import numpy as np
import pytest

from camgrid.motion.tamper import Look, Persistence, Reference, judge, look_at, ncc, shrink
from camgrid.vocabulary import TamperKind
from tests.motion.pictures import keyframes

COVERED, BLINDED, DEFOCUSED = TamperKind.COVERED, TamperKind.BLINDED, TamperKind.DEFOCUSED
TURNED, FROZEN = TamperKind.TURNED, TamperKind.FROZEN


def _reference() -> Reference:
    ref = Reference(learn=2)
    for y in keyframes("normal"):
        ref.offer(look_at(y), normal=True)
    assert ref.ready
    return ref


# variant -> what each of its keyframes is, judged against the reference learnt from testsrc2 (no previous sample)
TABLE: list[tuple[str, TamperKind | None]] = [
    ("normal", None),
    ("moving", None),  # something large in a sixth of the picture: not tamper
    ("dusk", None),  # dimmed by a quarter: not defocused, not covered
    ("black", COVERED),  # a dark, noisy, flat picture
    ("grey", COVERED),  # a bag or paint: flat at any brightness
    ("white", BLINDED),
    ("glare", BLINDED),
    ("blurred", DEFOCUSED),
    ("softer", DEFOCUSED),
    ("shifted", TURNED),
    ("mirrored", TURNED),
]


@pytest.mark.parametrize(("variant", "want"), TABLE)
def test_each_picture_is_judged_against_the_reference(variant: str, want: TamperKind | None) -> None:
    ref = _reference()
    for y in keyframes(variant):
        assert judge(look_at(y), ref, None) == want, variant


def test_defocus_is_seen_past_an_on_screen_clock_that_stays_sharp() -> None:
    """Over the whole picture a sharp clock keeps the sharpness at ~0.6 of the reference's (docs/design/simulator.md);
    the median over the reference's textured tiles does not see the one tile it is in."""
    ref = Reference(learn=2)
    for y in keyframes("osd"):
        ref.offer(look_at(y), normal=True)
    assert ref.ready
    for y in keyframes("osd"):
        assert judge(look_at(y), ref, None) is None
    for y in keyframes("blurred_osd"):
        look = look_at(y)
        assert look.edge > 0.5 * ref.edge  # what a whole-picture measure would say: not defocused
        assert judge(look, ref, None) == DEFOCUSED


@pytest.mark.parametrize(("variant", "want"), [("black", COVERED), ("white", BLINDED), ("normal", None)])
def test_covered_and_blinded_need_no_reference(variant: str, want: TamperKind | None) -> None:
    for y in keyframes(variant):
        assert judge(look_at(y), None, None) == want


# (previous variant/keyframe, current variant/keyframe, activity level, verdict)
FROZEN_TABLE: list[tuple[tuple[str, int], tuple[str, int], int | None, TamperKind | None]] = [
    (("normal", 0), ("normal", 0), None, FROZEN),  # the very same decoded picture
    (("normal", 0), ("normal", 0), 65, FROZEN),  # the same picture, the stream as usual: still the same picture
    (("normal", 0), ("normal", 0), 255, FROZEN),  # identical keyframes, whatever the stream between says (a loop)
    (("repeated", 0), ("repeated", 1), 5, FROZEN),  # re-encoded repeats while the stream collapsed
    (("repeated", 0), ("repeated", 1), None, None),  # re-encoded repeats, nothing known of the stream: no proof
    (("repeated", 0), ("repeated", 1), 65, None),  # ... the stream as usual: a still scene, not frozen
    (("normal", 0), ("normal", 1), 5, None),  # a changing picture is never frozen
]


@pytest.mark.parametrize(("prev", "cur", "activity", "want"), FROZEN_TABLE)
def test_frozen_is_the_same_picture_again(
    prev: tuple[str, int], cur: tuple[str, int], activity: int | None, want: TamperKind | None
) -> None:
    before, now = look_at(keyframes(prev[0])[prev[1]]), look_at(keyframes(cur[0])[cur[1]])
    assert judge(now, _reference(), before, activity) == want


def test_the_reference_is_learnt_from_alike_usable_pictures_and_drifts_slowly() -> None:
    normal, shifted, black = (look_at(keyframes(v)[0]) for v in ("normal", "shifted", "black"))
    ref = Reference(learn=3, drift=0.1)
    assert not ref.offer(normal, normal=True) and not ref.offer(black, normal=True)  # a cover restarts learning
    assert not ref.offer(normal, normal=True) and not ref.offer(shifted, normal=True)  # unlike: restarts too
    assert [ref.offer(shifted, normal=True) for _ in range(2)] == [False, True]
    assert ref.small is not None and ncc(ref.small, shifted.small) > 0.99
    before = ref.small.copy()
    ref.offer(normal, normal=True)  # unlike the reference: never drifts towards a turned scene
    assert np.array_equal(ref.small, before)
    dusk = look_at(keyframes("dusk")[0])
    ref.restore(normal.small, normal.edge)
    ref.offer(dusk, normal=True)
    assert 0 < float(np.abs(ref.small - normal.small).mean()) < 0.2 * float(np.abs(dusk.small - normal.small).mean())
    ref.retake()
    assert not ref.ready


def _verdicts(seq: str) -> list[TamperKind | None]:
    return [None if c == "." else {"c": COVERED, "b": BLINDED, "t": TURNED}[c] for c in seq]


# samples (. normal, c covered, b blinded, t turned) -> what Persistence(3, 2) says after each
PERSIST: list[tuple[str, str]] = [
    ("c.c.c.c", "......."),  # never three in a row: never raised
    ("ccc..", "..R.C"),
    ("cbcc", "..R."),  # mixed abnormal samples count together: the kind most seen
    ("ccc.c..", "..R...C"),  # one normal sample between does not clear
    ("tttttt", "..R..."),
]


@pytest.mark.parametrize(("samples", "events"), PERSIST)
def test_persistence_raises_after_three_and_clears_after_two(samples: str, events: str) -> None:
    p = Persistence(raise_after=3, clear_after=2)
    got = ""
    for v in _verdicts(samples):
        ev = p.feed(v)
        got += "." if ev is None else ev[0][0].upper()
    assert got == events


def test_the_kind_raised_is_the_one_most_seen() -> None:
    p = Persistence(raise_after=3)
    assert [p.feed(v) for v in _verdicts("cbc")][-1] == ("raise", COVERED)
    p = Persistence(raise_after=3)
    p.feed(COVERED)
    p.reset()  # a reconnect: counting starts anew
    assert [p.feed(v) for v in _verdicts("tt")] == [None, None]


def test_shrink_averages_areas_and_look_is_small() -> None:
    y = np.arange(360 * 640, dtype=np.uint32).reshape(360, 640).astype(np.uint8)
    small = shrink(y)
    assert small.shape == (54, 96) and small.dtype == np.float32
    flat = shrink(np.full((360, 640), 77, np.uint8))
    assert np.allclose(flat, 77)
    look: Look = look_at(keyframes("normal")[0])
    assert look.small.nbytes <= 96 * 54 * 4
    with pytest.raises(ValueError, match="smaller"):
        shrink(np.zeros((20, 20), np.uint8))
