"""The central node of a cluster (docs/design/cluster.md, "Control plane"): `camgrid serve --no-record` shows the
states a recorder node publishes over NATS, and a power cut that happens while NATS is cut is still one power
incident, with its real start, once NATS returns (the incident engine waits for the nodes' bus watermarks)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import websockets

from camgrid.bus import AnyMessage, IncidentEvent, make_bus
from camgrid.config import BusConfig
from tests.api.test_control_room_e2e import PASSWORD, get, login
from tests.cluster.conftest import NatsServer, PgCity, pg_city
from tests.cluster.test_cluster_failover import start_node
from tests.conftest import CAMGRID, free_port, wait_for
from tests.seeding import SEED, seed_log
from tests.storage.media_check import decode_errors, probe

NS = 1_000_000_000
MS = 1_000_000  # the API speaks milliseconds


def start_central(city: PgCity, *, add_user: bool = True) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    city.env["CAMGRID_NEW_PASSWORD"] = PASSWORD
    if add_user:
        city.run("users", "add", "op", "--role", "operator")
    env = dict(city.env, CAMGRID_SERVER__PORT=str(port), CAMGRID_HOME=str(city.home / "central"))
    (city.home / "central").mkdir(exist_ok=True)
    log = (city.home / "central.log").open("wb")
    proc = subprocess.Popen([*CAMGRID, "serve", "--no-record"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            login(base)
            return True
        except OSError:
            return proc.poll() is not None

    wait_for(up, 40, what="the central node")
    assert proc.poll() is None, (city.home / "central.log").read_text()[-3000:]
    return proc, base


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_central_node_follows_the_bus_and_keeps_incidents_through_a_nats_outage(
    city_factory: Any, pg_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    env = {
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_BUS__URL": nats_server.url,
    }
    city = pg_city(city_factory(8, extra_env=env), pg_url)
    cams = sorted(c["id"] for c in city.cameras())
    feeders: dict[str, list[str]] = {}
    for c in city.cameras():
        feeders.setdefault(c["feeder"], []).append(c["id"])
    feeder, members = max(feeders.items(), key=lambda kv: len(kv[1]))
    assert len(members) >= 3
    announced: list[IncidentEvent] = []

    def on_incident(m: AnyMessage) -> None:
        if isinstance(m, IncidentEvent):
            announced.append(m)

    outside = make_bus(BusConfig(url=nats_server.url))  # a consumer outside camgrid (paging, another room)
    outside.subscribe(IncidentEvent, on_incident, durable="pager")
    outside.start()
    node = start_node(city, "n1")
    central, base = start_central(city)
    try:
        cookie = login(base)

        def states() -> dict[str, str]:
            doc = get(base, "/api/cameras", cookie)
            return dict(zip(doc["id"], doc["state"], strict=True))

        # The central node records nothing: "recording" on its map can only come from the node, over NATS.
        wait_for(lambda: all(s == "recording" for s in states().values()), 60, what="node states on the map")
        assert sorted(states()) == cams

        # Live from the central node: it records nothing, so it opens the camera itself for the viewer.
        async def watch(camera: str, frames: int) -> list[Any]:
            msgs: list[Any] = []
            url = f"ws://{base[7:]}/api/live/{camera}"
            async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
                while sum(1 for m in msgs if isinstance(m, bytes)) < frames + 1:
                    msgs.append(await asyncio.wait_for(ws.recv(), 15))
            return msgs

        msgs = asyncio.run(watch(cams[1], 40))
        texts = [json.loads(m) for m in msgs if isinstance(m, str)]
        assert texts[0]["type"] == "codec", texts
        clip = tmp_path / "central-live.mp4"
        clip.write_bytes(b"".join(m for m in msgs if isinstance(m, bytes)))
        assert decode_errors(clip) == "" and probe(clip)["frames"] >= 40
        assert not city.db("select 1 from segments where node_id <> 'n1'"), "the central node recorded nothing"

        nats_server.stop()
        cut = city.fault("power_cut", feeder)
        t_cut = int(cut["t"] * NS)

        def dark(cam: str) -> bool:
            return any(g[1] >= t_cut - 2 * NS and g[3] == "unreachable" for g in city.gaps(cam))

        wait_for(lambda: all(dark(c) for c in members), 15, what="the node's gap rows (PostgreSQL is up)")
        time.sleep(12.0)  # longer than the engine's hold: judged on arrival, this outage would be a blip
        assert get(base, "/api/incidents", cookie) == [], "nothing can be known at the centre while NATS is cut"
        city.fault("power_restore", feeder)
        t_restore = time.time_ns()
        wait_for(lambda: all(city.recording_since(c, t_restore) for c in members), 30, what="recording again")
        nats_server.start()

        def power() -> dict[str, Any] | None:
            for inc in get(base, "/api/incidents", cookie):
                if inc["kind"] == "power" and inc["subject"] == feeder and inc["resolved_ms"]:
                    return dict(inc)
            return None

        inc = wait_for(power, 60, interval=0.5, what="the power incident of the NATS outage")
        assert sorted(inc["cameras"]) == sorted(members)
        assert abs(inc["opened_ms"] * MS - t_cut) <= 5 * NS, "the incident starts when the power went, not on arrival"
        assert inc["resolved_ms"] * MS < t_restore + 10 * NS
        kinds = [i["kind"] for i in get(base, "/api/incidents", cookie)]
        assert kinds == ["power"], f"one incident, no per-camera alarms: {kinds}"
        wait_for(lambda: all(s == "recording" for s in states().values()), 30, what="map back to recording")
        assert node.popen.poll() is None

        def told() -> set[str]:
            return {m.event for m in list(announced) if m.incident_id == str(inc["id"])}

        wait_for(lambda: {"open", "close"} <= told(), 20, what="the incident announced on the bus")
        mine = [m for m in announced if m.incident_id == str(inc["id"])]
        assert mine[0].event == "open" and mine[-1].event == "close"
        assert mine[0].cause == "power" and mine[0].subject_id == feeder and set(mine[-1].cameras) == set(members)
    finally:
        stop(central)
        node.stop()
        outside.close()


def test_masks_hold_in_a_cluster(city_factory: Any, pg_url: str, nats_server: NatsServer, tmp_path: Path) -> None:
    """A masked camera in a cluster: the node records it masked, and the central node's live view (its own
    connection to the camera) is masked too: no frame shows the private area."""
    from camgrid.db.engine import make_engine, session_factory, unit_of_work
    from camgrid.db.migrate import upgrade
    from camgrid.privacy import service as masks
    from tests.privacy.test_privacy_masks_e2e import QUARTER, pattern_pixels

    env = {
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_BUS__URL": nats_server.url,
    }
    city = pg_city(city_factory(2, h265_every=0, sim_args=("--pattern-camera", "cam-0001"), extra_env=env), pg_url)
    engine = make_engine(pg_url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as s:
        masks.set_mask(
            session=s,
            audit=seed_log(engine, city.home),
            actor=SEED,
            camera_id="cam-0001",
            polygons=QUARTER,
            now_ns=time.time_ns(),
        )
    engine.dispose()
    node = start_node(city, "n1")
    central, base = start_central(city)
    try:
        cookie = login(base)
        wait_for(lambda: city.recording_since("cam-0001", 0), 40, what="the masked camera recording on the node")

        async def live(frames: int) -> bytes:
            chunks: list[bytes] = []
            async with websockets.connect(
                f"ws://{base[7:]}/api/live/cam-0001", additional_headers={"Cookie": cookie}
            ) as ws:
                while len(chunks) < frames + 1:
                    m = await asyncio.wait_for(ws.recv(), 15)
                    if isinstance(m, bytes):
                        chunks.append(m)
            return b"".join(chunks)

        clip = tmp_path / "central-live-masked.mp4"
        clip.write_bytes(asyncio.run(live(40)))
        assert decode_errors(clip) == ""
        counts = pattern_pixels(clip)
        assert len(counts) >= 40 and max(counts) == 0, counts
        wait_for(
            lambda: city.db("select path from segments where camera_id = 'cam-0001' and status = 'complete'"),
            20,
            what="a complete segment",
        )
        path = Path(city.db("select path from segments where camera_id = 'cam-0001' and status = 'complete'")[0][0])
        stored = pattern_pixels(path)
        assert stored and max(stored) == 0, "the node stores the camera masked"
    finally:
        stop(central)
        node.stop()


def test_a_restarted_central_node_knows_the_ongoing_outage(
    city_factory: Any, pg_url: str, nats_server: NatsServer
) -> None:
    """The central node restarts during a power cut: the dark cameras are not re-announced by their node, yet the
    outage is an open power incident again, starting when the power went."""
    env = {
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_BUS__URL": nats_server.url,
    }
    city = pg_city(city_factory(8, extra_env=env), pg_url)
    feeders: dict[str, list[str]] = {}
    for c in city.cameras():
        feeders.setdefault(c["feeder"], []).append(c["id"])
    feeder, members = max(feeders.items(), key=lambda kv: len(kv[1]))
    node = start_node(city, "n1")
    central, base = start_central(city)
    try:
        cookie = login(base)
        wait_for(lambda: get(base, "/api/cameras", cookie)["state"].count("recording") == 8, 60, what="recording")
        cut = city.fault("power_cut", feeder)
        t_cut = int(cut["t"] * NS)

        def open_power() -> dict[str, Any] | None:
            for inc in get(base, "/api/incidents?open=1", cookie):
                if inc["kind"] == "power" and inc["subject"] == feeder:
                    return dict(inc)
            return None

        first = wait_for(open_power, 30, what="the power incident")
        stop(central)
        central, base = start_central(city, add_user=False)
        cookie = login(base)
        again = wait_for(open_power, 30, what="the power incident after the restart")
        assert again["id"] != first["id"] and sorted(again["cameras"]) == sorted(members)
        assert abs(again["opened_ms"] * MS - t_cut) <= 5 * NS, "it starts when the power went, not at the restart"
        city.fault("power_restore", feeder)
        wait_for(lambda: open_power() is None, 40, what="the incident resolved")
    finally:
        stop(central)
        node.stop()
