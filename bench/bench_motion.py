"""bench-motion: activity, tamper alarms and motion search on scripted scene cameras, scored against the simulator's
ground truth (issue 17).

The simulator serves ``--cameras`` scene cameras (640x360, 25 fps: one still picture shared by all, its variants
encoded once) with a scene script from :func:`camgrid.sim.scene_plan.plan`: a quarter of the cameras get one tamper
each (cover, defocus, turn, blind, freeze in turn, each several times, held 90 s then restored), a quarter get motion
three times in one cell of the 4x4 grid (and once, a decoy, in another cell), the rest nothing. ``camgrid record``
(the real recorder and runtime, activity and tamper on) records all of them for ``--minutes``. Then:

* ``activity_cpu``: cores per camera of counting activity, from ``bench/motion_activity.py``'s ``activity_cpu()``
  (real pictures replayed through ``ActivityTap`` in a tight loop: the tap's own cost, without the recorder's);
* ``tamper_cpu``: ``camgrid_tamper_cpu_seconds_total`` from the recorder's /metrics over the run, per camera
  watched (``camgrid_tamper_cameras``) per second;
* ``tamper_precision``/``tamper_recall``/``tamper_latency_p95_s``: incidents whose reason starts ``tamper:`` in the
  database against the truth file's tamper spans: same camera, opened within 60 s of the truth's start (the time
  the picture changed on the wire); the kind need not match for recall, its accuracy is printed before;
* ``search_s``: ``search_motion`` over the whole recorded span of each camera with scripted motion, in the cell
  its motion was scripted in, scaled to one hour (recorded span: ``--minutes``, so the figure is a projection, said
  again in the output); ``search_recall``: the scripted motions in that cell that a hit overlaps (±2 s).

A figure that cannot be measured (a part not built, a run too short) is ``nan`` and the reason is printed. Last
line exactly: ``bench-motion: cameras=N activity_cpu=A tamper_cpu=T tamper_precision=P tamper_recall=R
tamper_latency_p95_s=L search_s=S search_recall=Q``
"""

from __future__ import annotations

import argparse
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
import time
import urllib.request
from pathlib import Path

