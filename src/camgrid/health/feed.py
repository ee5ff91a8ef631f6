"""Live wiring: the recorder's camera state changes in, stored incidents out (design: docs/design/health-incidents.md).

``IncidentFeed.on_state`` has the shape of ``camgrid.ingest.loop.IngestSink.on_state`` so a recorder can fan its
state changes out to it; it only appends to a queue (it runs on the ingest thread and must not block). ``pump``
(called every ``interval_s`` by ``run``, or by a test with a fake clock) feeds the engine, fires its deadlines and
stores what changed in one unit of work. Engine time is wall-clock seconds since the epoch, so ``t0_ns`` is 0.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import NS_PER_S, Clock
from camgrid.config import HealthConfig
from camgrid.db.engine import unit_of_work
from camgrid.health import service
from camgrid.health.incidents import CorrelationEngine
from camgrid.health.policy import HealthTracker, Observation, Transition
from camgrid.health.schemas import IncidentOut
from camgrid.health.topology import Topology

log = logging.getLogger("camgrid.health")
_IN_MAINTENANCE = Observation(maintenance=True)
_UNSEEN = Observation(recorder_running=False)  # back in service before the recorder said anything: unknown


class IncidentFeed:
    """Owns one correlation engine for the city and keeps the database in step with it."""

    def __init__(
        self,
        *,
        topo: Topology,
        factory: sessionmaker[Session],
        clock: Clock,
        config: HealthConfig | None = None,
        run_id: str | None = None,
        horizon: Callable[[], int] | None = None,
        maintenance: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.topo = topo
        self.engine = CorrelationEngine(topo, config)
        self.factory = factory
        self.clock = clock
        self.run_id = run_id or f"live-{clock.wall_ns()}"
        self._queue: deque[tuple[str, bool, str, int]] = deque()
        self._evidence: deque[tuple[str, str, bool, int]] = deque()
        self._feeder_out: dict[str, float] = {}
        self._observations: deque[tuple[str, int, Observation]] = deque()
        self.tracker = HealthTracker(config=config or HealthConfig())
        self.unknown_cameras = 0
        # Called (on the pump thread, after the commit) with the incidents this pump wrote; must not block.
        self.listeners: list[Callable[[list[IncidentOut]], None]] = []
        # Event time (a cluster's control plane): the engine runs no further than ``horizon()`` (ns), the time up to
        # which every live recorder node has delivered its states; changes stamped later wait in ``_held`` so that
        # states delayed by a bus outage are judged at their own times, not as if they happened on arrival.
        self.horizon = horizon
        self._written: dict[str, int] = {}  # incident key -> fingerprint of its stored camera rows
        self.fed = 0  # state changes judged and stored (for benchmarks and health checks of the feed itself)
        self._held: list[tuple[int, int, str, bool, str]] = []
        self._held_seq = 0
        # Cameras an operator took out of service (id -> start of the window, ns), re-read from ``maintenance()``
        # at every pump (a few rows; the API and the command line change them from other processes).
        self.maintenance_source = maintenance
        self.maintenance: dict[str, int] = {}
        self._dark: dict[str, str] = {}  # cameras last fed as down, with their reason: still down after a repair?
        self._last_obs: dict[str, Observation] = {}  # the recorder's last word, to judge a camera back in service

    def on_observation(self, camera_id: str, at_ns: int, obs: Observation) -> None:
        """A health observation for the per-camera state machine; its transitions are stored at the next pump."""
        self._observations.append((camera_id, at_ns, obs))

    def on_evidence(self, kind: str, subject: str, active: bool, at_ns: int) -> None:
        """Outside evidence: ``kind`` "feeder" (a utility's outage notice; active = out) or "ups" (a site's UPS;
        active = on battery). Taken at the next pump; never blocks."""
        self._evidence.append((kind, subject, active, at_ns))

    def on_state(self, camera_id: str, up: bool, reason: str, detail: str, at_ns: int) -> None:
        """A camera went up or down at ``at_ns`` (recorder's view). Never blocks."""
        self._queue.append((camera_id, up, reason, at_ns))

    def pump(self) -> int:
        """Feed queued changes, advance to now, store what changed; returns the number of incidents written."""
        engine = self.engine
        while self._evidence:
            kind, subject, active, at_ns = self._evidence.popleft()
            t = at_ns / NS_PER_S
            if kind == "feeder" and active:
                self._feeder_out[subject] = t
                engine.utility_notice(subject, t)
            elif kind == "feeder":
                engine.utility_notice(subject, self._feeder_out.pop(subject, t), until=t)
            elif active:
                engine.ups_on_battery(subject, t)
            else:
                engine.ups_on_mains(subject, t)
        now_ns = self.clock.wall_ns()
        if self.horizon is not None:
            now_ns = min(now_ns, self.horizon())
        if self.maintenance_source is not None:
            try:
                current = self.maintenance_source()
            except Exception:  # the registry unreadable for a moment: judge with the windows known, not stop judging
                log.warning(
                    "incident feed: cannot read the cameras in maintenance; keeping the last known", exc_info=True
                )
            else:
                self._sync_maintenance(current, now_ns)
        due = self._due(now_ns)
        dark = self._dark
        for camera_id, up, reason, at_ns in due:
            if camera_id not in self.topo.cam_index:
                self.unknown_cameras += 1  # not in the registry this engine was built from
                continue
            t = at_ns / NS_PER_S
            if up:
                dark.pop(camera_id, None)
                engine.camera_up(camera_id, t)
            else:
                dark[camera_id] = reason
                engine.camera_down(camera_id, t, reason or None)
        engine.advance(now_ns / NS_PER_S)
        records = engine.drain()
        transitions: list[Transition] = []
        while self._observations:
            camera_id, at_ns, obs = self._observations.popleft()
            if not obs.maintenance:
                self._last_obs[camera_id] = obs
                if camera_id in self.maintenance:
                    obs = _IN_MAINTENANCE
            tr = self.tracker.observe(camera_id, at_ns, obs)
            if tr is not None:
                transitions.append(tr)
        self.tracker.transitions.clear()  # stored below; the tracker must not grow for ever
        if not records and not transitions:
            self.fed += len(due)
            return 0
        written = dict(self._written)  # taken over only once committed: a rolled-back write is written again
        with unit_of_work(self.factory) as session:
            service.record_transitions(session=session, transitions=transitions)
            ids = service.persist_records_ids(
                session=session, records=records, topo=self.topo, run_id=self.run_id, written=written
            )
            changed = [service.get_incident(session=session, incident_id=i) for i in ids] if self.listeners else []
        for rec in records:
            if not rec.incident.is_open:
                written.pop(f"{self.run_id}:{rec.incident.id}", None)
        self._written = written
        self.fed += len(due)
        for listener in self.listeners:
            listener(changed)
        return len(ids)

    def _sync_maintenance(self, current: Mapping[str, int], now_ns: int) -> None:
        """Take the cameras whose maintenance began or ended since the last pump out of (or back into) the engine and
        the health state machine. A camera back in service that is still dark is fed as down again, now."""
        engine, index = self.engine, self.topo.cam_index
        for camera_id in sorted(current.keys() - self.maintenance.keys()):
            at_ns = min(current[camera_id], now_ns)  # never ahead of the engine's horizon
            self.maintenance[camera_id] = current[camera_id]
            if camera_id in index:
                engine.set_maintenance(camera_id, True, at_ns / NS_PER_S)
            self._observations.append((camera_id, at_ns, _IN_MAINTENANCE))
        for camera_id in sorted(self.maintenance.keys() - current.keys()):
            del self.maintenance[camera_id]
            if camera_id in index:
                engine.set_maintenance(camera_id, False, now_ns / NS_PER_S)
                reason = self._dark.get(camera_id)
                if reason is not None:
                    engine.camera_down(camera_id, now_ns / NS_PER_S, reason or None)
            self._observations.append((camera_id, now_ns, self._last_obs.get(camera_id, _UNSEEN)))

    def _due(self, now_ns: int) -> list[tuple[str, bool, str, int]]:
        """Queued changes to feed now: all of them without a horizon; else those stamped up to ``now_ns``, in time
        order (the rest are held for a later pump)."""
        queue = self._queue
        if self.horizon is None:
            return [queue.popleft() for _ in range(len(queue))]  # appends from other threads wait for the next pump
        held = self._held
        while queue:
            camera_id, up, reason, at_ns = queue.popleft()
            self._held_seq += 1
            heapq.heappush(held, (at_ns, self._held_seq, camera_id, up, reason))
        due: list[tuple[str, bool, str, int]] = []
        while held and held[0][0] <= now_ns:
            at_ns, _, camera_id, up, reason = heapq.heappop(held)
            due.append((camera_id, up, reason, at_ns))
        return due

    @property
    def held(self) -> int:
        """Changes waiting for the horizon (a bus backlog not yet covered by every node's watermark)."""
        return len(self._held)

    def run(self, stop: threading.Event, interval_s: float = 0.5) -> None:
        """Pump every ``interval_s`` until ``stop`` is set (latency grows by up to ``interval_s``)."""
        while not stop.wait(interval_s):
            try:
                self.pump()
            except Exception:  # keep the control room fed: one bad write must not stop the feed
                log.exception("incident feed: pump failed")
