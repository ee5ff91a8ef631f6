"""bench-flush: the disk writer's two durability patterns on the disk under ``--dir``, without cameras.

N files grow by ``--kbps`` each every second, as N cameras' segments do, for ``--seconds`` seconds; each second
ends with (a) one ``fdatasync`` per file (the writer before issue 14) or (b) one ``syncfs`` for the filesystem (the
writer now). Reports, per pattern, the time spent making each second durable and what the block device saw
(``/proc/diskstats``: write requests and cache flushes per second; other work on the machine counts too, so the
same window with nothing written is measured first and printed as the background). Runs the
real writer (``camgrid.storage.writer.DiskWriter``) with ``group_flush`` on and off, so what is timed is what the
recorder does.

Last line: ``bench-flush: files=N kbps=K fdatasync_ms=A syncfs_ms=B fdatasync_dev_flushes_s=C
syncfs_dev_flushes_s=D``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_record import diskstats  # noqa: E402
from camgrid.storage.writer import DiskWriter  # noqa: E402


def run(folder: Path, files: int, kbps: int, seconds: int, group: bool) -> tuple[float, float, float]:
    """(ms per second spent flushing, device writes/s, device cache flushes/s)."""
    w = DiskWriter(fsync_interval_s=1.0, on_error=lambda *a: None, group_flush=group)
    w.collect_interval_s = 0.05
    chunk = os.urandom(kbps * 1000 // 8)
    for i in range(files):
        w.open(f"cam{i}:1", folder / f"cam{i}" / "seg.mp4", b"INIT")
    w.start()
    d0 = diskstats(folder)
    t0 = time.monotonic()
    for s in range(seconds):
        for i in range(files):
            w.append(f"cam{i}:1", [chunk])
        w.submit()
        time.sleep(max(0.0, t0 + s + 1 - time.monotonic()))
    elapsed = time.monotonic() - t0
    d1 = diskstats(folder)
    flush_ms = w.flush_seconds * 1000 / max(1, w.flush_rounds)
    w.stop()
    if d0 is None or d1 is None:
        return flush_ms, float("nan"), float("nan")
    return flush_ms, (d1[1] - d0[1]) / elapsed, (d1[3] - d0[3]) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=32)
    ap.add_argument("--kbps", type=int, default=2000, help="each file's growth, kbit/s")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--dir", type=Path, default=ROOT / "var", help="a folder on the disk to measure")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    d0 = diskstats(args.dir)
    time.sleep(args.seconds)
    d1 = diskstats(args.dir)
    if d0 is not None and d1 is not None:
        bg = ((d1[1] - d0[1]) / args.seconds, (d1[3] - d0[3]) / args.seconds)
        print(f"background (nothing written by us): device {bg[0]:.0f} writes/s, {bg[1]:.1f} flushes/s", flush=True)
    out = {}
    for group in (False, True):
        with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-flush-") as d:
            out[group] = run(Path(d), args.files, args.kbps, args.seconds, group)
        name = "syncfs" if group else "fdatasync"
        ms, writes, flushes = out[group]
        print(f"{name}: {ms:.1f} ms per second flushing, device {writes:.0f} writes/s, {flushes:.1f} flushes/s")
    print(
        f"bench-flush: files={args.files} kbps={args.kbps} fdatasync_ms={out[False][0]:.1f} "
        f"syncfs_ms={out[True][0]:.1f} fdatasync_dev_flushes_s={out[False][2]:.1f} "
        f"syncfs_dev_flushes_s={out[True][2]:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
