"""Tamper detectors: pure functions of one decoded keyframe's luma against the camera's learnt reference.

A keyframe every few seconds is reduced to a :class:`Look` (a small grey picture, its brightness, spread and
sharpness, a digest); :func:`judge` names what is wrong with it (covered, blinded, defocused, turned, frozen) or
nothing; :class:`Persistence` raises only after a few consecutive samples agree, so one odd picture (a passing bus,
a headlight) never alarms, and clears after a few normal ones. :class:`Reference` is learnt from the first stable
samples and refreshed slowly while nothing is wrong. Thresholds and the pictures behind them:
docs/design/tamper.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from camgrid.vocabulary import TamperKind

SMALL_W, SMALL_H = 96, 54
TILES = 4  # the grey picture compared with the reference (16:9; other shapes are stretched)
EDGE_W = 320  # sharpness is measured on the luma subsampled to about this width (no averaging: blur stays visible)

# Measured on ffmpeg-made 640x360 H.264 keyframes (tests/motion/pictures.py): testsrc2 has mean 127, spread 65,
# edge 0.31; a dark noisy cover mean 16 and spread < 3, a flat grey one spread < 1.5; a washed-out picture mean 255;
# testsrc2 blurred (gblur sigma 8) edge ratio 0.24 of the sharp picture's, sigma 3 0.39, dimmed by a quarter 0.92;
# the same scene at other times (its moving parts, a box drawn over a sixth of it, dimmed) NCC > 0.93 against the
# reference, the scene shifted 0.07, mirrored -0.95; a repeated picture re-encoded: mean absolute difference of the
# small pictures 0.09 (two moments of testsrc2: 5.2). The thresholds sit between with a margin on both sides.
DARK_MEAN = 45.0  # covered: a dark picture ...
DARK_STD = 14.0  # ... with little in it
FLAT_STD = 6.0  # covered (a bag, paint, a hand): a flat picture of any brightness but washed-out
BRIGHT_MEAN = 200.0  # blinded: a bright picture ...
BRIGHT_STD = 30.0  # ... with little in it, or ...
SATURATED_SHARE = 0.6  # ... most of it at the top of the range
SATURATED_LEVEL = 235
DEFOCUS_RATIO = 0.5  # defocused: sharpness below this share of the reference's
MIN_REF_EDGE = 0.1  # a reference softer than this (a night sky) cannot tell defocus
TURN_NCC = 0.5  # turned: correlation with the reference below this
LEARN_NCC = 0.8  # samples this alike make (and refresh) the reference
# activity (motion/activity.py levels, 65 = as usual) at or below this: the stream's non-key pictures collapsed
COLLAPSED_LEVEL = 20
SAME_MAD = 0.5  # small pictures this close (mean absolute difference) are the same picture re-encoded


@dataclass(frozen=True)
class Look:
    """What one keyframe looks like, in a few hundred bytes."""

    small: NDArray[np.float32]  # SMALL_H x SMALL_W grey, area-averaged
    mean: float
    std: float
    edge: float  # RMS luma step between neighbours at about EDGE_W wide over the spread: sharpness
    tiles: NDArray[np.float32]  # the same per tile of a TILES x TILES grid (an on-screen clock stays sharp: median)
    saturated: float  # share of samples at or above SATURATED_LEVEL
    digest: int  # crc32 of the whole luma plane: identical pictures have identical digests


def _bins(n: int, parts: int) -> NDArray[np.intp]:
    return np.linspace(0, n, parts + 1).astype(np.intp)[:-1]


def shrink(y: NDArray[np.uint8], w: int = SMALL_W, h: int = SMALL_H) -> NDArray[np.float32]:
    """Area average of ``y`` into ``h`` x ``w`` (bins of nearly equal size)."""
    if y.shape[0] < h or y.shape[1] < w:
        raise ValueError(f"picture {y.shape} smaller than {h}x{w}")
    rows, cols = _bins(y.shape[0], h), _bins(y.shape[1], w)
    summed = np.add.reduceat(np.add.reduceat(y.astype(np.float32), rows, axis=0), cols, axis=1)
    counts = np.outer(np.diff(np.append(rows, y.shape[0])), np.diff(np.append(cols, y.shape[1])))
    out: NDArray[np.float32] = (summed / counts).astype(np.float32)
    return out


def look_at(y: NDArray[np.uint8]) -> Look:
    """Reduce one decoded luma plane to a :class:`Look`."""
    step = max(1, y.shape[1] // EDGE_W)
    sub = y[::step, ::step].astype(np.float32)
    dx, dy = np.diff(sub, axis=1)[:-1], np.diff(sub, axis=0)[:, :-1]
    std = float(sub.std())
    # RMS of the luma steps against the picture's spread: blur spreads an edge over many small steps (its squares
    # shrink) and dimming shrinks steps and spread alike (the ratio stays)
    steps = dx * dx + dy * dy
    edge = float(np.sqrt(steps.mean())) / (std + 1.0)
    h, w = steps.shape
    rows, cols = _bins(h, TILES), _bins(w, TILES)
    sums = np.add.reduceat(np.add.reduceat(steps, rows, axis=0), cols, axis=1)
    counts = np.outer(np.diff(np.append(rows, h)), np.diff(np.append(cols, w)))
    tiles = (np.sqrt(sums / counts) / (std + 1.0)).astype(np.float32).reshape(-1)
    half = max(1, y.shape[1] // (4 * SMALL_W))  # the small picture from every 2nd-3rd sample of a large one
    return Look(
        small=shrink(y[::half, ::half]),
        mean=float(sub.mean()),
        std=std,
        edge=edge,
        tiles=tiles,
        saturated=float(np.mean(sub >= SATURATED_LEVEL)),
        digest=zlib.crc32(np.ascontiguousarray(y).data),
    )


def ncc(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Normalised cross-correlation of two small pictures (1: the same scene, whatever its brightness or gain)."""
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / den) if den > 1e-6 else 0.0


