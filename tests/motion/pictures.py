"""Real pictures for the tamper detectors: short H.264 clips made by ffmpeg from lavfi sources (testsrc2 and its
blurred, dark, washed-out, shifted, mirrored and repeated variants): their keyframes as access units, and their luma
decoded by the sampler's own decode (PyAV, one keyframe alone).

Encoded once per machine into the suite's clip cache (a few KB each, about a second of CPU for all of them).
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from functools import cache

import numpy as np
from numpy.typing import NDArray

from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from camgrid.motion.keyframes import decode_luma
from camgrid.sim import clips
from tests.conftest import CLIP_CACHE

SIZE = "640x360"
SRC = f"testsrc2=size={SIZE}:rate=25"
# name -> (lavfi source, filter chain or "")
# An on-screen display drawn after the lens (a camera's clock and name): a black box with sharp yellow strokes,
# top left, as the simulator's scene cameras draw their clock; it stays sharp when the lens is out of focus.
OSD = ",".join(
    ["drawbox=x=4:y=4:w=150:h=22:color=black:t=fill"]
    + [f"drawbox=x={8 + 12 * i}:y=8:w={3 + i % 3 * 2}:h=14:color=yellow:t=fill" for i in range(12)]
)
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
    "osd": (SRC, f"noise=alls=3:allf=t,{OSD}"),
    "blurred_osd": (SRC, f"gblur=sigma=13,noise=alls=3:allf=t,{OSD}"),  # as the simulator's scene `defocus`
}


@cache
def keyframe_units(name: str) -> tuple[tuple[bytes, ...], tuple[AccessUnit, ...]]:
    """The parameter sets and keyframes (one a second, two seconds) of the variant ``name``, as the recorder's taps
    get them: 4-byte length-prefixed NAL units."""
    src, chain = VARIANTS[name]
    path = CLIP_CACHE.parent / "tamper" / f"{name}-{zlib.crc32(f'{src}|{chain}'.encode()):08x}.h264"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", src, *(["-vf", chain] if chain else [])]
        cmd += ["-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "800k", "-bf", "0"]
        cmd += ["-pix_fmt", "yuv420p", "-x264-params", "repeat-headers=1", "-an", "-f", "h264"]
        subprocess.run([*cmd, str(tmp)], check=True, timeout=60)
        tmp.replace(path)
    clip = clips.parse(path.read_bytes(), H264)
    units = tuple(
        AccessUnit(ts=i, data=b"".join(struct.pack(">I", len(n)) + n for n in nals), key=True)
        for i, (nals, key) in enumerate(zip(clip.frames, clip.keys, strict=True))
        if key
    )
    assert len(units) == 2, (name, len(units))
    return tuple(clip.params), units


@cache
def keyframes(name: str) -> tuple[NDArray[np.uint8], ...]:
    """The luma planes of the variant's keyframes, decoded as the tamper sampler decodes them (alone, PyAV)."""
    params, units = keyframe_units(name)
    out = [decode_luma(H264, au, params) for au in units]
    assert all(y is not None for y in out)
    return tuple(y for y in out if y is not None)
