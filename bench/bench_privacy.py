"""bench-privacy: the cost of burning a privacy mask in, per masked 720p camera.

N maskers (libav decode, mask, libx264 encode; the recorder's own path) each take a 720p, 25 fps, 2 Mbit/s clip
as fast as they can, in one process, like N masked cameras on one recorder. CPU per camera is process CPU time
per second of video per camera, as a fraction of one core; the realtime factor is seconds of video processed per
second of wall time, per camera. The baseline is the cheapest alternative a user has today: one
``ffmpeg -c:v libx264 -preset ultrafast`` re-encode with the same mask (drawbox), measured in the same run.

Camera-side masks (docs/design/camera-side-masks.md): ``--verified-cameras`` simulated 720p cameras burn the same
mask in themselves and stream over RTSP to camgrid's own ingest loop; each camera's pictures pass through a
``VerifyingTransform`` (untouched, one keyframe decoded and checked at most every ``--verify-interval`` seconds).
``verified_mask_cpu`` is the thread CPU time spent inside the verifiers (keyframe decode and area check) per second
of wall time per camera, in cores; the ingest and the simulator cost the same with or without masks and are not
counted.

Last line: ``bench-privacy: cameras=N cpu_per_masked_camera=X realtime_factor=R verified_mask_cpu=V``
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
    ap.add_argument("--verified-cameras", type=int, default=4, help="camera-side masked cameras (0: skip)")
    ap.add_argument("--verified-seconds", type=float, default=20.0, help="wall seconds of streaming to verify")
    ap.add_argument("--verify-interval", type=float, default=3.0, help="privacy.verify_interval_s")
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
    verified = ""
    if args.verified_cameras > 0:
        cores = verified_mask_cpu(args.verified_cameras, args.verified_seconds, args.verify_interval, cache.parent)
        verified = f" verified_mask_cpu={cores:.4f}"
    print(
        f"bench-privacy: cameras={args.cameras} cpu_per_masked_camera={per_cam:.3f} "
        f"realtime_factor={video_s / cg_wall:.2f}{verified}"
    )


def verified_mask_cpu(cameras: int, seconds: float, interval_s: float, cache: Path) -> float:
    """Cores per camera-side masked camera spent verifying: see the module docstring."""
    import asyncio
    import threading

    from camgrid.clock import SystemClock
    from camgrid.config import RecorderConfig
    from camgrid.ingest.loop import CameraSource, IngestLoop
    from camgrid.onvif.masks import to_onvif
    from camgrid.privacy.camera_masks import BLACK, VerifyingTransform
    from camgrid.sim.layout import SimCameraSpec
    from camgrid.sim.masked_clips import SimMask
    from camgrid.sim.onvif.masks import set_masks
    from camgrid.sim.server import SimServer
    from camgrid.sim.service import prepare

    ring = MASK[0]
    specs = [
        SimCameraSpec(f"cam-{i:04d}", i, f"cam {i}", 27.7, 85.3, "d", "s", "f", "u", "h264", "", "", 0.0)
        for i in range(1, cameras + 1)
    ]
    cams = prepare(
        specs,
        cache_dir=cache / "clips",
        width=1280,
        height=720,
        fps=25,
        bitrate_kbps=2000,
        gop_seconds=2.0,
        clip_seconds=8.0,
        shared_clip=True,  # one clip, burned once: the cameras differ only in their sessions
    )
    aio = asyncio.new_event_loop()
    sim = SimServer(cams, 25)
    port = _free_port()
    aio.run_until_complete(sim.start("127.0.0.1", port))
    for cam in cams.values():
        set_masks(sim, cam, [SimMask("m1", "vsc0", to_onvif(ring), BLACK)])
    ticker = aio.create_task(sim.tick_forever())
    runner = threading.Thread(target=aio.run_forever, daemon=True)
    runner.start()
    deadline = time.time() + 300
    while any(c.mask_loops is None for c in cams.values()):
        if time.time() > deadline:
            raise RuntimeError("the simulator did not burn the masks in")
        time.sleep(0.1)

    verifiers = {
        cid: VerifyingTransform(
            cid, lambda: "h264", validate(MASK), color=BLACK, interval_s=interval_s, on_fail=lambda c, why: None
        )
        for cid in cams
    }

    class Sink:
        def on_access_unit(self, camera_id: str, au: AccessUnit, ext_ts: int, jump: bool) -> None:
            verifiers[camera_id].submit(au, ext_ts, jump)

        def on_stream(self, camera_id: str, codec: str, params: object) -> None:
            pass

        def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
            if not up:
                verifiers[camera_id].reset()

        def on_tick(self) -> None:
            for v in verifiers.values():
                v.drain()

    loop = IngestLoop(
        sink=Sink(),  # type: ignore[arg-type]
        config=RecorderConfig(),
        clock=SystemClock(),
        sources=[CameraSource(cid, f"rtsp://127.0.0.1:{port}/h264/{cid}") for cid in cams],
    )
    loop.start()
    try:
        while sum(v.checks for v in verifiers.values()) < cameras:  # every camera streaming and checked once
            if time.time() > deadline:
                raise RuntimeError("no camera was verified")
            time.sleep(0.1)
        cpu0, t0 = sum(v.cpu_s for v in verifiers.values()), time.time()
        checks0 = sum(v.checks for v in verifiers.values())
        time.sleep(seconds)
        cpu, wall = sum(v.cpu_s for v in verifiers.values()) - cpu0, time.time() - t0
        checks = sum(v.checks for v in verifiers.values()) - checks0
    finally:
        loop.stop()
        for v in verifiers.values():
            v.close()
        aio.call_soon_threadsafe(ticker.cancel)
        aio.call_soon_threadsafe(aio.stop)
        runner.join(timeout=10)
        aio.run_until_complete(asyncio.gather(ticker, return_exceptions=True))
        aio.close()
    states = {v.state for v in verifiers.values()}
    if states != {VerifyingTransform.VERIFIED}:
        raise RuntimeError(f"verifiers ended {states}: the measurement is not of verified cameras")
    per_check_ms = 1000 * cpu / max(1, checks)
    print(
        f"camera-side masks: {cameras} cameras, {checks} keyframes checked in {wall:.1f} s "
        f"({per_check_ms:.1f} ms CPU each, one every {interval_s} s at most)",
        flush=True,
    )
    return float(cpu / wall / cameras)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
