"""The fault injector: what each fault does to the simulated cameras, and its ground truth as JSON lines.

Every applied fault appends ``{"t": <unix seconds>, "kind": ..., "subject": ..., "cameras": [...]}`` to the truth
file, so that tests can score what camgrid reports against what really happened. Scene faults (a scene camera's
picture: motion, cover, defocus, turn, blind, freeze, scene_restore) write theirs when the picture changes on the
wire, with ``region`` and ``until`` for motion (:mod:`camgrid.sim.scene_director`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camgrid.sim import scenes
from camgrid.sim.scene_director import SceneError, ScriptEntry, ScriptRunner
from camgrid.sim.server import CameraState, SimServer

# kind -> (what the subject names, description)
FAULTS: dict[str, tuple[str, str]] = {
    "power_cut": ("feeder", "every camera on the feeder drops its connections and refuses new ones"),
    "power_restore": ("feeder", "power returns to the feeder"),
    "site_cut": ("site", "one site loses power (or its switch)"),
    "site_restore": ("site", "the site returns"),
    "uplink_cut": ("uplink", "connections through the uplink go silent: no data, no reset"),
    "uplink_restore": ("uplink", "the uplink returns"),
    "stall": ("camera", "the camera keeps its connection but sends no media"),
    "unstall": ("camera", "the camera sends media again"),
    "garbage": ("camera", "the camera sends random bytes instead of RTP"),
    "garbage_stop": ("camera", "the camera sends proper RTP again"),
    "clock_jump": ("camera", "the camera's RTP clock jumps by `seconds` (default 3600)"),
    "disconnect": ("camera", "the camera drops its connections once (and accepts new ones)"),
    "auth_refuse": ("camera", "the camera refuses the password"),
    "auth_accept": ("camera", "the camera accepts the password again"),
    "mask_tamper": ("camera", "the camera stops burning its privacy masks in (GetMasks still lists them)"),
    "mask_restore": ("camera", "the camera burns its privacy masks in again"),
    "camera_tamper": ("camera", "the camera's scene is covered or moved (ONVIF event GlobalSceneChange true)"),
    "camera_tamper_end": ("camera", "the camera's scene is back (GlobalSceneChange false)"),
    "camera_motion": ("camera", "the camera sees motion for `seconds` (default 5; ONVIF event MotionAlarm)"),
    "sd_card_failure": ("camera", "the camera's SD card fails: it is empty and records nothing"),
    "sd_card_replace": ("camera", "a new, empty SD card: the camera records again"),
    "camera_clock_offset": ("camera", "the camera's own clock is `seconds` off true time (default 300; 0: right)"),
    # scene cameras only (camgrid sim --scenes): the picture changes at the next keyframe, the truth line with it
    "motion": ("camera", "a bright shape moves in `cell` or the grid cells `region` covers for `seconds` (default 10)"),
    "cover": ("camera", "the lens is covered: a dark, flat picture"),
    "defocus": ("camera", "the lens is out of focus: the picture heavily blurred"),
    "turn": ("camera", "the camera is turned away: another scene"),
    "blind": ("camera", "a light shines into the lens: a washed-out, near-white picture"),
    "freeze": ("camera", "the camera repeats one picture (identical keyframes, empty pictures between)"),
    "scene_restore": ("camera", "the scene camera shows its still picture again"),
}


class FaultError(ValueError):
    """Unknown fault kind or subject."""


class FaultInjector:
    def __init__(self, server: SimServer, truth_path: Path | None, script: list[ScriptEntry] | None = None) -> None:
        self.server = server
        self.truth_path = truth_path
        self._lock = threading.Lock()
        server.scenes.truth_sink = self._write
        self.script = ScriptRunner([], self._scripted)
        self.run_script(script or [])

    def run_script(self, entries: list[ScriptEntry]) -> None:
        """Apply ``entries`` from the next poll on (``at_s`` counted from it)."""
        self.script = ScriptRunner(entries, self._scripted)

    def poll(self, now: float) -> None:
        """Due script entries and motions that are over (``now`` on the server's clock; a few times a second)."""
        self.script.poll(now)
        self.server.scenes.poll(now)

    def _scripted(self, e: ScriptEntry) -> object:
        return self.apply(e.kind, e.camera, e.seconds, region=e.region, cell=e.cell)

    def _write(self, entry: dict[str, Any]) -> None:
        if self.truth_path is not None:
            with self._lock, self.truth_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")

    def _targets(self, kind: str, subject: str) -> list[CameraState]:
        what = FAULTS[kind][0]
        key = {"feeder": "feeder", "site": "site", "uplink": "uplink", "camera": "id"}[what]
        cams = self.server.cameras_where(key, subject)
        if not cams:
            raise FaultError(f"no camera has {what} {subject!r}")
        return cams

    def apply(
        self,
        kind: str,
        subject: str,
        seconds: float | None = None,
        *,
        region: Sequence[float] | None = None,
        cell: int | None = None,
    ) -> dict[str, Any]:
        if kind not in FAULTS:
            raise FaultError(f"unknown fault {kind!r}; known: {', '.join(sorted(FAULTS))}")
        cams = self._targets(kind, subject)
        if kind in scenes.SCENE_FAULTS:  # the truth line is written when the picture changes on the wire
            try:
                return self.server.scenes.request(cams[0], kind, seconds=seconds, region=region, cell=cell)
            except SceneError as exc:
                raise FaultError(str(exc)) from None
        now_ns = time.time_ns()
        if kind == "camera_clock_offset" and seconds is None:
            seconds = 300.0  # the truth file says how far off the clock was set
        if kind in ("power_cut", "site_cut"):
            for c in cams:
                c.powered = False
                if c.card is not None:
                    c.card.power(False, now_ns)
            self.server.drop(cams)
        elif kind in ("power_restore", "site_restore"):
            for c in cams:
                c.powered = True
                if c.card is not None:
                    c.card.power(True, now_ns)
        elif kind in ("sd_card_failure", "sd_card_replace"):
            cams = [c for c in cams if c.card is not None]
            if not cams:
                raise FaultError(f"camera {subject!r} has no SD card")
            for card in (c.card for c in cams if c.card is not None):
                if kind == "sd_card_failure":
                    card.fail(now_ns)
                else:
                    card.replace(now_ns)
        elif kind == "uplink_cut":
            for c in cams:
                c.uplink_up = False
        elif kind == "uplink_restore":
            for c in cams:
                c.uplink_up = True
        elif kind in ("stall", "unstall"):
            for c in cams:
                c.stalled = kind == "stall"
        elif kind in ("garbage", "garbage_stop"):
            for c in cams:
                c.garbage = kind == "garbage"
        elif kind == "clock_jump":
            for c in cams:
                c.ts_jump += int((3600.0 if seconds is None else seconds) * 90_000)
        elif kind == "camera_clock_offset":
            for c in cams:
                c.clock_offset_ns = int((seconds or 0.0) * 1e9)
        elif kind == "disconnect":
            self.server.drop(cams)
        elif kind in ("auth_refuse", "auth_accept"):
            for c in cams:
                c.refuse_auth = kind == "auth_refuse"
            if kind == "auth_refuse":
                self.server.drop(cams)  # the camera's password changed: its sessions end
        elif kind in ("mask_tamper", "mask_restore"):
            for c in cams:
                c.mask_tamper = kind == "mask_tamper"  # sessions switch at their next loop boundary (a keyframe)
        elif kind in ("camera_tamper", "camera_tamper_end"):
            for c in cams:
                c.tampered = kind == "camera_tamper"
        elif kind == "camera_motion":
            until = now_ns + int((5.0 if seconds is None else seconds) * 1e9)
            for c in cams:
                c.motion_until_ns = until
        entry: dict[str, Any] = {
            "t": round(now_ns / 1e9, 3),
            "kind": kind,
            "subject": subject,
            "cameras": sorted(c.spec.id for c in cams),
        }
        if seconds is not None:
            entry["seconds"] = seconds
        self._write(entry)
        return entry
