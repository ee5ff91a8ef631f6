"""bench-recovery: how soon camgrid notices a stalled camera and records again after a power cut, against one
supervised ``ffmpeg -c copy`` per camera, on the same faults of the same simulated city.

The simulator serves ``--cameras`` cameras; camgrid's recorder records all of them. The cameras of one feeder and of
one uplink are also recorded by the baseline: one ``ffmpeg -rtsp_transport tcp -timeout <us> -i URL -c copy -f
segment`` each, restarted by a supervisor loop one second after it exits (what a Frigate-like setup does). Both
record at the same time, so every fault hits both at the same instant. Then, ``--rounds`` times each:

* stall: the uplink goes silent (no data, no reset; with ``--stall-kind stall``, every camera of one of the
  feeder's sites keeps its connection and stops sending media instead). camgrid's detection is when its
  ``stalled``/``unreachable`` gap row appears in the index (the row's start is the last recorded sample, so the
  row's *appearance* is when the recorder learnt it); ffmpeg's is when the process exits;
* power cut: the feeder loses power for ``--outage`` seconds. Reconnect is the time from power's return to each
  camera's first new segment: camgrid's first segment row starting after the return, ffmpeg's first new file;
* disk full (``--disk-rounds``, as root: it mounts a tmpfs of its own and unmounts it): see :func:`disk_rounds`.

Both sides are observed by one poller (every ``--poll`` seconds) of the index and the baseline's folders: the poll
interval is the resolution of every figure. ffmpeg's timeout defaults to camgrid's ``stall_timeout_s`` so that the
comparison is of the mechanisms, not of their settings. Loopback only; every process started is ended.

Last line: ``bench-recovery: cameras=N stall_detect_p95_s=… ffmpeg_stall_detect_p95_s=… reconnect_p50_s=…
reconnect_max_s=… ffmpeg_reconnect_p50_s=… ffmpeg_reconnect_max_s=… disk_full_close_max_s=…
ffmpeg_disk_full_resume_max_s=… missed=M`` (``nan`` for what was not measured; ``missed``: camera-rounds where one
side had not reacted by ``--deadline``, left out of the figures, so anything but 0 makes them optimistic)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camgrid.vocabulary import GapReason

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
NS = 1_000_000_000
OUTAGE_REASONS = (GapReason.STALLED.value, GapReason.UNREACHABLE.value)
UNDO = {"uplink_cut": "uplink_restore", "stall": "unstall"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``nan`` for no value): with a few dozen samples, interpolation would invent one."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def fmt(values: list[float]) -> str:
    p50, p95, top = percentile(values, 50), percentile(values, 95), max(values, default=math.nan)
    return f"p50={p50:.2f} p95={p95:.2f} max={top:.2f} s over {len(values)}"


@dataclass(frozen=True)
class Cam:
    id: str
    site: str
    feeder: str
    uplink: str
    url: str


class Supervisor:
    """One ffmpeg per camera, restarted ``delay`` seconds after it exits; each exit's wall time is kept."""

    def __init__(self, cam: Cam, out: Path, timeout_s: float, delay: float) -> None:
        self.cam, self.out, self.timeout_us, self.delay = cam, out, int(timeout_s * 1_000_000), delay
        self.exits: list[int] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"ffmpeg-{cam.id}", daemon=True)
        out.mkdir(parents=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        run = 0
        while not self._stop.is_set():
            # A new name per run: the segment muxer numbers from 0 and would overwrite the last run's files.
            pattern = self.out / f"{run:04d}-%05d.mp4"
            cmd = [
                "ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-timeout", str(self.timeout_us),
                "-i", self.cam.url, "-c", "copy", "-f", "segment", "-segment_time", "10", "-segment_format", "mp4",
                "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof", str(pattern),
            ]  # fmt: skip
            with self._lock:
                if self._stop.is_set():
                    return
                self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.proc.wait()
            self.exits.append(time.time_ns())
            run += 1
            self._stop.wait(self.delay)

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._thread.join(15)


@dataclass
class Observer:
    """Polls the index and the baseline's folders, keeping when each gap row, segment row and file first appeared."""

    db_path: Path
    ff_dir: Path
    poll: float
    gaps: dict[str, dict[int, tuple[str, int]]] = field(default_factory=lambda: defaultdict(dict))
    gap_ends: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))  # when each end was set
    segments: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    files: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            while not self._stop.wait(self.poll):
                self.scan(db)
        finally:
            db.close()

    def scan(self, db: sqlite3.Connection) -> None:
        now = time.time_ns()
        try:
            gap_rows = db.execute("select camera_id, start_ns, reason, end_ns from gaps").fetchall()
            seg_rows = db.execute("select camera_id, start_ns from segments").fetchall()
        except sqlite3.OperationalError:  # busy or not yet migrated: the next poll sees it
            return
        for cam, start, reason, end in gap_rows:
            self.gaps[cam].setdefault(start, (reason, now))
            if end is not None:
                self.gap_ends[cam].setdefault(start, now)
        for cam, start in seg_rows:
            self.segments[cam].setdefault(start, now)
        for folder in self.ff_dir.iterdir():
            seen = self.files[folder.name]
            for entry in os.scandir(folder):
                seen.setdefault(entry.name, now)

    # what was seen ---------------------------------------------------------------------------------------------
    def gap_detected(self, cam: str, after_ns: int, reasons: tuple[str, ...] = OUTAGE_REASONS) -> int | None:
        """When a gap row of ``cam`` for one of ``reasons`` first appeared after ``after_ns``."""
        times = [t for reason, t in self.gaps[cam].values() if reason in reasons and t >= after_ns]
        return min(times, default=None)

    def gap_closed(self, cam: str, after_ns: int, reason: str) -> int | None:
        """When the first ``reason`` gap of ``cam`` that appeared after ``after_ns`` had its end written."""
        starts = [start for start, (r, t) in self.gaps[cam].items() if r == reason and t >= after_ns]
        return min((self.gap_ends[cam][start] for start in starts if start in self.gap_ends[cam]), default=None)

    def segment_after(self, cam: str, after_ns: int) -> int | None:
        """When ``cam``'s first segment row starting after ``after_ns`` appeared."""
        times = [t for start, t in self.segments[cam].items() if start >= after_ns]
        return min(times, default=None)

    def file_after(self, cam: str, after_ns: int) -> int | None:
        """When the baseline's first new file of ``cam`` after ``after_ns`` appeared."""
        return min((t for t in self.files[cam].values() if t >= after_ns), default=None)


def wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def first_exit(sup: Supervisor, after_ns: int) -> int | None:
    return min((t for t in sup.exits if t >= after_ns), default=None)


def control(port: int, kind: str, subject: str) -> dict[str, Any]:
    body = json.dumps({"kind": kind, "subject": subject}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/fault", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


@dataclass
class Results:
    stall: list[float] = field(default_factory=list)
    ff_stall: list[float] = field(default_factory=list)
    reconnect: list[float] = field(default_factory=list)
    ff_reconnect: list[float] = field(default_factory=list)
    disk_close: list[float] = field(default_factory=list)
    ff_disk_resume: list[float] = field(default_factory=list)
    ff_disk_exits: int = 0  # camera-rounds where ffmpeg exited on the full disk (else it kept running)
    missed: int = 0  # camera-rounds where one side did not react before the round's deadline


def stall_round(
    kind: str, subjects: list[str], port: int, obs: Observer, sups: dict[str, Supervisor], res: Results, deadline: float
) -> int:
    """``kind`` (``uplink_cut`` or ``stall``) on each subject, timed for every camera it silenced; then undone."""
    faults: dict[str, int] = {}
    for subject in subjects:
        entry = control(port, kind, subject)
        faults.update({c: int(entry["t"] * NS) for c in entry["cameras"]})
    if not faults.keys() <= sups.keys():
        raise SystemExit(f"{kind} silenced cameras the baseline does not record: {sorted(faults.keys() - sups.keys())}")

    def seen() -> bool:
        return all(obs.gap_detected(c, t) is not None and first_exit(sups[c], t) is not None for c, t in faults.items())

    if not wait_until(seen, deadline):
        res.missed += sum(1 for c, t in faults.items() if obs.gap_detected(c, t) is None)
        res.missed += sum(1 for c, t in faults.items() if first_exit(sups[c], t) is None)
    for c, t in faults.items():
        if (g := obs.gap_detected(c, t)) is not None:
            res.stall.append((g - t) / NS)
        if (x := first_exit(sups[c], t)) is not None:
            res.ff_stall.append((x - t) / NS)
    back: dict[str, int] = {}
    for subject in subjects:
        entry = control(port, UNDO[kind], subject)
        back.update({c: int(entry["t"] * NS) for c in entry["cameras"]})
    wait_until(
        lambda: all(obs.segment_after(c, t) and obs.file_after(c, t) for c, t in back.items()), deadline
    )  # both record again before the next fault (not measured: the power cut measures reconnect)
    return len(faults)


def power_round(
    feeder: str, cams: list[Cam], port: int, obs: Observer, res: Results, outage: float, deadline: float
) -> None:
    control(port, "power_cut", feeder)
    time.sleep(outage)
    t = int(control(port, "power_restore", feeder)["t"] * NS)
    ids = [c.id for c in cams]
    if not wait_until(lambda: all(obs.segment_after(c, t) and obs.file_after(c, t) for c in ids), deadline):
        res.missed += sum(1 for c in ids if obs.segment_after(c, t) is None)
        res.missed += sum(1 for c in ids if obs.file_after(c, t) is None)
    for c in ids:
        if (s := obs.segment_after(c, t)) is not None:
            res.reconnect.append((s - t) / NS)
        if (f := obs.file_after(c, t)) is not None:
            res.ff_reconnect.append((f - t) / NS)


def fill(ballast: Path) -> None:
    """Take all but about half a megabyte of the ballast's file system (the recorders write meanwhile: retry)."""
    margin = 512 * 1024
    with ballast.open("wb") as fh:
        while True:
            try:
                os.posix_fallocate(fh.fileno(), 0, max(1, shutil.disk_usage(ballast.parent).free - margin))
                return
            except OSError:
                if margin > 64 * 1024 * 1024:
                    raise
                margin *= 2


def disk_round(
    obs: Observer, sups: dict[str, Supervisor], wanted: set[str], disk: Path, deadline: float, res: Results
) -> None:
    """Fill the tmpfs but about half a megabyte, hold it full for two seconds, free it, and time the return."""
    full = GapReason.DISK_FULL.value
    ballast = disk / "ballast"
    time.sleep(2.0)
    fill(ballast)
    t_full = time.time_ns()
    wait_until(lambda: all(obs.gap_detected(c, t_full, (full,)) for c in wanted), deadline)
    time.sleep(2.0)  # a full disk for a while: both sides have met it
    ballast.unlink()
    t = time.time_ns()
    if not wait_until(lambda: all(obs.gap_closed(c, t_full, full) and obs.file_after(c, t) for c in wanted), deadline):
        res.missed += sum(1 for c in wanted if obs.gap_closed(c, t_full, full) is None)
        res.missed += sum(1 for c in wanted if obs.file_after(c, t) is None)
    res.ff_disk_exits += sum(1 for c in wanted if any(t_full <= x < t for x in sups[c].exits))
    for c in wanted:
        if (g := obs.gap_closed(c, t_full, full)) is not None:
            res.disk_close.append((g - t) / NS)
        if (f := obs.file_after(c, t)) is not None:
            res.ff_disk_resume.append((f - t) / NS)


def disk_rounds(args: argparse.Namespace, env: dict[str, str], registry: Path, site: list[Cam], res: Results) -> bool:
    """The disk-full claim, on a tmpfs of its own (False when it cannot be mounted: not root, no mount).

    A second camgrid home records one site's cameras into the tmpfs (its index stays on the real disk), next to the
    site's supervised ffmpeg writing into the same tmpfs. Each round a ballast file leaves half a megabyte free:
    camgrid falls under its ``free_space_floor_mb`` and opens ``disk_full`` gaps, ffmpeg meets ENOSPC. Then the
    ballast goes: camgrid's figure is when each ``disk_full`` gap's end is written, ffmpeg's its first new file.
    """
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-disk-"))
    disk = work / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={args.disk_mb}m", "tmpfs", str(disk)], capture_output=True, text=True
        )
        why = (mounted.stderr.strip() or "mount failed") if mounted.returncode != 0 else ""
    except OSError as exc:  # no mount(8)
        why = str(exc)
    if why:
        print(f"disk-full rounds skipped: {why}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
        return False
    home = work / "home"
    home.mkdir()
    (disk / "camgrid").mkdir()
    (home / "recordings").symlink_to(disk / "camgrid")  # the recorder's recordings_dir, on the tmpfs
    ff_dir = disk / "ffmpeg"
    ff_dir.mkdir()
    with registry.open() as fh:
        rows = list(csv.DictReader(fh))
        wanted = {c.id for c in site}
    with (home / "cameras.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["id"] in wanted)
    env = {
        **env,
        "CAMGRID_HOME": str(home),
        "CAMGRID_DATABASE__URL": f"sqlite:///{home / 'camgrid.db'}",
        "CAMGRID_RECORDER__FREE_SPACE_FLOOR_MB": str(args.disk_floor_mb),
    }
    sups = {c.id: Supervisor(c, ff_dir / c.id, args.ffmpeg_timeout, args.restart_delay) for c in site}
    rec: subprocess.Popen[bytes] | None = None
    obs: Observer | None = None
    try:
        subprocess.run(
            [*CAMGRID, "cameras", "import", str(home / "cameras.csv")], env=env, check=True, capture_output=True
        )
        rec = subprocess.Popen(
            [*CAMGRID, "record"], env=env, stdout=(work / "record.log").open("wb"), stderr=subprocess.STDOUT
        )
        for sup in sups.values():
            sup.start()
        if not wait_until(lambda: (home / "camgrid.db").exists(), 60):
            raise SystemExit("the disk-full recorder made no index:\n" + (work / "record.log").read_text())
        obs = Observer(home / "camgrid.db", ff_dir, args.poll)
        obs.start()
        if not wait_until(lambda: all(obs.segments[c] and obs.files[c] for c in wanted), 120):
            raise SystemExit("not every camera records on the tmpfs:\n" + (work / "record.log").read_text()[-4000:])
        for r in range(args.disk_rounds):
            disk_round(obs, sups, wanted, disk, args.deadline, res)
            print(f"disk-full round {r + 1}: {len(wanted)} cameras", flush=True)
    finally:
        for sup in sups.values():
            sup.stop()
        if obs is not None:
            obs.stop()
        if rec is not None and rec.poll() is None:
            rec.send_signal(signal.SIGTERM)
            try:
                rec.wait(30)
            except subprocess.TimeoutExpired:
                rec.kill()
                rec.wait(5)
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)  # lazily, never left mounted
        shutil.rmtree(work, ignore_errors=True)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of each fault")
    ap.add_argument(
        "--stall-kind", choices=sorted(UNDO), default="uplink_cut", help="a silent uplink cut, or one site's stall"
    )
    ap.add_argument("--outage", type=float, default=6.0, help="seconds each power cut lasts")
    ap.add_argument("--ffmpeg-timeout", type=float, help="ffmpeg's -timeout in s (default: camgrid's stall_timeout_s)")
    ap.add_argument("--restart-delay", type=float, default=1.0, help="the baseline supervisor's delay")
    ap.add_argument("--poll", type=float, default=0.1, help="observer interval (the figures' resolution)")
    ap.add_argument("--deadline", type=float, default=40.0, help="longest wait for a round's reactions")
    ap.add_argument("--disk-rounds", type=int, default=3, help="disk-full rounds on a tmpfs (needs root; 0: none)")
    ap.add_argument("--disk-mb", type=int, default=256, help="size of that tmpfs")
    ap.add_argument("--disk-floor-mb", type=int, default=32, help="camgrid's free_space_floor_mb there")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (not the tmpfs)")
    args = ap.parse_args()
    from camgrid.config import RecorderConfig

    stall_timeout = RecorderConfig().stall_timeout_s
    ff_timeout = args.ffmpeg_timeout = args.ffmpeg_timeout or stall_timeout
    disk_done = False
    n = args.cameras
    work = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    home = work / "home"
    home.mkdir()
    ff_dir = work / "ffmpeg"
    ff_dir.mkdir()
    rtsp, port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(port),
            "CAMGRID_SIM__H265_EVERY": "0",
            "CAMGRID_SIM__CLIP_SECONDS": "4",
            "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "bench-cache" / "clips"),
            "CAMGRID_RECORDER__METRICS_PORT": "0",
            "CAMGRID_DATABASE__URL": f"sqlite:///{home / 'camgrid.db'}",  # the observer reads the SQLite index
        }
    )
    registry = home / "cameras.csv"
    procs: list[subprocess.Popen[bytes]] = []
    sups: dict[str, Supervisor] = {}
    obs: Observer | None = None
    res = Results()
    sim = subprocess.Popen(
        [*CAMGRID, "sim", "--count", str(n), "--out", str(registry)],
        env=env,
        stdout=(work / "sim.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    procs.append(sim)
    started = time.monotonic()
    try:
        print(f"encoding/loading {n} clips and starting the simulator ...", flush=True)
        if not wait_until(lambda: b"ready" in (work / "sim.log").read_bytes() or sim.poll() is not None, 1800, 0.5):
            raise SystemExit("the simulator did not start")
        if sim.poll() is not None:
            raise SystemExit("simulator failed:\n" + (work / "sim.log").read_text())
        subprocess.run([*CAMGRID, "cameras", "import", str(registry)], env=env, check=True, capture_output=True)
        with registry.open() as fh:
            cams = [
                Cam(
                    row["id"],
                    row["site"],
                    row["feeder"],
                    row["uplink"],
                    row["rtsp_url"].replace("rtsp://", f"rtsp://{row['username']}:{row['password']}@"),
                )
                for row in csv.DictReader(fh)
            ]
        by_feeder: dict[str, list[Cam]] = defaultdict(list)
        for c in cams:
            by_feeder[c.feeder].append(c)
        # The largest feeder with at most half the city (else the smallest): a big fault that leaves a control group.
        fits = [f for f in by_feeder if len(by_feeder[f]) <= (n + 1) // 2]
        feeder = max(fits, key=lambda f: len(by_feeder[f])) if fits else min(by_feeder, key=lambda f: len(by_feeder[f]))
        affected = by_feeder[feeder]
        sites: dict[str, list[Cam]] = defaultdict(list)
        for c in affected:
            sites[c.site].append(c)
        site_order = sorted(sites)
        # The uplink that silences most of the feeder's cameras; the baseline records both faults' cameras.
        uplink = max(sorted({c.uplink for c in affected}), key=lambda u: sum(c.uplink == u for c in affected))
        baseline = {c.id: c for c in affected}
        if args.stall_kind == "uplink_cut":
            baseline.update({c.id: c for c in cams if c.uplink == uplink})
        print(
            f"feeder {feeder}: {len(affected)} cameras on {len(sites)} sites; uplink {uplink}; "
            f"{len(baseline)} ffmpeg, -timeout {ff_timeout} s",
            flush=True,
        )

        rec = subprocess.Popen(
            [*CAMGRID, "record"], env=env, stdout=(work / "record.log").open("wb"), stderr=subprocess.STDOUT
        )
        procs.append(rec)
        for c in baseline.values():
            sups[c.id] = Supervisor(c, ff_dir / c.id, ff_timeout, args.restart_delay)
            sups[c.id].start()
        if not wait_until(lambda: (home / "camgrid.db").exists(), 60):
            raise SystemExit("the recorder made no index:\n" + (work / "record.log").read_text())
        obs = Observer(home / "camgrid.db", ff_dir, args.poll)
        obs.start()
        everyone = [c.id for c in cams]
        if not wait_until(lambda: all(obs.segments[c] for c in everyone) and all(obs.files[c] for c in baseline), 120):
            raise SystemExit("not every camera records:\n" + (work / "record.log").read_text()[-4000:])
        time.sleep(2.0)
        for r in range(args.rounds):
            if args.stall_kind == "uplink_cut":
                subjects = [uplink]
            else:
                subjects = [c.id for c in sites[site_order[r % len(site_order)]]]
            silenced = stall_round(args.stall_kind, subjects, port, obs, sups, res, args.deadline)
            print(f"{args.stall_kind} round {r + 1}: {silenced} cameras", flush=True)
        for r in range(args.rounds):
            power_round(feeder, affected, port, obs, res, args.outage, args.deadline)
            print(f"power round {r + 1}: {len(affected)} cameras", flush=True)
        if rec.poll() is not None:
            raise SystemExit("the recorder died:\n" + (work / "record.log").read_text()[-4000:])
        for sup in sups.values():  # the disk-full rounds have the machine to themselves
            sup.stop()
        rec.send_signal(signal.SIGTERM)
        rec.wait(30)
        if args.disk_rounds > 0:
            disk_done = disk_rounds(args, env, registry, sites[site_order[0]], res)
    finally:
        for sup in sups.values():
            sup.stop()
        if obs is not None:
            obs.stop()
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"stall detect, camgrid (stall_timeout_s={stall_timeout}): {fmt(res.stall)}")
    print(f"stall detect, ffmpeg (-timeout {ff_timeout} s): {fmt(res.ff_stall)}")
    print(f"reconnect after {args.outage} s power cut, camgrid: {fmt(res.reconnect)}")
    print(f"reconnect, ffmpeg + {args.restart_delay} s supervisor: {fmt(res.ff_reconnect)}")
    if disk_done:
        print(f"disk-full gap closed after space returned, camgrid: {fmt(res.disk_close)}")
        print(
            f"first new file after space returned, ffmpeg: {fmt(res.ff_disk_resume)}; it exited on the full disk "
            f"in {res.ff_disk_exits} of {len(res.ff_disk_resume)} camera-rounds"
        )
    print(f"missed reactions: {res.missed}; run {time.monotonic() - started:.0f} s", flush=True)
    print(
        f"bench-recovery: cameras={n} stall_detect_p95_s={percentile(res.stall, 95):.2f} "
        f"ffmpeg_stall_detect_p95_s={percentile(res.ff_stall, 95):.2f} "
        f"reconnect_p50_s={percentile(res.reconnect, 50):.2f} "
        f"reconnect_max_s={max(res.reconnect, default=math.nan):.2f} "
        f"ffmpeg_reconnect_p50_s={percentile(res.ff_reconnect, 50):.2f} "
        f"ffmpeg_reconnect_max_s={max(res.ff_reconnect, default=math.nan):.2f} "
        f"disk_full_close_max_s={max(res.disk_close, default=math.nan):.2f} "
        f"ffmpeg_disk_full_resume_max_s={max(res.ff_disk_resume, default=math.nan):.2f} missed={res.missed}",
        flush=True,
    )


if __name__ == "__main__":
    main()
