"""The control plane's side of the bus: camera state from many nodes into one table and one incident engine
(docs/design/cluster.md, "Control plane").

``StateFeed`` subscribes to every ``CameraState`` with a durable consumer, so state published while the central
node was away is delivered when it returns, and hands the newest state of each camera to every ``apply`` callable
(the map's state table, the incident engine). A message older than what is known for its camera (a late
redelivery, or two nodes during a handover) is dropped: the newest ``since_ns`` wins.

``Watermarks`` turns the nodes' bus heartbeats into the incident engine's horizon: the time up to which every live
node has delivered what it published. While NATS is cut the horizon stands still, the engine waits, and the states
of the outage are judged at their own times when they arrive, so a power cut that happened during a bus outage is
still one power incident, with the right start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from camgrid.bus import AnyMessage, Bus, CameraState, IncidentEvent, NodeEvent
from camgrid.clock import Clock
from camgrid.cluster import service
from camgrid.db.engine import unit_of_work
from camgrid.health.schemas import IncidentOut

Apply = Callable[[str, str, str, int], None]  # (camera, state, reason, since_ns)
NS = 1_000_000_000


class StateFeed:
    def __init__(self, bus: Bus, apply: Apply | list[Apply], *, durable: str = "control-plane") -> None:
        self.bus = bus
        self.applies: list[Apply] = list(apply) if isinstance(apply, list) else [apply]
        self.durable = durable
        self.latest: dict[str, int] = {}
        self.received = 0
        self.stale = 0
        self.watermarks: Watermarks | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        # One consumer for states and node heartbeats: a node's heartbeat is then handled after every state it
        # published before it, which is what makes it a watermark.
        self.bus.subscribe(None, self.on_message, durable=self.durable)
        self.bus.start()

    def on_message(self, msg: AnyMessage) -> None:
        if isinstance(msg, NodeEvent):
            if self.watermarks is not None:
                self.watermarks.on_message(msg)
            return
        if not isinstance(msg, CameraState):
            return
        with self._lock:
            self.received += 1
            if msg.since_ns < self.latest.get(msg.camera_id, -1):
                self.stale += 1
                return
            self.latest[msg.camera_id] = msg.since_ns
        for apply in self.applies:
            apply(msg.camera_id, msg.state, msg.reason, msg.since_ns)

    def close(self) -> None:
        self.bus.close()


class Watermarks:
    """Per node, the newest ``at_ns`` of its bus messages; ``horizon()`` is the oldest of them over the nodes the
    database says are alive (a dead node must not hold the engine back), never older than ``max_lag_s``."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        ttl_s: float,
        max_lag_s: float,
        refresh_s: float = 1.0,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.ttl_ns = int(ttl_s * NS)
        self.max_lag_ns = int(max_lag_s * NS)
        self.refresh_ns = int(refresh_s * NS)
        self.seen: dict[str, int] = {}
        self._alive: set[str] = set()
        self._alive_at = -(1 << 62)
        self._lock = threading.Lock()

    def on_message(self, msg: AnyMessage) -> None:
        if isinstance(msg, NodeEvent) and msg.node_id:
            with self._lock:
                if msg.at_ns > self.seen.get(msg.node_id, -1):
                    self.seen[msg.node_id] = msg.at_ns

    def _live_nodes(self, now_ns: int) -> set[str]:
        if now_ns - self._alive_at >= self.refresh_ns:
            try:
                with unit_of_work(self.factory) as session:
                    self._alive = set(service.live_capacities(session, now_ns=now_ns, ttl_ns=self.ttl_ns))
                self._alive_at = now_ns
            except Exception:  # the database is away: keep the last answer (the engine waits at worst max_lag_s)
                pass
        return self._alive

    def horizon(self) -> int:
        """Incident-engine time (ns): wall time, held back to the slowest live node's last heartbeat on the bus."""
        now = self.clock.wall_ns()
        alive = self._live_nodes(now)
        with self._lock:
            marks = [self.seen[n] for n in alive if n in self.seen]
        if not marks:
            return now  # no node has spoken on the bus yet: nothing to wait for
        return max(min(now, min(marks)), now - self.max_lag_ns)

    def lag_s(self) -> float:
        return (self.clock.wall_ns() - self.horizon()) / NS


def incident_publisher(bus: Bus, *, node_id: str, clock: Clock) -> Callable[[list[IncidentOut]], None]:
    """A ``IncidentFeed`` listener that announces every incident change on the bus (``camgrid.incident.<id>``):
    ``open`` the first time an incident is seen, ``close`` once resolved, ``update`` in between. An incident that
    opened and closed between two pumps (a backlog judged at once after a bus outage) is announced ``open`` then
    ``close``: a consumer sees every incident open."""
    announced: set[int] = set()

    def send(inc: IncidentOut, event: Literal["open", "update", "close"]) -> None:
        bus.publish(
            IncidentEvent(
                incident_id=str(inc.id),
                event=event,
                cause=inc.kind,
                subject_id=inc.subject[:64],
                cameras=inc.cameras,
                at_ns=clock.wall_ns(),
                node_id=node_id,
            )
        )

    def publish(items: list[IncidentOut]) -> None:  # the incident feed's pump thread
        for inc in items:
            if inc.id not in announced:
                send(inc, "open")
                announced.add(inc.id)
            elif inc.resolved_ns is None:
                send(inc, "update")
            if inc.resolved_ns is not None:
                send(inc, "close")
                announced.discard(inc.id)

    return publish
