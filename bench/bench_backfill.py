"""bench-backfill: edge backfill after an uplink cut (docs/design/onvif.md, "Edge backfill").

The simulator serves ``--cameras`` cameras as ONVIF devices with SD cards (every fourth model has no Profile G and
no card); ``camgrid record`` records them with its backfill runner. Two uplinks are cut for ``--cut-s`` seconds
(the sim's ``uplink_cut``: silent, no reset; the cameras' cards keep recording), then restored; the recorder
reconnects, and backfill replays the gaps from the cards, throttled (``backfill.per_uplink``, ``per_node``).

Figures, all read from the index and the simulator's own ground truth (``GET /sdcard/<camera>``):

* ``recovered_ratio``: seconds stored from the cards (edge segments) inside the cut / seconds the cards held there
  that live recording did not store (1.0: nothing the cards held was lost);
* ``backfill_speed_x``: median over the jobs that stored something of recovered seconds / the job's wall time (its
  audit entry to its end): replay speed against real time;
* ``live_lost_s``: seconds of any gap of any camera while backfill ran, other than the cut's own gaps (a replay
  must never cost live recording a packet);
* ``backfill_cpu``: cores the recorder used while backfill ran, beyond what it used recording the same city before
  the cut.

Last line: ``bench-backfill: cameras=N cut_s=C recovered_ratio=R backfill_speed_x=S live_lost_s=L backfill_cpu=U``.
Targets: recovered_ratio >= 0.999, backfill_speed_x >= 8, live_lost_s = 0. A smoke run:
``BENCH_BACKFILL_CUT_S=20 BENCH_BACKFILL_CAMERAS=8 make bench-backfill``. Loopback only; every process started is
ended.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
NS = 1_000_000_000
DONE_STATES = ("done", "nothing_held", "failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.5) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def control(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def overlap(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """Nanoseconds of [lo, hi) covered by the union of ``spans``."""
    total, cur_s, cur_e = 0, None, None
    for s, e in sorted((max(s, lo), min(e, hi)) for s, e in spans if min(e, hi) > max(s, lo)):
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(s, t), min(e, u)) for s, e in a for t, u in b if min(e, u) > max(s, t)]


def query(db: Path, sql: str, *params: Any) -> list[Any]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return list(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=int(os.environ.get("BENCH_BACKFILL_CAMERAS", "32")))
    ap.add_argument("--cut-s", type=float, default=float(os.environ.get("BENCH_BACKFILL_CUT_S", "300")))
    ap.add_argument("--uplinks", type=int, default=2, help="uplinks cut at once")
    ap.add_argument("--deadline", type=float, default=1800.0, help="longest wait for backfill to finish (s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    n, cut_s = args.cameras, args.cut_s
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    home = work / "home"
    home.mkdir()
    db = home / "camgrid.db"
    rtsp, port, onvif = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(port),
            "CAMGRID_SIM__ONVIF_PORT": str(onvif),
            "CAMGRID_SIM__DISCOVERY_PORT": "0",
            "CAMGRID_SIM__H265_EVERY": "0",
            "CAMGRID_SIM__CLIP_SECONDS": "4",
            "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "bench-cache" / "clips"),
            "CAMGRID_RECORDER__METRICS_PORT": "0",
            "CAMGRID_DATABASE__URL": f"sqlite:///{db}",
            "CAMGRID_BACKFILL__INTERVAL_S": "2",
            "CAMGRID_BACKFILL__MIN_GAP_S": "5",
        }
    )
    registry = home / "cameras.csv"
    procs: list[subprocess.Popen[bytes]] = []
    sim = subprocess.Popen(
        [*CAMGRID, "sim", "--count", str(n), "--out", str(registry)],
        env=env,
        stdout=(work / "sim.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    procs.append(sim)
    try:
        print(f"encoding/loading {n} clips and starting the simulator ...", flush=True)
        if not wait_until(lambda: b"ready" in (work / "sim.log").read_bytes() or sim.poll() is not None, 1800):
            raise SystemExit("the simulator did not start")
        if sim.poll() is not None:
            raise SystemExit("simulator failed:\n" + (work / "sim.log").read_text())
        subprocess.run([*CAMGRID, "cameras", "import", str(registry)], env=env, check=True, capture_output=True)
        with registry.open() as fh:
            rows = list(csv.DictReader(fh))
        by_uplink: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_uplink[row["uplink"]].append(row["id"])
        # The largest uplinks, leaving at least one camera uncut as the control group.
        order = sorted(by_uplink, key=lambda u: (-len(by_uplink[u]), u))
        cut_uplinks = order[: max(1, min(args.uplinks, len(order) - 1))]
        everyone = [r["id"] for r in rows]
        rec = subprocess.Popen(
            [*CAMGRID, "record"], env=env, stdout=(work / "record.log").open("wb"), stderr=subprocess.STDOUT
        )
        procs.append(rec)

        def recording_since(t_ns: int) -> set[str]:
            got = query(db, "select distinct camera_id from segments where start_ns >= ?", t_ns)
            return {r[0] for r in got}

        if not wait_until(lambda: db.exists() and recording_since(0) >= set(everyone), 180):
            raise SystemExit("not every camera records:\n" + (work / "record.log").read_text()[-4000:])
        time.sleep(5.0)
        c0, w0 = cpu_s(rec.pid), time.monotonic()
        time.sleep(10.0)
        live_cores = (cpu_s(rec.pid) - c0) / (time.monotonic() - w0)
        cut_t: list[int] = []
        silent: set[str] = set()
        for u in cut_uplinks:
            got = control(port, "POST", "/fault", {"kind": "uplink_cut", "subject": u})
            cut_t.append(int(got["t"] * NS))
            silent.update(got["cameras"])
        t_cut = min(cut_t)
        print(f"cut {', '.join(cut_uplinks)} ({len(silent)} cameras) for {cut_s:.0f} s", flush=True)
        time.sleep(cut_s)
        restore_t = [
            int(control(port, "POST", "/fault", {"kind": "uplink_restore", "subject": u})["t"] * NS)
            for u in cut_uplinks
        ]
        t_restore = max(restore_t)
        c1, w1 = cpu_s(rec.pid), time.monotonic()

        # Every silent camera gets a job once it records again; the run ends when all of them are finished.
        def finished() -> bool:
            jobs = query(db, "select camera_id, state from backfill_jobs")
            cams = {c for c, _s in jobs}
            return cams >= silent and all(s in DONE_STATES for _c, s in jobs)

        if not wait_until(finished, args.deadline, 1.0):
            print("backfill did not finish by the deadline: figures are partial", flush=True)
        t_done = time.time_ns()
        backfill_cores = max(0.0, (cpu_s(rec.pid) - c1) / (time.monotonic() - w1) - live_cores)
        # ground truth of the cards, in true ns
        truth: dict[str, list[tuple[int, int]]] = {}
        for cam in sorted(silent):
            try:
                truth[cam] = [(int(s), int(e)) for s, e in control(port, "GET", f"/sdcard/{cam}")["spans"]]
            except urllib.error.HTTPError:
                truth[cam] = []  # no card
        held_ns = recovered_ns = 0
        window = [(t_cut, t_restore)]
        for cam in sorted(silent):
            segs = query(db, "select start_ns, end_ns, source from segments where camera_id = ?", cam)
            card = intersect(truth[cam], window)
            live = intersect([(s, e) for s, e, src in segs if src != "edge"], card)
            edge = intersect([(s, e) for s, e, src in segs if src == "edge"], card)
            held_ns += overlap(card, t_cut, t_restore) - overlap(live, t_cut, t_restore)
            recovered_ns += overlap(edge, t_cut, t_restore)
        ratio = recovered_ns / held_ns if held_ns else float("nan")
        starts: dict[tuple[str, int], int] = {}
        for cam, data, at in query(db, "select camera, data, at_ns from audit_entries where action = 'backfill'"):
            starts[(cam, json.loads(data)["t_from_ns"])] = at  # the last attempt's entry
        speeds = []
        for cam, s, _e, state, rec_ns, upd in query(
            db, "select camera_id, start_ns, end_ns, state, recovered_ns, updated_ns from backfill_jobs"
        ):
            began = starts.get((cam, s))
            if state == "done" and rec_ns > 0 and began is not None and upd > began:
                speeds.append(rec_ns / (upd - began))
        speed = statistics.median(speeds) if speeds else float("nan")
        lost_ns = 0
        for cam, s, e in query(db, "select camera_id, start_ns, coalesce(end_ns, ?) from gaps", t_done):
            if cam in silent and s <= t_cut + 30 * NS and e >= t_cut:  # the cut's own gap
                continue
            lost_ns += max(0, min(e, t_done) - max(s, t_restore))
        states = query(db, "select state, count(*) from backfill_jobs group by state")
        print(f"jobs: {dict(states)}; {len(speeds)} replays; held {held_ns / NS:.1f} s", flush=True)
        print(
            f"bench-backfill: cameras={n} cut_s={cut_s:.0f} recovered_ratio={ratio:.4f} "
            f"backfill_speed_x={speed:.1f} live_lost_s={lost_ns / NS:.1f} backfill_cpu={backfill_cores:.2f}",
            flush=True,
        )
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", flush=True)


if __name__ == "__main__":
    main()
