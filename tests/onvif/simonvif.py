"""The simulator's ONVIF server on its own event loop in a thread of the test (real HTTP on the cameras' own
loopback addresses), with its fault injector: a real ONVIF camera for the events and clock tests.

The cameras have no video here (their clips are never played): events and clocks need none, and encoding clips
would cost seconds per test file."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from camgrid.sim.clips import Clip
from camgrid.sim.faults import FaultInjector
from camgrid.sim.layout import SimCameraSpec, onvif_traits
from camgrid.sim.onvif.http import OnvifHttpServer
from camgrid.sim.sdcard import SdCard
from camgrid.sim.server import CameraState, SimServer

USER, PASSWORD = "admin", "sim-onvif-password-7"
FPS = 10


def spec(camera_id: str, index: int, district: str = "D-01") -> SimCameraSpec:
    return SimCameraSpec(
        camera_id, index, camera_id, 27.7, 85.3, district, "site", "feeder", "u1", "h264", USER, PASSWORD, 0
    )


def cameras(specs: list[SimCameraSpec]) -> dict[str, CameraState]:
    out = {}
    for s in specs:
        traits = onvif_traits(s.index)
        card = SdCard(capacity_ns=int(traits.sd_capacity_s * 1e9)) if traits.sd_card else None
        out[s.id] = CameraState(spec=s, clip=cast(Clip, None), loops={}, onvif=traits, card=card)
    return out


@dataclass
class OnvifSim:
    cameras: dict[str, CameraState]
    truth: Path
    port: int = 0
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    server: SimServer | None = None
    http: OnvifHttpServer | None = None
    injector: FaultInjector | None = None
    _thread: threading.Thread | None = None

    def run(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(15)

    def start(self) -> None:
        """(Re)start the simulator's ONVIF server on the same port; a restart forgets every subscription."""
        self.server = SimServer(self.cameras, FPS)
        self.http = OnvifHttpServer(self.server)
        self.port = self.run(self.http.start(self.port, host="0.0.0.0"))
        self.injector = FaultInjector(self.server, self.truth)

    def stop_http(self) -> None:
        if self.http is not None:
            self.run(self.http.close())
            self.http = None

    def url(self, camera_id: str) -> str:
        return self.cameras[camera_id].spec.onvif_url(self.port)

    def fault(self, kind: str, subject: str, seconds: float | None = None) -> dict[str, Any]:
        assert self.injector is not None
        return self.injector.apply(kind, subject, seconds)


@contextlib.contextmanager
def running_onvif_sim(specs: list[SimCameraSpec], truth: Path) -> Iterator[OnvifSim]:
    sim = OnvifSim(cameras(specs), truth)
    sim._thread = threading.Thread(target=sim.loop.run_forever, name="sim-onvif", daemon=True)
    sim._thread.start()
    try:
        sim.start()
        yield sim
    finally:
        with contextlib.suppress(Exception):
            sim.stop_http()
        sim.loop.call_soon_threadsafe(sim.loop.stop)
        sim._thread.join(10)
        sim.loop.run_until_complete(sim.loop.shutdown_default_executor())  # asyncio.to_thread's workers
        sim.loop.close()
