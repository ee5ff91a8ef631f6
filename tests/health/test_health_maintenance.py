"""Maintenance mode (docs/design/health-incidents.md, "Maintenance"): a camera an operator took out of service opens
no incident, is neither a member nor a survivor of its feeder's, does not count in its groups' shares, and the
health state machine says ``maintenance``. The engine is driven directly; the live path goes through the real
registry service and database, with the injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from health_city import make_rows, site_cams
from tests.backends import db_url
from tests.seeding import SEED, seed_log

from camgrid.audit.log import AuditLog
from camgrid.clock import NS_PER_S, FakeClock
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import service
from camgrid.health.feed import IncidentFeed
from camgrid.health.incidents import CorrelationEngine
from camgrid.health.models import HealthTransition
from camgrid.health.topology import Topology
from camgrid.health.wiring import LiveIncidents, topology_from_session
from camgrid.registry import service as registry
from camgrid.vocabulary import HealthState

T0 = 1_800_000_000.0


def _dark(engine: CorrelationEngine, cams: list[str], t: float) -> None:
    for i, c in enumerate(cams):
        engine.camera_down(c, t + i * 0.1, "unreachable")


def _opened(engine: CorrelationEngine) -> list[tuple[str, str]]:
    return [(i.kind, i.subject) for i in engine.incidents if i.merged_into is None]


def test_cameras_in_maintenance_leave_their_feeders_share(topo: Topology) -> None:
    """Twelve of F0's sixteen cameras are under repair and the other four (site S03) go dark: what is left of the
    feeder is dark, so it is a power cut. Counted in the share (the old engine), 4/16 is below the power ratio and
    one site dark among four is a site incident."""
    engine = CorrelationEngine(topo)
    for c in site_cams(0, 1, 2):
        engine.set_maintenance(c, True, T0)
    _dark(engine, site_cams(3), T0 + 1)
    engine.advance(T0 + 60)
    assert _opened(engine) == [("power", "F0")]
    [inc] = engine.incidents
    assert inc.size == 4 and not inc.survivors


def test_a_camera_in_maintenance_going_dark_opens_nothing(topo: Topology) -> None:
    engine = CorrelationEngine(topo)
    engine.set_maintenance("C000", True, T0)
    engine.set_maintenance("C000", True, T0)  # twice: counted once
    _dark(engine, ["C000"], T0 + 1)
    engine.advance(T0 + 600)
    assert engine.incidents == []
    engine.set_maintenance("C000", False, T0 + 700)
    engine.set_maintenance("C000", False, T0 + 700)
    assert engine._maint_count["power"] == [0, 0, 0]


@pytest.fixture
def city(tmp_path: Path) -> Iterator[tuple[Any, AuditLog]]:
    db = make_engine(db_url(tmp_path / "m.db"))
    upgrade(db)
    factory = session_factory(db)
    log = seed_log(db, tmp_path)
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=make_rows(), now_ns=1)
    yield factory, log
    db.dispose()


def _maintenance(city: tuple[Any, AuditLog], camera_id: str, on: bool, now_ns: int) -> None:
    factory, log = city
    with unit_of_work(factory) as s:
        registry.set_maintenance(session=s, audit=log, actor=SEED, camera_id=camera_id, on=on, note="", now_ns=now_ns)


def _pump(live: LiveIncidents, clock: FakeClock, seconds: float) -> None:
    for _ in range(int(seconds / 0.5)):
        clock.advance(0.5)
        live.feed.pump()


def _states(factory: Any, camera_id: str) -> list[tuple[str, str]]:
    with unit_of_work(factory) as s:
        rows = s.query(HealthTransition).filter_by(camera_id=camera_id).order_by(HealthTransition.id)
        return [(t.old_state, t.new_state) for t in rows]


def test_live_feeder_cut_leaves_out_the_camera_under_repair(city: tuple[Any, AuditLog]) -> None:
    factory, _ = city
    clock = FakeClock(start_ns=int(T0) * NS_PER_S)
    live = LiveIncidents(factory=factory, clock=clock)
    repaired, *others = site_cams(4, 5, 6, 7)  # feeder F1
    for c in (repaired, *others):
        live.adapter(c, "recording", "", clock.wall_ns())
    _pump(live, clock, 1)
    since = clock.wall_ns()
    _maintenance(city, repaired, True, since)
    _pump(live, clock, 1)
    assert live.feed.maintenance == {repaired: since}
    for i, c in enumerate((repaired, *others)):  # the whole feeder loses power, the camera under repair too
        live.adapter(c, "offline", "unreachable", clock.wall_ns() + i * 1_000_000)
    _pump(live, clock, 10)
    with unit_of_work(factory) as s:
        [inc] = service.list_incidents(session=s, open_only=True)
        inc = service.get_incident(session=s, incident_id=inc.id)
    assert (inc.kind, inc.subject) == ("power", "F1")
    assert sorted(inc.cameras) == sorted(others) and inc.n_members == len(others)
    [kept] = live.feed.engine.incidents
    assert live.feed.topo.cam_index[repaired] not in kept.survivors and kept.size == len(others)
    assert _states(factory, repaired) == [
        (HealthState.UNKNOWN, HealthState.ONLINE),
        (HealthState.ONLINE, HealthState.MAINTENANCE),
    ]
    assert live.feed.tracker.states[repaired] == HealthState.MAINTENANCE


def test_live_camera_in_maintenance_going_dark_opens_nothing_until_it_is_back(city: tuple[Any, AuditLog]) -> None:
    """Dark under repair: no incident. Back in service and still dark: judged then, as any camera going dark."""
    factory, _ = city
    clock = FakeClock(start_ns=int(T0) * NS_PER_S)
    live = LiveIncidents(factory=factory, clock=clock)
    cam = "C000"
    live.adapter(cam, "recording", "", clock.wall_ns())
    _maintenance(city, cam, True, clock.wall_ns())
    _pump(live, clock, 1)
    live.adapter(cam, "offline", "unreachable", clock.wall_ns())
    _pump(live, clock, 60)
    with unit_of_work(factory) as s:
        assert service.list_incidents(session=s) == []
    assert live.feed.tracker.states[cam] == HealthState.MAINTENANCE
    _maintenance(city, cam, False, clock.wall_ns())
    _pump(live, clock, 30)
    with unit_of_work(factory) as s:
        [inc] = service.list_incidents(session=s, open_only=True)
    assert (inc.kind, inc.subject) == ("camera", cam)
    assert live.feed.tracker.states[cam] == HealthState.OFFLINE


def test_an_unreadable_registry_keeps_the_windows_known_and_the_feed_judging(city: tuple[Any, AuditLog]) -> None:
    """The maintenance read fails (the fault injected: a database restart between pumps): the feed keeps the camera
    in maintenance and still judges the others; it neither stops nor forgets the window."""
    factory, _ = city
    clock = FakeClock(start_ns=int(T0) * NS_PER_S)
    since = clock.wall_ns()
    reads = 0

    def flaky() -> dict[str, int]:
        nonlocal reads
        reads += 1
        if reads > 1:
            raise ConnectionError("database restarting")
        return {"C000": since}

    with unit_of_work(factory) as s:
        topo = topology_from_session(s)
    feed = IncidentFeed(topo=topo, factory=factory, clock=clock, maintenance=flaky)
    feed.pump()
    for i, c in enumerate(site_cams(0)):  # the whole site goes dark, the camera under repair too
        feed.on_state(c, False, "unreachable", "", clock.wall_ns() + i)
    for _ in range(20):
        clock.advance(0.5)
        feed.pump()
    assert reads == 21 and feed.maintenance == {"C000": since}
    with unit_of_work(factory) as s:
        [inc] = service.list_incidents(session=s, open_only=True)
    assert (inc.kind, inc.subject) == ("site", "S00") and sorted(inc.cameras) == site_cams(0)[1:]
