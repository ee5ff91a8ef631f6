"""Activity's cost: cores per camera of ``ActivityTap`` and the store's writes (target <= 0.0002).

Real access units (a clip encoded once by the simulator's ffmpeg recipe: 1280x720, 25 fps, 2 Mbit/s, a keyframe
every 2 s, as length-prefixed NAL units like the recorder's pictures) replayed through the tap for ``cameras``
cameras, interleaved as the ingest thread delivers them, for ``seconds`` seconds of video on a fake clock; the
tap's housekeeping (closing quiet seconds, the batched writes to a real store on disk) runs once a second as the
recorder's would. Process CPU time of the replay / (cameras * seconds). Used by ``bench/bench_motion.py``.

    PYTHONPATH=src python bench/motion_activity.py [--cameras 64] [--seconds 60]
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
from pathlib import Path

from camgrid.clock import FakeClock
from camgrid.media.rtp import AccessUnit
from camgrid.motion.activity import ActivityTap
from camgrid.motion.activity_store import ActivityStore
from camgrid.sim import clips

ROOT = Path(__file__).resolve().parent.parent
NS = 1_000_000_000
FPS = 25


def clip_pictures() -> list[tuple[bytes, bool]]:
    """The clip's pictures as the recorder holds them (4-byte length-prefixed NAL units) and their key flags."""
    spec = clips.ClipSpec("h264", 1280, 720, FPS, 2000, 2 * FPS, 10 * FPS, "ACTIVITY", 3)
    clip = clips.load(clips.encode(spec, ROOT / "var" / "bench-cache" / "clips"), "h264")
    return [
        (b"".join(struct.pack(">I", len(n)) + n for n in au), key)
        for au, key in zip(clip.frames, clip.keys, strict=True)
    ]


def activity_cpu(*, cameras: int = 64, seconds: int = 60) -> float:
    """Cores per camera spent counting activity (tap + batched store writes) on real pictures."""
    pictures = clip_pictures()
    start_s = 1_800_000_000
    clock = FakeClock(start_s * NS)
    ids = [f"cam-{k:03d}" for k in range(cameras)]
    with tempfile.TemporaryDirectory(prefix="activity-bench-") as tmp:
        store = ActivityStore(Path(tmp))
        tap = ActivityTap(clock=clock, store=store, records=set(ids).__contains__, flush_s=10.0)
        told = 0

        def listener(_: object) -> None:
            nonlocal told
            told += 1

        tap.add_listener(listener)  # a listener as the tamper detectors add one
        # One AccessUnit per camera, refilled per picture as the ingest loop fills its own.
        aus = [AccessUnit(ts=0, data=b"", key=False) for _ in ids]
        n = len(pictures)
        cpu0 = time.process_time()
        for frame in range(seconds * FPS):
            data, key = pictures[frame % n]
            t_ns = start_s * NS + frame * NS // FPS
            for cid, au in zip(ids, aus, strict=True):
                au.data, au.key, au.arrival_ns = data, key, t_ns
                tap(cid, au, frame * 3600, False)
            if frame % FPS == FPS - 1:
                clock.advance(1.0)
                tap.tick()
        tap.close()
        cpu = time.process_time() - cpu0
        written = store.read(camera_id=ids[-1], start_s=start_s, end_s=start_s + seconds).levels
    if told != cameras * seconds or 0 in written:
        raise RuntimeError(f"the replay lost seconds: {told} told, {written.count(0)} unwritten")
    return cpu / (cameras * seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    cores = activity_cpu(cameras=args.cameras, seconds=args.seconds)
    per_picture_us = cores * 1e6 / FPS
    print(f"motion-activity: cameras={args.cameras} seconds={args.seconds} per_picture_us={per_picture_us:.2f}")
    print(f"activity_cpu={cores:.6f}")


if __name__ == "__main__":
    main()
