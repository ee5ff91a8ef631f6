"""Real pictures for the tamper detectors: short H.264 clips made by ffmpeg from lavfi sources (testsrc2 and its
blurred, dark, washed-out, shifted, mirrored and repeated variants), decoded by PyAV; each clip's keyframes' luma.

Encoded once per machine into the suite's clip cache (a few KB each, about a second of CPU for all of them).
"""

from __future__ import annotations

import subprocess
import zlib
from functools import cache

import av
import numpy as np
from numpy.typing import NDArray

from tests.conftest import CLIP_CACHE

SIZE = "640x360"
SRC = f"testsrc2=size={SIZE}:rate=25"
# name -> (lavfi source, filter chain or "")
VARIANTS: dict[str, tuple[str, str]] = {
    "normal": (SRC, ""),
    "blurred": (SRC, "gblur=sigma=8"),
    "softer": (SRC, "gblur=sigma=3"),
    "black": (f"color=c=0x101010:size={SIZE}:rate=25", "noise=alls=6:allf=t"),
    "grey": (f"color=c=0x505048:size={SIZE}:rate=25", "noise=alls=4:allf=t"),
    "white": (SRC, "eq=brightness=0.75:contrast=0.3"),
    "glare": (SRC, "eq=brightness=0.6:contrast=0.6"),
    "shifted": ("testsrc2=size=1280x720:rate=25", "crop=640:360:400:250"),
    "mirrored": (SRC, "hflip"),
    "dusk": (SRC, "eq=brightness=-0.25"),
    "moving": (SRC, "drawbox=x=100:y=80:w=160:h=140:color=orange:t=fill"),
    "repeated": (SRC, "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/25/TB"),
}


@cache
def keyframes(name: str) -> tuple[NDArray[np.uint8], ...]:
    """The luma planes of the keyframes (one a second, two seconds) of the variant ``name``."""
    src, chain = VARIANTS[name]
    path = CLIP_CACHE.parent / "tamper" / f"{name}-{zlib.crc32(f'{src}|{chain}'.encode()):08x}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.mp4")
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, *(["-vf", chain] if chain else [])]
        cmd += ["-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "800k", "-pix_fmt", "yuv420p"]
        subprocess.run([*cmd, "-an", str(tmp)], check=True, timeout=60)
        tmp.replace(path)
    out = []
    with av.open(str(path)) as box:
        for frame in box.decode(video=0):
            if frame.key_frame:
                out.append(np.ascontiguousarray(frame.to_ndarray(format="gray")))
    assert len(out) == 2, (name, len(out))
    return tuple(out)
