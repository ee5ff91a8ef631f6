"""The simulator with its ONVIF services, on its own event loop in a thread of the test (real time, free ports):
real devices for the real onvif-python and wsdiscovery clients."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camgrid.sim.faults import FaultInjector
from camgrid.sim.layout import SimCameraSpec, onvif_address
from camgrid.sim.onvif.http import OnvifHttpServer
from camgrid.sim.server import CameraState, SimServer
from camgrid.sim.service import prepare
from tests.backends import free_port
from tests.conftest import CLIP_CACHE

WIDTH, HEIGHT, FPS, GOP_SECONDS = 320, 240, 10, 1.0
USER = "admin"


def spec(index: int, codec: str = "h264", password: str | None = None) -> SimCameraSpec:
    """Camera ``index`` (1-based, so its model follows :func:`camgrid.sim.layout.onvif_traits`)."""
    cid = f"cam-{index:04d}"
    pw = f"onvif-pw-{index}" if password is None else password
    return SimCameraSpec(
        cid,
        index,
        f"Street #{index}",
        27.7,
        85.3,
        "D-01",
        f"S-{index:03d}",
        f"F-{index:02d}",
        f"U-{index:02d}",
        codec,
        USER,
        pw,
        0.0,
    )


@dataclass
class OnvifSim:
    loop: asyncio.AbstractEventLoop
    server: SimServer
    onvif: OnvifHttpServer
    injector: FaultInjector
    rtsp_port: int
    discovery_port: int
    truth: Path | None

    @property
    def cameras(self) -> dict[str, CameraState]:
        return self.server.cameras

    @property
    def onvif_port(self) -> int:
        return self.onvif.port

    def device_url(self, camera_id: str) -> str:
        cam = self.cameras[camera_id]
        return f"http://{onvif_address(cam.spec.index)}:{self.onvif.port}/onvif/device_service"

    def fault(self, kind: str, subject: str, seconds: float | None = None) -> dict[str, Any]:
        """Apply a fault on the simulator's own loop (it aborts transports) and wait for it."""

        async def apply() -> dict[str, Any]:
            return self.injector.apply(kind, subject, seconds)

        return asyncio.run_coroutine_threadsafe(apply(), self.loop).result(10)


@contextlib.contextmanager
def running_onvif_sim(
    specs: list[SimCameraSpec], *, discovery: bool = False, truth: Path | None = None
) -> Iterator[OnvifSim]:
    cameras = prepare(
        specs,
        cache_dir=CLIP_CACHE,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        bitrate_kbps=200,
        gop_seconds=GOP_SECONDS,
        clip_seconds=2.0,
    )
    loop = asyncio.new_event_loop()
    server = SimServer(cameras, FPS)
    rtsp_port = free_port()
    loop.run_until_complete(server.start("127.0.0.1", rtsp_port))
    onvif = OnvifHttpServer(server)
    loop.run_until_complete(onvif.start(0))
    responder = None
    discovery_port = 0
    if discovery:
        from camgrid.sim.onvif.discovery import DiscoveryResponder

        responder = DiscoveryResponder(onvif, loopback_only=True)
        discovery_port = loop.run_until_complete(responder.start(0))
    ticker = loop.create_task(server.tick_forever())
    thread = threading.Thread(target=loop.run_forever, name="onvif-sim", daemon=True)
    thread.start()
    try:
        yield OnvifSim(loop, server, onvif, FaultInjector(server, truth), rtsp_port, discovery_port, truth)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        ticker.cancel()
        for conn in list(server.connections):
            conn.abort()
        if server.server is not None:
            server.server.close()
        loop.run_until_complete(onvif.close())
        if responder is not None:
            responder.close()
        loop.run_until_complete(asyncio.gather(ticker, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())  # asyncio.to_thread's workers (snapshots, masks)
        loop.close()
