"""How long motion search takes over one camera-hour (issue 17's ``search_s``), on this machine.

A camera-hour like the simulator's (1280x720, 25 fps, a keyframe every 2 s, a still textured scene) is made once: one
minute encoded by ffmpeg (a box moving through a region for 5 s of it), cut by camgrid's own fMP4 writer into
10-second segments and repeated 60 times, so the hour holds 60 motion events. ``search_seconds`` times
``camgrid.motion.search.search`` over the whole hour for that region, twice:

* without activity data (every keyframe of the hour is decoded: the worst case, a camera the store does not follow);
* with the activity spans the recorder's activity data would give for it (each motion padded by 2 s), as
  ``search_motion`` narrows them.

``python bench/motion_search.py`` prints both, the recall of the 60 events, and last
``motion-search: search_s=S search_s_no_activity=N recall=R keyframes=K``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from camgrid.media import fmp4
from camgrid.motion.search import SearchParams, SourceSegment, region_polygon, search
from camgrid.sim import clips

NS = 1_000_000_000
FPS = 25
GOP = 50
MOVE = (20, 25)  # seconds of each minute the box moves (inside REGION)
REGION = [0.5, 0.5, 1.0, 1.0]
T0 = 1_796_000_000 * NS


def _minute(cache: Path) -> clips.Clip:
    out = cache / "bench-motion-search-720p-v1.h264"
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        graph = (
            "color=c=0x606060:s=1280x720:r=25,drawgrid=w=64:h=64:t=3:c=0x303030[bg];color=c=white:s=120x120:r=25[b];"
            f"[bg][b]overlay=x='700+80*(t-{MOVE[0]})':y=450:enable='between(t,{MOVE[0]},{MOVE[1]})'[out0]"
        )
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph, "-t", "60"]
        cmd += ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-bf", "0"]
        cmd += ["-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0", "-b:v", "2000k", "-threads", "1"]
        subprocess.run([*cmd, "-f", "h264", str(out.with_suffix(".part"))], check=True)
        out.with_suffix(".part").replace(out)
    return clips.parse(out.read_bytes(), "h264")


def camera_hour(folder: Path, cache: Path, minutes: int = 60) -> list[SourceSegment]:
    """``minutes`` of the scene as 10-second segments (each minute the same pictures, later)."""
    c = _minute(cache)
    init = fmp4.init_segment(c.info, c.params)
    step = fmp4.TIMESCALE // FPS
    per = 10 * FPS
    payload = [b"".join(len(n).to_bytes(4, "big") + n for n in au) for au in c.frames]
    out = []
    for m in range(minutes):
        for n in range(0, len(c.frames), per):
            data = bytearray(init)
            for f in range(n, n + per, FPS):
                pics = range(f, min(f + FPS, n + per))
                data += fmp4.fragment(f // FPS + 1, (f - n) * step, [(step, len(payload[i]), c.keys[i]) for i in pics],
                                      [payload[i] for i in pics])  # fmt: skip
            start = T0 + (m * 60 * FPS + n) * NS // FPS
            path = folder / f"{m:02d}-{n // per}.mp4"
            path.write_bytes(bytes(data))
            out.append(SourceSegment(path, start, start + per * NS // FPS))
    return out


def search_seconds(
    segments: list[SourceSegment], *, activity: bool, minutes: int = 60
) -> tuple[float, float, int, int]:
    """(seconds, recall of the minutes' motion events, keyframes decoded, other pictures decoded) of one search."""
    spans = None
    if activity:
        spans = [(T0 + (m * 60 + MOVE[0] - 2) * NS, T0 + (m * 60 + MOVE[1] + 2) * NS) for m in range(minutes)]
    t = time.perf_counter()
    out = search(
        segments,
        region=region_polygon(REGION),
        masks=[],
        start_ns=T0,
        end_ns=T0 + minutes * 60 * NS,
        spans=spans,
        params=SearchParams(max_hits=200),
    )
    took = time.perf_counter() - t
    found = sum(
        any(h.start_ns < T0 + (m * 60 + MOVE[1]) * NS and h.end_ns > T0 + (m * 60 + MOVE[0]) * NS for h in out.hits)
        for m in range(minutes)
    )
    return took, found / minutes, out.keyframes, out.frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=int, default=60, help="length of the recording searched (scaled to an hour)")
    ap.add_argument("--cache", type=Path, default=Path("var/bench-cache"), help="where the encoded minute is kept")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-motion-search-") as tmp:
        segs = camera_hour(Path(tmp), args.cache, args.minutes)
        scale = 60 / args.minutes
        slow, recall_all, keys_all, frames_all = search_seconds(segs, activity=False, minutes=args.minutes)
        fast, recall, keys, frames = search_seconds(segs, activity=True, minutes=args.minutes)
    for name, took, keys_n, frames_n, rec in (
        ("no activity data", slow, keys_all, frames_all, recall_all),
        ("activity spans", fast, keys, frames, recall),
    ):
        print(
            f"{name}: {took * scale:.2f} s per camera-hour, {keys_n} keyframes + {frames_n} pictures, recall {rec:.3f}"
        )
    print(
        f"motion-search: search_s={fast * scale:.2f} search_s_no_activity={slow * scale:.2f} recall={recall:.3f} "
        f"recall_no_activity={recall_all:.3f} keyframes={keys}"
    )


if __name__ == "__main__":
    main()
