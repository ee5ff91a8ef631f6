"""Live wiring for ``camgrid serve``: registry topology -> ``IncidentFeed``; recorder states in; incidents out to the
control room's events WebSocket (design: docs/design/health-incidents.md, "Live wiring").

The recorder and the app are higher layers: this module takes them as plain callables and queues, so ``health``
imports neither. The recorder's state listeners run on the ingest thread: the adapter only appends to a queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import HealthConfig
from camgrid.db.engine import unit_of_work
from camgrid.health import service
from camgrid.health.feed import IncidentFeed
from camgrid.health.policy import Observation
from camgrid.health.schemas import IncidentEvent, IncidentOut, IncidentView
from camgrid.health.topology import Topology, build_topology
from camgrid.registry import service as registry
from camgrid.registry.models import Camera
from camgrid.registry.schemas import CameraIn
from camgrid.vocabulary import UNKNOWN_CAMERA_STATE, CameraState, GapReason

log = logging.getLogger("camgrid.health")

# Gap reasons that say nothing about the camera (its recorder was down or just starting): "unknown", not down.
UNKNOWN_REASONS = UNKNOWN_CAMERA_STATE
StateListener = Callable[[str, str, str, int], None]


class StateSource(Protocol):
    """What the adapter listens to: the recorder (``Recorder.add_state_listener``) or a test's stand-in."""

    def add_state_listener(self, listener: StateListener) -> None: ...


def topology_from_session(session: Session) -> Topology:
    """The correlation topology of the registry's active cameras (planned and disabled cameras never report)."""
    rows = session.execute(
        select(
            Camera.id, Camera.lat, Camera.lon, Camera.district_id, Camera.site_id, Camera.feeder_id, Camera.uplink_id
        )
        .where(Camera.status == "active")
        .order_by(Camera.id)
    ).all()
    return build_topology(
        CameraIn.model_construct(id=c, name=c, rtsp_url="", lat=lat, lon=lon, district=d, site=s, feeder=f, uplink=u)
        for c, lat, lon, d, s, f, u in rows
    )


def maintenance_reader(factory: sessionmaker[Session]) -> Callable[[], dict[str, int]]:
    """The registry's cameras in maintenance, read afresh at each pump: the API and ``camgrid cameras
    maintenance`` (another process) change them, and a few rows cost less than a change channel between them."""

    def read() -> dict[str, int]:
        with unit_of_work(factory) as session:
            return registry.in_maintenance(session=session)

    return read


def recorder_state_is_up(state: str, reason: str) -> bool | None:
    """The recorder's view as the engine's input: True up, False down, None unknown (ignored)."""
    if state == CameraState.RECORDING:
        return True
    if state == CameraState.OFFLINE and reason not in UNKNOWN_REASONS:
        return False
    return None


_ONLINE = Observation()
_NOT_RUNNING = Observation(recorder_running=False)
_OFFLINE: dict[str, Observation] = {}  # one (frozen) observation per gap reason: a blackout is 62,000 of them


def observation_of(state: str, reason: str) -> Observation:
    """The recorder's view as a health observation (online / offline with its reason / unknown)."""
    if state == CameraState.RECORDING:
        return _ONLINE
    if reason in UNKNOWN_REASONS:
        return _NOT_RUNNING
    obs = _OFFLINE.get(reason)
    if obs is None:
        obs = _OFFLINE[reason] = Observation(connection=reason or GapReason.UNREACHABLE)
    return obs


class RecorderAdapter:
    """A ``Recorder.add_state_listener`` listener: every state to the health state machine; real up/down changes (not
    repeats, not "unknown") to the correlation engine."""

    def __init__(self, feed: IncidentFeed) -> None:
        self.feed = feed
        self._last: dict[str, bool] = {}

    def __call__(self, camera_id: str, state: str, reason: str, since_ns: int) -> None:
        self.feed.on_observation(camera_id, since_ns, observation_of(state, reason))
        up = recorder_state_is_up(state, reason)
        if up is None or self._last.get(camera_id) == up:
            return
        if up and camera_id not in self._last:
            self._last[camera_id] = True  # first sight of a recording camera: nothing changed for the engine
            return
        self._last[camera_id] = up
        self.feed.on_state(camera_id, up, reason, "", since_ns)


def incident_message(item: IncidentOut) -> str:
    """The events-WebSocket message for one incident change: ``IncidentEvent`` (an ``IncidentView``, in ms)."""
    return IncidentEvent(**IncidentView.of(item).model_dump()).model_dump_json()


class LiveIncidents:
    """The incident feed of one ``camgrid serve`` process and its pump thread."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        config: HealthConfig | None = None,
        interval_s: float = 0.5,
        horizon: Callable[[], int] | None = None,
    ) -> None:
        with unit_of_work(factory) as session:
            topo = topology_from_session(session)
        self.feed = IncidentFeed(
            topo=topo,
            factory=factory,
            clock=clock,
            config=config,
            horizon=horizon,
            maintenance=maintenance_reader(factory),
        )
        with unit_of_work(factory) as session:
            closed = service.close_stale_live(
                session=session, run_prefix="live-", keep_run=self.feed.run_id, t_ns=clock.wall_ns()
            )
        if closed:
            log.info("closed %d incidents left open by a previous run", closed)
        self.adapter = RecorderAdapter(self.feed)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def attach(
        self,
        recorder: StateSource | None,
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[list[str]], None],
    ) -> None:
        """Listen to the recorder; hand every incident change to ``publish`` on the loop (the events' numbered ring)."""
        if recorder is not None:
            recorder.add_state_listener(self.adapter)

        def on_items(items: list[IncidentOut]) -> None:  # pump thread
            if items:
                loop.call_soon_threadsafe(publish, [incident_message(i) for i in items])

        self.feed.listeners.append(on_items)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.feed.run, args=(self._stop, self.interval_s), name="incident-feed", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
