"""bench-record: camgrid's recorder against one ``ffmpeg -c copy`` per camera, on the same simulated streams.

Both record N cameras (720p, 25 fps, 2 Mbit/s, keyframe every 2 s, H.264) served by one simulator process on this
machine, one after the other, for the same window. CPU is utime+stime of the recorder's processes only (not the
simulator) over the window, as a fraction of one core per camera; memory is PSS (``/proc/PID/smaps_rollup``), MB
per camera, the mean of samples taken during the window. ``lost_s`` is the video the simulator sent in the window
that camgrid did not store, summed over cameras; the gaps camgrid wrote in the window (seconds per reason) and the
simulator's own CPU are printed beside it, so that a loss says whose it was. ffmpeg's figures are per ffmpeg that ran.

The write pattern a hard disk sees (docs/design/packet-path.md, "Hard disks"), counted outside camgrid: after the
CPU window, ``strace -f`` is attached to the recorder for ``--strace-window`` seconds (not during the CPU window:
tracing costs the traced process). ``flushes_per_s`` is every fsync/fdatasync/syncfs/sync_file_range/msync of the
whole recorder (the index database's included) per second; ``writes_per_cam_s`` is write/writev/pwrite* calls on
files under the recordings folder, per camera per second. camgrid's own counters (``/metrics``
``camgrid_recorder_write_calls_total``, ``camgrid_recorder_flushes_total``) over the CPU window are printed beside
them; without strace the line carries those, and says so.

Last line: ``bench-record: cameras=N camgrid_cpu=X ffmpeg_cpu=Y cpu_ratio=R camgrid_pss_mb=A ffmpeg_pss_mb=B
pss_ratio=Q lost_s=L flushes_per_s=F writes_per_cam_s=W``
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


FLUSH_CALLS = ("fsync", "fdatasync", "syncfs", "sync_file_range", "msync", "sync")
WRITE_CALLS = ("write", "writev", "pwrite64", "pwritev", "pwritev2")
STRACE_LINE = re.compile(r"^\d+\s+(\w+)\((\d+)(?:<([^>]*)>)?")


def diskstats(path: Path) -> tuple[str, int, int, int] | None:
    """(device, writes completed, sectors written, flushes completed) of the block device under ``path``: what the
    device saw, every process of the machine included (other work on this machine shows up too)."""
    dev = os.stat(path).st_dev
    major, minor = os.major(dev), os.minor(dev)
    try:
        for line in Path("/proc/diskstats").read_text().splitlines():
            f = line.split()
            if int(f[0]) == major and int(f[1]) == minor:
                return f[2], int(f[7]), int(f[9]), int(f[18]) if len(f) > 18 else 0
    except (OSError, ValueError, IndexError):
        pass
    return None


def scrape(port: int, home: Path) -> dict[str, float]:
    """camgrid's own ``/metrics`` counters of the recorder (empty if it cannot be read)."""
    try:
        token = (home / "run" / "metrics.token").read_text().strip()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
        body = urllib.request.urlopen(req, timeout=10).read().decode()
    except OSError:
        return {}
    out = {}
    for line in body.splitlines():
        if line.startswith("camgrid_recorder_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def strace_window(pid: int, seconds: float, work: Path, recordings: Path) -> dict[str, float] | None:
    """Count the recorder's write and flush system calls for ``seconds`` with strace (None if unavailable)."""
    if shutil.which("strace") is None:
        return None
    out = work / "strace.txt"
    calls = ",".join(FLUSH_CALLS + WRITE_CALLS)
    cmd = ["strace", "-f", "-qq", "-y", "-e", f"trace={calls}", "-o", str(out), "-p", str(pid)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.0)  # attaching to every thread takes a moment: count only a steady window
    start = out.stat().st_size if out.exists() else 0
    t0 = time.monotonic()
    time.sleep(seconds)
    end = out.stat().st_size if out.exists() else 0
    elapsed = time.monotonic() - t0
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    if not out.exists() or end == 0:
        print(f"strace failed: {proc.stderr.read().decode()[:300] if proc.stderr else ''}", flush=True)
        return None
    with out.open("rb") as fh:
        fh.seek(start)
        text = fh.read(end - start).decode(errors="replace")
    counts = {"flushes": 0.0, "disk_writes": 0.0, "other_writes": 0.0}
    by_call: dict[str, int] = {}
    prefix = str(recordings)
    for line in text.splitlines()[1:]:  # the first may be cut by the offset
        m = STRACE_LINE.match(line)
        if m is None:
            continue
        call, path = m.group(1), m.group(3) or ""
        if call in FLUSH_CALLS:
            counts["flushes"] += 1
            where = "recordings" if path.startswith(prefix) else path.rsplit("/", 1)[-1] or "?"
            by_call[f"{call}:{where}"] = by_call.get(f"{call}:{where}", 0) + 1
        elif call in WRITE_CALLS:
            counts["disk_writes" if path.startswith(prefix) else "other_writes"] += 1
    counts["seconds"] = elapsed
    print(
        f"strace over {elapsed:.1f} s: {counts['flushes']:.0f} flushes {by_call}, "
        f"{counts['disk_writes']:.0f} writes to segment files, {counts['other_writes']:.0f} other writes",
        flush=True,
    )
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=32)
    ap.add_argument("--window", type=float, default=60.0, help="seconds measured")
    ap.add_argument("--warmup", type=float, default=6.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--strace-window", type=float, default=20.0, help="seconds of strace after the CPU window")
    ap.add_argument("--no-ffmpeg", action="store_true", help="skip the ffmpeg baseline (its fields say n/a)")
    args = ap.parse_args()
    n = args.cameras
    work = Path(tempfile.mkdtemp(prefix="bench-record-"))
    home = work / "home"
    home.mkdir()
    rtsp, control, metrics_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(control),
            "CAMGRID_SIM__H265_EVERY": "0",
            "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "bench-cache" / "clips"),
            "CAMGRID_RECORDER__METRICS_PORT": str(metrics_port),
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
        m0, d0 = scrape(metrics_port, home), diskstats(home)
        sim_c0 = cpu_seconds([sim.pid])
        cg_cpu, cg_pss, w0, w1 = measure([rec.pid], args.window)
        m1, d1 = scrape(metrics_port, home), diskstats(home)
        if d0 is not None and d1 is not None:
            w = (w1 - w0) / NS
            print(
                f"block device {d0[0]} over the window (the whole machine): {(d1[1] - d0[1]) / w:.1f} writes/s, "
                f"{(d1[2] - d0[2]) * 512 / w / 1e6:.2f} MB/s, {(d1[3] - d0[3]) / w:.1f} cache flushes/s",
                flush=True,
            )
        time.sleep(1.5)  # let the last fragments of the window reach disk
        traced = strace_window(rec.pid, args.strace_window, work, home / "recordings") if args.strace_window else None
        rec.send_signal(signal.SIGTERM)
        rec.wait(60)
        stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{control}/stats", timeout=10).read())
        db = sqlite3.connect(home / "camgrid.db")
        lost = lost_cams = 0
        for cam, st in stats.items():
            sent = [(s, e) for s, e in st["intervals"]]
            rows = db.execute("select start_ns, end_ns from segments where camera_id = ?", (cam,)).fetchall()
            missing = max(0, overlap(sent, w0, w1) - overlap(rows, w0, w1))
            lost += missing
            lost_cams += 1 if missing else 0
        # Why: the gaps camgrid wrote in the window, seconds per reason (and a detail seen), to report loss honestly.
        why: dict[str, list[float | str]] = {}
        for reason, detail, s, e in db.execute("select reason, detail, start_ns, end_ns from gaps"):
            inside = overlap([(s, e if e is not None else w1)], w0, w1)
            if inside:
                entry = why.setdefault(reason, [0.0, detail])
                entry[0] = float(entry[0]) + inside / NS
        db.close()
        lost_s = lost / NS
        sim_cpu = (cpu_seconds([sim.pid]) - sim_c0) / max(1e-9, (w1 - w0) / NS)
        print(
            f"camgrid lost {lost_s:.2f} s on {lost_cams} of {n} cameras in the window; simulator used "
            f"{sim_cpu:.2f} cores meanwhile (this machine has {os.cpu_count()}); gaps in the window: "
            + (", ".join(f"{r} {v[0]:.1f} s ({str(v[1])[:80]!r})" for r, v in sorted(why.items())) or "none"),
            flush=True,
        )

        # ffmpeg, one per camera (as Frigate records) ------------------------------------------------------------
        if args.no_ffmpeg:
            return report(args, n, cg_cpu, cg_pss, None, None, lost_s, m0, m1, traced)
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
        ff_n = max(1, len(alive))
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

    report(args, n, cg_cpu, cg_pss, ff_cpu, ff_pss, lost_s, m0, m1, traced, ff_n)


def report(
    args: argparse.Namespace,
    n: int,
    cg_cpu: float,
    cg_pss: float,
    ff_cpu: float | None,
    ff_pss: float | None,
    lost_s: float,
    m0: dict[str, float],
    m1: dict[str, float],
    traced: dict[str, float] | None,
    ff_n: int = 0,
) -> None:
    window = args.window
    camgrid_cpu = cg_cpu / window / n
    camgrid_pss = cg_pss / n
    print(f"camgrid: {cg_cpu:.2f} CPU-s over {window:.0f} s, {cg_pss:.1f} MB PSS in all", flush=True)
    if ff_cpu is not None and ff_pss is not None:
        ffmpeg_cpu, ffmpeg_pss = ff_cpu / window / ff_n, ff_pss / ff_n  # per ffmpeg that ran
        print(
            f"ffmpeg x{ff_n} (of {n}): {ff_cpu:.2f} CPU-s over {window:.0f} s, {ff_pss:.1f} MB PSS in all", flush=True
        )
        ff = (
            f"ffmpeg_cpu={ffmpeg_cpu:.5f} cpu_ratio={camgrid_cpu / ffmpeg_cpu:.3f} camgrid_pss_mb={camgrid_pss:.2f} "
            f"ffmpeg_pss_mb={ffmpeg_pss:.2f} pss_ratio={camgrid_pss / ffmpeg_pss:.3f}"
        )
    else:
        ff = f"ffmpeg_cpu=n/a cpu_ratio=n/a camgrid_pss_mb={camgrid_pss:.2f} ffmpeg_pss_mb=n/a pss_ratio=n/a"
    own_w = own_f = None
    key_w, key_f = "camgrid_recorder_write_calls_total", "camgrid_recorder_flushes_total"
    if key_w in m0 and key_w in m1:
        own_w = (m1[key_w] - m0[key_w]) / window / n
        own_f = (m1[key_f] - m0[key_f]) / window
        print(f"camgrid's own counters: flushes_per_s={own_f:.2f} writes_per_cam_s={own_w:.2f}", flush=True)
    if traced is not None:
        flushes, writes = traced["flushes"] / traced["seconds"], traced["disk_writes"] / traced["seconds"] / n
        pattern = f"flushes_per_s={flushes:.2f} writes_per_cam_s={writes:.2f}"
    elif own_w is not None and own_f is not None:
        print("no strace: the write pattern below is camgrid's own count", flush=True)
        pattern = f"flushes_per_s={own_f:.2f} writes_per_cam_s={own_w:.2f}"
    else:
        pattern = "flushes_per_s=n/a writes_per_cam_s=n/a"
    print(
        f"bench-record: cameras={n} camgrid_cpu={camgrid_cpu:.5f} {ff} lost_s={lost_s:.2f} {pattern}",
        flush=True,
    )


if __name__ == "__main__":
    main()
