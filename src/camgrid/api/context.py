"""What the app needs, built once per process by ``camgrid.runtime`` (or a test)."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid import vocabulary as vocab
from camgrid.access.ratelimit import LoginLimiter, ThrottlePolicy
from camgrid.access.totp import PendingLogins, SecretBox
from camgrid.api.event_ring import Event, EventRing
from camgrid.clock import Clock
from camgrid.config import Settings
from camgrid.live.hub import SUB, LiveHub
from camgrid.live.segments import SegmentTranscodes
from camgrid.motion.activity_store import ActivityStore
from camgrid.registry.models import Camera
from camgrid.storage.models import Gap, Segment
from camgrid.storage.recorder import Recorder

NS = 1_000_000_000


@dataclass
class CameraState:
    state: str  # a vocabulary.CameraState
    reason: str
    since_ns: int


@dataclass
class StateStore:
    """Every camera's current state for the map; updated from the recorder's events on the event loop."""

    states: dict[str, CameraState] = field(default_factory=dict)
    events: EventRing = field(default_factory=EventRing)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def subscribers(self) -> set[asyncio.Queue[Event]]:
        return self.events.subscribers

    def publish(self, messages: list[str]) -> None:
        """Event loop only: number, keep and hand out messages (incident changes; camera states come through set)."""
        with self.lock:
            self.events.publish(messages)

    def snapshot(self) -> tuple[dict[str, CameraState], str, int]:
        """Every state with the epoch and id of the last event it contains (one lock: no event half in it)."""
        with self.lock:
            return dict(self.states), self.events.epoch, self.events.last

    def load(self, session: Session, now_ns: int) -> None:
        states: dict[str, CameraState] = {}
        for cid, status in session.execute(select(Camera.id, Camera.status)):
            states[cid] = CameraState(
                vocab.CameraState.PLANNED if status == "planned" else vocab.CameraState.UNKNOWN, "", now_ns
            )
        for cid, start, reason in session.execute(
            select(Gap.camera_id, Gap.start_ns, Gap.reason).where(Gap.end_ns.is_(None))
        ):
            if cid in states:
                states[cid] = CameraState(vocab.CameraState.OFFLINE, reason, start)
        for cid, end in session.execute(select(Segment.camera_id, Segment.end_ns).where(Segment.status == "writing")):
            if cid in states and states[cid].state == vocab.CameraState.UNKNOWN:
                states[cid] = CameraState(vocab.CameraState.RECORDING, "", end)
        with self.lock:
            self.states = states

    def set(self, camera_id: str, state: str, reason: str, since_ns: int) -> None:
        """Event loop only."""
        msg = json.dumps(
            {"type": "camera", "id": camera_id, "state": state, "reason": reason, "since_ms": since_ns // 1_000_000}
        )
        with self.lock:  # the state and its event together: a snapshot holds both or neither
            self.states[camera_id] = CameraState(state, reason, since_ns)
            self.events.publish([msg])

    def get(self, camera_id: str) -> CameraState | None:
        with self.lock:
            return self.states.get(camera_id)


@dataclass
class AppContext:
    settings: Settings
    factory: sessionmaker[Session]
    clock: Clock
    recorder: Recorder | None = None
    hub: LiveHub | None = None
    states: StateStore = field(default_factory=StateStore)
    limiter: LoginLimiter = field(init=False)  # the login throttle, from ``api.*`` (tests may replace it)
    pending_logins: PendingLogins = field(default_factory=PendingLogins)  # passwords right, second factor awaited
    totp_box: SecretBox | None = None  # opened on first use from $CAMGRID_HOME/keys/totp.key
    directory: Any = None  # camgrid.access.directory.Directory when access.ldap is enabled (create_app)
    base_map: dict[str, Any] | None = None
    base_map_json: bytes | None = None  # /api/map/base, encoded once
    masks: Any = None  # camgrid.privacy.wiring.MaskSync when a recorder runs in this process
    audit: Any = None  # camgrid.audit.log.AuditLog (create_app opens it when not given)
    camera_cache: dict[Any, Any] | None = None  # /api/cameras' registry columns per (revision, scope)
    session_ttl_s: float = 12 * 3600.0
    incidents: Any = None  # camgrid.health.wiring.LiveIncidents when serve runs the outage correlation
    feed: Any = None  # camgrid.cluster.control.StateFeed: a cluster's camera states from the bus (central node)
    activity: ActivityStore | None = None  # per camera-second activity levels (None: none kept)
    segment_transcodes: SegmentTranscodes = field(init=False)  # H.265 recordings as H.264 for playback (live.*)

    def __post_init__(self) -> None:
        self.limiter = LoginLimiter(ThrottlePolicy.from_config(self.settings.api))
        live = self.settings.live
        self.segment_transcodes = SegmentTranscodes(
            slots=live.max_segment_transcodes, cache=live.segment_cache, max_bytes=live.max_segment_bytes
        )

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wire the recorder's packets and state changes into the live hub and the state store."""
        rec = self.recorder
        if self.incidents is not None:
            self.incidents.attach(rec, loop, self.states.publish)
        if self.feed is not None:
            self._attach_feed(loop)
        if rec is None:
            return

        def open_sub(camera_id: str) -> bool:
            src = rec.source_of(camera_id)
            if src is None or not src.sub_url or rec.transform_of(camera_id) is not None:
                return False  # a masked camera's substream would show what its mask hides
            key = camera_id + SUB
            rec.open_live_session(key, replace(src, id=key, url=src.sub_url, sub_url=""))
            return True

        def close_sub(camera_id: str) -> None:
            rec.close_live_session(camera_id + SUB)

        open_main = close_main = None
        if rec.restricted:  # a recorder that records only some cameras (a cluster): watch the others directly

            def open_main(camera_id: str) -> bool:
                if rec.records(camera_id):
                    return True  # recorded here: the recording's connection serves the viewers
                src = rec.live_source(camera_id)
                if src is None:
                    return False
                rec.open_live_session(camera_id, src)  # masks apply: transforms are keyed by camera
                return True

            def close_main(camera_id: str) -> None:
                rec.close_live_session(camera_id)

        live = self.settings.live
        self.hub = LiveHub(
            loop,
            rec.codec_of,
            open_sub,
            close_sub,
            open_main,
            close_main,
            max_transcodes=live.max_transcodes,
            transcode_queue=live.transcode_queue,
            transcode_threads=live.transcode_threads,
            transcode_max_lag_s=live.transcode_max_lag_ms / 1000,
        )
        rec.add_tap(self.hub.tap)
        rec.add_audio_tap(self.hub)
        rec.add_session_listener(self.hub.on_state)

        def on_state(camera_id: str, state: str, reason: str, since_ns: int) -> None:  # ingest thread
            loop.call_soon_threadsafe(self.states.set, camera_id, state, reason, since_ns)

        rec.add_state_listener(on_state)

    def _attach_feed(self, loop: asyncio.AbstractEventLoop) -> None:
        """A central node: every recorder node's camera states (from the bus) to the map and the incident engine."""

        def on_state(camera_id: str, state: str, reason: str, since_ns: int) -> None:  # bus thread
            loop.call_soon_threadsafe(self.states.set, camera_id, state, reason, since_ns)

        self.feed.applies.append(on_state)
        if self.incidents is not None:
            adapter = self.incidents.adapter
            # A first start replays the stream's whole history: the map wants the newest state of every camera, the
            # incident engine only what it can still judge (the changes of the last ``max_event_lag_s``).
            floor = self.clock.wall_ns() - int(self.settings.cluster.max_event_lag_s * NS)

            def to_incidents(camera_id: str, state: str, reason: str, since_ns: int) -> None:  # bus thread
                if since_ns >= floor:
                    adapter(camera_id, state, reason, since_ns)

            self.feed.applies.append(to_incidents)
            # A restarted central node: cameras dark now (open gaps in the index) are not re-announced by their
            # nodes; the engine starts from them, with their real times, so an ongoing outage is an incident again.
            with self.states.lock:
                dark = [(cid, st) for cid, st in self.states.states.items() if st.state == vocab.CameraState.OFFLINE]
            for cid, st in dark:
                adapter(cid, vocab.CameraState.OFFLINE, st.reason, st.since_ns)
        self.feed.start()
