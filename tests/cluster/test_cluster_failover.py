"""Three recorder nodes on one PostgreSQL over a simulated city: kill -9 one, its cameras record again elsewhere
within 15 s, and the gap rows say what was lost (docs/design/cluster.md, "Failover")."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from camgrid.bus import AnyMessage, CameraState, NodeEvent, make_bus
from camgrid.config import BusConfig
from tests.cluster.conftest import NatsServer, PgCity, pg_city
from tests.conftest import CAMGRID, Proc, wait_for

NS = 1_000_000_000
CLUSTER_ENV = {
    "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
    "CAMGRID_CLUSTER__LEASE_TTL_S": "5",
    "CAMGRID_CLUSTER__SETTLE_S": "2",
}


def start_node(city: PgCity, name: str, *args: str) -> Proc:
    home = city.home / f"node-{name}"
    home.mkdir(exist_ok=True)
    env = {**city.env, "CAMGRID_HOME": str(home)}
    log = city.home / f"node-{name}-{len(city.recorders)}.log"
    popen = subprocess.Popen(
        [*CAMGRID, "node", "--node", name, *args], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    proc = Proc(popen, log)
    city.recorders.append(proc)
    return proc


def holders(city: PgCity) -> dict[str, str]:
    rows = city.db("select camera_id, node_id from camera_leases where node_id is not null")
    return {str(c): str(n) for c, n in rows}


def recording_on(city: PgCity, cam: str, since_ns: int, not_node: str) -> int | None:
    rows = city.db(
        "select min(start_ns) from segments where camera_id = :c and start_ns >= :t and node_id <> :n",
        c=cam,
        t=since_ns,
        n=not_node,
    )
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def test_kill_9_node_fails_over(city_factory: Any, pg_url: str, nats_server: NatsServer) -> None:
    """Nodes on PostgreSQL and NATS; the control plane's feed sees the new holders' state."""
    env = {**CLUSTER_ENV, "CAMGRID_DATABASE__URL": pg_url, "CAMGRID_BUS__URL": nats_server.url}
    city = pg_city(city_factory(9, extra_env=env), pg_url)
    events: list[AnyMessage] = []
    states: dict[str, tuple[str, int, str]] = {}
    bus = make_bus(BusConfig(url=nats_server.url))
    bus.subscribe(None, events.append, durable="test-all")

    def on_state(m: AnyMessage) -> None:
        if isinstance(m, CameraState):
            states[m.camera_id] = (m.state, m.since_ns, m.node_id)

    bus.subscribe(CameraState, on_state)
    bus.start()
    cams = sorted(c["id"] for c in city.cameras())
    nodes = {n: start_node(city, n, "--capacity", "100") for n in ("n1", "n2", "n3")}
    wait_for(lambda: len(holders(city)) == len(cams), 40, what="every camera leased")
    wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 40, what="every camera recording")
    held = holders(city)
    per_node = {n: sorted(c for c, h in held.items() if h == n) for n in nodes}
    assert all(per_node.values()), f"the cameras are spread over the three nodes: {per_node}"
    assert len(set(held.values())) == 3

    victim = "n2"
    lost_cams = per_node[victim]
    time.sleep(2.0)
    killed_ns = time.time_ns()
    nodes[victim].popen.send_signal(signal.SIGKILL)
    nodes[victim].popen.wait(10)
    # How fast (the 15 s objective) is measured by bench/bench_cluster.py (failover_p100_s); here only that it
    # happens, with a generous safety net.
    wait_for(
        lambda: all(recording_on(city, cam, killed_ns, victim) is not None for cam in lost_cams),
        120,
        what="the dead node's cameras recording on the other nodes",
    )
    after = holders(city)
    assert all(after[c] in ("n1", "n3") for c in lost_cams)
    # State over NATS: every camera of the dead node is "recording" again, published by its new holder.
    wait_for(
        lambda: all(
            c in states and states[c][0] == "recording" and states[c][1] >= killed_ns and states[c][2] == after[c]
            for c in lost_cams
        ),
        10,
        what="state over NATS",
    )
    acquired = {c for m in events if isinstance(m, NodeEvent) and m.event == "acquired" for c in m.cameras}
    assert set(lost_cams) <= acquired
    assert all(after[c] == held[c] for c in cams if c not in lost_cams), "the other nodes kept their cameras"

    # The gap rows say what was lost: from the dead node's last heartbeat to the new holder's first segment.
    def outage_gaps(cam: str) -> list[Any]:
        return city.db(
            "select start_ns, end_ns, reason, detail, node_id from gaps where camera_id = :c and start_ns >= :t",
            c=cam,
            t=killed_ns - 3 * NS,
        )

    # The index writer commits on its own schedule: wait for the closed gap rather than for a fixed while.
    wait_for(lambda: all(any(g[1] is not None for g in outage_gaps(c)) for c in lost_cams), 30, what="closed gaps")
    for cam in lost_cams:
        first = recording_on(city, cam, killed_ns, victim)
        gaps = outage_gaps(cam)
        assert len(gaps) == 1, gaps
        start, end, reason, detail, by = gaps[0]
        assert reason == "recorder_not_running" and victim in detail and by == after[cam]
        assert killed_ns - 2 * NS <= start <= killed_ns, f"gap starts {(start - killed_ns) / NS:+.2f} s from the kill"
        assert end == first, "the gap ends where the new holder's recording starts"
    for cam in cams:
        if cam in lost_cams:
            continue
        assert not city.db("select 1 from gaps where camera_id = :c and start_ns >= :t", c=cam, t=killed_ns - NS), (
            f"{cam} was disturbed"
        )

    # The dead node comes back: it repairs its torn segments and does not fight over cameras.
    returned = start_node(city, victim, "--capacity", "100")
    wait_for(lambda: "up: capacity" in returned.text(), 30, what="the node back")
    time.sleep(6.0)
    assert holders(city) == after, "the returning node took no camera from a live node"
    torn = city.db("select count(*) from segments where node_id = :n and status = 'writing'", n=victim)
    assert torn[0][0] == 0, "its torn segments were repaired on return"

    # Clean stop: every lease given back at once.
    for proc in [*nodes.values(), returned]:
        if proc.popen.poll() is None:
            assert proc.stop() == 0, proc.text()[-3000:]
    assert holders(city) == {}
    assert not Path(city.home / "camgrid.db").exists()
    bus.close()
    downs = {m.node_id for m in events if isinstance(m, NodeEvent) and m.event == "down"}
    assert {"n1", "n3"} <= downs, "clean stops are announced"


def test_a_node_that_lost_a_lease_stops_that_camera_without_a_gap(city_factory: Any, pg_url: str) -> None:
    """When another node holds a camera (as after a partition longer than the TTL), the node stops recording it
    at its next heartbeat and writes no gap: the camera is recorded, elsewhere."""
    city = pg_city(city_factory(3, extra_env={**CLUSTER_ENV, "CAMGRID_DATABASE__URL": pg_url}), pg_url)
    cams = sorted(c["id"] for c in city.cameras())
    node = start_node(city, "n1")
    wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 40, what="recording")
    stolen = cams[0]
    engine = create_engine(city.url)
    with engine.begin() as conn:  # a live node "other" holds it now
        conn.execute(
            text(
                "insert into cluster_nodes (id, capacity, districts, address, status, started_ns, heartbeat_ns) "
                "values ('other', 1, '', '', 'up', 0, :e)"
            ),
            {"e": time.time_ns() + 3600 * NS},
        )
        conn.execute(
            text("update camera_leases set node_id = 'other', expires_ns = :e where camera_id = :c"),
            {"e": time.time_ns() + 3600 * NS, "c": stolen},
        )
    engine.dispose()
    t_steal = time.time_ns()
    wait_for(lambda: "lost 1 leases" in node.text(), 10, what="the node to notice")
    time.sleep(2.0)
    open_gaps = city.db("select node_id, reason from gaps where camera_id = :c and end_ns is null", c=stolen)
    assert open_gaps == [], f"no gap left open for a camera recorded elsewhere: {open_gaps}"
    assert not city.db("select 1 from segments where camera_id = :c and start_ns > :t", c=stolen, t=t_steal + 2 * NS)
    others = [c for c in cams if c != stolen]
    wait_for(lambda: all(city.recording_since(c, t_steal) for c in others), 15, what="the others go on")
    assert node.stop() == 0
    last = city.db("select status from segments where camera_id = :c", c=stolen)
    assert {r[0] for r in last} == {"complete"}, "its last segment was closed properly"
