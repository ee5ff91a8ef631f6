"""Lease policy (tables) and lease service on a real PostgreSQL (docs/design/cluster.md, "Leases")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.cluster import policy, service
from camgrid.cluster.models import Lease
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Gap

NS = 1_000_000_000
TTL = 5 * NS
T0 = 1_800_000_000 * NS


@pytest.mark.parametrize(
    ("capacity", "total", "live", "share"),
    [
        (100, 9, [100, 100, 100], 3),
        (100, 10, [100, 100, 100], 4),  # rounded up: shares cover every camera
        (100, 9, [100, 100], 5),  # a node died: the others take more
        (2, 900, [2, 3], 2),  # never above its capacity
        (100, 0, [100], 0),
        (50, 90, [50, 100], 30),  # in proportion to capacity
        (10, 90, [], 10),
    ],
)
def test_fair_share(capacity: int, total: int, live: list[int], share: int) -> None:
    assert policy.fair_share(capacity=capacity, total_cameras=total, live_capacities=live) == share


@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=20), st.integers(0, 5000))
def test_shares_of_live_nodes_cover_the_city_when_capacity_allows(caps: list[int], total: int) -> None:
    shares = [policy.fair_share(capacity=c, total_cameras=total, live_capacities=caps) for c in caps]
    assert sum(shares) >= min(total, sum(caps))
    assert all(s <= c for s, c in zip(shares, caps, strict=True))


@pytest.mark.parametrize(("target", "held", "n"), [(5, 2, 3), (5, 5, 0), (3, 7, 0)])
def test_to_take_never_gives_back(target: int, held: int, n: int) -> None:
    assert policy.to_take(target=target, held=held) == n


def test_districts_and_rank() -> None:
    d = policy.parse_districts(" D1, ,D2 ")
    assert d == frozenset({"D1", "D2"})
    assert policy.affinity_rank("D1", d) == 0 and policy.affinity_rank("D3", d) == 1


@pytest.fixture(params=["postgresql", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    """The same lease code on both databases (SQLite: a single machine running `camgrid node`)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    seed(engine)
    yield engine, session_factory(engine)
    engine.dispose()


def seed(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(District), [{"id": "D1", "name": "one"}, {"id": "D2", "name": "two"}])
        conn.execute(insert(Feeder), [{"id": "F-01", "name": "f"}])
        conn.execute(insert(Uplink), [{"id": "U-01", "name": "u"}])
        conn.execute(
            insert(Site),
            [{"id": "S-001", "lat": 0.0, "lon": 0.0, "district_id": "D1", "feeder_id": "F-01", "uplink_id": "U-01"}],
        )
        conn.execute(
            insert(Camera),
            [
                {
                    "id": f"C{i:02d}",
                    "name": f"c{i}",
                    "lat": 0.0,
                    "lon": 0.0,
                    "district_id": "D1" if i % 3 == 0 else "D2",
                    "site_id": "S-001",
                    "feeder_id": "F-01",
                    "uplink_id": "U-01",
                    "rtsp_url": f"rtsp://x/{i}",
                }
                for i in range(12)
            ],
        )


def beat(factory: sessionmaker[Session], node: str, now: int, *, count: int = 100, districts: str = "") -> set[str]:
    with unit_of_work(factory) as s:
        service.heartbeat(s, node_id=node, now_ns=now)
        held = service.renew(s, node_id=node, now_ns=now, ttl_ns=TTL)
        taken = service.take(s, node_id=node, districts=districts, count=count, now_ns=now, ttl_ns=TTL)
    return held | {t.camera_id for t in taken}


