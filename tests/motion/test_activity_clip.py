"""Activity levels of a real encoded stream (docs/design/motion-search.md, "Activity"): x264 encodes a still,
slightly noisy scene (as a real sensor gives), then a bright shape moving through one part of it, then the lens
covered; the pictures go through the tap as the recorder delivers them. The levels must tell the three apart."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from camgrid.clock import FakeClock
from camgrid.media.nal import H264
from camgrid.media.rtp import AccessUnit
from camgrid.motion.activity import ActivityTap, SecondStats
from camgrid.sim import clips

T0 = 1_800_000_000
FPS = 25
SCENE = (
    "smptehdbars=s=320x180:r=25:d=24,noise=alls=4:allf=t[bg];color=c=white:s=60x44:r=25:d=24[shape];"
    "[bg][shape]overlay=x='if(between(t,10,16),20+(t-10)*30,-100)':y=70:eof_action=pass,"  # moving 10..16 s
    "drawbox=enable='gte(t,18)':x=0:y=0:w=iw:h=ih:color=black:t=fill"  # covered from 18 s
)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is installed by `make deps`")
def test_still_motion_and_covered_seconds_of_a_real_stream() -> None:
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-filter_complex", SCENE, "-t", "24", "-pix_fmt", "yuv420p"]
    cmd += ["-threads", "1", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0"]
    cmd += ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-crf", "28", "-x264-params", "repeat-headers=1"]
    annexb = subprocess.run([*cmd, "-f", "h264", "-"], check=True, capture_output=True, timeout=120).stdout
    clip = clips.parse(annexb, H264)
    tap = ActivityTap(clock=FakeClock(T0 * 1_000_000_000), store=None)
    got: list[SecondStats] = []
    tap.add_listener(got.append)
    for i, (nals, key) in enumerate(zip(clip.frames, clip.keys, strict=True)):
        data = b"".join(struct.pack(">I", len(n)) + n for n in nals)  # as the recorder holds a picture
        tap(
            "cam-1",
            AccessUnit(ts=i * 3600, data=data, key=key, arrival_ns=T0 * 1_000_000_000 + i * 40_000_000),
            0,
            False,
        )
    tap.close()
    level = {s.second - T0: s.level for s in got}
    assert sorted(level) == list(range(24)) and all(s.pictures == FPS for s in got)
    still, moving, covered = (
        [level[k] for k in range(10)],
        [level[k] for k in range(10, 16)],
        [level[k] for k in range(18, 24)],
    )
    assert all(45 <= v <= 85 for v in still), still  # as usual
    assert all(v >= 100 for v in moving), moving  # more than usual
    assert all(1 <= v <= 20 for v in covered), covered  # collapsed