from camgrid.sim.scene_plan import Plan, plan, read_truth, score_tamper, search_recall
from camgrid.sim.scenes import cell_region

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
NS = 1_000_000_000
TAMPER_PREFIX = "tamper:"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int, home: Path) -> dict[str, float]:
    """The recorder's /metrics lines without labels (empty if it cannot be read)."""
    try:
        token = (home / "run" / "metrics.token").read_text().strip()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
        body = urllib.request.urlopen(req, timeout=10).read().decode()
    except OSError:
        return {}
    out = {}
    for line in body.splitlines():
        if line.startswith("camgrid_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def measure_activity_cpu(cameras: int) -> float:
    """Cores per camera of the activity tap and its store, on real pictures (bench/motion_activity.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from motion_activity import activity_cpu

    return float(activity_cpu(cameras=cameras, seconds=60))


def tamper_incidents(db: sqlite3.Connection) -> list[tuple[str, float, str]]:
    """(camera, opened unix s, tamper kind) of every tamper incident."""
    rows = db.execute(
        "select subject, opened_ns, reason from incidents where reason like ? order by opened_ns",
        (TAMPER_PREFIX + "%",),
    ).fetchall()
    return [(str(cam), opened / NS, str(reason).split(":", 1)[1].strip()) for cam, opened, reason in rows]


def recorded_span(db: sqlite3.Connection, camera: str) -> tuple[int, int] | None:
    row = db.execute("select min(start_ns), max(end_ns) from segments where camera_id = ?", (camera,)).fetchone()
    return (int(row[0]), int(row[1])) if row and row[0] is not None and row[1] is not None else None


def search_one(home: Path, camera: str, region: list[float], start_ns: int, end_ns: int) -> list[tuple[float, float]]:
    """Hits (unix s spans) of the motion search service on ``camera``, narrowed by the recorded activity levels."""
    from camgrid.auditing import cli_actor
    from camgrid.cli.acting import audit_log
    from camgrid.cli.common import open_db
    from camgrid.config import load_settings
    from camgrid.db.engine import unit_of_work
    from camgrid.motion.activity_store import ActivityStore
    from camgrid.motion.service import search_motion

    settings = load_settings(home)
    engine, factory = open_db(settings)
    log = audit_log(settings, engine)
    try:
        with unit_of_work(factory) as session:
            result = search_motion(
                session=session,
                audit=log,
                actor=cli_actor(),
                store=ActivityStore(home / "activity"),
                camera_id=camera,
                region=region,
                start_ns=start_ns,
                end_ns=end_ns,
            )
    finally:
        engine.dispose()
    return [(h.start_ns / NS, h.end_ns / NS) for h in result.outcome.hits]


def run(args: argparse.Namespace) -> None:
    n, duration = args.cameras, args.minutes * 60.0
    cams = [f"cam-{i:04d}" for i in range(1, n + 1)]
    lead = min(120.0, duration / 4)
    p: Plan = plan(cams, duration_s=duration, lead_s=lead, tamper_s=min(90.0, duration / 5), seed=args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-motion-"))
    home = work / "home"
    home.mkdir()
    script, truth, registry = work / "scenes.json", work / "truth.jsonl", home / "cameras.csv"
    script.write_text(json.dumps(p.script))
    rtsp, control, metrics_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "CAMGRID_HOME": str(home),
            "CAMGRID_SIM__PORT": str(rtsp),
            "CAMGRID_SIM__CONTROL_PORT": str(control),
            "CAMGRID_SIM__ONVIF": "0",
            "CAMGRID_SIM__WIDTH": "640",
            "CAMGRID_SIM__HEIGHT": "360",
            "CAMGRID_SIM__BITRATE_KBPS": "1000",
            "CAMGRID_SIM__CACHE_DIR": str(ROOT / "var" / "bench-cache" / "clips"),
            "CAMGRID_RECORDER__METRICS_PORT": str(metrics_port),
        }
    )
    print(f"{n} scene cameras for {args.minutes:g} min: {len(p.tamper_cameras)} tampered, {len(p.motion_cells)} "
          f"with motion, {n - len(p.tamper_cameras) - len(p.motion_cells)} untouched", flush=True)  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    sim_cmd = [*CAMGRID, "sim", "--count", str(n), "--out", str(registry), "--scenes", "all"]
    sim_cmd += ["--scene-script", str(script), "--truth", str(truth)]
    sim_log = (work / "sim.log").open("wb")
    sim = subprocess.Popen(sim_cmd, env=env, stdout=sim_log, stderr=subprocess.STDOUT)
    procs.append(sim)
    m0: dict[str, float] = {}
    m1: dict[str, float] = {}
    t_m0 = t_m1 = 0.0
    try:
        deadline = time.monotonic() + 1800
        while b"ready" not in (work / "sim.log").read_bytes():
            if sim.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("simulator failed:\n" + (work / "sim.log").read_text())
            time.sleep(0.5)
        started = time.monotonic()  # the script's clock starts with the simulator's first poll, about now
        subprocess.run([*CAMGRID, "cameras", "import", str(registry)], env=env, check=True, capture_output=True)
        rec_log = (work / "record.log").open("wb")
        rec = subprocess.Popen([*CAMGRID, "record"], env=env, stdout=rec_log, stderr=subprocess.STDOUT)
        procs.append(rec)
        time.sleep(max(0.0, lead / 2 - (time.monotonic() - started)))
        m0, t_m0 = scrape(metrics_port, home), time.monotonic()
        while time.monotonic() - started < duration:
            if rec.poll() is not None:
                raise SystemExit("the recorder stopped:\n" + (work / "record.log").read_text()[-3000:])
            time.sleep(min(10.0, duration - (time.monotonic() - started)))
            print(f"  {time.monotonic() - started:.0f} s of {duration:.0f}", flush=True)
        m1, t_m1 = scrape(metrics_port, home), time.monotonic()
        rec.send_signal(signal.SIGTERM)
        rec.wait(60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    try:
        report(args, p, home, truth, m0, m1, t_m1 - t_m0)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def report(
    args: argparse.Namespace, p: Plan, home: Path, truth: Path, m0: dict[str, float], m1: dict[str, float], dt: float
) -> None:
    n = args.cameras
    lines = [json.loads(x) for x in truth.read_text().splitlines()] if truth.exists() else []
    tampers, motions = read_truth(lines)
    print(f"truth: {len(tampers)} tamper spans, {len(motions)} motions", flush=True)

    activity = measure_activity_cpu(n)

    key, cams_key = "camgrid_tamper_cpu_seconds_total", "camgrid_tamper_cameras"
    if key in m0 and key in m1 and dt > 0:
        watched = max(1.0, m1.get(cams_key, n))
        tamper_cpu = (m1[key] - m0[key]) / watched / dt
        print(f"tamper: {m1[key] - m0[key]:.2f} CPU-s over {dt:.0f} s for {watched:.0f} cameras", flush=True)
    else:
        tamper_cpu = math.nan
        print(f"tamper_cpu: {key} not on the recorder's /metrics", flush=True)

    db = sqlite3.connect(home / "camgrid.db")
    try:
        try:
            incidents = tamper_incidents(db)
        except sqlite3.OperationalError as exc:
            print(f"tamper incidents not readable: {exc}", flush=True)
            incidents = []
        score = score_tamper(tampers, incidents)
        print(
            f"tamper: {score.incidents} incidents for {score.events} tampers; kind_accuracy={score.kind_accuracy:.2f}",
            flush=True,
        )
        spans = {cam: recorded_span(db, cam) for cam in p.motion_cells}
    finally:
        db.close()

    times: list[float] = []
    hits: dict[str, list[tuple[float, float]]] = {}
    searched: dict[str, list[float]] = {}
    for cam, cell in sorted(p.motion_cells.items()):
        span = spans.get(cam)
        if span is None:
            print(f"search: {cam} recorded nothing", flush=True)
            continue
        region = cell_region(cell)
        t0 = time.perf_counter()
        try:
            hits[cam] = search_one(home, cam, region, *span)
        except Exception as exc:  # a part not built yet, or refusing: say so and go on
            print(f"search: {cam}: {type(exc).__name__}: {exc}", flush=True)
            continue
        took = time.perf_counter() - t0
        searched[cam] = region
        times.append(took * 3600 / max(1.0, (span[1] - span[0]) / NS))
    search_s = sum(times) / len(times) if times else math.nan
    recall, found, wanted = search_recall(motions, searched, hits)
    if times:
        print(
            f"search: {len(times)} cameras, {found}/{wanted} scripted motions found; search_s is the time over "
            f"~{args.minutes:g} recorded minutes scaled to one hour",
            flush=True,
        )
    print(
        f"bench-motion: cameras={n} activity_cpu={activity:.6f} tamper_cpu={tamper_cpu:.6f} "
        f"tamper_precision={score.precision:.3f} tamper_recall={score.recall:.3f} "
        f"tamper_latency_p95_s={score.latency_p95_s:.1f} search_s={search_s:.2f} search_recall={recall:.3f}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=64)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