def test_affinity_capacity_expiry_and_release(db: tuple[Engine, sessionmaker[Session]]) -> None:
    _engine, factory = db
    with unit_of_work(factory) as s:
        for n in ("a", "b"):
            service.register(s, node_id=n, capacity=100, districts="", address="", now_ns=T0)
    a = beat(factory, "a", T0, count=4, districts="D1")
    assert a == {"C00", "C03", "C06", "C09"}, "cameras of its district first"
    b = beat(factory, "b", T0 + NS, count=100)
    assert a.isdisjoint(b) and len(a | b) == 12
    # b stops heartbeating; a renews and, after the TTL, takes b's cameras with a gap from b's last heartbeat.
    with unit_of_work(factory) as s:
        s.add(Gap(camera_id="C01", start_ns=T0 + NS // 2, end_ns=None, reason="unreachable", node_id="b"))
    assert beat(factory, "a", T0 + 3 * NS, count=0) == a, "not expired yet: nothing to take"
    later = T0 + NS + TTL + NS
    with unit_of_work(factory) as s:
        taken = service.take(s, node_id="a", districts="", count=100, now_ns=later, ttl_ns=TTL)
    assert {t.camera_id for t in taken} == b
    assert all(t.reason == "recorder_not_running" and t.start_ns == T0 + NS and t.previous_node == "b" for t in taken)
    with unit_of_work(factory) as s:
        closed = s.execute(select(Gap.end_ns).where(Gap.camera_id == "C01")).scalars().all()
        assert closed == [T0 + NS], "the gap b left open ends where the new one starts"
        assert service.holders(s) == dict.fromkeys([f"C{i:02d}" for i in range(12)], "a")
        epochs = dict(s.execute(select(Lease.camera_id, Lease.epoch)).all())
    assert epochs["C01"] == 2 and epochs["C00"] == 1
    # b returns: renew finds nothing it holds, it takes nothing that a holds.
    assert beat(factory, "b", later + NS) == set()
    with unit_of_work(factory) as s:
        assert service.release(s, node_id="a") == 12
        assert service.holders(s) == {}


def test_concurrent_takers_never_share_a_camera(pg_url: str) -> None:
    """Four nodes take at once on PostgreSQL (SKIP LOCKED): every camera has exactly one holder."""
    factory = session_factory(make_engine(pg_url))
    seed(factory.kw["bind"])
    results: dict[str, set[str]] = {}
    barrier = threading.Barrier(4)

    def run(node: str) -> None:
        with unit_of_work(factory) as s:
            service.register(s, node_id=node, capacity=100, districts="", address="", now_ns=T0)
        barrier.wait()
        got: set[str] = set()
        for k in range(4):
            got = beat(factory, node, T0 + k * NS, count=2)
        results[node] = got

    threads = [threading.Thread(target=run, args=(f"n{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    seen: list[str] = [c for got in results.values() for c in got]
    assert len(seen) == len(set(seen)) == 12, results
    with unit_of_work(factory) as s:
        assert service.holders(s) == {c: n for n, got in results.items() for c in got}


@pytest.mark.parametrize(
    ("capacity", "capacity_mbps", "camera_mbps", "budget"),
    [(100, 0.0, 4.0, 400.0), (100, 250.0, 4.0, 250.0), (3, 0.0, 2.5, 7.5)],
)
def test_budget_mbps(capacity: int, capacity_mbps: float, camera_mbps: float, budget: float) -> None:
    assert policy.budget_mbps(capacity=capacity, capacity_mbps=capacity_mbps, camera_mbps=camera_mbps) == budget


@pytest.mark.parametrize(
    ("budget", "total", "live", "share"),
    [
        (100.0, 90.0, [100.0, 100.0, 100.0], 30.0),
        (100.0, 90.0, [100.0, 200.0], 30.0),  # in proportion to the budget
        (10.0, 900.0, [10.0, 100.0], 10.0),  # never above its own budget
        (100.0, 0.0, [100.0], 0.0),
        (50.0, 40.0, [], 40.0),
    ],
)
def test_fair_share_mbps(budget: float, total: float, live: list[float], share: float) -> None:
    assert policy.fair_share_mbps(budget=budget, total_mbps=total, live_budgets=live) == pytest.approx(share)


@pytest.mark.parametrize(
    ("cands", "held", "target", "budget", "max_count", "picked"),
    [
        ([("a", 4.0), ("b", 4.0), ("c", 4.0)], 0.0, 8.0, 100.0, 10, ["a", "b"]),
        ([("a", 4.0), ("b", 4.0), ("c", 4.0)], 0.0, 9.0, 100.0, 10, ["a", "b", "c"]),  # overshoot covers the city
        ([("a", 4.0), ("b", 4.0), ("c", 4.0)], 0.0, 9.0, 9.0, 10, ["a", "b"]),  # ... but never the budget
        ([("big", 20.0), ("s1", 2.0), ("s2", 2.0)], 5.0, 9.0, 10.0, 10, ["s1", "s2"]),  # too heavy: a lighter one
        ([("a", 1.0), ("b", 1.0), ("c", 1.0)], 0.0, 50.0, 100.0, 2, ["a", "b"]),  # camera capacity left
        ([("a", 1.0)], 8.0, 8.0, 100.0, 10, []),
    ],
)
def test_pick_by_load(
    cands: list[tuple[str, float]], held: float, target: float, budget: float, max_count: int, picked: list[str]
) -> None:
    got = policy.pick_by_load(cands, held_mbps=held, target_mbps=target, budget=budget, max_count=max_count)
    assert got == picked


@given(
    st.lists(st.floats(0.1, 20.0), min_size=0, max_size=40),
    st.floats(0.0, 50.0),
    st.floats(0.0, 200.0),
    st.floats(1.0, 200.0),
)
def test_pick_by_load_never_exceeds_the_budget(mbps: list[float], held: float, target: float, budget: float) -> None:
    cands = [(f"c{i}", m) for i, m in enumerate(mbps)]
    got = policy.pick_by_load(cands, held_mbps=held, target_mbps=target, budget=budget, max_count=1000)
    load = held + sum(dict(cands)[c] for c in got)
    assert not got or load <= budget + 1e-6
    if load < target:  # short of the target: every camera left out would not fit
        left = [m for c, m in cands if c not in got]
        assert all(load + m > budget - 1e-6 for m in left) or not left


def test_take_by_bitrate(db: tuple[Engine, sessionmaker[Session]]) -> None:
    """A node declared in Mbit/s takes cameras at their measured bitrate (unknown ones at the assumed one)."""
    _engine, factory = db
    with unit_of_work(factory) as s:
        service.register(s, node_id="a", capacity=100, capacity_mbps=10.0, districts="", address="", now_ns=T0)
        service.register(s, node_id="b", capacity=100, districts="", address="", now_ns=T0)  # 100 x 1 Mbit/s
        service.ensure_lease_rows(s)
        assert service.city_load_mbps(s, camera_mbps=1.0) == pytest.approx(12.0)
        budgets = service.live_budgets(s, now_ns=T0, ttl_ns=TTL, camera_mbps=1.0)
        assert budgets == {"a": 10.0, "b": 100.0}
        load = service.LoadTarget(held_mbps=0.0, target_mbps=6.0, budget_mbps=10.0, camera_mbps=1.0)
        taken = service.take(s, node_id="a", districts="", count=100, now_ns=T0, ttl_ns=TTL, load=load)
    assert [t.camera_id for t in taken] == [f"C{i:02d}" for i in range(6)]
    with unit_of_work(factory) as s:
        service.set_bitrates(s, node_id="a", mbps={"C00": 3.0, "C01": 3.0, "C07": 9.0})  # C07 is not a's: ignored
        assert service.held_load_mbps(s, node_id="a", camera_mbps=1.0) == pytest.approx(10.0)
        assert service.city_load_mbps(s, camera_mbps=1.0) == pytest.approx(16.0)
        mbps = dict(s.execute(select(Lease.camera_id, Lease.mbps)).all())
    assert mbps["C07"] == 0.0
    with unit_of_work(factory) as s:
        load = service.LoadTarget(held_mbps=10.0, target_mbps=12.0, budget_mbps=10.0, camera_mbps=1.0)
        assert service.take(s, node_id="a", districts="", count=100, now_ns=T0, ttl_ns=TTL, load=load) == []


def test_node_declared_in_mbps_takes_by_measured_bitrate(city_factory: Any, pg_url: str) -> None:
    """`camgrid node` with cluster.capacity_mbps: unmeasured cameras count at cluster.camera_mbps; the node stores
    what it measures and takes more cameras as real (lower) bitrates replace the assumed ones, never above its
    budget."""
    from tests.cluster.conftest import pg_city
    from tests.cluster.test_cluster_failover import CLUSTER_ENV, holders, start_node
    from tests.conftest import wait_for

    budget = 10.0
    env = {
        **CLUSTER_ENV,
        "CAMGRID_DATABASE__URL": pg_url,
        "CAMGRID_CLUSTER__CAPACITY_MBPS": str(budget),
        "CAMGRID_CLUSTER__CAMERA_MBPS": "4",
    }
    city = pg_city(city_factory(6, extra_env=env), pg_url)
    node = start_node(city, "n1")
    try:
        wait_for(lambda: len(holders(city)) == 2, 30, what="two cameras at the assumed 4 Mbit/s")
        time.sleep(3.0)
        assert len(holders(city)) == 2, "a third unmeasured camera would exceed the 10 Mbit/s budget"

        def measured() -> list[tuple[str, str | None, float]]:
            return [(str(c), n, float(m)) for c, n, m in city.db("select camera_id, node_id, mbps from camera_leases")]

        first = set(holders(city))
        wait_for(lambda: all(m > 0 for c, _n, m in measured() if c in first), 40, what="measured bitrates")
        rates = [m for c, _n, m in measured() if c in first]
        assert all(0.01 < m < 4.0 for m in rates), rates  # the simulator's streams are well under 4 Mbit/s
        wait_for(lambda: len(holders(city)) > 2, 30, what="more cameras once real bitrates are known")
        time.sleep(12.0)
        rows = measured()
        load = sum(m if m > 0 else 4.0 for _c, n, m in rows if n == "n1")
        assert load <= budget + 1e-6, rows
        assert node.popen.poll() is None
    finally:
        node.stop()
