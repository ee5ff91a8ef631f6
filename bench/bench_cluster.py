"""bench-cluster: three recorder nodes on PostgreSQL + NATS JetStream over a simulated city; kill -9 one node.

1. Failover: PostgreSQL and nats-server (Debian packages) on loopback, the simulator with N cameras, three
   ``camgrid node`` processes. When every camera records, the node holding most cameras is killed with SIGKILL.
   ``failover_p100_s``: the worst time, over the dead node's cameras, from the kill to the first segment another node
   records (segment start times from the index). The dead node is then restarted so that its torn segments are
   repaired and indexed; ``lost_s``: the longest unrecorded span of one of its cameras (last instant it recorded to the
   first instant recorded elsewhere).
2. State: a synthetic stream of camera states for a 62,000-camera city is published to JetStream by 3 publishers;
   the control plane's consumer (``cluster.control.StateFeed`` into the API's ``StateStore``) drains it.
   ``state_events_per_s`` = events / time to absorb them all. Baseline, same run: one UPDATE per event on PostgreSQL.
3. API: ``camgrid serve --no-record`` on PostgreSQL with 62,000 registered cameras; ``api_cameras_p95_ms`` = p95 of
   GET /api/cameras (the whole city, logged in as an operator).

Last line: ``bench-cluster: nodes=3 cameras=N failover_p100_s=F lost_s=L state_events_per_s=X api_cameras_p95_ms=Y``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

from camgrid.demo.servers import LocalNats, LocalPostgres, free_port

ROOT = Path(__file__).resolve().parents[1]
CAMGRID = [sys.executable, "-m", "camgrid.cli.main"]
NS = 1_000_000_000
PASSWORD = "bench-password-1"


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def wait(pred: object, timeout: float, what: str, interval: float = 0.3) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise SystemExit(f"bench-cluster: timed out waiting for {what}")


def q(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params).all()]
    finally:
        engine.dispose()


def failover(args: argparse.Namespace, work: Path, pg: LocalPostgres, nats: LocalNats) -> tuple[float, float, int]:
    url = pg.create_database("camgrid")
    central = work / "central"
    central.mkdir()
    env = dict(
        os.environ,
        CAMGRID_HOME=str(central),
        CAMGRID_DATABASE__URL=url,
        CAMGRID_BUS__URL=nats.url,
        CAMGRID_SIM__PORT=str(free_port()),
        CAMGRID_SIM__CONTROL_PORT=str(free_port()),
        CAMGRID_SIM__CACHE_DIR=str(ROOT / "var" / "bench-cache" / "clips"),
        CAMGRID_SIM__CLIP_SECONDS="4",
        CAMGRID_SIM__H265_EVERY="4",
        CAMGRID_RECORDER__METRICS_PORT="0",
        CAMGRID_RECORDER__SEGMENT_SECONDS="6",
    )
    procs: list[subprocess.Popen[bytes]] = []
    sim_log = central / "sim.log"
    sim = subprocess.Popen(
        [*CAMGRID, "sim", "--count", str(args.cameras), "--out", str(central / "cams.csv")],
        env=env,
        stdout=sim_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    procs.append(sim)
    try:
        wait(lambda: "ready" in sim_log.read_text(errors="replace") or sim.poll() is not None, 600, "the simulator")
        if sim.poll() is not None:
            raise SystemExit("bench-cluster: the simulator stopped:\n" + sim_log.read_text()[-2000:])
        subprocess.run([*CAMGRID, "cameras", "import", str(central / "cams.csv")], env=env, check=True)
        cams = [str(r[0]) for r in q(url, "select id from cameras")]

        def start_node(name: str) -> subprocess.Popen[bytes]:
            home = work / "nodes" / name
            home.mkdir(parents=True, exist_ok=True)
            log = home / "node.log"
            p = subprocess.Popen(
                [*CAMGRID, "node", "--node", name, "--capacity", str(args.cameras)],
                env=dict(env, CAMGRID_HOME=str(home)),
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
            procs.append(p)
            return p

        nodes = {n: start_node(n) for n in ("n1", "n2", "n3")}
        t_start = time.time_ns()

        def recording() -> bool:
            rows = q(url, "select count(distinct camera_id) from segments where start_ns >= :t", t=t_start)
            return int(rows[0][0]) == len(cams)  # type: ignore[call-overload]

        wait(recording, 300, "every camera recording")
        time.sleep(args.settle)
        held = q(url, "select node_id, count(*) from camera_leases where node_id is not null group by node_id")
        victim = str(max(held, key=lambda r: int(r[1]))[0])  # type: ignore[call-overload]
        lost_cams = [str(r[0]) for r in q(url, "select camera_id from camera_leases where node_id = :n", n=victim)]
        print(f"bench-cluster: leases {dict((str(a), int(b)) for a, b in held)}; killing {victim}", flush=True)  # type: ignore[call-overload]
        t_kill = time.time_ns()
        nodes[victim].send_signal(signal.SIGKILL)
        nodes[victim].wait(10)

        def first_elsewhere() -> dict[str, int]:
            rows = q(
                url,
                "select camera_id, min(start_ns) from segments where start_ns >= :t and node_id <> :n "
                "group by camera_id",
                t=t_kill,
                n=victim,
            )
            return {str(c): int(s) for c, s in rows if str(c) in lost_cams}  # type: ignore[call-overload]

        wait(lambda: len(first_elsewhere()) == len(lost_cams), 90, "the dead node's cameras elsewhere", 0.2)
        first = first_elsewhere()
        failover_s = max(first.values()) - t_kill
        # The dead node returns: crash recovery repairs and indexes what it recorded up to the kill.
        nodes[victim] = start_node(victim)
        wait(lambda: "up: capacity" in (work / "nodes" / victim / "node.log").read_text(errors="replace"), 60, "node")
        time.sleep(3.0)
        lost: list[float] = []
        for cam in lost_cams:
            rows = q(
                url,
                "select max(end_ns) from segments where camera_id = :c and node_id = :n and start_ns < :t",
                c=cam,
                n=victim,
                t=t_kill,
            )
            last = int(rows[0][0] or t_kill)  # type: ignore[call-overload]
            lost.append((first[cam] - last) / NS)
        print(
            f"bench-cluster: {len(lost_cams)} cameras failed over; failover p50 "
            f"{pct([(v - t_kill) / NS for v in first.values()], 0.5):.1f} s, max {failover_s / NS:.1f} s; "
            f"lost max {max(lost):.1f} s",
            flush=True,
        )
        return failover_s / NS, max(lost), len(cams)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


async def drop_stream(url: str, name: str) -> None:
    import nats as nats_py

    nc = await nats_py.connect(url)
    try:
        await nc.jetstream().delete_stream(name)
    except Exception as exc:
        print(f"bench-cluster: stream {name}: {exc}")
    await nc.close()


def synthetic_outages(city: int, n: int, t0_ns: int) -> list[list[tuple[str, bool, int]]]:
    """``n`` state changes of a city of ``city`` cameras (the layout of ``city_csv``), per publisher (a camera always
    on the same one, as a camera is on one node): rounds of feeder power cuts, every camera of 8 feeders going dark
    within 2 s and back 20 s later, 30 s of event time per round. What a city's bad evening looks like, not noise."""
    rng = random.Random(3)
    feeders: dict[int, list[int]] = {}
    for i in range(city):
        feeders.setdefault((i // 15) % 300, []).append(i)
    out: list[list[tuple[str, bool, int]]] = [[], [], []]
    count = 0
    t = t0_ns
    while count < n:
        for f in rng.sample(sorted(feeders), 8):
            for cam in feeders[f]:
                if count >= n:
                    break
                down = t + rng.randrange(2 * NS)
                out[cam % 3].append((f"c{cam:05d}", False, down))
                out[cam % 3].append((f"c{cam:05d}", True, down + 20 * NS))
                count += 2
        t += 30 * NS
    return out


def state_stream(args: argparse.Namespace, nats: LocalNats, city_url: str) -> tuple[float, float, int]:
    """The central node's whole intake, wired as ``camgrid serve`` wires it: ``StateFeed`` (durable JetStream consumer)
    into the map's ``StateStore`` and the incident engine (``LiveIncidents`` on the 62,000-camera registry, storing
    incidents in PostgreSQL). Rate = events / time until both have taken every event."""
    from camgrid.api.context import StateStore
    from camgrid.bus import CameraState, make_bus
    from camgrid.clock import SystemClock
    from camgrid.cluster.control import StateFeed
    from camgrid.config import BusConfig, HealthConfig
    from camgrid.db.engine import make_engine, session_factory
    from camgrid.health.models import IncidentRow
    from camgrid.health.wiring import LiveIncidents

    asyncio.run(drop_stream(nats.url, "CAMGRID"))  # the cluster's own states: the synthetic stream starts empty
    cfg = BusConfig(url=nats.url)
    n = args.state_events
    clock = SystemClock()
    per_node = synthetic_outages(args.city, n, clock.wall_ns() - 3600 * NS)
    pubs = [make_bus(cfg) for _ in per_node]
    for pub in pubs:
        pub.start()
    # The nodes publish side by side, as they would live: the stream interleaves them in time order.
    merged = sorted((at, i, cam, up) for i, changes in enumerate(per_node) for cam, up, at in changes)
    for at, i, cam, up in merged:
        reason = "" if up else "unreachable"
        state = "recording" if up else "offline"
        pubs[i].publish(CameraState(camera_id=cam, state=state, reason=reason, since_ns=at, node_id=f"n{i}"))
    for pub in pubs:
        if not pub.flush(600):
            raise SystemExit("bench-cluster: the synthetic stream was not accepted by JetStream")
        pub.close()
    total = sum(len(c) for c in per_node)
    engine = make_engine(city_url)
    factory = session_factory(engine)
    incidents = LiveIncidents(factory=factory, clock=clock, config=HealthConfig())
    store = StateStore()
    feed = StateFeed(make_bus(cfg), [store.set, incidents.adapter])
    incidents.start()
    t0 = time.perf_counter()
    feed.start()
    wait(lambda: feed.received >= total, 600, "the control plane to absorb the stream", 0.01)
    # Every change judged by the engine, and its transitions and incidents committed to PostgreSQL.
    wait(lambda: incidents.feed.fed >= total, 900, "the incident engine to judge and store the stream", 0.01)
    rate = total / (time.perf_counter() - t0)
    feed.close()
    incidents.stop()
    with factory() as session:
        opened = session.query(IncidentRow).count()
    engine.dispose()
    print(
        f"bench-cluster: state events/s camgrid {rate:.0f} into the map and the incident engine "
        f"({total} events, {opened} incidents stored, stale dropped {feed.stale})"
    )
    return rate, 0.0, opened


def baseline_updates(pg: LocalPostgres, city: int) -> float:
    """Baseline: one UPDATE (its own transaction) per state event on PostgreSQL."""
    rng = random.Random(5)
    url = pg.create_database("baseline")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("create table states (id text primary key, state text, reason text, since bigint)"))
        conn.execute(
            text(
                "insert into states select 'c' || lpad(g::text, 5, '0'), 'unknown', '', 0 from generate_series(0, :n) g"
            ),
            {"n": city - 1},
        )
    m = 3000
    t0 = time.perf_counter()
    for k in range(m):
        with engine.begin() as conn:
            conn.execute(
                text("update states set state = :s, reason = '', since = :t where id = :i"),
                {"s": "offline", "t": k, "i": f"c{rng.randrange(city):05d}"},
            )
    base = m / (time.perf_counter() - t0)
    engine.dispose()
    print(f"bench-cluster: baseline, one PostgreSQL UPDATE per state event: {base:.0f} events/s")
    return base


def city_csv(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "district", "site", "feeder", "uplink", "rtsp_url"])
        for i in range(n):
            site = i // 15
            w.writerow(
                [
                    f"c{i:05d}",
                    f"camera {i}",
                    f"{27.60 + rng.random() * 0.16:.6f}",
                    f"{85.24 + rng.random() * 0.16:.6f}",
                    f"D-{site % 40:02d}",
                    f"S-{site:05d}",
                    f"F-{site % 300:03d}",
                    f"U-{site % 500:03d}",
                    f"rtsp://10.{i // 65000}.{(i // 250) % 250}.{i % 250}/s",
                ]
            )


