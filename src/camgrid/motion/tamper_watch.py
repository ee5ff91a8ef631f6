"""The tamper watch of a recording process: keyframe samples judged against each camera's reference, persisted,
raised as camera incidents with stills; the camera's own ONVIF tamper events merged into the same incident.

Built by ``runtime.build`` for the single and node roles: its ``tap`` and ``session`` are registered on the recorder
(``add_tap``, ``add_session_listener``); an activity tap (motion/activity.py), when given, feeds the frozen check
with each camera-second's level. Never an outage: nothing here reaches the correlation engine, and a camera that is
offline has no picture to judge (its samples stop; after it reconnects, ``tamper.grace_s`` passes before its
pictures count). Design note: docs/design/tamper.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import Clock
from camgrid.config import TamperConfig
from camgrid.db.engine import unit_of_work
from camgrid.health import onvif_service
from camgrid.motion import tamper_service as ts
from camgrid.motion.keyframes import KeyframeSampler, Sample
from camgrid.motion.tamper import SMALL_H, SMALL_W, Look, Persistence, Reference, judge
from camgrid.vocabulary import CameraCondition, TamperKind

log = logging.getLogger("camgrid.motion.tamper")
NS = 1_000_000_000
ACTIVITY_FRESH_S = 10  # an activity level older than this says nothing about the picture now
DRIFT_SAVE_S = 600  # a drifting reference is written back this often


class SecondLike(Protocol):
    """What the activity tap tells per camera-second (motion/activity.py ``SecondStats``)."""

    @property
    def camera_id(self) -> str: ...

    @property
    def second(self) -> int: ...

    @property
    def level(self) -> int: ...


class ActivitySource(Protocol):
    def add_listener(self, fn: Callable[[SecondLike], None]) -> None: ...


@dataclass
class _Cam:
    ref: Reference
    persist: Persistence
    loaded: bool = False
    grace_until_ns: int = 0
    previous: Look | None = None
    last: Sample | None = None
    retake_ns: int | None = None  # the operator's re-take being served
    onvif: bool = False  # the camera's own tamper event holds the incident open
    saved_ns: int = 0
    sessions: int = 0  # session ups and downs seen (ingest thread)
    counted: int = 0  # ... of which the counting has been reset for (thread ``tamper``)


class TamperWatch:
    """Samples, verdicts and incidents for the cameras ``wanted`` says this process records."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        clock: Clock,
        cfg: TamperConfig,
        codec_of: Callable[[str], str],
        wanted: Callable[[str], bool] | None = None,
        activity: ActivitySource | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.cfg = cfg
        self.wanted = wanted
        self.sampler = KeyframeSampler(
            clock=clock,
            codec_of=codec_of,
            interval_s=cfg.interval_s,
            workers=cfg.workers,
            on_sample=self.on_sample,
            on_session=self.on_session,
            on_round=self.on_round,
            wanted=wanted,
        )
        self.raised = 0
        self.cleared = 0
        self._cams: dict[str, _Cam] = {}
        self._levels: dict[str, tuple[int, int]] = {}  # camera -> (second, level), the latest
        self._lock = threading.Lock()
        if activity is not None:
            activity.add_listener(self.on_second)

    # registration targets ---------------------------------------------------------------------------------------
    @property
    def tap(self) -> Callable[..., None]:
        return self.sampler.tap

    def session(self, camera_id: str, up: bool, reason: str, at_ns: int) -> None:
        self.sampler.session(camera_id, up, reason, at_ns)

    def on_second(self, stats: SecondLike) -> None:
        """An activity tap's closed camera-second (any thread; one dict write)."""
        self._levels[stats.camera_id] = (int(stats.second), int(stats.level))

    def start(self) -> None:
        self.sampler.start()

    def stop(self) -> None:
        self.sampler.stop()

    def gauges(self) -> dict[str, float]:
        return {
            **self.sampler.gauges(),
            "camgrid_tamper_raised_total": float(self.raised),
            "camgrid_tamper_open": float(sum(1 for c in list(self._cams.values()) if c.persist.raised or c.onvif)),
        }

    # sampler callbacks ------------------------------------------------------------------------------------------
    def on_session(self, camera_id: str, up: bool, at_ns: int) -> None:
        """A camera connected or went away (ingest thread): counting starts anew, with a grace after it returns."""
        with self._lock:  # only the dictionary: the counting itself is reset on the thread that counts
            cam = self._cam(camera_id)
        if up:
            cam.grace_until_ns = at_ns + round(self.cfg.grace_s * NS)
        cam.sessions += 1

    def _cam(self, camera_id: str) -> _Cam:
        cam = self._cams.get(camera_id)
        if cam is None:
            cam = self._cams[camera_id] = _Cam(
                Reference(learn=self.cfg.learn_samples),
                Persistence(raise_after=self.cfg.raise_after, clear_after=self.cfg.clear_after),
            )
        return cam

    def _load(self, camera_id: str, cam: _Cam) -> None:
        """The stored reference and an incident a previous run left open (closed here when the picture is normal)."""
        with unit_of_work(self.factory) as session:
            stored = ts.references(session=session, camera_ids=[camera_id]).get(camera_id)
            open_row = ts.open_tampers(session=session, camera_ids=[camera_id]).get(camera_id)
            sources = (open_row.evidence or "").split(",") if open_row is not None else []
        shape = (stored.width, stored.height) if stored is not None else (0, 0)
        if stored is not None and stored.picture and stored.taken_ns is not None and shape == (SMALL_W, SMALL_H):
            small = np.frombuffer(stored.picture, np.uint8).reshape(SMALL_H, SMALL_W).astype(np.float32)
            tiles = np.frombuffer(stored.tiles, np.float32) if stored.tiles else None
            cam.ref.restore(small, stored.edge, tiles)
        if stored is not None and stored.retake_ns is not None:
            cam.ref.retake()
            cam.retake_ns = stored.retake_ns
        picture = [s for s in sources if s and s != TamperKind.CAMERA]
        if picture:
            cam.persist.raised = TamperKind(picture[0])
        cam.onvif = TamperKind.CAMERA in sources
        cam.loaded = True

    def _activity(self, camera_id: str, t_ns: int) -> int | None:
        got = self._levels.get(camera_id)
        if got is None or abs(t_ns // NS - got[0]) > ACTIVITY_FRESH_S or got[1] == 0:
            return None
        return got[1]

    def on_sample(self, sample: Sample) -> None:
        """One decoded keyframe (thread ``tamper``): judged, persisted, and an incident raised or cleared."""
        cid = sample.camera_id
        if self.wanted is not None and not self.wanted(cid):
            return
        with self._lock:
            cam = self._cam(cid)
        if not cam.loaded:
            self._load(cid, cam)
        cam.last = sample
        if cam.counted != cam.sessions:  # it went away or came back since: counting starts anew
            cam.counted = cam.sessions
            cam.persist.reset()
            cam.previous = None
        if sample.t_ns < cam.grace_until_ns:
            return
        kind = judge(sample.look, cam.ref if cam.ref.ready else None, cam.previous, self._activity(cid, sample.t_ns))
        cam.previous = sample.look
        if cam.ref.offer(sample.look, normal=kind is None and cam.persist.raised is None):
            self._save_reference(cid, cam, sample, still=True)
        elif cam.ref.ready and sample.t_ns - cam.saved_ns > DRIFT_SAVE_S * NS:
            self._save_reference(cid, cam, sample, still=False)
        event = cam.persist.feed(kind)
        if event is None:
            return
        what, which = event
        now = self.clock.wall_ns()
        with unit_of_work(self.factory) as session:
            if what == "raise" and which is not None:
                ts.raise_tamper(session=session, camera_id=cid, kind=which, now_ns=now, after=sample.still())
                self.raised += 1
                log.warning("camera %s: tamper (%s)", cid, which)
            else:
                ts.clear_tamper(session=session, camera_id=cid, camera_event=False, now_ns=now)
                self.cleared += 1
                log.info("camera %s: the picture is normal again (was %s)", cid, which)

    def _save_reference(self, cid: str, cam: _Cam, sample: Sample, *, still: bool) -> None:
        assert cam.ref.small is not None
        picture = np.clip(np.rint(cam.ref.small), 0, 255).astype(np.uint8).tobytes()
        with unit_of_work(self.factory) as session:
            ts.save_reference(
                session=session,
                camera_id=cid,
                width=SMALL_W,
                height=SMALL_H,
                picture=picture,
                edge=cam.ref.edge,
                tiles=cam.ref.tiles.astype(np.float32).tobytes() if cam.ref.tiles is not None else None,
                jpeg=sample.still() if still else None,
                now_ns=self.clock.wall_ns(),
                served_retake_ns=cam.retake_ns if still else None,
            )
        if still:
            cam.retake_ns = None
            log.info("camera %s: tamper reference %s", cid, "taken")
        cam.saved_ns = sample.t_ns

    def on_round(self) -> None:
        """Once per interval (thread ``tamper``): operators' re-takes, and the cameras' own ONVIF tamper events."""
        with self._lock:
            ids = [c for c, cam in self._cams.items() if cam.loaded]
        if not ids:
            return
        with unit_of_work(self.factory) as session:
            retakes = ts.pending_retakes(session=session, camera_ids=ids)
            status = onvif_service.onvif_status(session=session, camera_ids=ids, clock_tolerance_ns=1 << 62)
        now = self.clock.wall_ns()
        for cid in ids:
            cam = self._cams[cid]
            pending = retakes.get(cid)
            if pending is not None and pending != cam.retake_ns:
                cam.ref.retake()  # the next stable pictures become the reference
                cam.retake_ns = pending
            st = status.get(cid)
            active = st is not None and CameraCondition.TAMPER in st.conditions
            if active == cam.onvif:
                continue
            last = cam.last
            with unit_of_work(self.factory) as session:
                if active:
                    after = last.still() if last is not None else b""
                    ts.raise_tamper(session=session, camera_id=cid, kind=TamperKind.CAMERA, now_ns=now, after=after)
                    log.warning("camera %s: the camera reports tampering (ONVIF)", cid)
                else:
                    ts.clear_tamper(session=session, camera_id=cid, camera_event=True, now_ns=now)
            cam.onvif = active
