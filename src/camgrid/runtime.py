"""The composition root: the one place a process's parts are built and wired (design: docs/design/runtime.md).

``build(settings, role=...)`` assembles the recorder, its privacy masks, retention, the live incident engine, the
bus and a cluster node's lease work from explicit ports; the CLI commands only parse their arguments, call it, and
``start()``/``stop()`` what it returns. Every part gets its collaborators through its constructor or a registration
method before anything starts, so no package reaches into another's fields after construction.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from camgrid.audit.log import AuditLog
from camgrid.audit.note import NoteError, Verifier
from camgrid.audit.witness import WitnessStore, load_or_create_cosigner
from camgrid.auditing import SYSTEM
from camgrid.bus import Bus, make_bus
from camgrid.clock import Clock
from camgrid.cluster.control import StateFeed, Watermarks, incident_publisher
from camgrid.cluster.media import RecordingsServer, serve_recordings
from camgrid.cluster.node import RecorderNode
from camgrid.cluster.outbox import OutboxIndexWriter
from camgrid.config import Settings
from camgrid.db.engine import unit_of_work
from camgrid.db.secrets import SecretBox
from camgrid.health.onvif_watch import OnvifWatch
from camgrid.health.wiring import LiveIncidents
from camgrid.motion.activity import ActivityTap
from camgrid.motion.activity_store import ActivityRetention, ActivityStore
from camgrid.onvif.connect import OnvifTarget
from camgrid.planner.run_worker import PlanWorker
from camgrid.privacy.wiring import MaskSync
from camgrid.storage.backfill_runner import BackfillRunner
from camgrid.storage.metrics import serve_metrics
from camgrid.storage.recorder import Recorder
from camgrid.storage.retention import RetentionRunner
from camgrid.vocabulary import ProcessRole

if TYPE_CHECKING:
    from camgrid.api.context import AppContext
    from camgrid.motion.tamper_watch import ActivitySource, TamperWatch
    from camgrid.privacy.camera_mask_sync import CameraMaskSync

log = logging.getLogger("camgrid.runtime")


class RetentionFactory(Protocol):
    """Builds the retention housekeeping hook (``node_id``: a cluster node deletes only what it recorded)."""

    def __call__(
        self,
        settings: Settings,
        engine: Engine,
        factory: sessionmaker[Session],
        clock: Clock,
        *,
        node_id: str | None = None,
        activity: ActivityStore | None = None,
    ) -> Callable[[], None]: ...


class BackfillFactory(Protocol):
    """Builds the edge backfill runner of a recording process (``recorder``: the cameras it records)."""

    def __call__(
        self, settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: Clock, *, recorder: Recorder
    ) -> BackfillRunner: ...


def backfill_runner(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], clock: Clock, *, recorder: Recorder
) -> BackfillRunner:
    """Edge backfill (docs/design/onvif.md, "Edge backfill"): gaps of the cameras this process records, replayed
    from their cards, audited as camgrid itself, searched in each camera's clock (its last reading; 0 without one)."""
    from camgrid.health.models import CameraClockRow
    from camgrid.onvif.targets import onvif_target
    from camgrid.registry.models import Camera

    cfg = settings.backfill
    box = SecretBox(settings.secrets_key_path)
    node_id = settings.recorder.node_id
    # Entries only: checkpoints are signed by the process's retention hook or the control room (one signer per log).
    audit_log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=False)

    def targets(camera_id: str) -> OnvifTarget | None:
        with unit_of_work(factory) as session:
            camera = session.get(Camera, camera_id)
            return None if camera is None else onvif_target(camera, box, timeout_s=cfg.search_timeout_s)

    def offset_of(camera_id: str) -> int:
        """The camera's last clock reading (camera - ours; kept by the ONVIF watch in ``camera_clocks``), else 0."""
        with unit_of_work(factory) as session:
            row = session.get(CameraClockRow, camera_id)
            return 0 if row is None else int(row.offset_ns)

    return BackfillRunner(
        factory=factory, cfg=cfg, audit=audit_log, clock=clock, node_id=node_id,
        recordings_dir=settings.recordings_dir, targets=targets, owns=recorder.records, offset_of=offset_of,
    )  # fmt: skip


