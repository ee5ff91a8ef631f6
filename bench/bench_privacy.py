"""bench-privacy: the cost of burning a privacy mask in, per masked 720p camera.

N maskers (libav decode, mask, libx264 encode; the recorder's own path) each take a 720p, 25 fps, 2 Mbit/s clip
as fast as they can, in one process, like N masked cameras on one recorder. CPU per camera is process CPU time
per second of video per camera, as a fraction of one core; the realtime factor is seconds of video processed per
second of wall time, per camera. The baseline is the cheapest alternative a user has today: one
``ffmpeg -c:v libx264 -preset ultrafast`` re-encode with the same mask (drawbox), measured in the same run.

Last line: ``bench-privacy: cameras=N cpu_per_masked_camera=X realtime_factor=R``
"""

from __future__ import annotations

import argparse
import resource
import struct
import subprocess
import time
from pathlib import Path

from camgrid.media.rtp import AccessUnit
from camgrid.privacy.geometry import validate
from camgrid.privacy.masker import Masker
from camgrid.sim import clips

ROOT = Path(__file__).resolve().parents[1]
MASK = [[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=20, help="video seconds per camera")
    args = ap.parse_args()
    cache = ROOT / "var" / "bench-cache" / "clips"
    spec = clips.ClipSpec("h264", 1280, 720, 25, 2000, 50, 200, "PRIVACY", 9, True)
    path = clips.encode(spec, cache)
    clip = clips.load(path, "h264")
    frames = [b"".join(struct.pack(">I", len(n)) + n for n in au) for au in clip.frames]
    total = args.seconds * 25

    # baseline: ffmpeg re-encode with a drawbox mask, same content, one process per camera
    c0, t0 = cpu(), time.time()
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-stream_loop",
                "-1",
                "-f",
                "h264",
                "-i",
                str(path),
                "-frames:v",
                str(total),
                "-vf",
                "drawbox=x=iw/2:y=0:w=iw/2:h=ih/2:color=black:t=fill",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
                "-f",
                "null",
                "-",
            ]
        )
        for _ in range(args.cameras)
    ]
    for p in procs:
        p.wait()
    ff_cpu, ff_wall = cpu() - c0, time.time() - t0

    maskers = [Masker(f"cam{i}", "h264", validate(MASK), max_queue=total + 10) for i in range(args.cameras)]
    c0, t0 = cpu(), time.time()
    for k in range(total):
        i = k % len(frames)
        for m in maskers:
            m.submit(AccessUnit(k * 3600, frames[i], clip.keys[i], [], arrival_ns=k * 40_000_000), k * 3600, False)
    done = 0
    while done < total * args.cameras:
        done += sum(len(m.drain()) for m in maskers)
        time.sleep(0.005)
    cg_cpu, cg_wall = cpu() - c0, time.time() - t0
    for m in maskers:
        m.close()
    video_s = total / 25
    print(
        f"ffmpeg re-encode baseline: cpu_per_camera={ff_cpu / video_s / args.cameras:.3f} "
        f"realtime_factor={video_s / ff_wall:.2f}",
        flush=True,
    )
    per_cam = cg_cpu / video_s / args.cameras
    print(f"a 2-core recorder holds about {int(2 * 0.8 / per_cam)} masked 720p H.264 cameras at 80% load", flush=True)
    print(
        f"bench-privacy: cameras={args.cameras} cpu_per_masked_camera={per_cam:.3f} "
        f"realtime_factor={video_s / cg_wall:.2f}"
    )


if __name__ == "__main__":
    main()
