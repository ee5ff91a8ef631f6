"""Fixtures for the health tests; the city itself is in health_city.py."""

from __future__ import annotations

import pytest
from health_city import Run, make_rows

from camgrid.config import HealthConfig
from camgrid.health.incidents import CorrelationEngine
from camgrid.health.topology import Topology, build_topology
from camgrid.scenarios.replay import Event, replay


@pytest.fixture
def topo() -> Topology:
    return build_topology(make_rows())


@pytest.fixture
def run(topo: Topology) -> Run:
    """Replay events, then let the clock run on (``until``) so that hysteresis and straggler timers fire."""

    def _run(
        events: list[Event],
        config: HealthConfig | None = None,
        topology: Topology | None = None,
        until: float = 20_000.0,
    ) -> CorrelationEngine:
        engine = replay(topology or topo, sorted(events, key=lambda e: e.t), config).engine
        engine.advance(until)
        engine.drain()
        return engine

    return _run