def metrics_token(home: Path) -> str:
    """The bearer token of the metrics endpoint, made once per home (mode 600) for Prometheus to read."""
    path = home / "run" / "metrics.token"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def retention_hook(
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    node_id: str | None = None,
    activity: ActivityStore | None = None,
) -> Callable[[], None]:
    """The recorder's retention (``storage.retention.RetentionRunner``, audited as camgrid itself) every
    ``retention.interval_s``. ``node_id``: a cluster node deletes only what it recorded (its disk, its budget).
    The activity levels kept beside the video (``activity``, else the home's) are erased with it."""
    # A cluster node adds entries to the shared log; only the central node signs checkpoints (one key per log).
    audit_log = AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=node_id is None)
    runner = RetentionRunner(
        factory=factory, cfg=settings.retention, audit=audit_log, actor=SYSTEM, clock=clock, node_id=node_id
    )
    runner.add_listener(ActivityRetention(store=activity or activity_store(settings), factory=factory))

    def hook() -> None:
        if runner.tick() is not None and node_id is None:
            audit_log.maybe_checkpoint(clock.wall_ns())

    return hook


def _activity_reader(store: ActivityStore | None) -> Callable[[str, int, int], bytes] | None:
    """The node's levels for its recordings server (the central API asks for a camera's: docs/design/cluster.md)."""
    if store is None:
        return None
    return lambda camera_id, start_s, end_s: store.read(camera_id=camera_id, start_s=start_s, end_s=end_s).levels


def activity_store(settings: Settings) -> ActivityStore:
    """Activity levels beside the index: ``<home>/activity`` (docs/design/motion-search.md)."""
    return ActivityStore(settings.home / "activity")


def camera_mask_sync(
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    clock: Clock,
    recorder: Recorder,
    masks: MaskSync,
) -> CameraMaskSync:
    """Camera-side masks, verified (docs/design/camera-side-masks.md), audited as camgrid itself."""
    from camgrid.db.secrets import SecretBox
    from camgrid.privacy.camera_mask_sync import CameraMaskSync  # numpy and libav only when masks are used

    sync = CameraMaskSync(
        recorder=recorder,
        factory=factory,
        audit=AuditLog.open(engine, home=settings.home, clock=clock, auto_checkpoint=False),
        clock=clock,
        cfg=settings.privacy,
        box=SecretBox(settings.secrets_key_path),
        installed=masks.revisions.get,
    )
    masks.camera_side = sync
    return sync


def tamper_watch(
    settings: Settings,
    factory: sessionmaker[Session],
    clock: Clock,
    recorder: Recorder,
    *,
    activity: ActivitySource | None = None,
) -> TamperWatch:
    """Tamper alarms (docs/design/tamper.md): the recorder's keyframes, after its masks, sampled every
    ``tamper.interval_s``; ``activity`` (the activity tap, when this process has one) feeds the frozen check."""
    from camgrid.motion.tamper_watch import TamperWatch  # numpy and libav only when tamper alarms are on

    watch = TamperWatch(
        factory=factory,
        clock=clock,
        cfg=settings.tamper,
        codec_of=recorder.codec_of,
        wanted=recorder.records,
        activity=activity,
    )
    recorder.add_tap(watch.tap)
    recorder.add_session_listener(watch.session)
    return watch


