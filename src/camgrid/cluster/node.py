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
MEASURE_NS = 10 * NS  # how often a node stores the bitrates of the cameras it holds


class RecorderNode:
    def __init__(
        self,
        *,
        recorder: Recorder,
        outbox: OutboxIndexWriter,
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
        self._next_measure_ns = 0
        self._bytes_at: dict[str, tuple[int, int]] = {}  # camera -> (when, bytes received) at the last measure
        # The recorder writes its index rows into ``outbox`` (its constructor's ``index``: camgrid.runtime builds both
        # so that rows survive a database outage, and a crash during one) and records nothing until leases are held.
        self.outbox = outbox
        recorder.record_only(())
        recorder.add_state_listener(self._on_state)
        recorder.add_hook(self.tick)  # the lease work runs on the housekeeping thread, before the other hooks

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
                capacity_mbps=self.cfg.capacity_mbps,
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
        self.recorder.record_only(held)
        self.bus.start()
        self.bus.publish(NodeEvent(event="up", at_ns=now, node_id=self.node_id))
        self.recorder.start()
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
                if now >= self._next_measure_ns:
                    self._next_measure_ns = now + MEASURE_NS
                    service.set_bitrates(session, node_id=self.node_id, mbps=self._measure(now, held))
                if now >= self._settled_ns:
                    taken = self._take(session, now, held)
        except Exception as exc:
            if self.db_ok:
                log.warning("node %s: database unreachable (%s); recording what it holds", self.node_id, exc)
            self.db_ok = False
            return
        if not self.db_ok:
            log.info("node %s: database reachable again", self.node_id)
        self.db_ok = True
        self.apply(held | {t.camera_id for t in taken}, taken)

    def _take(self, session: Session, now: int, held: set[str]) -> list[service.Taken]:
        """Take free cameras up to this node's fair share: of the camera count, or with ``capacity_mbps`` of the
        city's bitrate (and never more cameras than ``capacity``)."""
        cfg = self.cfg
        load = None
        if cfg.capacity_mbps > 0:
            cam_mbps = cfg.camera_mbps
            budgets = service.live_budgets(session, now_ns=now, ttl_ns=self.ttl_ns, camera_mbps=cam_mbps)
            budget = policy.budget_mbps(capacity=cfg.capacity, capacity_mbps=cfg.capacity_mbps, camera_mbps=cam_mbps)
            budgets[self.node_id] = budget
            target_mbps = policy.fair_share_mbps(
                budget=budget,
                total_mbps=service.city_load_mbps(session, camera_mbps=cam_mbps),
                live_budgets=list(budgets.values()),
            )
            held_mbps = service.held_load_mbps(session, node_id=self.node_id, camera_mbps=cam_mbps)
            if held_mbps >= target_mbps:
                return []
            want = cfg.capacity - len(held)
            load = service.LoadTarget(held_mbps, target_mbps, budget, cam_mbps)
        else:
            live = service.live_capacities(session, now_ns=now, ttl_ns=self.ttl_ns)
            live[self.node_id] = cfg.capacity
            target = policy.fair_share(
                capacity=cfg.capacity,
                total_cameras=service.active_cameras(session),
                live_capacities=list(live.values()),
            )
            want = policy.to_take(target=target, held=len(held))
        return service.take(
            session,
            node_id=self.node_id,
            districts=cfg.districts,
            count=want,
            now_ns=now,
            ttl_ns=self.ttl_ns,
            load=load,
        )

    def _measure(self, now: int, held: set[str]) -> dict[str, float]:
        """Mbit/s received from each held camera since the last measure (what Mbit/s capacity counts)."""
        snap = self.recorder.session_counters()
        out: dict[str, float] = {}
        last, self._bytes_at = self._bytes_at, {}
        for cam in held:
            got = snap.get(cam, {}).get("bytes")
            if not isinstance(got, int):
                continue
            self._bytes_at[cam] = (now, got)
            prev = last.get(cam)
            if prev is not None and now > prev[0] and got >= prev[1]:
                mbps = (got - prev[1]) * 8 / ((now - prev[0]) / NS) / 1e6
                if mbps > 0:
                    out[cam] = mbps
        return out

    def apply(self, new: set[str], taken: list[service.Taken]) -> None:
        lost = self.held - new
        for t in taken:
            self.recorder.take_over(t.camera_id, t.start_ns, t.reason, t.detail)
        if new == self.held and not taken:
            return
        now = self.clock.wall_ns()
        for camera in lost:
            self.recorder.hand_over(camera)  # another node took it: it stops here without a gap
        self.held = set(new)
        self.recorder.record_only(new)
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
