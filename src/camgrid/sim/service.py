"""Running the simulated city: clips, server, fault injector and a small HTTP control API.

Control API (JSON over HTTP on ``sim.control_port``): ``GET /cameras``, ``GET /stats``,
``POST /fault {"kind", "subject", "seconds"?}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from camgrid.media.nal import H264
from camgrid.sim import clips
from camgrid.sim.faults import FaultError, FaultInjector
from camgrid.sim.layout import SimCameraSpec
from camgrid.sim.server import CameraState, SimServer, build_templates

log = logging.getLogger("camgrid.sim")


def prepare(
    specs: list[SimCameraSpec],
    *,
    cache_dir: Path,
    width: int,
    height: int,
    fps: int,
    bitrate_kbps: int,
    gop_seconds: float,
    clip_seconds: float,
    pattern_cameras: frozenset[str] = frozenset(),
) -> dict[str, CameraState]:
    """Encode (once, cached) and packetize a clip per camera."""
    gop = max(1, round(gop_seconds * fps))
    frames = max(gop, round(clip_seconds * fps / gop) * gop)
    clip_specs = [
        clips.ClipSpec(
            s.codec, width, height, fps, bitrate_kbps, gop, frames, s.id.upper(), s.index, s.id in pattern_cameras
        )
        for s in specs
    ]
    # Every camera also has a substream (as real cameras do) for multi-tile walls: small, cheap to decode.
    sub_w = max(160, (width // 4) // 16 * 16)
    sub_h = max(90, (sub_w * height // width) // 2 * 2)
    sub_specs = [
        clips.ClipSpec(s.codec, sub_w, sub_h, fps, max(100, bitrate_kbps // 8), gop, frames, s.id.upper(), s.index)
        for s in specs
    ]
    paths = clips.encode_many(clip_specs + sub_specs, cache_dir)
    out = {}
    for i, spec in enumerate(specs):
        clip = clips.load(paths[i], spec.codec)
        sub_clip = clips.load(paths[len(specs) + i], spec.codec)
        out[spec.id] = CameraState(spec, clip, build_templates(clip), sub_clip, build_templates(sub_clip))
    return out


class ControlApi(asyncio.Protocol):
    def __init__(self, server: SimServer, injector: FaultInjector) -> None:
        self.server = server
        self.injector = injector
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buf[:end].decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if len(self.buf) < end + 4 + length:
            return
        body = self.buf[end + 4 : end + 4 + length]
        method, path = head.split(" ")[:2]
        status, payload = self.route(method, path, body)
        out = json.dumps(payload).encode()
        assert self.transport is not None
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(out)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + out
        )
        self.transport.close()

    def route(self, method: str, path: str, body: bytes) -> tuple[str, Any]:
        if method == "GET" and path == "/cameras":
            return "200 OK", [
                {
                    "id": c.spec.id,
                    "codec": c.spec.codec,
                    "feeder": c.spec.feeder,
                    "uplink": c.spec.uplink,
                    "site": c.spec.site,
                    "powered": c.powered,
                    "uplink_up": c.uplink_up,
                    "sessions": len(c.sessions),
                }
                for c in self.server.cameras.values()
            ]
        if method == "GET" and path == "/stats":
            return "200 OK", {
                c.spec.id: {"frames_sent": c.frames_sent, "bytes_sent": c.bytes_sent, "intervals": c.intervals}
                for c in self.server.cameras.values()
            }
        if method == "POST" and path == "/fault":
            try:
                req = json.loads(body or b"{}")
                return "200 OK", self.injector.apply(str(req["kind"]), str(req["subject"]), req.get("seconds"))
            except (FaultError, KeyError, ValueError) as exc:
                return "400 Bad Request", {"error": str(exc)}
        return "404 Not Found", {"error": f"no route {method} {path}"}


async def serve(
    cameras: dict[str, CameraState],
    *,
    host: str,
    port: int,
    control_port: int,
    fps: int,
    truth_path: Path | None,
    ready: asyncio.Event | None = None,
) -> None:
    server = SimServer(cameras, fps)
    await server.start(host, port)
    injector = FaultInjector(server, truth_path)
    loop = asyncio.get_running_loop()
    if control_port:
        await loop.create_server(lambda: ControlApi(server, injector), host, control_port, reuse_address=True)
    h265 = sum(1 for c in cameras.values() if c.spec.codec != H264)
    log.info(
        "serving %d cameras (%d H.265) on rtsp://%s:%d, control on %d", len(cameras), h265, host, port, control_port
    )
    print(
        f"camgrid-sim ready: {len(cameras)} cameras on rtsp://{host}:{port}/ control http://{host}:{control_port}/",
        flush=True,
    )
    if ready is not None:
        ready.set()
    await server.tick_forever()