def node_witness(settings: Settings) -> WitnessStore | None:
    """Every recorder node witnesses the central audit log by default (docs/design/witnesses.md): its key and state
    in ``$CAMGRID_HOME/witness``, answering on its recordings server."""
    if not settings.witness.serve_on_node:
        return None
    folder = settings.home / "witness"
    try:
        keys = [Verifier.parse(k) for k in settings.witness.log_keys.split(";") if k.strip()]
        cosigner = load_or_create_cosigner(folder / "witness.key", name=f"camgrid.witness/{settings.recorder.node_id}")
        return WitnessStore(folder / "state.json", cosigner=cosigner, log_keys=keys, pin_first=not keys)
    except (NoteError, OSError, ValueError) as exc:  # the node does not start, saying why
        raise RuntimeError(f"the audit witness of this node cannot start: {exc}") from None


@dataclass
class Runtime:
    """A built process: its parts, and the order they start and stop in."""

    settings: Settings
    factory: sessionmaker[Session]
    clock: Clock
    role: ProcessRole
    recorder: Recorder | None = None
    masks: MaskSync | None = None
    camera_masks: CameraMaskSync | None = None
    incidents: LiveIncidents | None = None
    feed: StateFeed | None = None
    node: RecorderNode | None = None
    backfill: BackfillRunner | None = None
    onvif: OnvifWatch | None = None
    tamper: TamperWatch | None = None
    activity: ActivityTap | None = None  # per camera-second levels (tamper detectors add listeners before start)
    activity_store: ActivityStore | None = None  # where they are kept; the API reads it
    plans: PlanWorker | None = None  # the planner screen's runs (a process that serves the control room)
    serves_metrics: bool = False
    _metrics: ThreadingHTTPServer | None = field(default=None, repr=False)
    _recordings: RecordingsServer | None = field(default=None, repr=False)
    _started: bool = field(default=False, repr=False)

    def start(self) -> None:
        """Masks first (installed before the first picture arrives), then recording, then the endpoints and the
        incident engine. Raises RuntimeError when another recorder of this node runs on the same home (what did
        start is stopped again first)."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        if self.masks is not None:
            self.masks.sync()
        if self.node is not None:
            self.node.start()  # registers, replays the outbox, then starts the recorder on the leases it holds
        elif self.recorder is not None:
            self.recorder.start()
        self._started = True
        if self.camera_masks is not None:
            self.camera_masks.start()  # after the recorder: it acts on the cameras recorded here
        if self.serves_metrics and self.recorder is not None:
            self._metrics = self._serve_metrics(self.recorder)
        if self.role is ProcessRole.NODE:
            # The central API fetches this node's segments here (cluster.address, cluster.media_token); the node
            # witnesses the audit log on the same server.
            cluster = self.settings.cluster
            self._recordings = serve_recordings(
                factory=self.factory,
                node_id=self.settings.recorder.node_id,
                recordings=self.settings.recordings_dir,
                cfg=self.settings.cluster,
                witness=node_witness(self.settings) if cluster.address and cluster.media_token else None,
                clock=self.clock,
                activity=_activity_reader(self.activity_store),
            )
        if self.incidents is not None:
            self.incidents.start()
        if self.onvif is not None:
            self.onvif.start()
        if self.plans is not None:
            self.plans.start()  # marks the runs the last stop interrupted, then solves the queued ones
        if self.tamper is not None:
            self.tamper.start()

    def stop(self) -> None:
        """The reverse: inputs first (bus feed, incidents), then recording (segments closed, gaps opened)."""
        if self.feed is not None:
            self.feed.close()
        if self.plans is not None:
            self.plans.stop()  # each run ends after its current step (marked interrupted)
        if self.tamper is not None:
            self.tamper.stop()
        if self.onvif is not None:
            self.onvif.stop()
        if self.incidents is not None:
            self.incidents.stop()
        if self.backfill is not None:
            self.backfill.stop()  # replays end first; their jobs are pending again at the next start
        if self.camera_masks is not None:
            self.camera_masks.stop()
        if self._started:
            if self.node is not None:
                self.node.stop()  # stops the recorder, then gives the leases back
            elif self.recorder is not None:
                self.recorder.stop()
            self._started = False
        if self.activity is not None:
            self.activity.close()  # the last seconds and the baselines written
        for server in (self._metrics, self._recordings):
            if server is not None:
                server.shutdown()
                server.server_close()
        self._metrics = self._recordings = None

    def app_context(self) -> AppContext:
        """What the API needs, with the map's camera states loaded from the index."""
        from camgrid.api.context import AppContext  # only processes that serve the API carry it (and its imports)

        ctx = AppContext(
            settings=self.settings,
            factory=self.factory,
            clock=self.clock,
            recorder=self.recorder,
            incidents=self.incidents,
            feed=self.feed,
            masks=self.masks,
            activity=self.activity_store or activity_store(self.settings),
            plan_worker=self.plans,
            session_ttl_s=self.settings.access.session_ttl_s,
        )
        with unit_of_work(self.factory) as session:
            ctx.states.load(session, self.clock.wall_ns())
        return ctx

    def _serve_metrics(self, recorder: Recorder) -> ThreadingHTTPServer | None:
        cfg = self.settings.recorder
        tamper = self.tamper

        def gauges() -> dict[str, float]:
            return {**recorder.gauges(), **(tamper.gauges() if tamper is not None else {})}

        try:
            return serve_metrics(
                cfg.metrics_host, cfg.metrics_port, recorder.metrics, gauges, metrics_token(self.settings.home)
            )
        except OSError as exc:
            log.warning(
                "metrics endpoint disabled: cannot listen on %s:%d (%s)", cfg.metrics_host, cfg.metrics_port, exc
            )
            return None


