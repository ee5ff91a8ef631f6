"""Persisting engine output, transitions and operator actions on a real (SQLite) database, migrated to 0002."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from health_city import cut, make_rows, site_cams
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.backends import db_url
from tests.seeding import SEED, seed_log

from camgrid.auditing import Actor
from camgrid.clock import NS_PER_S, FakeClock
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health import service
from camgrid.health.feed import IncidentFeed
from camgrid.health.incidents import CorrelationEngine
from camgrid.health.models import HealthTransition, IncidentAction
from camgrid.health.policy import HealthTracker, Observation
from camgrid.health.topology import build_topology
from camgrid.registry import service as registry
from camgrid.registry.models import Camera


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[object]:
    engine = make_engine(db_url(tmp_path / "h.db"))
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_engine_output_persists_with_members_suggestions_and_actions(factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = make_rows({"C011": {"feeder": "F2"}})
    topo = build_topology(rows)
    log = seed_log(factory.kw["bind"], tmp_path)
    with unit_of_work(factory) as session:
        registry.import_cameras(session=session, audit=log, actor=SEED, rows=rows, now_ns=1)
    engine = CorrelationEngine(topo)
    t0_ns = 1_700_000_000 * 10**9
    with unit_of_work(factory) as session:
        for e in sorted(cut(site_cams(0, 1, 2, 3), 100.0, None), key=lambda e: e.t):
            engine.camera_down(e.camera, e.t, e.reason)
            if e.t > 104.0:  # persist as the control room would, while the outage unfolds
                service.persist_records(session=session, records=engine.drain(), topo=topo, run_id="r1", t0_ns=t0_ns)
        engine.advance(200.0)
        service.persist_records(session=session, records=engine.drain(), topo=topo, run_id="r1", t0_ns=t0_ns)
    with unit_of_work(factory) as session:
        [inc] = service.list_incidents(session=session, open_only=True)
        assert (inc.kind, inc.subject, inc.n_members) == ("power", "F0", 16)
        assert inc.cameras == sorted(site_cams(0, 1, 2, 3))
        assert inc.opened_ns == t0_ns + 103_500_000_000
        [sug] = inc.suggestions
        assert (sug.camera_id, sug.field, sug.registry_value, sug.suggested_value) == ("C011", "feeder", "F2", "F0")
        service.acknowledge(session=session, incident_id=inc.id, actor="op1", t_ns=t0_ns + 1)
        service.acknowledge(session=session, incident_id=inc.id, actor="op2", t_ns=t0_ns + 2)
        service.comment(session=session, incident_id=inc.id, actor="op1", t_ns=t0_ns + 3, text="utility called")
    with unit_of_work(factory) as session:  # an audited action in a unit of its own (SQLite's write lock)
        service.decide_suggestion(
            session=session, audit=log, actor=Actor("op1"), suggestion_id=sug.id, accept=True, t_ns=t0_ns + 4
        )
    with unit_of_work(factory) as session:
        [inc] = service.list_incidents(session=session)
        assert inc.acknowledged_by == "op1"
        assert [a.action for a in inc.actions] == ["ack", "ack", "comment", "accept_suggestion"]
        assert inc.suggestions[0].status == "accepted"
        cam = session.get(Camera, "C011")
        assert cam is not None and cam.feeder_id == "F0" and cam.revision == 2
        with pytest.raises(ValueError, match="already accepted"):
            service.decide_suggestion(
                session=session, audit=log, actor=Actor("x"), suggestion_id=inc.suggestions[0].id, accept=False, t_ns=5
            )


def test_resolution_and_transitions_are_stored(factory) -> None:  # type: ignore[no-untyped-def]
    topo = build_topology(make_rows())
    engine = CorrelationEngine(topo)
    for e in sorted(cut(site_cams(5), 50.0, 400.0), key=lambda e: e.t):
        (engine.camera_down if e.down else engine.camera_up)(e.camera, e.t)
    engine.advance(1000.0)
    tracker = HealthTracker()
    tracker.observe("C050", 10, Observation(fps=25, bitrate_kbps=2000))
    tracker.observe("C050", 20, Observation(connection="unreachable"))
    with unit_of_work(factory) as session:
        assert service.persist_records(session=session, records=engine.drain(), topo=topo, run_id="r2") == 1
        assert service.record_transitions(session=session, transitions=tracker.transitions) == 2
    with unit_of_work(factory) as session:
        assert service.list_incidents(session=session, open_only=True) == []
        [inc] = service.list_incidents(session=session)
        assert inc.kind == "site" and inc.resolved_ns is not None
        got = session.execute(select(HealthTransition.new_state, HealthTransition.reason)).all()
        assert [tuple(r) for r in got] == [("online", None), ("offline", "unreachable")]
        with pytest.raises(ValueError):
            service.comment(session=session, incident_id=inc.id, actor="op", t_ns=1, text="  ")
        assert _actions(session) == 0


def _actions(session: Session) -> int:
    return len(session.scalars(select(IncidentAction)).all())


def test_live_feed_stores_a_power_incident_within_latency(factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(start_ns=1_800_000_000 * NS_PER_S)
    topo = build_topology(make_rows())
    feed = IncidentFeed(topo=topo, factory=factory, clock=clock, run_id="live-test")
    start = clock.wall_ns()
    events = sorted(cut(site_cams(4, 5, 6, 7), 0.0, None), key=lambda e: e.t)
    last_seen = max(e.t for e in events)
    stored_at = None
    for step in range(40):  # the feed is pumped every 0.5 s, as `run` does
        now = step * 0.5
        for e in events:
            if now - 0.5 < e.t <= now:
                feed.on_state(e.camera, False, "unreachable", "", start + round(e.t * NS_PER_S))
        feed.on_state("NOT-IN-REGISTRY", False, "x", "", start)
        clock.advance(0.5 if step else 0.0)
        feed.pump()
        with unit_of_work(factory) as session:
            if stored_at is None and service.list_incidents(session=session, open_only=True):
                stored_at = now
    assert stored_at is not None and stored_at - last_seen <= 5.0
    with unit_of_work(factory) as session:
        [inc] = service.list_incidents(session=session, open_only=True)
    assert (inc.kind, inc.subject, inc.n_members) == ("power", "F1", 16)
    assert feed.unknown_cameras == 40