def covered(look: Look) -> bool:
    return (look.mean < DARK_MEAN and look.std < DARK_STD) or (look.std < FLAT_STD and look.mean < BRIGHT_MEAN)


def blinded(look: Look) -> bool:
    return look.mean >= BRIGHT_MEAN and (look.std < BRIGHT_STD or look.saturated >= SATURATED_SHARE)


def usable(look: Look) -> bool:
    """A picture good enough to learn a reference from."""
    return not covered(look) and not blinded(look) and look.edge >= MIN_REF_EDGE


@dataclass
class Reference:
    """The camera's learnt picture: ``learn`` consecutive usable samples alike (NCC >= LEARN_NCC) make it; while
    nothing is wrong it drifts towards what the camera sees now by ``drift`` per sample (daylight, seasons)."""

    learn: int = 6
    drift: float = 0.02
    small: NDArray[np.float32] | None = None
    edge: float = 0.0
    tiles: NDArray[np.float32] | None = None
    _candidates: list[Look] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.small is not None

    def restore(self, small: NDArray[np.float32], edge: float, tiles: NDArray[np.float32] | None = None) -> None:
        self.small, self.edge = small.astype(np.float32), float(edge)
        self.tiles = None if tiles is None or tiles.size != TILES * TILES else tiles.astype(np.float32)
        self._candidates.clear()

    def retake(self) -> None:
        """Forget it: the next ``learn`` usable samples make a new one (after a planned move)."""
        self.small, self.edge, self.tiles = None, 0.0, None
        self._candidates.clear()

    def offer(self, look: Look, *, normal: bool) -> bool:
        """A sample judged ``normal`` (or any usable one while learning); True when the reference was (re)made."""
        if self.small is None:
            if not usable(look):
                self._candidates.clear()
                return False
            if self._candidates and ncc(self._candidates[0].small, look.small) < LEARN_NCC:
                self._candidates.clear()
            self._candidates.append(look)
            if len(self._candidates) < self.learn:
                return False
            self.small = np.mean([c.small for c in self._candidates], axis=0).astype(np.float32)
            self.edge = float(np.median([c.edge for c in self._candidates]))
            self.tiles = np.median([c.tiles for c in self._candidates], axis=0).astype(np.float32)
            self._candidates.clear()
            return True
        if normal and usable(look) and ncc(self.small, look.small) >= LEARN_NCC:
            self.small = ((1 - self.drift) * self.small + self.drift * look.small).astype(np.float32)
            self.edge = (1 - self.drift) * self.edge + self.drift * look.edge
            if self.tiles is not None:
                self.tiles = ((1 - self.drift) * self.tiles + self.drift * look.tiles).astype(np.float32)
        return False

    def sharpness(self, look: Look) -> float:
        """The picture's sharpness against the reference's (1: as sharp), over the reference's more textured half of
        its tiles, their median: an on-screen clock or name drawn after the lens stays sharp in one tile, and flat
        tiles (sky, walls) say nothing of focus."""
        if self.tiles is None:
            return look.edge / self.edge if self.edge > 0 else 1.0
        textured = self.tiles >= max(float(np.median(self.tiles)), 1e-3)
        if not textured.any():
            return 1.0
        return float(np.median(look.tiles[textured] / self.tiles[textured]))


