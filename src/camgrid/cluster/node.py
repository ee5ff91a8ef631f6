"""A recorder node of a cluster: registers, holds camera leases, records exactly what it holds, publishes state.

The lease work runs as a hook of the recorder's housekeeping thread (the thread that already reloads the registry),
so the recorder's camera set is only ever changed from one thread. When the database is unreachable the node keeps
recording what it holds: leases only ever shrink after a successful renewal.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from camgrid.bus import Bus, CameraState, NodeEvent
from camgrid.clock import Clock
from camgrid.cluster import policy, service
from camgrid.cluster.outbox import OutboxIndexWriter
from camgrid.config import ClusterConfig
from camgrid.db.engine import unit_of_work
from camgrid.storage.recorder import Recorder

log = logging.getLogger("camgrid.cluster")
NS = 1_000_000_000


class RecorderNode:
    def __init__(
        self,
        *,
        recorder: Recorder,
        factory: sessionmaker[Session],
        bus: Bus,
        clock: Clock,
        cfg: ClusterConfig,
    ) -> None:
        self.recorder = recorder
        self.factory = factory
        self.bus = bus
        self.clock = clock
        self.cfg = cfg
        self.node_id = recorder.node_id
        self.ttl_ns = int(cfg.lease_ttl_s * NS)
        self.held: set[str] = set()
        self._next_ns = 0
        self._settled_ns = 0
        self.db_ok = True
        self.taken_total = 0
        recorder.only = set()  # nothing until leases are held
        # Index rows survive a database outage (and a crash during one) in a local outbox.
        self.outbox = OutboxIndexWriter(
            recorder.engine, folder=recorder.settings.home / "outbox", node_id=self.node_id, clock=clock
        )
        recorder.index = self.outbox
        recorder.state_listeners.append(self._on_state)

    def _on_state(self, camera: str, state: str, reason: str, since_ns: int) -> None:
        self.bus.publish(
            CameraState(
                camera_id=camera,
                state="recording" if state == "recording" else "offline",
                reason=reason,
                since_ns=since_ns,
                node_id=self.node_id,
            )
        )

    def start(self) -> None:
        """Register, replay the outbox, start the recorder on the leases still held, hook the lease work in."""
        now = self.clock.wall_ns()
        with unit_of_work(self.factory) as session:
            service.register(
                session,
                node_id=self.node_id,
                capacity=self.cfg.capacity,
                districts=self.cfg.districts,
                address=self.cfg.address,
                now_ns=now,
            )
            # A restarted node goes on with the cameras it still holds (leases not yet taken by another node).
            held = service.renew(session, node_id=self.node_id, now_ns=now, ttl_ns=self.ttl_ns)
        self._settled_ns = now + int(self.cfg.settle_s * NS)
        # Rows journaled during a database outage of the last run go in first, before crash recovery reads the index.
        if not self.outbox.flush():
            raise RuntimeError("cannot replay the outbox: the database is unreachable")
        self.held = set(held)
        self.recorder.only = set(held)
        self.bus.start()
        self.bus.publish(NodeEvent(event="up", at_ns=now, node_id=self.node_id))
        self.recorder.start()
        self.recorder.hooks.insert(0, self.tick)
        log.info("node %s up: capacity %d, districts %r", self.node_id, self.cfg.capacity, self.cfg.districts)

    def tick(self) -> None:
        """One heartbeat: renew, take up to the fair share, and make the recorder follow. Housekeeping thread."""
        now = self.clock.wall_ns()
        if now < self._next_ns:
            return
        self._next_ns = now + int(self.cfg.heartbeat_s * NS)
        # On the bus first, database or not: the control plane's watermark (cluster.control.Watermarks).
        self.bus.publish(NodeEvent(event="heartbeat", at_ns=now, node_id=self.node_id))
        try:
            with unit_of_work(self.factory) as session:
                service.heartbeat(session, node_id=self.node_id, now_ns=now)
                held = service.renew(session, node_id=self.node_id, now_ns=now, ttl_ns=self.ttl_ns)
                taken: list[service.Taken] = []
                if now >= self._settled_ns:
                    live = service.live_capacities(session, now_ns=now, ttl_ns=self.ttl_ns)
                    live[self.node_id] = self.cfg.capacity
                    target = policy.fair_share(
                        capacity=self.cfg.capacity,
                        total_cameras=service.active_cameras(session),
                        live_capacities=list(live.values()),
                    )
                    want = policy.to_take(target=target, held=len(held))
                    taken = service.take(
                        session,
                        node_id=self.node_id,
                        districts=self.cfg.districts,
                        count=want,
                        now_ns=now,
                        ttl_ns=self.ttl_ns,
                    )
        except Exception as exc:
            if self.db_ok:
                log.warning("node %s: database unreachable (%s); recording what it holds", self.node_id, exc)
            self.db_ok = False
            return
        if not self.db_ok:
            log.info("node %s: database reachable again", self.node_id)
        self.db_ok = True
        self.apply(held | {t.camera_id for t in taken}, taken)

    def apply(self, new: set[str], taken: list[service.Taken]) -> None:
        lost = self.held - new
        for t in taken:
            self.recorder.pending_gaps[t.camera_id] = (t.start_ns, t.reason, t.detail)
        if new == self.held and not taken:
            return
        now = self.clock.wall_ns()
        self.recorder.handed_over |= lost  # another node took them: they stop here without a gap
        self.held = set(new)
        self.recorder.only = set(new)
        self.recorder.reload_registry()
        self.taken_total += len(taken)
        if taken:
            log.info(
                "node %s took %d cameras (%s), holds %d",
                self.node_id,
                len(taken),
                ", ".join(t.camera_id for t in taken[:8]),
                len(self.held),
            )
            self.bus.publish(
                NodeEvent(event="acquired", cameras=[t.camera_id for t in taken], at_ns=now, node_id=self.node_id)
            )
        if lost:
            log.warning("node %s lost %d leases to other nodes: %s", self.node_id, len(lost), sorted(lost)[:8])
            self.bus.publish(NodeEvent(event="released", cameras=sorted(lost), at_ns=now, node_id=self.node_id))

    def stop(self) -> None:
        """Stop recording (segments closed, gaps opened and flushed), then give the leases back at once."""
        self.recorder.stop()
        now = self.clock.wall_ns()
        try:
            with unit_of_work(self.factory) as session:
                n = service.release(session, node_id=self.node_id)
                service.mark_down(session, node_id=self.node_id, now_ns=now)
            log.info("node %s released %d leases", self.node_id, n)
        except Exception as exc:
            log.warning("node %s: could not release its leases (%s); they expire by themselves", self.node_id, exc)
        self.bus.publish(NodeEvent(event="down", cameras=sorted(self.held), at_ns=now, node_id=self.node_id))
        self.bus.close()
