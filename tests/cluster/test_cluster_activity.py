"""A camera's activity levels in a cluster (docs/design/cluster.md, "Activity across nodes"): they live on the node
that recorded it; the central node's ``GET /api/cameras/{id}/activity`` asks that node (HTTPS, its own media
credential) and merges by second; a node that does not answer leaves its part unknown, never a 500.

Real parts for the end-to-end test: PostgreSQL, the simulator, one ``camgrid node`` and a central
``camgrid serve --no-record`` (the pattern of test_cluster_playback.py).
"""

from __future__ import annotations

import signal
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from camgrid.cluster.media import MediaError, Remote, node_credential
from camgrid.cluster.models import Node
from camgrid.config import ClusterConfig
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.motion.activity_nodes import ClusterActivityReader, across_nodes, merge
from camgrid.motion.activity_store import ActivitySeries, ActivityStore
from camgrid.storage.models import Segment
from tests.backends import db_url
from tests.cluster.conftest import pg_city
from tests.cluster.test_cluster_playback import PASSWORD, SECRET, _login, _start_central, _start_node
from tests.conftest import free_port, wait_for

MS = 1_000_000
NS = 1_000_000_000


def test_merge_by_second_recorded_beats_no_data() -> None:
    """A failover at second 104: the old node has 100..104 (then nothing), the new one 104..110; at 104 both
    recorded (the overlap) and the higher level stands; seconds outside the range are ignored."""
    old = ActivitySeries(98, bytes([9, 9, 65, 70, 80, 90, 40, 0, 0, 0, 0, 0]))  # 98..110
    new = ActivitySeries(104, bytes([60, 65, 200, 1, 0, 65, 99]))  # 104..111
    got = merge(100, 110, [old, new])
    assert got.start_s == 100
    assert list(got.levels) == [65, 70, 80, 90, 60, 65, 200, 1, 0, 65]
    assert merge(100, 103, []).levels == bytes(3), "no part: no data"
    assert list(merge(100, 103, [ActivitySeries(0, bytes([7] * 50))]).levels) == [0, 0, 0], "a part elsewhere"


def test_across_nodes_a_failover_and_a_silent_node(tmp_path: Path) -> None:
    """The index says n1 recorded 100..105 then n2 from 104 (still writing), n3 (serving nothing) 120..122; n2 does
    not answer. The answer: n1's levels, zeros for n2's part and n3's, both listed unknown with their reasons; the
    own node's segments are read from the local series, never asked for."""
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    rows: list[tuple[str, int, int, str]] = [
        ("n1", 100, 103, "complete"),
        ("n1", 103, 105, "complete"),  # joined with the one before: one request
        ("n2", 104, 110, "writing"),  # up to the range's end
        ("n3", 120, 122, "complete"),
        ("me", 0, 200, "complete"),
    ]
    with Session(engine) as session:
        session.add_all([Node(id="n1", address="127.0.0.1:1"), Node(id="n2", address="127.0.0.1:2"), Node(id="n3")])
        for k, (node, a, b, status) in enumerate(rows):
            session.add(
                Segment(
                    camera_id="cam", start_ns=a * NS, end_ns=b * NS, path=f"/r/{k}.mp4", codec="h264",
                    status=status, node_id=node,
                )
            )  # fmt: skip
        session.commit()
        asked: list[tuple[str, int, int]] = []

        def fetch(remote: Remote, camera: str, a: int, b: int) -> bytes:
            asked.append((remote.node_id, a, b))
            if remote.node_id == "n2":
                raise MediaError(503, "node n2 is unreachable (127.0.0.1:2: ConnectTimeout)")
            return bytes(range(60, 60 + b - a))

        local = ActivitySeries(98, bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0]))
        got = across_nodes(
            session=session, local=local, camera_id="cam", own_node_id="me", cfg=ClusterConfig(), fetch=fetch
        )
    engine.dispose()
    assert sorted(asked) == [("n1", 100, 105), ("n2", 104, 123)]
    assert list(got.series.levels) == [0, 0, 60, 61, 62, 63, 64] + [0] * 16 + [9, 0]
    assert [(u.node_id, u.start_s, u.end_s) for u in got.unknown] == [("n2", 104, 123), ("n3", 120, 122)]
    assert "unreachable" in got.unknown[0].reason and "cluster.address" in got.unknown[1].reason


