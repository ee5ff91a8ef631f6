"""Cut NATS under a recording node: the state changes of the outage reach the control plane when NATS returns
(docs/design/cluster.md, "The bus" and "Events")."""

from __future__ import annotations

import threading
import time
from typing import Any

from camgrid.bus import AnyMessage, CameraState, make_bus
from camgrid.config import BusConfig
from tests.cluster.conftest import NatsServer, pg_city
from tests.cluster.test_cluster_failover import start_node
from tests.conftest import wait_for

NS = 1_000_000_000


def test_state_catches_up_after_a_nats_outage(city_factory: Any, pg_url: str, nats_server: NatsServer) -> None:
    env = {
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_BUS__URL": nats_server.url,
    }
    city = pg_city(city_factory(4, extra_env=env), pg_url)
    cams = sorted(c["id"] for c in city.cameras())
    seen: list[CameraState] = []
    lock = threading.Lock()

    def on_state(m: AnyMessage) -> None:
        if isinstance(m, CameraState):
            with lock:
                seen.append(m)

    def states(cam: str) -> list[CameraState]:
        with lock:
            return [m for m in seen if m.camera_id == cam]

    control = make_bus(BusConfig(url=nats_server.url))
    control.subscribe(CameraState, on_state, durable="control-plane")
    control.start()
    node = start_node(city, "n1")
    try:
        wait_for(lambda: all(any(m.state == "recording" for m in states(c)) for c in cams), 40, what="recording")
        nats_server.stop()
        cut = city.fault("power_cut", "F-01")
        affected = cut["cameras"]
        assert affected
        t_cut = int(cut["t"] * NS)
        time.sleep(5.0)
        restore = city.fault("power_restore", "F-01")
        t_restore = int(restore["t"] * NS)
        wait_for(lambda: all(city.recording_since(c, t_restore) for c in affected), 20, what="recording again")
        with lock:
            during = len(seen)
        nats_server.start()
        t_back = time.time_ns()

        def caught_up() -> bool:
            for cam in affected:
                mine = states(cam)
                offline = [m for m in mine if m.state == "offline" and m.reason == "unreachable"]
                back = [m for m in mine if m.state == "recording" and m.since_ns >= t_restore]
                if not offline or not back:
                    return False
            return True

        wait_for(caught_up, 30, what="the outage's states over NATS")
        assert time.time_ns() - t_back < 30 * NS
        for cam in affected:
            off = next(m for m in states(cam) if m.state == "offline" and m.reason == "unreachable")
            assert abs(off.since_ns - t_cut) <= 1.5 * NS, "the state says when the camera went offline"
        assert during <= len(seen)
        ids = [m.msg_id for m in seen]
        assert len(ids) == len(set(ids)), "no state delivered twice"
        assert node.popen.poll() is None, "the node kept running through the outage"
    finally:
        node.stop()
        control.close()
