"""``camgrid.runtime.build`` for a cluster's roles, in one process, on PostgreSQL and NATS JetStream: a recorder
node records what it leases, the central node hears its states over the bus and opens a live view it does not
record; both stop cleanly (leases given back, honest gaps)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import Settings, load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.runtime import build, retention_hook
from camgrid.vocabulary import CameraState, GapReason, ProcessRole
from tests.cluster.conftest import NatsServer, PgCity, pg_city
from tests.conftest import wait_for

CLUSTER_ENV = {
    "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
    "CAMGRID_CLUSTER__LEASE_TTL_S": "5",
    "CAMGRID_CLUSTER__SETTLE_S": "1",
}


def _settings(city: PgCity, home: Path, node_id: str) -> Settings:
    home.mkdir()
    env = {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")}
    env.update({"CAMGRID_HOME": str(home), "CAMGRID_RECORDER__NODE_ID": node_id})
    return load_settings(home, env)


async def _attach(ctx: AppContext) -> None:
    ctx.attach(asyncio.get_running_loop())


def test_node_and_central_roles(city_factory: Any, pg_url: str, nats_server: NatsServer) -> None:
    env = {**CLUSTER_ENV, "CAMGRID_DATABASE__URL": pg_url, "CAMGRID_BUS__URL": nats_server.url}
    city = pg_city(city_factory(3, extra_env=env), pg_url)
    cams = sorted(c["id"] for c in city.cameras())
    engine = make_engine(pg_url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = SystemClock()
    node_settings = _settings(city, city.home / "node-a", "a")
    node = build(
        node_settings, role=ProcessRole.NODE, engine=engine, factory=factory, clock=clock, retention=retention_hook
    )
    central_settings = _settings(city, city.home / "central", "central")
    central = build(
        central_settings, role=ProcessRole.CENTRAL, engine=engine, factory=factory, clock=clock, retention=None
    )
    assert node.node is not None and node.recorder is not None and node.incidents is None
    assert central.recorder is not None and central.recorder.restricted and central.feed is not None
    loop = asyncio.new_event_loop()
    pump = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    pump.start()
    try:
        central.start()
        ctx = central.app_context()
        asyncio.run_coroutine_threadsafe(_attach(ctx), loop).result(10)
        node.start()
        wait_for(lambda: node.node is not None and node.node.held == set(cams), 40, what="node a leases every camera")
        wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 40, what="every camera recording")
        assert {row[0] for row in city.db("select distinct node_id from segments")} == {"a"}

        def heard(cam: str) -> bool:
            state = ctx.states.get(cam)
            return state is not None and state.state == CameraState.RECORDING

        wait_for(lambda: all(heard(c) for c in cams), 30, what="the central node hears the node's states")
        # The central node watches a camera it does not record, straight from the camera (its own session).
        cam = cams[0]
        assert not central.recorder.records(cam) and central.recorder.codec_of(cam) == ""
        src = central.recorder.live_source(cam)
        assert src is not None
        central.recorder.open_live_session(cam, src)
        wait_for(lambda: central.recorder.codec_of(cam) != "", 20, what="the live-only session reports its codec")
        central.recorder.close_live_session(cam)
    finally:
        central.stop()
        node.stop()
        loop.call_soon_threadsafe(loop.stop)
        pump.join(5)
        loop.close()
    assert city.db("select count(*) from camera_leases where node_id is not null")[0][0] == 0, "leases given back"
    assert {row[0] for row in city.db("select distinct node_id from segments")} == {"a"}, "the central records nothing"
    for c in cams:
        wait_for(lambda c=c: city.gaps(c)[-1][2:4] == (None, GapReason.NOT_RUNNING), 10, what=f"{c}'s stop gap")
    engine.dispose()
