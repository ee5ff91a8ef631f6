"""Camera health policy by tables (camgrid.health.policy; design: docs/design/health-incidents.md)."""

from __future__ import annotations

import pytest

from camgrid.config import HealthConfig
from camgrid.health.policy import (
    DEGRADED,
    MAINTENANCE,
    OFFLINE,
    ONLINE,
    UNKNOWN,
    Baseline,
    HealthTracker,
    Observation,
    engine_change,
    learn,
    next_state,
)

CFG = HealthConfig()
NORMAL = Baseline(fps=25.0, bitrate_kbps=2000.0)

# prev state, observation, expected state, expected reason (substring; None = no reason)
TABLE = [
    (ONLINE, Observation(fps=25, bitrate_kbps=2000), ONLINE, None),
    (ONLINE, Observation(fps=13, bitrate_kbps=2000), ONLINE, None),  # above half of normal
    (ONLINE, Observation(fps=12, bitrate_kbps=2000), DEGRADED, "frame rate 12.0/25.0"),
    (ONLINE, Observation(fps=25, bitrate_kbps=500), DEGRADED, "bit rate 500/2000"),
    (ONLINE, Observation(fps=25, bitrate_kbps=2000, reconnects=3), DEGRADED, "3 reconnects"),
    (ONLINE, Observation(fps=25, bitrate_kbps=2000, reconnects=2), ONLINE, None),
    # hysteresis: once degraded, 70 % of normal is not yet good enough, 85 % is
    (DEGRADED, Observation(fps=18, bitrate_kbps=2000), DEGRADED, "frame rate"),
    (DEGRADED, Observation(fps=21, bitrate_kbps=2000), ONLINE, None),
    (DEGRADED, Observation(fps=25, bitrate_kbps=2000, reconnects=2), DEGRADED, "reconnects"),
    # offline keeps its reason
    (ONLINE, Observation(connection="unreachable"), OFFLINE, "unreachable"),
    (DEGRADED, Observation(connection="stalled"), OFFLINE, "stalled"),
    (ONLINE, Observation(connection="auth_refused"), OFFLINE, "auth_refused"),
    (OFFLINE, Observation(fps=25, bitrate_kbps=2000), ONLINE, None),
    # a stopped recorder says nothing about the camera; maintenance wins over everything
    (ONLINE, Observation(recorder_running=False, connection="unreachable"), UNKNOWN, "recorder not running"),
    (OFFLINE, Observation(maintenance=True, connection="unreachable"), MAINTENANCE, "operator"),
    (MAINTENANCE, Observation(fps=25, bitrate_kbps=2000), ONLINE, None),
    # no normal learned yet: rates cannot be judged
    (UNKNOWN, Observation(fps=1, bitrate_kbps=10), ONLINE, None),
]


@pytest.mark.parametrize(("prev", "obs", "state", "reason"), TABLE)
def test_next_state_table(prev: str, obs: Observation, state: str, reason: str | None) -> None:
    base = NORMAL if prev != UNKNOWN else Baseline()
    got_state, got_reason = next_state(prev, obs, base, CFG)
    assert got_state == state
    if reason is None:
        assert got_reason is None
    else:
        assert got_reason is not None and reason in got_reason


def test_baseline_learns_only_while_online() -> None:
    base = learn(Baseline(), Observation(fps=25, bitrate_kbps=2000), ONLINE, CFG)
    assert base == Baseline(fps=25, bitrate_kbps=2000)
    moved = learn(base, Observation(fps=15, bitrate_kbps=2000), ONLINE, CFG)
    assert moved.fps is not None and 24 < moved.fps < 25
    assert learn(base, Observation(fps=1, bitrate_kbps=1), DEGRADED, CFG) == base


def test_tracker_records_every_transition_with_time() -> None:
    tracker = HealthTracker()
    steps = [
        (1, Observation(fps=25, bitrate_kbps=2000)),
        (2, Observation(fps=25, bitrate_kbps=2000)),
        (3, Observation(connection="stalled")),
        (4, Observation(connection="stalled")),
        (5, Observation(fps=25, bitrate_kbps=2000)),
        (6, Observation(maintenance=True)),
    ]
    changes = [tracker.observe("CAM-1", t, obs) for t, obs in steps]
    got = [(tr.t_ns, tr.old, tr.new, tr.reason) for tr in tracker.transitions]
    assert got == [
        (1, UNKNOWN, ONLINE, None),
        (3, ONLINE, OFFLINE, "stalled"),
        (5, OFFLINE, ONLINE, None),
        (6, ONLINE, MAINTENANCE, "operator"),
    ]
    assert changes[1] is None and changes[3] is None
    assert [engine_change(tr) for tr in tracker.transitions] == [None, "down", "up", "maintenance"]
