"""The ONVIF watcher: each camera's clock offset every ``onvif.clock_interval_s`` and its events (PullPoint),
written to health. Built by ``runtime.build`` for the single and node roles.

Why a pool and per-camera backoff: a camera that does not answer holds one worker for at most one request timeout,
then waits its backoff; the others keep their turn. The thread ``onvif-watch`` only schedules and writes (one unit of
work per round); the workers (``onvif-watch_N``) talk to cameras and never touch the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import OnvifSettings
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox, SecretsKeyError
from camgrid.health import onvif_service
from camgrid.onvif.clock import ClockReading, read_clock
from camgrid.onvif.connect import OnvifError, OnvifTarget
from camgrid.onvif.events import CameraEvent, ConsumerSettings, PullPointConsumer
from camgrid.onvif.targets import onvif_target
from camgrid.registry.models import Camera
from camgrid.vocabulary import CameraState

log = logging.getLogger("camgrid.health.onvif")
NS = 1_000_000_000
TICK_S = 0.05
PRUNE_EVERY_S = 3600.0


@dataclass
class _Watched:
    camera_id: str
    target: OnvifTarget
    consumer: PullPointConsumer | None
    next_clock_ns: int = 0
    clock_failures: int = 0
    busy: Future[tuple[list[CameraEvent], ClockReading | None]] | None = field(default=None, repr=False)


class OnvifWatch:
    """Clock readings and events of the cameras ``wanted`` says this process is responsible for."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        cfg: OnvifSettings,
        box: SecretBox,
        wanted: Callable[[str], bool] | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.cfg = cfg
        self.box = box
        self.wanted = wanted
        self.cameras: dict[str, _Watched] = {}
        self.rounds = 0
        self.written_events = 0
        self.written_clocks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._next_refresh = 0.0
        self._next_prune = 0.0

    # lifecycle ----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.cfg.workers, thread_name_prefix="onvif-watch")
        self._thread = threading.Thread(target=self._run, name="onvif-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling, let running requests end (each is bounded), then unsubscribe every camera."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.cfg.timeout_s * 3 + 5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            pool = ThreadPoolExecutor(max_workers=self.cfg.workers, thread_name_prefix="onvif-watch")
            for w in self.cameras.values():
                if w.consumer is not None:
                    pool.submit(w.consumer.stop)
            pool.shutdown(wait=True)
            self._pool = None

    # the loop -------------------------------------------------------------------------------------------------------
    def _run(self) -> None:
        # Not at once: the recorder beside us is anchoring every camera's time on its first pictures, and a burst of
        # WSDL and SOAP parsing (lxml holds the interpreter) would stamp those pictures late.
        self._stop.wait(self.cfg.start_delay_s)
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # the watcher outlives a database hiccup
                log.exception("ONVIF watcher round failed")
                self._stop.wait(1.0)
            self._stop.wait(TICK_S)

    def round(self) -> None:
        """Refresh the camera list when due, write what finished, start what is due."""
        now_s = self.clock.monotonic()
        if now_s >= self._next_refresh:
            self._next_refresh = now_s + self.cfg.refresh_s
            self.refresh()
        done = [w for w in self.cameras.values() if w.busy is not None and w.busy.done()]
        events: list[CameraEvent] = []
        clocks: list[tuple[str, ClockReading]] = []
        for w in done:
            assert w.busy is not None
            got, reading = w.busy.result()
            w.busy = None
            events += got
            if reading is not None:
                clocks.append((w.camera_id, reading))
        prune = now_s >= self._next_prune
        if events or clocks or prune:
            with unit_of_work(self.factory) as session:
                onvif_service.record_camera_events(session=session, events=events)
                for camera_id, reading in clocks:
                    onvif_service.record_clock(session=session, camera_id=camera_id, reading=reading)
                if prune:
                    self._next_prune = now_s + PRUNE_EVERY_S
                    before = self.clock.wall_ns() - int(self.cfg.event_days * 86400 * NS)
                    onvif_service.prune_camera_events(session=session, before_ns=before)
            self.written_events += len(events)
            self.written_clocks += len(clocks)
        self._schedule()
        self.rounds += 1

    def _schedule(self) -> None:
        if self._pool is None or self._stop.is_set():
            return
        now_ns = self.clock.wall_ns()
        for w in self.cameras.values():
            if w.busy is not None:
                continue
            clock_due = now_ns >= w.next_clock_ns
            events_due = w.consumer is not None and now_ns >= w.consumer.due_ns()
            if clock_due or events_due:
                w.busy = self._pool.submit(self._work, w, clock_due, events_due)

    def _work(self, w: _Watched, clock_due: bool, events_due: bool) -> tuple[list[CameraEvent], ClockReading | None]:
        """In a worker: read the clock if due, pull events once. Never raises (one camera never stops the rest)."""
        reading = None
        if clock_due:
            try:
                reading = read_clock(w.target, clock=self.clock)
                w.clock_failures = 0
                w.next_clock_ns = self.clock.wall_ns() + int(self.cfg.clock_interval_s * NS)
            except (OnvifError, Exception) as exc:
                w.clock_failures += 1
                wait = min(self.cfg.clock_interval_s, self.cfg.backoff_max_s, 2.0 ** min(w.clock_failures, 12))
                w.next_clock_ns = self.clock.wall_ns() + int(wait * NS)
                log.info("camera %s: clock not read: %s", w.camera_id, str(exc)[:300])
        events: list[CameraEvent] = []
        if events_due and w.consumer is not None and not self._stop.is_set():
            events = w.consumer.step()
        return events, reading

    def refresh(self) -> None:
        """Follow the registry: cameras gained or lost, an address or login changed (the consumer starts anew)."""
        with unit_of_work(self.factory) as session:
            cams = list(
                session.scalars(
                    select(Camera).where(Camera.onvif_url.is_not(None), Camera.status != CameraState.PLANNED)
                )
            )
            targets: dict[str, OnvifTarget] = {}
            for cam in cams:
                if self.wanted is not None and not self.wanted(cam.id):
                    continue
                try:
                    target = onvif_target(cam, self.box, timeout_s=self.cfg.timeout_s)
                except (OnvifError, SecretsKeyError, ValueError) as exc:
                    log.warning("camera %s: no ONVIF target: %s", cam.id, str(exc)[:300])
                    continue
                if target is not None:
                    targets[cam.id] = target
        for camera_id in list(self.cameras):
            w = self.cameras[camera_id]
            if targets.get(camera_id) != w.target and w.busy is None:  # a busy one goes at the next refresh
                if w.consumer is not None and self._pool is not None:
                    self._pool.submit(w.consumer.stop)
                del self.cameras[camera_id]
        new = [c for c in targets if c not in self.cameras]
        known: dict[str, dict[str, bool]] = {}
        if new and self.cfg.events:
            with unit_of_work(self.factory) as session:
                known = onvif_service.last_states(session=session, camera_ids=new)
        for camera_id in new:
            target = targets[camera_id]
            consumer = self._consumer(camera_id, target, known.get(camera_id, {}))
            self.cameras[camera_id] = _Watched(camera_id, target, consumer)

    def _consumer(self, camera_id: str, target: OnvifTarget, known: dict[str, bool]) -> PullPointConsumer | None:
        if not self.cfg.events:
            return None
        settings = ConsumerSettings(
            pull_timeout_s=self.cfg.pull_timeout_s,
            termination_s=self.cfg.subscription_s,
            renew_margin_s=min(30.0, self.cfg.subscription_s / 3),
            backoff_max_s=self.cfg.backoff_max_s,
        )
        return PullPointConsumer(camera_id=camera_id, target=target, clock=self.clock, settings=settings, known=known)
