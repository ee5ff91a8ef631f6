"""A recording whose motion we control: ffmpeg draws boxes that move at chosen times over a still, textured scene;
camgrid's own fMP4 writer cuts the pictures into 10-second segments, as the recorder writes them.

The scene (320x240, 25 fps, a keyframe every second), in seconds from the start:
- 4-9: a white box moves across the top-left quarter (REGION_TL);
- 14-19: a white box moves inside the top-right quarter only (tests.access.world.QUARTER: the cameras' mask);
- 24.2-24.6: a box flashes in the bottom-left quarter between two keyframes (found only by decoding the pictures
  between them).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from camgrid.media import fmp4
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE

NS = 1_000_000_000
FPS = 25
SECONDS = 30
SEGMENT_S = 10
REGION_TL = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
REGION_BL = [0.0, 0.5, 0.5, 1.0]  # a rectangle [x0, y0, x1, y1]
REGION_BR = [[0.55, 0.55], [1.0, 0.55], [1.0, 1.0], [0.55, 1.0]]
WHOLE = [0.0, 0.0, 1.0, 1.0]
MOVES_TL = (4, 9)
MOVES_MASKED = (14, 19)
FLASH_BL = (24.2, 24.6)

_FILTER = (
    "color=c=0x606060:s=320x240:r=25,drawgrid=w=32:h=32:t=2:c=0x303030,"
    "drawbox=x=200:y=170:w=60:h=40:c=0x202020:t=fill[bg];"
    "color=c=white:s=40x40:r=25[a];color=c=white:s=30x30:r=25[m];color=c=white:s=40x40:r=25[f];"
    "[bg][a]overlay=x='10+20*(t-4)':y=40:enable='between(t,4,9)'[o1];"
    "[o1][m]overlay=x='180+20*(t-14)':y=40:enable='between(t,14,19)'[o2];"
    "[o2][f]overlay=x=40:y=160:enable='between(t,24.2,24.6)'[out0]"
)


@cache
def clip() -> clips.Clip:
    out = CLIP_CACHE / "motion-search-scene-v2.h264"
    if not out.exists() or out.stat().st_size == 0:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", _FILTER, "-t", str(SECONDS)]
        cmd += ["-pix_fmt", "yuv420p", "-threads", "1", "-c:v", "libx264", "-preset", "ultrafast", "-bf", "0"]
        cmd += ["-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0", "-x264-params", "repeat-headers=1"]
        tmp = out.with_suffix(".part")
        subprocess.run([*cmd, "-f", "h264", str(tmp)], check=True)
        tmp.replace(out)
    return clips.parse(out.read_bytes(), "h264")


def write_recording(folder: Path, start_ns: int) -> list[tuple[Path, int, int, int]]:
    """The scene as segment files; returns (path, start_ns, end_ns, bytes) per segment."""
    c = clip()
    folder.mkdir(parents=True, exist_ok=True)
    init = fmp4.init_segment(c.info, c.params)
    step = fmp4.TIMESCALE // FPS
    out = []
    per = SEGMENT_S * FPS
    for n in range(0, len(c.frames), per):
        data = bytearray(init)
        for f in range(n, min(n + per, len(c.frames)), FPS):
            pics = range(f, min(f + FPS, n + per, len(c.frames)))
            payload = [b"".join(len(nal).to_bytes(4, "big") + nal for nal in c.frames[i]) for i in pics]
            samples = [(step, len(p), c.keys[i]) for i, p in zip(pics, payload, strict=True)]
            data += fmp4.fragment(f // FPS + 1, (f - n) * step, samples, payload)
        path = folder / f"{start_ns // 1_000_000 + n * 1000 // FPS}.mp4"
        path.write_bytes(bytes(data))
        t0 = start_ns + n * NS // FPS
        out.append((path, t0, t0 + min(per, len(c.frames) - n) * NS // FPS, len(data)))
    return out
