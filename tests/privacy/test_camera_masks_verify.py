"""Camera-side masks, verified (docs/design/camera-side-masks.md): the area check as a table on numpy arrays, and the
VerifyingTransform on real pictures: the simulator's clip with its mask burned in (PyAV), and the same clip without.

Stored pictures of a verified camera are the camera's bytes; from the first keyframe whose check fails the
recorder-side Masker masks them (decoded here and checked); until the first check passes nothing leaves unmasked.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camgrid.media.nal import is_parameter_set, nal_type
from camgrid.media.rtp import AccessUnit
from camgrid.onvif.masks import from_onvif, mismatch, to_onvif
from camgrid.privacy.camera_masks import VerifyingTransform, decode_keyframe
from camgrid.privacy.geometry import raster, validate
from camgrid.privacy.verify import check_area, inset
from camgrid.sim import clips
from camgrid.sim.masked_clips import SimMask, burn
from tests.backends import wait_for
from tests.conftest import CLIP_CACHE

BLACK = (16.0, 128.0, 128.0)
RING = [[0.05, 0.55], [0.45, 0.55], [0.45, 0.95], [0.05, 0.95]]  # bottom-left: moving test content
W, H = 320, 180


def flat(value: int, noise: float = 0.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (
        np.clip(value + rng.normal(0, noise, (H, W)), 0, 255).astype(np.uint8)
        if noise
        else np.full((H, W), value, np.uint8)
    )


def chroma(value: int) -> np.ndarray:
    return np.full((H // 2, W // 2), value, np.uint8)


AREA = inset(raster(validate([RING]), W, H))


@pytest.mark.parametrize(
    ("luma", "cb", "cr", "ok", "why"),
    [
        (flat(16), 128, 128, True, ""),
        (flat(18, 0.8), 128, 128, True, ""),  # encoder noise on a flat area
        (flat(16, 6.0), 128, 128, False, "not uniform"),  # textured: a scene, not a mask
        (flat(105), 200, 220, False, "colour"),  # flat but magenta: not the mask camgrid asked for
        (flat(40), 128, 128, False, "colour"),  # flat grey, too far from black
        (flat(16), 150, 128, False, "colour"),  # right luma, wrong chroma
    ],
)
def test_area_check_table(luma: np.ndarray, cb: int, cr: int, ok: bool, why: str) -> None:
    verdict = check_area(luma, chroma(cb), chroma(cr), AREA, BLACK)
    assert verdict.ok is ok, verdict
    assert why in verdict.reason


def test_area_check_two_tone_fails() -> None:
    """Half the area masked, half not: the share within 4 levels of the median falls below 99%."""
    y = flat(16)
    ys, xs = np.nonzero(AREA)
    y[ys[: len(ys) // 3], xs[: len(xs) // 3]] = 120
    assert not check_area(y, chroma(128), chroma(128), AREA, BLACK).ok


def test_onvif_coordinates_round_trip_and_mismatch() -> None:
    pts = to_onvif(RING)
    assert pts[0] == (-0.9, -0.1) and pts[2] == (-0.1, -0.9)  # y up
    assert from_onvif(pts) == RING

    class Listed:
        def __init__(self, points: Any, enabled: bool = True) -> None:
            self.points, self.enabled, self.kind = points, enabled, "Color"

    assert mismatch([Listed(pts)], [pts]) is None  # type: ignore[list-item]
    assert mismatch([], [pts]) is not None
    assert mismatch([Listed(pts, enabled=False)], [pts]) is not None  # type: ignore[list-item]
    moved = tuple((x + 0.1, y) for x, y in pts)
    assert mismatch([Listed(moved)], [pts]) is not None  # type: ignore[list-item]


# -- on real pictures -------------------------------------------------------------------------------------------


def _aus(clip: clips.Clip) -> list[AccessUnit]:
    out = []
    for i, au in enumerate(clip.frames):
        data = b"".join(struct.pack(">I", len(n)) + n for n in au)
        params = [n for n in au if is_parameter_set(clip.codec, nal_type(clip.codec, n))]
        out.append(AccessUnit(i * 3600, data, clip.keys[i], params, arrival_ns=i * 40_000_000))
    return out


@pytest.fixture(scope="module")
def pair() -> tuple[clips.Clip, clips.Clip]:
    spec = clips.ClipSpec("h264", W, H, 25, 400, 25, 100, "CAM-0001", 1, True)
    clip = clips.load(clips.encode(spec, CLIP_CACHE), "h264")
    return clip, burn(clip, [SimMask("m1", "vsc0", to_onvif(RING))], 25)


def test_the_burned_clip_passes_and_the_plain_one_fails(pair: tuple[clips.Clip, clips.Clip]) -> None:
    clip, masked = pair
    for c, expect in ((masked, True), (clip, False)):
        for au in _aus(c)[::25]:
            planes = decode_keyframe("h264", au)
            assert planes is not None
            verdict = check_area(planes[0], planes[1], planes[2], AREA, BLACK)
            assert verdict.ok is expect, verdict


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _run(
    vt: VerifyingTransform, aus: list[AccessUnit], clock: Clock, start: int = 0, t0: float = 0.0
) -> list[tuple[AccessUnit, int, bool]]:
    """Feed pictures at 25 fps on the injected clock, waiting for each check's verdict before the next picture
    (the held pictures are released or masked by then), and collect what comes out."""
    out: list[tuple[AccessUnit, int, bool]] = []
    for k, au in enumerate(aus):
        clock.t = t0 + (start + k) / 25
        n = vt.checks + vt.failures
        held_before = vt._held is not None
        vt.submit(au, (start + k) * 3600, False)
        if vt._held is not None and not held_before:
            wait_for(lambda n=n: vt.checks + vt.failures > n, timeout=10)
        out.extend(vt.drain())
    return out


def _masked_in_area(au: AccessUnit) -> bool:
    planes = decode_keyframe("h264", au)
    assert planes is not None
    return check_area(planes[0], planes[1], planes[2], AREA, BLACK).ok


def test_verified_passes_bytes_then_tamper_falls_back_within_a_keyframe(pair: tuple[clips.Clip, clips.Clip]) -> None:
    clip, masked = pair
    fails: list[tuple[str, str]] = []
    passes: list[str] = []
    clock = Clock()
    vt = VerifyingTransform(
        "cam-0001",
        lambda: "h264",
        validate([RING]),
        color=BLACK,
        interval_s=1.0,
        on_fail=lambda cam, why: fails.append((cam, why)),
        on_pass=passes.append,
        monotonic=clock,
    )
    try:
        good = _aus(masked)
        out = _run(vt, good, clock)
        assert vt.state == vt.VERIFIED and passes == ["cam-0001"] and not fails
        # every picture out is the camera's, byte for byte, in order (the first check passed at picture 0)
        assert [bytes(a.data) for a, _, _ in out] == [bytes(a.data) for a in good]
        # the camera stops masking (tamper): from the first keyframe checked, pictures are masked by the recorder
        bad = _aus(clip)
        out = _run(vt, bad, clock, start=len(good))
        wait_for(lambda: bool(fails), timeout=10)
        assert vt.state == vt.FAILED and "polygon 1" in fails[0][1]
        wait_for(lambda: vt._masker is not None and vt._masker.frames_out >= 50, timeout=30)
        out += vt.drain()
        raw = {bytes(a.data) for a in bad}
        assert not any(bytes(a.data) in raw for a, _, _ in out)  # nothing of the unmasked stream is let out
        keys = [a for a, _, _ in out if a.key]
        assert keys and all(_masked_in_area(a) for a in keys)
        assert out[0][1] == len(good) * 3600  # from that very keyframe (the first picture after the switch)
    finally:
        vt.close()


def test_nothing_unverified_leaves_unmasked(pair: tuple[clips.Clip, clips.Clip]) -> None:
    """A camera that never masked: the first check fails, every picture out is the recorder's masked one."""
    clip, _ = pair
    fails: list[str] = []
    clock = Clock()
    vt = VerifyingTransform(
        "cam-0001",
        lambda: "h264",
        validate([RING]),
        color=BLACK,
        interval_s=1.0,
        on_fail=lambda cam, why: fails.append(why),
        monotonic=clock,
    )
    try:
        bad = _aus(clip)
        out = _run(vt, bad, clock)
        wait_for(lambda: vt._masker is not None and vt._masker.frames_out >= 90, timeout=30)
        out += vt.drain()
        raw = {bytes(a.data) for a in bad}
        assert out and not any(bytes(a.data) in raw for a, _, _ in out)
        assert fails and vt.state == vt.FAILED
        # re-armed with the camera still not masking: still masked here, a fresh check fails again
        vt.rearm()
        assert vt.state == vt.PENDING
    finally:
        vt.close()


