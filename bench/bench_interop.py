"""bench-interop: every third-party RTSP server variant (and every simulator quirk, when the simulator has a quirk
corpus) recorded by camgrid's real recorder for a minute and compared picture by picture with its source.

All variants are cameras of ONE recorder, recorded concurrently for ``--seconds`` (the whole bench takes about that
long plus the servers' start): gst-rtsp-server (8 configurations), live555 built from source (3 streams), VLC (UDP
only), and one simulated camera per quirk of ``camgrid.sim.quirks.QUIRKS`` when that module exists. The harness and
the oracle are the interop tests' (tests/interop/harness.py, tests/interop/pictures.py; docs/design/interop.md).

A variant is ``exact`` when every source picture of the recorded run appears once, in order, with its duration, and
its index lies in the recording's wall-clock window; ``gaps_explained`` when the only flaw is source pictures missing
where the index has a gap with a reason (the recorder says what happened); ``failed`` otherwise.

Last line: ``bench-interop: variants=V exact=E gaps_explained=G failed=F``
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CAMGRID, CLIP_CACHE, City, wait_for  # noqa: E402
from tests.interop import gst, live555, vlc  # noqa: E402
from tests.interop.harness import Camera, Clip, Result, Server, record, recorder_city  # noqa: E402
from tests.interop.pictures import source_pictures  # noqa: E402

NS = 1_000_000_000


def sim_quirks(city: City, folder: Path) -> tuple[list[Camera], Callable[[], None]]:
    """The simulator's quirk corpus, one simulated camera per quirk, when ``camgrid.sim.quirks`` exists (issue 14's
    simulator part). The hook: ``QUIRKS`` (name -> description), ``camgrid sim --quirk CAMERA=NAME``, and
    ``camgrid.sim.service.prepare(..., shared_clip=True)`` giving the clip each camera loops (as
    tests/interop/test_quirks.py uses them). Returns no camera when the simulator has no corpus."""
    try:
        from camgrid.sim import layout
        from camgrid.sim import quirks as q
        from camgrid.sim.service import prepare
    except ImportError:
        print("sim quirks: camgrid.sim.quirks is not on this branch: none recorded")
        return [], lambda: None
    names = list(q.QUIRKS)
    env = dict(city.env)
    env.update(
        {
            "CAMGRID_SIM__SHARED_CLIP": "1",
            "CAMGRID_SIM__WIDTH": "320",
            "CAMGRID_SIM__HEIGHT": "240",
            "CAMGRID_SIM__BITRATE_KBPS": "300",
            "CAMGRID_SIM__GOP_SECONDS": "1",
            "CAMGRID_SIM__CLIP_SECONDS": "4",
        }
    )
    registry = folder / "sim-cameras.csv"
    args = [f"--quirk=cam-{i + 1:04d}={n}" for i, n in enumerate(names)]
    log = folder / "sim.log"
    with log.open("wb") as fh:
        sim = subprocess.Popen(
            [*CAMGRID, "sim", "--count", str(len(names)), "--out", str(registry), *args],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    wait_for(lambda: "ready" in log.read_text() or sim.poll() is not None, 300, what="the simulator")
    if sim.poll() is not None:
        raise RuntimeError(f"the simulator did not start: {log.read_text()[-2000:]}")
    cameras = []
    for i, spec in enumerate(layout.read_registry(registry)):
        name = names[i]
        spec = dataclasses.replace(spec, quirks=(name,))  # the camera's clip is the quirk's (slices, B-frames, ...)
        state = prepare(
            [spec],
            cache_dir=CLIP_CACHE,
            width=320,
            height=240,
            fps=25,
            bitrate_kbps=300,
            gop_seconds=1.0,
            clip_seconds=4.0,
            shared_clip=True,
        )[spec.id]
        annexb = b"".join(b"\x00\x00\x00\x01" + nal for au in state.clip.frames for nal in au)
        fps = getattr(q, "SHORT_FPS", 25) if name == "fps-short" else 25
        url = spec.row(env.get("CAMGRID_SIM__HOST", "127.0.0.1"), int(env["CAMGRID_SIM__PORT"]))["rtsp_url"]
        cameras.append(
            Camera(f"quirk-{name}", str(url), source_pictures(annexb, spec.codec, fps), spec.username, spec.password)
        )

    def stop() -> None:
        sim.terminate()
        sim.wait(20)

    return cameras, stop


def verdict(result: Result) -> str:
    if result.exact:
        return "exact"
    cmp = result.comparison
    if cmp is None or result.index_problems:
        return "failed"
    if cmp.duplicated or cmp.out_of_order or cmp.unknown or cmp.bad_durations:
        return "failed"
    # what is left: holes and interruptions; every hole must lie where the index has a gap with a reason
    gaps = [(g[1], g[2] if g[2] is not None else result.window[1], g[3]) for g in result.gaps]
    for r, _skipped in cmp.holes:
        at = result.recorded[r].start_ns
        if not any(start <= at + NS // 2 and end >= at - NS and reason for start, end, reason in gaps):
            return "failed"
    return "gaps_explained"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the recorder records every variant")
    args = parser.parse_args()
    clip_s = args.seconds + 40.0  # every server's clip outlasts the recording (live555 and gst play it once)
    folder = Path(tempfile.mkdtemp(prefix="camgrid-bench-interop-"))
    servers: list[Server] = []
    stops: list[Callable[[], None]] = []
    started = time.monotonic()
    try:
        cameras: list[Camera] = []
        if gst.gst_available() is None:
            gsrv, gcams = gst.serve(gst.variants(clip_s), folder)
            servers += gsrv
            cameras += gcams
        else:
            print(f"gst-rtsp-server: not available: {gst.gst_available()}")
        if live555.toolchain_missing() is None:
            binary = live555.build()
            one, two = Clip("h264", clip_s), Clip("h264", clip_s, slices=2)
            streams = [("file-two-slices", "file", two), ("discrete-one-slice", "discrete", one)]
            streams.append(("discrete-two-slices", "discrete", two))
            lsrv, lcams = live555.serve(binary, streams, folder)
            servers.append(lsrv)
            cameras += lcams
        if vlc.missing() is None:
            vsrv, vcam = vlc.serve(Clip("h264", clip_s), folder)
            servers.append(vsrv)
            cameras.append(vcam)
        city = recorder_city(folder / "rec")
        qcams, qstop = sim_quirks(city, folder)
        stops.append(qstop)
        cameras += qcams
        print(f"bench-interop: recording {len(cameras)} variants for {args.seconds:.0f} s with one recorder")
        results = record(city, cameras, seconds=args.seconds)
    finally:
        for stop in stops:
            stop()
        for server in servers:
            server.stop()
    counts = {"exact": 0, "gaps_explained": 0, "failed": 0}
    for cam in cameras:
        result = results[cam.id]
        v = verdict(result)
        counts[v] += 1
        cmp = result.comparison
        detail = (
            f"matched={cmp.matched} missing={cmp.missing} duplicated={cmp.duplicated} out_of_order={cmp.out_of_order} "
            f"unknown={cmp.unknown} bad_durations={cmp.bad_durations}"
            if cmp is not None
            else "nothing recorded"
        )
        gaps = sorted({str(g[3]) for g in result.gaps} - {"starting", "recorder_not_running"})
        extra = f" gaps={','.join(gaps)}" if gaps else ""
        print(f"  {cam.id:34s} {v:15s} {detail}{extra}")
        for problem in (result.index_problems + result.interruptions)[:3]:
            print(f"  {'':34s} {problem}")
    shutil.rmtree(folder, ignore_errors=True)
    print(f"(took {time.monotonic() - started:.0f} s)")
    print(
        f"bench-interop: variants={len(cameras)} exact={counts['exact']} "
        f"gaps_explained={counts['gaps_explained']} failed={counts['failed']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
