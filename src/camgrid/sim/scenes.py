"""Scene cameras: a still textured picture and its variants (motion in a cell, covered, defocused, turned, blinded,
frozen), encoded once per variant, size and codec and shared by every scene camera (docs/design/simulator.md).

A scene camera's picture is one testsrc2 frame held still (colour bars, a gradient, a checkerboard: real edges)
with a small running clock in its top-left corner, as a camera's on-screen display. The picture is divided into a
4x4 grid of cells; motion is a bright shape moving inside chosen cells only. Every variant has the same length,
frame rate and keyframes as the still loop, so a session switches to it at a keyframe without a break
(:meth:`camgrid.sim.server.RtspConnection.send_due`). Variants are encoded with ffmpeg on first use (cached on disk
by their parameters, like every clip) and their send loops kept in memory: 64 scene cameras cost one encode per
variant, not 64.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from camgrid.sim import clips, sendloop
from camgrid.sim.clips import Clip, ClipSpec
from camgrid.sim.quirks import PACKET_QUIRKS
from camgrid.sim.sendloop import SendLoop

if TYPE_CHECKING:
    from camgrid.sim.audio import AudioTrack
    from camgrid.sim.server import CameraState

GRID = 4  # the picture is GRID x GRID cells
CELLS = GRID * GRID
STILL = "still"
MOTION = "motion"
RESTORE = "scene_restore"
TAMPERS = ("cover", "defocus", "turn", "blind", "freeze")  # fault kinds, each its own variant of the same name
SCENE_FAULTS = frozenset({*TAMPERS, MOTION, RESTORE})
DEFAULT_MOTION_S = 10.0
LABEL = "SCENE"  # every scene camera sends the same picture (no id cells: they would make each camera's own encode)
# A sensor's noise, changing every picture: no two keyframes of a real camera are the same picture, and a still scene's
# P-frames are small but not empty (~40 bytes at 640x360 against ~7 for a frozen camera, 150+ with motion).
NOISE = ",noise=alls=3:allf=t"
_CLOCK = r"%{pts\:gmtime\:0\:%H\\\:%M\\\:%S}"  # whole seconds: a still picture's P-frames stay tiny between ticks


def cell_region(cell: int) -> list[float]:
    """Cell ``cell`` (0..15, row by row from the top-left) as a normalised [x0, y0, x1, y1], y down."""
    if not 0 <= cell < CELLS:
        raise ValueError(f"cell must be 0..{CELLS - 1}")
    col, row = cell % GRID, cell // GRID
    return [col / GRID, row / GRID, (col + 1) / GRID, (row + 1) / GRID]


def cells_of_region(region: Sequence[float]) -> tuple[int, ...]:
    """The cells a normalised rectangle [x0, y0, x1, y1] covers (any overlap of positive area)."""
    if len(region) != 4:
        raise ValueError("a region is x0,y0,x1,y1")
    x0, y0, x1, y1 = (float(v) for v in region)
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError("a region needs 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
    cols = [c for c in range(GRID) if c / GRID < x1 and (c + 1) / GRID > x0]
    rows = [r for r in range(GRID) if r / GRID < y1 and (r + 1) / GRID > y0]
    return tuple(r * GRID + c for r in rows for c in cols)


def region_of_cells(cells: Iterable[int]) -> list[float]:
    """The normalised rectangle around ``cells`` (what the truth file says; snapped regions are rectangles)."""
    boxes = [cell_region(c) for c in cells]
    if not boxes:
        raise ValueError("no cell")
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def motion_variant(cells: Iterable[int]) -> str:
    mask = 0
    for c in cells:
        cell_region(c)  # validates
        mask |= 1 << c
    if not mask:
        raise ValueError("motion needs at least one cell")
    return f"{MOTION}-{mask:04x}"


def variant_cells(variant: str) -> list[int]:
    """The cells a motion variant moves in (none for the others)."""
    if not variant.startswith(MOTION + "-"):
        return []
    mask = int(variant.split("-", 1)[1], 16)
    return [c for c in range(CELLS) if mask >> c & 1]


def scene_filter(variant: str, width: int, height: int, fps: int, font: str) -> str:
    """The lavfi graph that draws ``variant`` (ffmpeg's input for :func:`camgrid.sim.clips.encode`)."""
    hold = f"trim=end_frame=1,loop=loop=-1:size=1:start=0,setpts=N/{fps}/TB"
    base = f"testsrc2=size={width}x{height}:rate={fps},{hold}"
    size = max(10, height // 24)
    clock = (
        f",drawtext=fontfile={font}:text='{_CLOCK}':x=4:y=4:fontsize={size}:fontcolor=yellow:box=1:boxcolor=black"
        if font
        else ""
    )
    if variant == "freeze":  # the picture (its noise and its clock) stops: see freeze()
        return base + NOISE + clock + "," + hold
    if variant == "cover":  # a bag or paint over the lens: dark and flat (the camera's own clock stays on top)
        return f"color=c=0x141414:size={width}x{height}:rate={fps}" + NOISE + clock
    body = {
        STILL: "",
        "defocus": f",gblur=sigma={max(4.0, width / 48):.1f}",
        "turn": ",hflip,vflip",  # another view: the same kind of picture, nothing where it was
        "blind": ",lutyuv=y='235-(235-val)/8':u='128+(val-128)/8':v='128+(val-128)/8'",  # a light into the lens
    }.get(variant)
    if body is not None:
        return base + body + NOISE + clock
    cells = variant_cells(variant)
    if not cells:
        raise ValueError(f"unknown scene variant {variant!r}")
    cw, ch = width / GRID, height / GRID
    sw, sh = max(4, int(cw // 3)) // 2 * 2, max(4, int(ch // 3)) // 2 * 2
    margin = max(2.0, cw / 16)
    chains = [f"{base}[m0]"]
    for k, cell in enumerate(cells):
        col, row = cell % GRID, cell // GRID
        x0, y0 = col * cw + margin, row * ch + margin
        span_x, span_y = cw - 2 * margin - sw, ch - 2 * margin - sh
        x = f"{x0:.1f}+{span_x:.1f}*(0.5+0.5*sin(2*PI*t/3))"
        y = f"{y0:.1f}+{span_y:.1f}*(0.5+0.5*cos(2*PI*t/2))"
        chains.append(f"color=c=white:size={sw}x{sh}:rate={fps},drawbox=c=black:t=2[s{k}]")
        chains.append(f"[m{k}][s{k}]overlay=x='{x}':y='{y}':shortest=1[m{k + 1}]")
    last = chains.pop()
    return ";".join([*chains, last.rsplit("[", 1)[0] + NOISE + clock])


def freeze(clip: Clip) -> Clip:
    """A frozen camera: its last keyframe interval repeated for the whole loop, so every keyframe is the same bytes
    and every other picture says "nothing changed" (a few bytes)."""
    starts = [i for i, k in enumerate(clip.keys) if k]
    first = starts[-1]
    gop = len(clip.frames) - first
    frames = [clip.frames[first + (i % gop)] for i in range(len(clip.frames))]
    keys = [clip.keys[first + (i % gop)] for i in range(len(clip.frames))]
    return Clip(clip.codec, clip.info, clip.params, frames, keys, None)


@dataclass
class SceneBank:
    """Every variant's clips and send loops at one size, shared by all scene cameras (thread-safe: the simulator
    builds variants on a worker thread)."""

    cache_dir: Path
    width: int
    height: int
    sub_width: int
    sub_height: int
    fps: int
    bitrate_kbps: int
    gop: int
    frames: int
    _clips: dict[ClipSpec, Clip] = field(default_factory=dict)
    _loops: dict[tuple[object, ...], SendLoop] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spec(self, codec: str, variant: str, sub: bool = False) -> ClipSpec:
        w, h = (self.sub_width, self.sub_height) if sub else (self.width, self.height)
        kbps = max(100, self.bitrate_kbps // 8) if sub else self.bitrate_kbps
        return ClipSpec(codec, w, h, self.fps, kbps, self.gop, self.frames, LABEL, 0, scene=variant)

    def prewarm(self, codecs: Iterable[str], variants: Iterable[str]) -> None:
        """Encode these variants now (two ffmpeg at a time; cached on disk, so mostly a look-up)."""
        pairs = [(c, v) for c in sorted(set(codecs)) for v in sorted(set(variants))]
        specs = [self.spec(c, v, sub) for c, v in pairs for sub in (False, True)]
        clips.encode_many(specs, self.cache_dir)

    def clip(self, spec: ClipSpec) -> Clip:
        with self._lock:
            hit = self._clips.get(spec)
        if hit is not None:
            return hit
        clip = clips.load(clips.encode(spec, self.cache_dir), spec.codec)
        if spec.scene == "freeze":
            clip = freeze(clip)
        with self._lock:
            return self._clips.setdefault(spec, clip)

    def ready(self, cam: CameraState, variant: str) -> bool:
        with self._lock:
            return self._loop_key(cam, variant, "main") in self._loops

    def loops(self, cam: CameraState, variant: str) -> dict[str, SendLoop]:
        """``cam``'s send loops for ``variant`` (encoded and rendered on first use; blocking)."""
        from camgrid.sim.server import loop_key

        shaping = cam.quirks & PACKET_QUIRKS
        wanted: dict[str, tuple[bool, frozenset[str], AudioTrack | None]] = {
            loop_key(False, False): (False, shaping, None),
            loop_key(True, False): (True, frozenset(), None),
        }
        if cam.audio is not None:
            wanted[loop_key(False, True)] = (False, shaping, cam.audio)
        out = {}
        for name, (sub, quirk_set, audio) in wanted.items():
            key = self._loop_key(cam, variant, name)
            with self._lock:
                hit = self._loops.get(key)
            if hit is None:
                hit = sendloop.build(self.clip(self.spec(cam.spec.codec, variant, sub)), self.fps, quirk_set, audio)
                with self._lock:
                    hit = self._loops.setdefault(key, hit)
            out[name] = hit
        return out

    def _loop_key(self, cam: CameraState, variant: str, name: str) -> tuple[object, ...]:
        audio = id(cam.audio) if name == "main+audio" else 0
        shaping = cam.quirks & PACKET_QUIRKS if name != "sub" else frozenset()
        return (cam.spec.codec, variant, name, shaping, audio)
