"""Running the simulated city: clips, server, fault injector and a small HTTP control API.

Control API (JSON over HTTP on ``sim.control_port``): ``GET /cameras``, ``GET /stats``,
``GET /truth/<camera>`` (each picture sent: session, RTP timestamp, digest, wall time; for cameras with quirks or
``--record-pictures``), ``GET /sdcard/<camera>`` (the spans its SD card holds, in true ns: ground truth for edge
backfill), ``POST /fault {"kind", "subject", "seconds"?}``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from camgrid.media.nal import H264
from camgrid.sim import clips, replay, sendloop
from camgrid.sim.audio import load_audio
from camgrid.sim.faults import FaultError, FaultInjector
from camgrid.sim.layout import SimCameraSpec, onvif_traits
from camgrid.sim.quirks import AUDIO_QUIRKS, PACKET_QUIRKS, QuirkError
from camgrid.sim.scene_director import ScriptEntry
from camgrid.sim.scenes import STILL, SceneBank
from camgrid.sim.sendloop import SendLoop
from camgrid.sim.server import CameraState, SimServer, loop_key

log = logging.getLogger("camgrid.sim")
SCENE_REFUSED = frozenset({"slice-markers", "b-frames", "sps-change", "sps-trailing"})  # quirks that change the clip


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
    shared_clip: bool = False,
    record_truth: bool = False,
    scene_variants: Iterable[str] = (),
) -> dict[str, CameraState]:
    """Encode (once, cached) a clip per camera (one for all with ``shared_clip``) and render its send loops.

    Cameras that send the same clip with the same packet-shaping quirks share their loops (and their memory). Scene
    cameras (``SimCameraSpec.scene``) all send the one still picture of their codec; ``scene_variants`` (a script's)
    are encoded now, others on first use."""
    gop = max(1, round(gop_seconds * fps))
    frames = max(gop, round(clip_seconds * fps / gop) * gop)
    sub_w = max(160, (width // 4) // 16 * 16)  # every camera also has a substream, as real ones do
    sub_h = max(90, (sub_w * height // width) // 2 * 2)
    bank = None
    if any(s.scene for s in specs):
        bank = SceneBank(cache_dir, width, height, sub_w, sub_h, fps, bitrate_kbps, gop, frames)
        for s in specs:
            if s.scene and set(s.quirks) & SCENE_REFUSED:
                raise QuirkError(f"{s.id}: a scene camera cannot have {sorted(set(s.quirks) & SCENE_REFUSED)}")
        bank.prewarm({s.codec for s in specs if s.scene}, set(scene_variants) - {STILL})

    def main_spec(s: SimCameraSpec, w: int = width, h: int = height) -> clips.ClipSpec:
        if s.scene and bank is not None:
            return bank.spec(s.codec, STILL)
        label, index = ("SIM", 0) if shared_clip else (s.id.upper(), s.index)
        slices = 2 if "slice-markers" in s.quirks else 1
        bframes = 2 if "b-frames" in s.quirks else 0
        if bframes and s.codec != H264:
            raise QuirkError(f"{s.id}: the b-frames quirk needs an H.264 camera")
        pattern = s.id in pattern_cameras
        return clips.ClipSpec(s.codec, w, h, fps, bitrate_kbps, gop, frames, label, index, pattern, slices, bframes)

    def sub_spec(s: SimCameraSpec) -> clips.ClipSpec:
        if s.scene and bank is not None:
            return bank.spec(s.codec, STILL, sub=True)
        label, index = ("SIM", 0) if shared_clip else (s.id.upper(), s.index)
        return clips.ClipSpec(s.codec, sub_w, sub_h, fps, max(100, bitrate_kbps // 8), gop, frames, label, index)

    def changed_spec(s: SimCameraSpec) -> clips.ClipSpec:  # sps-change: the second half at another resolution
        return main_spec(s, max(64, width * 3 // 4 // 16 * 16), max(64, height * 3 // 4 // 2 * 2))

    wanted: dict[clips.ClipSpec, Path] = {}
    for s in specs:
        wanted[main_spec(s)] = Path()
        wanted[sub_spec(s)] = Path()
        if "sps-change" in s.quirks:
            wanted[changed_spec(s)] = Path()
    order = list(wanted)
    for cs, path in zip(order, clips.encode_many(order, cache_dir), strict=True):
        wanted[cs] = path
    loaded: dict[clips.ClipSpec, clips.Clip] = {}

    def clip_of(cs: clips.ClipSpec) -> clips.Clip:
        if cs not in loaded:
            loaded[cs] = clips.load(wanted[cs], cs.codec)
        return loaded[cs]

    loops: dict[tuple[clips.ClipSpec, frozenset[str], str], SendLoop] = {}
    out = {}
    for s in specs:
        quirk_set = frozenset(s.quirks)
        clip = clip_of(main_spec(s))
        if "sps-change" in quirk_set:
            other = clip_of(changed_spec(s))
            clip = clips.Clip(clip.codec, clip.info, clip.params, clip.frames + other.frames, clip.keys + other.keys)
        if "sps-trailing" in quirk_set:
            clip = sendloop.with_trailing_sps(clip)
        audio_codec = next((AUDIO_QUIRKS[x] for x in s.quirks if x in AUDIO_QUIRKS), None)
        audio_track = load_audio(audio_codec, frames / fps, cache_dir) if audio_codec else None
        shaping = quirk_set & PACKET_QUIRKS
        key = (main_spec(s), shaping, audio_codec or "")
        if key not in loops:
            loops[key] = sendloop.build(clip, fps, shaping)
        cam_loops = {loop_key(False, False): loops[key]}
        if audio_track is not None:
            cam_loops[loop_key(False, True)] = sendloop.build(clip, fps, shaping, audio_track)
        sub_key: tuple[clips.ClipSpec, frozenset[str], str] = (sub_spec(s), frozenset(), "")
        if sub_key not in loops:
            loops[sub_key] = sendloop.build(clip_of(sub_spec(s)), fps)
        cam_loops[loop_key(True, False)] = loops[sub_key]
        out[s.id] = CameraState(
            s,
            clip,
            cam_loops,
            clip_of(sub_spec(s)),
            audio_track,
            quirk_set,
            record_truth or bool(quirk_set),
            onvif=onvif_traits(s.index),
            scene_bank=bank if s.scene else None,
        )
    replay.install_cards(out, time.time_ns())  # the SD cards record from now on
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
                    "onvif_address": c.spec.onvif_address,
                    "onvif_model": c.onvif.model,
                    "clock_offset_s": c.clock_offset_ns / 1e9,
                    "scene": c.scene_bank is not None,
                    "variant": c.variant if c.scene_bank is not None else None,
                }
                for c in self.server.cameras.values()
            ]
        if method == "GET" and path == "/stats":
            return "200 OK", {
                c.spec.id: {"frames_sent": c.frames_sent, "bytes_sent": c.bytes_sent, "intervals": c.intervals}
                for c in self.server.cameras.values()
            }
        if method == "GET" and path.startswith("/truth/"):
            cam = self.server.cameras.get(path[len("/truth/") :])
            if cam is None:
                return "404 Not Found", {"error": f"no camera {path[7:]!r}"}
            return "200 OK", {
                "camera": cam.spec.id,
                "quirks": sorted(cam.quirks),
                "pictures": [{"session": n, "ts": ts, "digest": d, "sent_ns": t} for n, ts, d, t in cam.truth],
            }
        if method == "GET" and path.startswith("/sdcard/"):
            return _sdcard_truth(self.server, path[len("/sdcard/") :], time.time_ns())
        if method == "POST" and path == "/fault":
            try:
                req = json.loads(body or b"{}")
                region, cell = req.get("region"), req.get("cell")
                return "200 OK", self.injector.apply(
                    str(req["kind"]),
                    str(req["subject"]),
                    None if req.get("seconds") is None else float(req["seconds"]),
                    region=None if region is None else [float(v) for v in region][:5],
                    cell=None if cell is None else int(cell),
                )
            except (FaultError, KeyError, TypeError, ValueError) as exc:
                return "400 Bad Request", {"error": str(exc)}
        return "404 Not Found", {"error": f"no route {method} {path}"}


def _sdcard_truth(server: SimServer, camera_id: str, now_ns: int) -> tuple[str, Any]:
    """What a camera's SD card holds at ``now_ns``: spans ``[start, end)`` in true ns (the camera's clock is that
    plus ``clock_offset_ns``)."""
    cam = server.cameras.get(camera_id)
    if cam is None:
        return "404 Not Found", {"error": f"no camera {camera_id[:100]!r}"}
    card = cam.card
    if card is None:
        return "404 Not Found", {"error": f"camera {camera_id!r} has no SD card"}
    return "200 OK", {
        "camera": cam.spec.id,
        "now_ns": now_ns,
        "spans": [[s, e] for s, e in card.held(now_ns)],
        "recording": card.recording,
        "failed": card.failed,
        "battery": card.battery,
        "capacity_s": card.capacity_ns / 1e9,
        "clock_offset_ns": cam.clock_offset_ns,
    }


async def serve(
    cameras: dict[str, CameraState],
    *,
    host: str,
    port: int,
    control_port: int,
    fps: int,
    truth_path: Path | None,
    ready: asyncio.Event | None = None,
    tick_s: float = 0.01,
    onvif_port: int | None = None,
    discovery_port: int | None = None,
    on_onvif_port: Callable[[int], None] | None = None,
    replay_max_rate: float = replay.MAX_RATE,
    scene_script: list[ScriptEntry] | None = None,
) -> None:
    """Serve until cancelled. ``onvif_port`` (0: an ephemeral one; None: no ONVIF) and ``discovery_port`` (the same)
    make every camera an ONVIF device too (:mod:`camgrid.sim.onvif`). A busy ONVIF port falls back to an ephemeral
    one (several simulated cities on one host), and ``on_onvif_port`` hears the port really served."""
    server = SimServer(cameras, fps, tick_s=tick_s)
    server.replay_max_rate = replay_max_rate
    await server.start(host, port)
    onvif_line = ""
    if onvif_port is not None:
        from camgrid.sim.onvif.http import OnvifHttpServer

        onvif = OnvifHttpServer(server)
        try:
            onvif_port = await onvif.start(onvif_port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or not onvif_port:
                raise
            log.warning("ONVIF port %d is taken: serving ONVIF on an ephemeral port", onvif_port)
            onvif_port = await onvif.start(0)
        if on_onvif_port is not None:
            on_onvif_port(onvif_port)
        onvif_line = f" onvif http://<camera address>:{onvif_port}/onvif/device_service"
        if discovery_port is not None:
            from camgrid.sim.onvif.discovery import DiscoveryResponder

            responder = DiscoveryResponder(onvif, loopback_only=_loopback(host))
            discovery_port = await responder.start(discovery_port)
            onvif_line += f" discovery udp/{discovery_port}"
    injector = FaultInjector(server, truth_path, scene_script)
    loop = asyncio.get_running_loop()
    if control_port:
        await loop.create_server(lambda: ControlApi(server, injector), host, control_port, reuse_address=True)
    h265 = sum(1 for c in cameras.values() if c.spec.codec != H264)
    log.info(
        "serving %d cameras (%d H.265) on rtsp://%s:%d, control on %d", len(cameras), h265, host, port, control_port
    )
    print(
        f"camgrid-sim ready: {len(cameras)} cameras on rtsp://{host}:{port}/ control http://{host}:{control_port}/"
        + onvif_line,
        flush=True,
    )
    if ready is not None:
        ready.set()
    poller = asyncio.create_task(_poll_scenes(server, injector))
    try:
        await server.tick_forever()
    finally:
        poller.cancel()
        server.scenes.close()


async def _poll_scenes(server: SimServer, injector: FaultInjector) -> None:
    """The scene script's entries and the end of motions, ten times a second."""
    while True:
        try:
            injector.poll(server.clock())
        except Exception:  # never let one bad entry stop the city
            log.exception("scene poll")
        await asyncio.sleep(0.1)


def _loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("localhost", "::1")