def test_getmasks_mismatch_fails_at_once(pair: tuple[clips.Clip, clips.Clip], tmp_path: Path) -> None:
    _, masked = pair
    fails: list[str] = []
    clock = Clock()
    vt = VerifyingTransform(
        "cam-0001",
        lambda: "h264",
        validate([RING]),
        color=BLACK,
        interval_s=1.0,
        on_fail=lambda cam, why: fails.append(why),
        monotonic=clock,
    )
    try:
        good = _aus(masked)
        _run(vt, good[:30], clock)
        assert vt.state == vt.VERIFIED
        vt.listed_mismatch("the camera lists 0 enabled masks, camgrid set 1")
        out = _run(vt, good[30:], clock, start=30)
        wait_for(lambda: vt._masker is not None and vt._masker.frames_out >= 50, timeout=30)
        out += vt.drain()
        raw = {bytes(a.data) for a in good}
        assert not any(bytes(a.data) in raw for a, _, _ in out)
        wait_for(lambda: bool(fails), timeout=10)
        assert "0 enabled masks" in fails[0]
    finally:
        vt.close()


def test_a_camera_applying_new_masks_gets_a_grace_then_a_pass(pair: tuple[clips.Clip, clips.Clip]) -> None:
    """Just told its masks, a camera may send unmasked pictures for a moment: within ``grace_s`` a failed check keeps
    the recorder masking without declaring the camera failed, and the first pass switches to the camera's pictures."""
    clip, masked = pair
    fails: list[str] = []
    clock = Clock()
    vt = VerifyingTransform(
        "cam-0001",
        lambda: "h264",
        validate([RING]),
        color=BLACK,
        interval_s=1.0,
        on_fail=lambda cam, why: fails.append(why),
        monotonic=clock,
        grace_s=3.0,
    )
    try:
        # the recorder took a minute to connect: the grace starts with the first picture, not before
        out = _run(vt, _aus(clip)[:50], clock, t0=60.0)  # two seconds unmasked: both checks fail, inside the grace
        assert vt.state == vt.PENDING and not fails and vt.checks == 2
        good = _aus(masked)[50:]
        out += _run(vt, good, clock, start=50, t0=60.0)
        assert vt.state == vt.VERIFIED and not fails
        wait_for(lambda: vt._masker is None, timeout=10)  # the recorder's masker is closed at the pass
        raw = {bytes(a.data) for a in _aus(clip)}
        assert not any(bytes(a.data) in raw for a, _, _ in out)
        assert [bytes(a.data) for a, _, _ in out][-len(good) :] == [bytes(a.data) for a in good]
    finally:
        vt.close()
    # past the grace, a failed check counts
    clock2 = Clock()
    vt = VerifyingTransform(
        "cam-0001", lambda: "h264", validate([RING]), color=BLACK, interval_s=1.0,
        on_fail=lambda cam, why: fails.append(why), monotonic=clock2, grace_s=3.0,
    )  # fmt: skip
    try:
        _run(vt, _aus(clip), clock2)  # four seconds unmasked
        wait_for(lambda: bool(fails), timeout=10)
        assert vt.state == vt.FAILED
    finally:
        vt.close()


def test_h265_keyframes_are_judged_too() -> None:
    spec = clips.ClipSpec("h265", W, H, 25, 400, 25, 50, "CAM-0009", 9, False)
    clip = clips.load(clips.encode(spec, CLIP_CACHE), "h265")
    masked = burn(clip, [SimMask("m1", "vsc0", to_onvif(RING))], 25)
    for c, expect in ((masked, True), (clip, False)):
        verdicts = []
        for au in (a for a in _aus(c) if a.key):
            planes = decode_keyframe("h265", au)
            assert planes is not None
            verdicts.append(check_area(planes[0], planes[1], planes[2], AREA, BLACK).ok)
        assert verdicts == [expect, expect]
