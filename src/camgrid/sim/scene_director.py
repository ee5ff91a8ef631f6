"""What scene cameras show, changed by faults and scripts, with ground truth written when the picture changes on the
wire (docs/design/simulator.md, "Scene cameras").

A fault asks for a variant (:mod:`camgrid.sim.scenes`); its loops are taken from the shared bank (encoded on a
worker thread the first time, never on the event loop) and installed on the camera; each session switches at its
next keyframe, and the first main-stream session to switch writes the truth line ``{"t", "kind", "subject",
"cameras", "region"?, "until"?}`` with the time of that keyframe. A camera nobody is watching changes at once. A
motion ends by itself ``seconds`` after it began (the still picture returns at the next keyframe after ``until``).

The scripted scene file (``camgrid sim --scene-script FILE.json``) is a list of ``{"at_s", "kind", "camera",
"region"?, "cell"?, "seconds"?}``, ``at_s`` seconds after the simulator starts serving, applied by the simulator
itself through the same fault injector (benchmarks and the demo).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camgrid.sim import scenes
from camgrid.sim.sendloop import SendLoop

if TYPE_CHECKING:
    from camgrid.sim.server import CameraState, SimServer

log = logging.getLogger("camgrid.sim")
MAX_SCRIPT = 100_000  # entries in a scene script
MAX_SCRIPT_S = 7 * 86_400.0
SCRIPT_FIELDS = frozenset({"at_s", "kind", "camera", "subject", "seconds", "region", "cell"})


class SceneError(ValueError):
    """A scene fault that cannot be applied (not a scene camera, a bad region or cell)."""


class SceneDirector:
    """Applies scene faults to a server's scene cameras (on its event loop; variants built on one worker)."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.truth_sink: Callable[[dict[str, Any]], None] | None = None
        self.written: list[dict[str, Any]] = []  # every truth line written (tests, GET /scenes)
        self._aio: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._aio = loop

    def request(
        self,
        cam: CameraState,
        kind: str,
        *,
        seconds: float | None = None,
        region: Sequence[float] | None = None,
        cell: int | None = None,
    ) -> dict[str, Any]:
        """Ask ``cam`` to show ``kind``; returns the truth entry as it will be written (without ``t`` yet)."""
        bank = cam.scene_bank
        if bank is None:
            raise SceneError(f"camera {cam.spec.id!r} is not a scene camera (camgrid sim --scenes)")
        entry: dict[str, Any] = {"kind": kind, "subject": cam.spec.id, "cameras": [cam.spec.id]}
        if kind == scenes.MOTION:
            try:
                cells = (cell,) if cell is not None else scenes.cells_of_region(region or [0.0, 0.0, 1.0, 1.0])
                variant = scenes.motion_variant(c for c in cells if c is not None)
            except (TypeError, ValueError) as exc:
                raise SceneError(str(exc)) from None
            entry["region"] = scenes.region_of_cells(scenes.variant_cells(variant))
            entry["seconds"] = float(scenes.DEFAULT_MOTION_S if seconds is None else seconds)
            if not 0.0 < entry["seconds"] <= 86_400.0:
                raise SceneError("seconds must be in (0, 86400]")
        elif kind == scenes.RESTORE:
            variant = scenes.STILL
        elif kind in scenes.TAMPERS:
            variant = kind
        else:
            raise SceneError(f"{kind!r} is not a scene fault")
        cam.scene_request += 1
        ticket = cam.scene_request
        cam.scene_until = None
        if variant == scenes.STILL:
            self._install(cam, ticket, variant, None, entry)
        elif bank.ready(cam, variant):
            self._install(cam, ticket, variant, bank.loops(cam, variant), entry)
        else:
            entry["pending"] = True
            self._build(cam, ticket, variant, {k: v for k, v in entry.items() if k != "pending"})
        return entry

    def _build(self, cam: CameraState, ticket: int, variant: str, entry: dict[str, Any]) -> None:
        bank = cam.scene_bank
        assert bank is not None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="sim-scenes")
        aio = self._aio

        def work() -> None:
            try:
                loops = bank.loops(cam, variant)
            except Exception:  # a variant that cannot be encoded leaves the camera as it was
                log.exception("%s: scene %s not built", cam.spec.id, variant)
                return
            if aio is None or aio.is_closed():
                return
            aio.call_soon_threadsafe(self._install, cam, ticket, variant, loops, entry)

        self._pool.submit(work)

    def _install(
        self,
        cam: CameraState,
        ticket: int,
        variant: str,
        loops: dict[str, SendLoop] | None,
        entry: dict[str, Any] | None,
    ) -> None:
        if cam.scene_request != ticket:
            return  # a later request supersedes this one
        cam.variant, cam.variant_loops = variant, loops
        cam.loop_gen += 1
        cam.scene_pending = entry
        if not any(s.playing and not s.sub for s in cam.sessions):  # nobody sees a keyframe: it changes now
            self.switched(cam, self.server.clock(), None)

    def switched(self, cam: CameraState, now: float, wall_ns: int | None) -> None:
        """A session of ``cam``'s main stream just sent the first keyframe of its new variant (the truth's time)."""
        entry, cam.scene_pending = cam.scene_pending, None
        if entry is None:
            return
        import time

        t = round((wall_ns if wall_ns is not None else time.time_ns()) / 1e9, 3)
        line = {"t": t, **entry}
        seconds = line.pop("seconds", None)
        if seconds is not None and line["kind"] == scenes.MOTION:
            line["until"] = round(t + seconds, 3)
            cam.scene_until = now + seconds
        self.written.append(line)
        if self.truth_sink is not None:
            self.truth_sink(line)

    def poll(self, now: float) -> None:
        """Motions that are over go back to the still picture (no truth line: the motion's says ``until``)."""
        for cam in self.server.cameras.values():
            if cam.scene_until is not None and now >= cam.scene_until:
                cam.scene_until = None
                cam.scene_request += 1
                self._install(cam, cam.scene_request, scenes.STILL, None, None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class ScriptEntry:
    at_s: float
    kind: str
    camera: str
    seconds: float | None = None
    region: tuple[float, float, float, float] | None = None
    cell: int | None = None


def load_script(path: Path, known_kinds: Sequence[str]) -> list[ScriptEntry]:
    """Read and check a scene script (a ValueError names the first bad entry)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return parse_script(raw, known_kinds)


def parse_script(raw: object, known_kinds: Sequence[str]) -> list[ScriptEntry]:
    if not isinstance(raw, list) or len(raw) > MAX_SCRIPT:
        raise ValueError(f"a scene script is a list of at most {MAX_SCRIPT} entries")
    out = []
    for i, item in enumerate(raw):
        try:
            if not isinstance(item, dict) or set(item) - SCRIPT_FIELDS:
                raise ValueError("unknown fields")
            at_s = float(item["at_s"])
            kind = str(item["kind"])
            camera = str(item.get("camera", item.get("subject", "")))
            if not 0.0 <= at_s <= MAX_SCRIPT_S or kind not in known_kinds or not camera:
                raise ValueError("at_s, kind or camera")
            region = item.get("region")
            reg = tuple(float(v) for v in region) if region is not None else None
            if reg is not None:
                scenes.cells_of_region(reg)
            cell = int(item["cell"]) if item.get("cell") is not None else None
            if cell is not None:
                scenes.cell_region(cell)
            seconds = float(item["seconds"]) if item.get("seconds") is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"scene script entry {i}: {exc}") from None
        out.append(ScriptEntry(at_s, kind, camera, seconds, reg, cell))  # type: ignore[arg-type]
    return sorted(out, key=lambda e: e.at_s)


class ScriptRunner:
    """Applies a script's entries when their time comes (``poll`` with the server's clock)."""

    def __init__(self, entries: list[ScriptEntry], apply: Callable[[ScriptEntry], object]) -> None:
        self.entries = entries
        self.apply = apply
        self.start: float | None = None
        self.next = 0

    def poll(self, now: float) -> None:
        if self.start is None:
            self.start = now
        while self.next < len(self.entries) and self.start + self.entries[self.next].at_s <= now:
            entry = self.entries[self.next]
            self.next += 1
            try:
                self.apply(entry)
            except ValueError as exc:
                log.error("scene script: %s at %.1f s on %s: %s", entry.kind, entry.at_s, entry.camera, exc)