def build(
    settings: Settings,
    *,
    role: ProcessRole = ProcessRole.SINGLE,
    engine: Engine,
    factory: sessionmaker[Session],
    clock: Clock,
    api: bool = True,
    retention: RetentionFactory | None = None,
    bus: Bus | None = None,
    backfill: BackfillFactory | None = None,
) -> Runtime:
    """Wire one process.

    ``role``: SINGLE records every camera assigned to this node (with retention and the metrics endpoint); NODE is a
    cluster's recorder node (leases, an outbox for index rows, retention of its own recordings, its recordings
    server); CENTRAL records nothing: with a bus it is a cluster's control room (camera states from the nodes, live
    views opened on demand straight from the cameras, masks burnt in), without one a control room over this home.
    ``api``: the process also serves the control room (the live incident engine, and the bus feed when
    ``bus.url`` is set). ``retention``: builds the retention hook (None: no retention in this process).
    ``bus``: the bus to use instead of the one ``settings.bus`` describes (tests). ``backfill``: builds the edge
    backfill runner, a housekeeping hook of SINGLE and NODE recorders (None, or ``backfill.enabled`` false: none).
    """
    rt = Runtime(settings=settings, factory=factory, clock=clock, role=role)
    node_id = settings.recorder.node_id
    if role is ProcessRole.NODE:
        # Index rows survive a database outage (and a crash during one) in a local outbox.
        outbox = OutboxIndexWriter(engine, folder=settings.home / "outbox", node_id=node_id, clock=clock)
        rt.recorder = Recorder(
            settings=settings, engine=engine, factory=factory, clock=clock, index=outbox, only=()
        )  # nothing until leases are held
        rt.node = RecorderNode(
            recorder=rt.recorder,
            outbox=outbox,
            factory=factory,
            bus=bus or make_bus(settings.bus, spool=settings.home / "outbox" / "events.jsonl"),
            clock=clock,
            cfg=settings.cluster,
        )
        api = False
    elif role is ProcessRole.SINGLE:
        rt.recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock)
        rt.serves_metrics = bool(settings.recorder.metrics_port)
    elif settings.bus.url:
        # A cluster's central node records nothing (the nodes do); a recorder restricted to no camera opens the
        # live view of a camera on demand, straight from the camera, with its privacy masks burnt in.
        rt.recorder = Recorder(settings=settings, engine=engine, factory=factory, clock=clock, only=())
    if rt.recorder is not None:
        rt.masks = MaskSync(rt.recorder, factory)
        rt.recorder.add_hook(rt.masks.sync)
        if settings.privacy.camera_side and role is not ProcessRole.CENTRAL:
            rt.camera_masks = camera_mask_sync(settings, engine, factory, clock, rt.recorder, rt.masks)
        if settings.motion.activity and role is not ProcessRole.CENTRAL:
            rt.activity_store = activity_store(settings)
            rt.activity = ActivityTap(
                clock=clock,
                store=rt.activity_store,
                records=rt.recorder.records,
                flush_s=settings.motion.activity_flush_s,
            )
            rt.recorder.add_tap(rt.activity)
            rt.recorder.add_hook(rt.activity.tick)
        if retention is not None and role is not ProcessRole.CENTRAL:
            hook = retention(
                settings,
                engine,
                factory,
                clock,
                node_id=node_id if role is ProcessRole.NODE else None,
                activity=rt.activity_store,
            )
            rt.recorder.add_hook(hook)
        if backfill is not None and role is not ProcessRole.CENTRAL and settings.backfill.enabled:
            rt.backfill = backfill(settings, engine, factory, clock, recorder=rt.recorder)
            rt.recorder.add_hook(rt.backfill.tick)
    if rt.recorder is not None and role is not ProcessRole.CENTRAL and settings.onvif.watch:
        # the cameras this process records: a node's leases change, so it is asked each time the list is read
        rt.onvif = OnvifWatch(
            factory=factory,
            clock=clock,
            cfg=settings.onvif,
            box=SecretBox(settings.secrets_key_path),
            wanted=rt.recorder.records if role is ProcessRole.NODE else None,
        )
    if rt.recorder is not None and role is not ProcessRole.CENTRAL and settings.tamper.enabled:
        # the activity tap (when on) tells the frozen check whether the stream between keyframes collapsed
        rt.tamper = tamper_watch(settings, factory, clock, rt.recorder, activity=rt.activity)
    if api:
        _wire_control_room(rt, bus)
    return rt


