"""Live wiring (docs/design/health-incidents.md, "Live wiring"): recorder states -> engine inputs (unknown is not
down), topology from the stored registry, incident messages pushed to the control room's queues, outside evidence."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from health_city import make_rows, site_cams
from tests.backends import db_url
from tests.seeding import SEED, seed_log

from camgrid.clock import NS_PER_S, FakeClock
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health.models import HealthTransition
from camgrid.health.policy import Observation
from camgrid.health.wiring import (
    LiveIncidents,
    RecorderAdapter,
    incident_message,
    observation_of,
    recorder_state_is_up,
)
from camgrid.registry import service as registry


@pytest.mark.parametrize(
    ("state", "reason", "up"),
    [
        ("recording", "", True),
        ("offline", "unreachable", False),
        ("offline", "stalled", False),
        ("offline", "auth_refused", False),
        ("offline", "disk_full", False),
        ("offline", "recorder_not_running", None),
        ("offline", "starting", None),
        ("planned", "", None),
    ],
)
def test_recorder_state_table(state: str, reason: str, up: bool | None) -> None:
    assert recorder_state_is_up(state, reason) is up


class _Sink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, str, int]] = []
        self.observed: list[tuple[str, int, Observation]] = []

    def on_observation(self, camera_id: str, at_ns: int, obs: Observation) -> None:
        self.observed.append((camera_id, at_ns, obs))

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        self.calls.append((camera_id, up, reason, at_ns))


def test_adapter_forwards_changes_only() -> None:
    sink = _Sink()
    adapter = RecorderAdapter(sink)  # type: ignore[arg-type]
    adapter("c1", "offline", "starting", 1)  # unknown: ignored
    adapter("c1", "recording", "", 2)  # first sight: nothing changed
    adapter("c1", "offline", "stalled", 3)
    adapter("c1", "offline", "unreachable", 4)  # the reason changed, still down: not a new change
    adapter("c1", "offline", "recorder_not_running", 5)
    adapter("c1", "recording", "", 6)
    adapter("c2", "offline", "unreachable", 7)
    assert sink.calls == [("c1", False, "stalled", 3), ("c1", True, "", 6), ("c2", False, "unreachable", 7)]
    assert len(sink.observed) == 7  # the health state machine sees everything


@pytest.mark.parametrize(
    ("state", "reason", "obs"),
    [
        ("recording", "", Observation()),
        ("offline", "auth_refused", Observation(connection="auth_refused")),  # the gap reason as is: one spelling
        ("offline", "stalled", Observation(connection="stalled")),
        ("offline", "starting", Observation(recorder_running=False)),
        ("offline", "recorder_not_running", Observation(recorder_running=False)),
    ],
)
def test_observation_table(state: str, reason: str, obs: Observation) -> None:
    assert observation_of(state, reason) == obs


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(db_url(tmp_path / "w.db"))
    upgrade(engine)
    f = session_factory(engine)
    with unit_of_work(f) as s:
        registry.import_cameras(session=s, audit=seed_log(engine, tmp_path), actor=SEED, rows=make_rows(), now_ns=1)
    yield f
    engine.dispose()


class _Recorder:
    def __init__(self) -> None:
        self.state_listeners: list[Any] = []

    def add_state_listener(self, listener: Any) -> None:
        self.state_listeners.append(listener)


def test_live_incidents_push_one_power_incident(factory: Any) -> None:
    clock = FakeClock(start_ns=1_800_000_000 * NS_PER_S)
    live = LiveIncidents(factory=factory, clock=clock)
    assert live.feed.topo.size == 48 and "F1" in live.feed.topo.groups["power"].index
    rec = _Recorder()
    loop = asyncio.new_event_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()
    try:
        live.attach(rec, loop, lambda msgs: [queue.put_nowait(m) for m in msgs])
        [listener] = rec.state_listeners
        start = clock.wall_ns()
        cams = site_cams(4, 5, 6, 7)  # feeder F1
        for c in cams:
            listener(c, "recording", "", start)
        for i, c in enumerate(cams):
            listener(c, "offline", "unreachable", start + i * 100_000_000)
        for _ in range(14):  # 7 s of pumps every 0.5 s
            clock.advance(0.5)
            live.feed.pump()
        loop.run_until_complete(asyncio.sleep(0))  # let call_soon_threadsafe callbacks run
        msgs = [json.loads(queue.get_nowait()) for _ in range(queue.qsize())]
        assert msgs and all(m["type"] == "incident" for m in msgs)
        last = msgs[-1]
        assert (last["kind"], last["subject"], last["cameras"]) == ("power", "F1", sorted(cams))
        assert last["resolved_ms"] is None and last["opened_ms"] > 0 and "opened_ns" not in last  # the API speaks ms
        # power returns
        for c in cams:
            listener(c, "recording", "", clock.wall_ns())
        clock.advance(0.5)
        live.feed.pump()
        loop.run_until_complete(asyncio.sleep(0))
        done = json.loads(queue.get_nowait())
        assert done["id"] == last["id"] and done["resolved_ms"] is not None
        with unit_of_work(factory) as s:  # every health transition stored with its time and reason
            trs = [
                (t.camera_id, t.old_state, t.new_state, t.reason)
                for t in s.query(HealthTransition).order_by(HealthTransition.id)
            ]
        c = cams[0]
        assert [t[1:] for t in trs if t[0] == c] == [
            ("unknown", "online", None),
            ("online", "offline", "unreachable"),
            ("offline", "online", None),
        ]
        assert len(trs) == 3 * len(cams)
    finally:
        loop.close()


def test_evidence_reaches_the_engine(factory: Any) -> None:
    clock = FakeClock(start_ns=1_800_000_000 * NS_PER_S)
    live = LiveIncidents(factory=factory, clock=clock)
    t = clock.wall_ns()
    live.feed.on_evidence("feeder", "F2", True, t)
    live.feed.on_evidence("ups", "S00", True, t)
    live.feed.pump()
    notices = live.feed.engine._notices
    f2 = live.feed.topo.groups["power"].index["F2"]
    assert f2 in notices and notices[f2][0] == t / NS_PER_S
    live.feed.on_evidence("feeder", "F2", False, t + 60 * NS_PER_S)
    live.feed.on_evidence("ups", "S00", False, t + 60 * NS_PER_S)
    clock.advance(60)
    live.feed.pump()
    assert notices[f2][:2] == (t / NS_PER_S, t / NS_PER_S + 60)  # the notice ends when power is restored
    assert not live.feed.engine._on_battery


def test_incident_message_shape() -> None:
    from camgrid.health.schemas import IncidentOut

    item = IncidentOut(
        id=3, kind="uplink", subject="U1", opened_ns=2_000_000_123, resolved_ns=None, confidence=0.9, n_members=2
    )
    msg = json.loads(incident_message(item))
    assert msg["type"] == "incident" and msg["id"] == 3 and msg["opened_ms"] == 2000 and msg["resolved_ms"] is None
    assert {"cameras", "unexplained", "suggestions", "actions", "acknowledged_by"} <= set(msg)


def test_restart_closes_incidents_left_open(factory: Any) -> None:
    from camgrid.health import service

    clock = FakeClock(start_ns=1_800_000_000 * NS_PER_S)
    first = LiveIncidents(factory=factory, clock=clock)
    for i, c in enumerate(site_cams(4, 5, 6, 7)):
        first.feed.on_state(c, False, "unreachable", "", clock.wall_ns() + i)
    for _ in range(12):
        clock.advance(0.5)
        first.feed.pump()
    with unit_of_work(factory) as s:
        [open_inc] = service.list_incidents(session=s, open_only=True)
    clock.advance(60)
    LiveIncidents(factory=factory, clock=clock)  # serve restarted
    with unit_of_work(factory) as s:
        assert service.list_incidents(session=s, open_only=True) == []
        again = service.get_incident(session=s, incident_id=open_inc.id)
    assert again.resolved_ns == clock.wall_ns()
    assert [(a.actor, a.action) for a in again.actions] == [("camgrid", "closed_on_restart")]
