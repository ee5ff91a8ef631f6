"""Invariants of the correlation engine under arbitrary event streams (docs/design/health-incidents.md)."""

from __future__ import annotations

import json

from health_city import make_rows, site_cams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from camgrid.config import HealthConfig
from camgrid.health.topology import build_topology
from camgrid.scenarios.replay import Event, incident_json, replay

TOPO = build_topology(make_rows())
CFG = HealthConfig()
GROUPS = {
    "site": [site_cams(s) for s in range(12)],
    "feeder": [site_cams(*range(4 * f, 4 * f + 4)) for f in range(3)],
    "uplink": [site_cams(*range(u, 12, 3)) for u in range(3)],
}

single = st.tuples(st.just("cam"), st.integers(0, 47), st.booleans(), st.floats(0.0, 40.0))
group = st.tuples(st.sampled_from(sorted(GROUPS)), st.integers(0, 11), st.booleans(), st.floats(0.0, 400.0))


def expand(actions: list[tuple[str, int, bool, float]]) -> list[Event]:
    """Turn actions into a time-ordered event stream; group actions darken a whole group within 5 s."""
    t = 0.0
    out: list[Event] = []
    for kind, idx, down, dt in actions:
        t += dt
        if kind == "cam":
            out.append(Event(t, TOPO.cam_ids[idx], down))
            continue
        cams = GROUPS[kind][idx % len(GROUPS[kind])]
        out += [Event(t + (i * 0.731) % 5.0, c, down) for i, c in enumerate(cams)]
    return sorted(out, key=lambda e: e.t)


def long_downs(events: list[Event], horizon: float) -> set[str]:
    """Cameras that stayed dark at least the longest hold at some point (they must be in some incident)."""
    since: dict[str, float] = {}
    out: set[str] = set()
    for e in events:
        if e.down and e.camera not in since:
            since[e.camera] = e.t
        elif not e.down and e.camera in since:
            start = since.pop(e.camera)
            if e.t - start > CFG.hold_max_s + 1e-6:
                out.add(e.camera)
    out |= {c for c, t in since.items() if horizon - t > CFG.hold_max_s}
    return out


actions_st = st.lists(st.one_of(single, group), min_size=1, max_size=40)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions_st)
def test_every_long_down_camera_is_accounted_for(actions: list[tuple[str, int, bool, float]]) -> None:
    events = expand(actions)
    result = replay(TOPO, events)
    horizon = events[-1].t + CFG.hold_s
    covered: set[str] = set()
    for inc in result.incidents:
        covered |= {TOPO.cam_ids[c] for c in inc.members} | {TOPO.cam_ids[c] for c in inc.unexplained}
    assert long_downs(events, horizon) <= covered


@settings(max_examples=60, deadline=None)
@given(actions_st)
def test_replay_is_deterministic(actions: list[tuple[str, int, bool, float]]) -> None:
    events = expand(actions)
    a = [json.dumps(incident_json(i, TOPO)) for i in replay(TOPO, events).incidents]
    b = [json.dumps(incident_json(i, TOPO)) for i in replay(TOPO, list(events)).incidents]
    assert a == b
    keys = [(json.loads(x)["opened"], json.loads(x)["kind"], json.loads(x)["subject"]) for x in a]
    assert keys == sorted(keys)


@settings(max_examples=120, deadline=None)
@given(actions_st)
def test_all_resolve_once_every_camera_is_back(actions: list[tuple[str, int, bool, float]]) -> None:
    events = expand(actions)
    end = events[-1].t + 10.0
    events += [Event(end, c, False) for c in TOPO.cam_ids]
    engine = replay(TOPO, events).engine
    engine.advance(end + CFG.camera_clear_s + CFG.straggler_s + 100.0)
    assert [i.subject for i in engine.incidents if i.is_open] == []
    for inc in engine.incidents:
        assert inc.resolved is not None and inc.resolved >= inc.first_down
        assert inc.lag_s() <= CFG.hold_max_s + CFG.decide_step_s + 1e-6  # latency bound on the simulated clock