def plan_worker(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> PlanWorker:
    """The planner screen's background worker (docs/design/planner-screen.md): plans into ``<home>/plans``."""
    from camgrid.planner.run_map import open_run_map

    cfg = settings.plan_runs
    cache = Path(settings.planner.cache_dir) if settings.planner.cache_dir else settings.home / "cache" / "planner"
    map_path = Path(cfg.map_path) if cfg.map_path else None
    return PlanWorker(
        factory=factory, clock=clock, planner=settings.planner, cfg=cfg, plans_dir=settings.home / "plans",
        cache_dir=cache, load_map=lambda: open_run_map(map_path, settings.planner), map_path=map_path,
    )  # fmt: skip


def _wire_control_room(rt: Runtime, bus: Bus | None) -> None:
    """The bus feed of a cluster's camera states, the live incident engine and the plan worker of the control
    room."""
    settings, clock = rt.settings, rt.clock
    rt.plans = plan_worker(settings, rt.factory, clock)
    horizon = None
    if settings.bus.url:  # a cluster's central node: camera states arrive from the recorder nodes over the bus
        rt.feed = StateFeed(bus or make_bus(settings.bus), [])
        rt.feed.watermarks = Watermarks(
            factory=rt.factory,
            clock=clock,
            ttl_s=settings.cluster.lease_ttl_s,
            max_lag_s=settings.cluster.max_event_lag_s,
        )
        horizon = rt.feed.watermarks.horizon
    if rt.recorder is None and rt.feed is None:
        return  # nothing reports camera states to this process: no incident engine
    rt.incidents = LiveIncidents(factory=rt.factory, clock=clock, config=settings.health, horizon=horizon)
    if rt.feed is not None:
        rt.incidents.feed.listeners.append(
            incident_publisher(rt.feed.bus, node_id=settings.recorder.node_id, clock=clock)
        )
