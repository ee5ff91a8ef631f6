"""Lease policy (tables) and lease service on a real PostgreSQL (docs/design/cluster.md, "Leases")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

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