def api_list(args: argparse.Namespace, work: Path, pg: LocalPostgres) -> tuple[float, str]:
    home = work / "control"
    home.mkdir()
    url = pg.create_database("city")
    port = free_port()
    env = dict(
        os.environ,
        CAMGRID_HOME=str(home),
        CAMGRID_DATABASE__URL=url,
        CAMGRID_SERVER__PORT=str(port),
        CAMGRID_NEW_PASSWORD=PASSWORD,
        CAMGRID_RECORDER__METRICS_PORT="0",
    )
    city_csv(home / "city.csv", args.city)
    subprocess.run([*CAMGRID, "cameras", "import", str(home / "city.csv")], env=env, check=True, capture_output=True)
    subprocess.run([*CAMGRID, "users", "add", "bench", "--role", "operator"], env=env, check=True, capture_output=True)
    srv = subprocess.Popen(
        [*CAMGRID, "serve", "--no-record"], env=env, stdout=(home / "serve.log").open("wb"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                urllib.request.urlopen(base + "/login", timeout=1)
                return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        wait(up, 120, "camgrid serve")
        req = urllib.request.Request(
            base + "/api/auth/login",
            data=json.dumps({"username": "bench", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            cookie = resp.headers["Set-Cookie"].split(";")[0]
        times: list[float] = []
        for i in range(args.api_requests + 3):
            t0 = time.perf_counter()
            with urllib.request.urlopen(
                urllib.request.Request(base + "/api/cameras", headers={"Cookie": cookie}), timeout=60
            ) as resp:
                doc = json.loads(resp.read())
            if i >= 3:
                times.append((time.perf_counter() - t0) * 1000)
        if doc["count"] != args.city:
            raise SystemExit(f"bench-cluster: the camera list has {doc['count']} cameras, not {args.city}")
        print(f"bench-cluster: GET /api/cameras ({args.city} cameras) p50 {pct(times, 0.5):.0f} ms")
        return pct(times, 0.95), url
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(20)
        except subprocess.TimeoutExpired:
            srv.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=96)
    ap.add_argument("--city", type=int, default=62_000)
    ap.add_argument("--state-events", type=int, default=300_000)
    ap.add_argument("--api-requests", type=int, default=20)
    ap.add_argument("--settle", type=float, default=8.0, help="Seconds of recording before the kill")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    pg = LocalPostgres(work / "pg", free_port())
    nats = LocalNats(work / "nats", free_port())
    pg.start()
    nats.start()
    try:
        failover_s, lost_s, n = failover(args, work, pg, nats)
        api_p95, city_url = api_list(args, work, pg)
        rate, _, _ = state_stream(args, nats, city_url)
        baseline_updates(pg, args.city)
    finally:
        nats.stop()
        pg.stop("immediate")
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"bench-cluster: nodes=3 cameras={n} failover_p100_s={failover_s:.1f} lost_s={lost_s:.1f} "
        f"state_events_per_s={rate:.0f} api_cameras_p95_ms={api_p95:.0f}"
    )


if __name__ == "__main__":
    main()
