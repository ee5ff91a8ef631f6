"""bench-record: camgrid's recorder against one ``ffmpeg -c copy`` per camera, on the same simulated streams.

Both record N cameras (720p, 25 fps, 2 Mbit/s, keyframe every 2 s, H.264) served by one simulator process on this
machine, one after the other, for the same window. CPU is utime+stime of the recorder's processes only (not the
simulator) over the window, as a fraction of one core per camera; memory is PSS (``/proc/PID/smaps_rollup``), MB
per camera, the mean of samples taken during the window. ``lost_s`` is the video the simulator sent in the window
that camgrid did not store, summed over cameras.

Last line: ``bench-record: cameras=N camgrid_cpu=X ffmpeg_cpu=Y cpu_ratio=R camgrid_pss_mb=A ffmpeg_pss_mb=B
pss_ratio=Q lost_s=L``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
TICK = os.sysconf("SC_CLK_TCK")
NS = 1_000_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def measure(pids: list[int], window: float) -> tuple[float, float, int, int]:
    """(cpu seconds, mean PSS MB, window start ns, window end ns)."""
    samples = []
    c0, t0 = cpu_seconds(pids), time.time_ns()
    end = time.monotonic() + window
    while time.monotonic() < end:
        samples.append(pss_mb(pids))
        time.sleep(min(5.0, max(0.0, end - time.monotonic())))
    c1, t1 = cpu_seconds(pids), time.time_ns()
    return c1 - c0, sum(samples) / max(1, len(samples)), t0, t1


def overlap(intervals: list[tuple[int, int]], a: int, b: int) -> int:
    """Length of the union of ``intervals`` inside [a, b]."""
    total = 0
    cur_s = cur_e = None
    for s, e in sorted((max(s, a), min(e, b)) for s, e in intervals if e > a and s < b):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s  # type: ignore[operator]
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s  # type: ignore[operator]
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=32)
    ap.add_argument("--window", type=float, default=60.0, help="seconds measured")
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    n = args.cameras
    work = Path(tempfile.mkdtemp(prefix="bench-record-"))
    home = work / "home"
    home.mkdir()
    rtsp, control = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(control),
            "CAMGRID_SIM__H265_EVERY": "0",
            "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "bench-cache" / "clips"),
            "CAMGRID_RECORDER__METRICS_PORT": "0",
        }
    )
    registry = home / "cameras.csv"
    sim_log = (work / "sim.log").open("wb")
    sim = subprocess.Popen(
        [*CAMGRID, "sim", "--count", str(n), "--out", str(registry)], env=env, stdout=sim_log, stderr=subprocess.STDOUT
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        print(f"encoding/loading {n} clips and starting the simulator ...", flush=True)
        deadline = time.monotonic() + 1800
        while b"ready" not in (work / "sim.log").read_bytes():
            if sim.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("simulator failed:\n" + (work / "sim.log").read_text())
            time.sleep(1)
        subprocess.run([*CAMGRID, "cameras", "import", str(registry)], env=env, check=True, capture_output=True)
        urls = []
        with registry.open() as fh:
            import csv

            for row in csv.DictReader(fh):
                u = row["rtsp_url"].replace("rtsp://", f"rtsp://{row['username']}:{row['password']}@")
                urls.append(u)

        # camgrid ---------------------------------------------------------------------------------------------
        rec_log = (work / "record.log").open("wb")
        rec = subprocess.Popen([*CAMGRID, "record"], env=env, stdout=rec_log, stderr=subprocess.STDOUT)
        procs.append(rec)
        time.sleep(args.warmup)
        cg_cpu, cg_pss, w0, w1 = measure([rec.pid], args.window)
        time.sleep(1.5)  # let the last fragments of the window reach disk
        rec.send_signal(signal.SIGTERM)
        rec.wait(60)
        stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{control}/stats", timeout=10).read())
        db = sqlite3.connect(home / "camgrid.db")
        lost = 0
        for cam, st in stats.items():
            sent = [(s, e) for s, e in st["intervals"]]
            rows = db.execute("select start_ns, end_ns from segments where camera_id = ?", (cam,)).fetchall()
            lost += max(0, overlap(sent, w0, w1) - overlap(rows, w0, w1))
        db.close()
        lost_s = lost / NS

        # ffmpeg, one per camera (as Frigate records) ------------------------------------------------------------
        ff_dir = work / "ffmpeg"
        ff_dir.mkdir()
        ff_procs = []
        for i, url in enumerate(urls):
            out = ff_dir / f"cam{i:04d}-%05d.mp4"
            cmd = [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-rtsp_transport",
                "tcp",
                "-timeout",
                "5000000",
                "-i",
                url,
                "-c",
                "copy",
                "-f",
                "segment",
                "-segment_time",
                "10",
                "-segment_format",
                "mp4",
                "-segment_format_options",
                "movflags=+frag_keyframe+empty_moov+default_base_moof",
                str(out),
            ]
            ff_procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.extend(ff_procs)
        time.sleep(args.warmup)
        alive = [p.pid for p in ff_procs if p.poll() is None]
        if len(alive) != n:
            print(f"warning: only {len(alive)} of {n} ffmpeg processes are running", flush=True)
        ff_cpu, ff_pss, _, _ = measure(alive, args.window)
        for p in ff_procs:
            p.send_signal(signal.SIGINT)
        for p in ff_procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(20)
        except subprocess.TimeoutExpired:
            sim.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")

    window = args.window
    camgrid_cpu = cg_cpu / window / n
    ffmpeg_cpu = ff_cpu / window / n
    camgrid_pss = cg_pss / n
    ffmpeg_pss = ff_pss / n
    print(f"camgrid: {cg_cpu:.2f} CPU-s over {window:.0f} s, {cg_pss:.1f} MB PSS in all", flush=True)
    print(f"ffmpeg x{n}: {ff_cpu:.2f} CPU-s over {window:.0f} s, {ff_pss:.1f} MB PSS in all", flush=True)
    print(
        f"bench-record: cameras={n} camgrid_cpu={camgrid_cpu:.5f} ffmpeg_cpu={ffmpeg_cpu:.5f} "
        f"cpu_ratio={camgrid_cpu / ffmpeg_cpu:.3f} camgrid_pss_mb={camgrid_pss:.2f} ffmpeg_pss_mb={ffmpeg_pss:.2f} "
        f"pss_ratio={camgrid_pss / ffmpeg_pss:.3f} lost_s={lost_s:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