def test_central_activity_route_returns_the_levels_a_node_recorded(city_factory: Any, pg_url: str) -> None:
    env = {
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_RECORDER__SEGMENT_SECONDS": "4",
        "CAMGRID_CLUSTER__SETTLE_S": "0.5",
        "CAMGRID_CLUSTER__MEDIA_SECRET": SECRET,
        "CAMGRID_MOTION__ACTIVITY_FLUSH_S": "1",
        "CAMGRID_NEW_PASSWORD": PASSWORD,
    }
    city = pg_city(city_factory(1, h265_every=0, extra_env=env), pg_url)
    city.env["CAMGRID_CLUSTER__TLS_CA"] = str(city.home / "keys" / "cluster-ca.pem")
    city.run("users", "add", "op", "--role", "operator")
    address = f"127.0.0.1:{free_port()}"
    node = _start_node(city, "n1", address)
    central, base = _start_central(city)
    store = ActivityStore(city.home / "node-n1" / "activity")

    def complete() -> list[Any]:
        return city.db(
            "select camera_id, start_ns, end_ns from segments where node_id = 'n1' and status = 'complete' "
            "order by start_ns"
        )

    wait_for(lambda: len(complete()) >= 3, 40, what="three complete segments on the node")
    camera, start_ns, end_ns = complete()[0]  # its seconds are closed and written by now (flushed every second)
    start_s, end_s = start_ns // NS, -(-end_ns // NS)
    wait_for(
        lambda: sum(v > 0 for v in store.read(camera_id=camera, start_s=start_s, end_s=end_s).levels) >= 3,
        30,
        what="the node's levels written",
    )
    kept = store.read(camera_id=camera, start_s=start_s, end_s=end_s).levels
    assert not list((city.home / "activity").glob("*/*/*.lv")), "the central node itself keeps no levels"

    op = _login(base, "op")
    params = {"from_ms": start_ns // MS, "to_ms": end_ns // MS}
    r = op.get(f"/api/cameras/{camera}/activity", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["start_s"] == start_s and body["unknown"] == []
    assert bytes(body["levels"]) == kept, "the central answer is the node's levels, second by second"

    # Motion search's reader on the central node: the same levels (an unrelated own node id, no local store).
    engine = create_engine(pg_url)
    try:
        with Session(engine) as session:
            reader = ClusterActivityReader(
                session=session,
                store=None,
                own_node_id="central",
                cfg=ClusterConfig(media_secret=SECRET, tls_ca=city.env["CAMGRID_CLUSTER__TLS_CA"]),
            )
            assert reader.read(camera_id=camera, start_s=start_s, end_s=end_s).levels == kept
    finally:
        engine.dispose()

    # The node's route wants its credential, like its segments.
    ca = ssl.create_default_context(cafile=city.env["CAMGRID_CLUSTER__TLS_CA"])
    url = f"https://{address}/activity/{camera}"
    q = {"start_s": start_s, "end_s": end_s}
    assert httpx.get(url, params=q, verify=ca).status_code == 401
    other = {"Authorization": f"Bearer {node_credential(SECRET, 'n2')}"}
    assert httpx.get(url, params=q, verify=ca, headers=other).status_code == 401
    good = {"Authorization": f"Bearer {node_credential(SECRET, 'n1')}"}
    assert httpx.get(url, params={"start_s": 0, "end_s": 10**6}, verify=ca, headers=good).status_code == 400

    # The node dies: its part is unknown (named, no data), answered fast, never a 500.
    node.popen.send_signal(signal.SIGKILL)
    node.popen.wait(10)
    t = time.monotonic()
    r = op.get(f"/api/cameras/{camera}/activity", params=params)
    assert r.status_code == 200, r.text
    assert time.monotonic() - t < 20, "a dead node does not hold the answer"  # a safety net, not a timing
    body = r.json()
    assert set(body["levels"]) == {0}
    assert body["unknown"] and {u["node"] for u in body["unknown"]} == {"n1"}
    assert body["unknown"][0]["start_s"] == start_s and body["unknown"][-1]["end_s"] == end_s
    assert "unreachable" in body["unknown"][0]["reason"]
    central.stop()
    assert "Traceback" not in central.text(), central.text()[-3000:]
