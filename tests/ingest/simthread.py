"""The project's RTSP simulator on its own event loop in a thread of the test, in real time, on a free loopback
port: a real camera to probe (tests/ingest/test_probe.py, tests/web/test_probe_browser.py)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from camgrid.sim.layout import SimCameraSpec
from camgrid.sim.server import CameraState, SimServer
from camgrid.sim.service import prepare
from tests.backends import free_port
from tests.conftest import CLIP_CACHE

# The clip every probe test measures against.
WIDTH, HEIGHT, FPS, GOP_SECONDS = 320, 240, 10, 1.0
GOP = round(GOP_SECONDS * FPS)
USER, PASSWORD = "admin", "sim-probe-password-7"


def spec(camera_id: str, index: int, codec: str = "h264", password: str = PASSWORD) -> SimCameraSpec:
    return SimCameraSpec(
        camera_id, index, camera_id, 27.7, 85.3, "D-01", "site", "feeder", "u1", codec, USER, password, 0
    )


@dataclass
class Sim:
    port: int
    cameras: dict[str, CameraState]

    def url(self, camera_id: str) -> str:
        return self.cameras[camera_id].spec.url("127.0.0.1", self.port)


@contextlib.contextmanager
def running_sim(specs: list[SimCameraSpec]) -> Iterator[Sim]:
    cameras = prepare(
        specs,
        cache_dir=CLIP_CACHE,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        bitrate_kbps=200,
        gop_seconds=GOP_SECONDS,
        clip_seconds=4.0,
    )
    loop = asyncio.new_event_loop()
    server = SimServer(cameras, FPS)
    port = free_port()
    loop.run_until_complete(server.start("127.0.0.1", port))
    ticker = loop.create_task(server.tick_forever())
    thread = threading.Thread(target=loop.run_forever, name="sim", daemon=True)
    thread.start()
    try:
        yield Sim(port, cameras)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        ticker.cancel()
        for conn in list(server.connections):
            conn.abort()
        if server.server is not None:
            server.server.close()
        loop.run_until_complete(asyncio.gather(ticker, return_exceptions=True))
        loop.close()
