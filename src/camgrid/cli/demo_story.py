"""What ``camgrid demo`` shows beyond recording: a camera-side mask verified, an uplink cut whose gap fills from the
cameras' own SD cards once the link returns (issue 15), and a camera covered now and then (issue 17). Each step prints
one line when it has really happened, read from the database the control room reads; nothing is announced before it
is true."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.db.engine import unit_of_work
from camgrid.health.models import IncidentRow
from camgrid.motion import tamper_service
from camgrid.motion.tamper_service import INCIDENT_KEY
from camgrid.privacy.models import CameraSideMask
from camgrid.registry.models import Camera
from camgrid.storage.models import BackfillJob, Gap, Segment
from camgrid.vocabulary import BackfillState, MaskMode, SegmentSource

FINISHED = (BackfillState.DONE, BackfillState.NOTHING_HELD, BackfillState.FAILED)


def mask_line(factory: sessionmaker[Session], camera_id: str) -> str | None:
    """A line once the camera's own mask has passed camgrid's check (or once it failed and the recorder masks)."""
    with unit_of_work(factory) as session:
        row = session.get(CameraSideMask, camera_id)
    if row is None:
        return None
    if row.mode == MaskMode.CAMERA and row.verified_ns is not None:
        return (
            f"  {camera_id}: the camera burns its privacy mask in itself (set over ONVIF Media2); camgrid checked a "
            "decoded keyframe and stores its stream untouched (`camgrid sim fault mask_tamper "
            f"{camera_id}` to see the recorder take over)"
        )
    if row.mode in (MaskMode.CAMERA_FAILED, MaskMode.RECORDER) and row.reason:
        return f"  {camera_id}: masked by the recorder ({row.reason})"
    return None


@dataclass
class UplinkCut:
    """Cut one uplink of the simulated city for ``seconds`` after ``after_s``, restore it, then report what the
    cameras' cards gave back. Driven by :meth:`tick` from the demo's loop (no thread of its own)."""

    factory: sessionmaker[Session]
    control_url: str
    camera_id: str
    after_s: float
    seconds: float
    started: float = field(default_factory=time.monotonic)
    uplink: str = ""
    cameras: list[str] = field(default_factory=list)
    cut_ns: int = 0
    stage: str = "waiting"

    def tick(self) -> str | None:
        """Advance the story; a line to print when something happened."""
        now = time.monotonic() - self.started
        if self.stage == "waiting" and now >= self.after_s:
            with unit_of_work(self.factory) as session:
                cam = session.get(Camera, self.camera_id) or session.scalars(select(Camera).limit(1)).first()
                if cam is None:
                    self.stage = "done"
                    return None
                self.uplink = cam.uplink_id
                self.cameras = list(session.scalars(select(Camera.id).where(Camera.uplink_id == self.uplink)))
            if (err := self._fault("uplink_cut")) is not None:
                self.stage = "done"
                return err
            self.cut_ns = time.time_ns()
            self.stage = "cut"
            return (
                f"  uplink {self.uplink} cut for {self.seconds:.0f} s ({len(self.cameras)} cameras): one uplink "
                "incident in the control room; the cameras keep recording to their SD cards"
            )
        if self.stage == "cut" and now >= self.after_s + self.seconds:
            self.stage = "restored" if (err := self._fault("uplink_restore")) is None else "done"
            return err or f"  uplink {self.uplink} back: camgrid replays the missing minutes from the cameras' cards"
        if self.stage == "restored":
            return self._report()
        return None

    def _report(self) -> str | None:
        with unit_of_work(self.factory) as session:
            jobs = list(
                session.scalars(
                    select(BackfillJob)
                    .where(BackfillJob.camera_id.in_(self.cameras))
                    .where(BackfillJob.end_ns >= self.cut_ns)
                )
            )
            if not jobs or any(j.state not in FINISHED for j in jobs):
                return None
            edge_ns = session.scalar(
                select(func.coalesce(func.sum(Segment.end_ns - Segment.start_ns), 0))
                .where(Segment.camera_id.in_(self.cameras))
                .where(Segment.source == SegmentSource.EDGE)
                .where(Segment.end_ns >= self.cut_ns)
            )
            lost_ns = session.scalar(
                select(func.coalesce(func.sum(Gap.end_ns - Gap.start_ns), 0))
                .where(Gap.camera_id.in_(self.cameras))
                .where(Gap.end_ns.is_not(None))
                .where(Gap.end_ns >= self.cut_ns)
            )
        self.stage = "done"
        held = sum(1 for j in jobs if j.state == BackfillState.DONE)
        return (
            f"  uplink {self.uplink}: {int(edge_ns or 0) / 1e9:.0f} s of video recovered from {held} cameras' cards "
            f"(hatched on the playback timeline, audited as backfill); {int(lost_ns or 0) / 1e9:.0f} s stay gaps "
            "(cameras without Profile G, and each camera's last part-GOP before the cut)"
        )

    def _fault(self, kind: str) -> str | None:
        body = json.dumps({"kind": kind, "subject": self.uplink}).encode()
        req = urllib.request.Request(
            self.control_url + "/fault", data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10):
                return None
        except (urllib.error.URLError, OSError) as exc:
            return f"  {kind} {self.uplink}: the simulator did not take it ({exc})"


@dataclass
class CoveredNowAndThen:
    """One camera is covered now and then (the simulator's ``cover`` fault, then ``scene_restore``): the control room
    shows a tamper incident with its before/after stills, closed when the picture is back (docs/design/tamper.md).
    Driven by :meth:`tick` from the demo's loop; a line when the incident really opened or closed."""

    factory: sessionmaker[Session]
    control_url: str
    camera_id: str
    every_s: float = 180.0
    seconds: float = 60.0
    after_s: float = 60.0
    started: float = field(default_factory=time.monotonic)
    stage: str = "waiting"
    since: float = 0.0
    cover_ns: int = 0
    told: set[tuple[int, bool]] = field(default_factory=set)  # (incident, opened) lines printed
    # True while another part of the story takes cameras away (the uplink cut): no cover then
    hold: Callable[[], bool] = field(default=lambda: False)

    def _watched(self) -> bool:
        """The cover is only worth showing once the tamper watch can see it: the camera records (no open gap) and
        has a learnt reference (its first minute or so); a cover before that would be learnt as the picture."""
        with unit_of_work(self.factory) as session:
            ref = tamper_service.references(session=session, camera_ids=[self.camera_id]).get(self.camera_id)
            gap = session.scalar(
                select(func.count()).select_from(Gap).where(Gap.camera_id == self.camera_id, Gap.end_ns.is_(None))
            )
        return ref is not None and ref.taken_ns is not None and not gap

    def tick(self) -> str | None:
        now = time.monotonic() - self.started
        if self.stage == "waiting" and now >= self.after_s and not self.hold() and self._watched():
            if (err := _fault(self.control_url, "cover", self.camera_id)) is not None:
                self.stage = "done"
                return err
            self.stage, self.since, self.cover_ns = "covered", now, time.time_ns()
            return f"  {self.camera_id} covered for {self.seconds:.0f} s (simulator fault cover): watch for its tamper"
        if self.stage == "covered":
            line = self._incident(opened=True)
            if now - self.since >= self.seconds:
                err = _fault(self.control_url, "scene_restore", self.camera_id)
                self.stage, self.since = ("restored", now) if err is None else ("done", now)
                return line or err
            return line
        if self.stage == "restored":
            line = self._incident(opened=False)
            if line is not None or now - self.since >= self.every_s:
                self.stage, self.after_s = "waiting", now + max(0.0, self.every_s - (now - self.since))
            return line
        return None

    def _incident(self, *, opened: bool) -> str | None:
        with unit_of_work(self.factory) as session:
            row = session.scalars(
                select(IncidentRow)
                .where(IncidentRow.engine_key.startswith(f"{INCIDENT_KEY}:{self.camera_id}:"))
                .where(IncidentRow.opened_ns >= self.cover_ns)
                .order_by(IncidentRow.id.desc())
            ).first()
        if row is None or (row.id, opened) in self.told or (not opened and row.resolved_ns is None):
            return None
        self.told.add((row.id, opened))
        if opened:
            late = (row.opened_ns - self.cover_ns) / 1e9
            return (
                f"  {self.camera_id}: camera incident '{row.reason}' {late:.0f} s after the cover, with before/after "
                "stills (never an outage)"
            )
        return f"  {self.camera_id}: the picture is back; its tamper incident closed"


def _fault(control_url: str, kind: str, subject: str) -> str | None:
    body = json.dumps({"kind": kind, "subject": subject}).encode()
    req = urllib.request.Request(
        control_url + "/fault", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10):
            return None
    except (urllib.error.URLError, OSError) as exc:
        return f"  {kind} {subject}: the simulator did not take it ({exc})"