def judge(
    look: Look, reference: Reference | None, previous: Look | None, activity: int | None = None
) -> TamperKind | None:
    """What is wrong with this picture, or None. ``previous``: the camera's last sample (frozen: the same picture
    again); ``activity``: the latest activity level of the camera (motion/activity.py, 0 or None: unknown)."""
    if covered(look):
        return TamperKind.COVERED
    if blinded(look):
        return TamperKind.BLINDED
    if previous is not None:
        # the very same decoded picture again (a sensor's noise alone makes two real pictures differ: a camera whose
        # keyframes decode identically repeats a picture, or loops a recording); or one re-encoded (its keyframes
        # differ a little) while the pictures between keyframes carry nothing
        if previous.digest == look.digest:
            return TamperKind.FROZEN
        if activity and activity <= COLLAPSED_LEVEL and float(np.abs(previous.small - look.small).mean()) < SAME_MAD:
            return TamperKind.FROZEN
    if reference is None or reference.small is None:
        return None
    if reference.edge >= MIN_REF_EDGE and reference.sharpness(look) < DEFOCUS_RATIO:
        return TamperKind.DEFOCUSED
    if ncc(reference.small, look.small) < TURN_NCC:
        return TamperKind.TURNED
    return None


@dataclass
class Persistence:
    """Raise after ``raise_after`` consecutive abnormal samples (the kind most of them showed, the latest on a tie),
    clear after ``clear_after`` consecutive normal ones. ``reset()`` on a camera's reconnect: counting starts anew."""

    raise_after: int = 3
    clear_after: int = 2
    raised: TamperKind | None = None
    _bad: list[TamperKind] = field(default_factory=list)
    _good: int = 0

    def reset(self) -> None:
        self._bad.clear()
        self._good = 0

    def feed(self, kind: TamperKind | None) -> tuple[str, TamperKind | None] | None:
        """One sample's verdict; ``("raise", kind)`` or ``("clear", kind)`` when the camera's state changes."""
        if kind is None:
            self._bad.clear()
            self._good += 1
            if self.raised is not None and self._good >= self.clear_after:
                was, self.raised = self.raised, None
                return ("clear", was)
            return None
        self._good = 0
        self._bad.append(kind)
        del self._bad[: -self.raise_after]
        if self.raised is None and len(self._bad) >= self.raise_after:
            counts = {k: self._bad.count(k) for k in self._bad}
            best = max(counts.values())
            self.raised = next(k for k in reversed(self._bad) if counts[k] == best)
            return ("raise", self.raised)
        return None
