"""Tamper alarms end to end (docs/design/tamper.md): the project's RTSP simulator, camgrid's single-role runtime with
the real recorder, ingest, PyAV decoding and the database of the active back end.

cam-t is covered: its simulated camera switches (at its next loop boundary, a keyframe) to a dark, noisy, flat clip
made by ffmpeg; a ``camera`` incident ``tamper: covered`` opens with a before still (the learnt reference) and an
after still (the covered picture), the camera's health shows the ``tamper`` condition, and nothing reaches the
outage engine. Uncovered, the incident closes. Then the feeder of both cameras loses power and returns: the cameras
go dark and come back, and no tamper is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import av
from sqlalchemy import select

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.db.secrets import SecretBox
from camgrid.health.models import IncidentRow
from camgrid.motion import tamper_service as ts
from camgrid.motion.models import TamperReference, TamperStill
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.runtime import build
from camgrid.sim import clips, sendloop
from camgrid.sim.faults import FaultInjector
from camgrid.sim.server import CameraState, SimServer
from camgrid.sim.service import prepare
from camgrid.vocabulary import IncidentKind, ProcessRole, TamperKind
from tests.backends import free_port
from tests.conftest import CLIP_CACHE, wait_for
from tests.ingest.simthread import PASSWORD, USER, spec
from tests.seeding import SEED, seed_log

W, H, FPS, GOP_S, CLIP_S = 320, 240, 10, 1.0, 4.0
T = TypeVar("T")


class SimThread:
    """The simulator on its own event loop in a thread; ``call`` runs a function on that loop (faults, loops)."""

    def __init__(self, server: SimServer, loop: asyncio.AbstractEventLoop, port: int) -> None:
        self.server, self.loop, self.port = server, loop, port

    def call(self, fn: Callable[[], T]) -> T:
        done: Future[T] = Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return done.result(10)

    def camera(self, cid: str) -> CameraState:
        return self.server.cameras[cid]


@contextlib.contextmanager
def sim_thread(cameras: dict[str, CameraState]) -> Iterator[SimThread]:
    loop = asyncio.new_event_loop()
    server = SimServer(cameras, FPS)
    port = free_port()
    loop.run_until_complete(server.start("127.0.0.1", port))
    ticker = loop.create_task(server.tick_forever())
    thread = threading.Thread(target=loop.run_forever, name="sim", daemon=True)
    thread.start()
    try:
        yield SimThread(server, loop, port)
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


def covered_loop(cache: Path) -> sendloop.SendLoop:
    """A lens under a dark cloth: a near-black noisy picture, same size, rate, GOP and length as the camera's clip."""
    path = cache / f"tamper-covered-{W}x{H}-{FPS}.h264"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
        cmd += ["-i", f"color=c=0x141414:size={W}x{H}:rate={FPS}", "-vf", "noise=alls=6:allf=t"]
        cmd += ["-t", f"{CLIP_S:.3f}", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]
        cmd += ["-tune", "zerolatency", "-bf", "0", "-g", str(round(FPS * GOP_S)), "-sc_threshold", "0"]
        cmd += ["-x264-params", "repeat-headers=1", "-b:v", "200k", "-f", "h264", str(path) + ".tmp"]
        subprocess.run(cmd, check=True, timeout=60)
        Path(str(path) + ".tmp").replace(path)
    return sendloop.build(clips.load(path, "h264"), FPS)


def _camera(cid: str, url: str) -> CameraIn:
    return CameraIn(
        id=cid, name=cid, lat=27.69, lon=85.31, district="D-01", site="S-1", feeder="F-1", uplink="U-1",
        rtsp_url=url, username=USER, password=PASSWORD,
    )  # fmt: skip


def _incidents(factory: Any, camera: str) -> list[IncidentRow]:
    with unit_of_work(factory) as s:
        rows = list(s.scalars(select(IncidentRow).where(IncidentRow.subject == camera).order_by(IncidentRow.id)))
        s.expunge_all()
        return rows


def _scrape(port: int, home: Path) -> dict[str, float]:
    token = (home / "run" / "metrics.token").read_text().strip()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    return {ln.split(" ")[0]: float(ln.split(" ")[1]) for ln in lines if ln.startswith("camgrid_tamper")}


def test_a_covered_camera_raises_a_tamper_incident_with_stills_and_a_power_cut_does_not(tmp_path: Path) -> None:
    specs = [spec("cam-t", 0), spec("cam-p", 1)]
    cameras = prepare(
        specs,
        cache_dir=CLIP_CACHE,
        width=W,
        height=H,
        fps=FPS,
        bitrate_kbps=200,
        gop_seconds=GOP_S,
        clip_seconds=CLIP_S,
    )
    covered = covered_loop(CLIP_CACHE)
    home = tmp_path / "home"
    home.mkdir()
    metrics = free_port()
    env = {
        "CAMGRID_SECRETS__KEY_FILE": str(home / "secrets.key"),
        "CAMGRID_ONVIF__WATCH": "false",
        "CAMGRID_RECORDER__METRICS_PORT": str(metrics),
        "CAMGRID_TAMPER__INTERVAL_S": "1",
        "CAMGRID_TAMPER__LEARN_SAMPLES": "3",
        "CAMGRID_TAMPER__RAISE_AFTER": "3",
        "CAMGRID_TAMPER__CLEAR_AFTER": "2",
        "CAMGRID_TAMPER__GRACE_S": "2",
    }
    settings = load_settings(home, {**{k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}, **env})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    audit = seed_log(engine, settings.home)
    with sim_thread(cameras) as sim:
        with unit_of_work(factory) as s:
            rows = [_camera(c, sim.camera(c).spec.url("127.0.0.1", sim.port)) for c in ("cam-t", "cam-p")]
            registry.import_cameras(
                session=s, audit=audit, actor=SEED, rows=rows, now_ns=0, box=SecretBox(settings.secrets_key_path)
            )
        rt = build(settings, role=ProcessRole.SINGLE, engine=engine, factory=factory, clock=SystemClock(), api=False)
        assert rt.tamper is not None and rt.recorder is not None
        try:
            rt.start()

            def reference_taken(cid: str) -> bool:
                with unit_of_work(factory) as s:
                    ref = s.get(TamperReference, cid)
                    return ref is not None and ref.taken_ns is not None and bool(ref.jpeg)

            wait_for(lambda: reference_taken("cam-t") and reference_taken("cam-p"), 60, what="references learnt")
            assert _incidents(factory, "cam-t") == []

            # covered: the camera sends the dark clip from its next loop boundary
            t_cover = time.time_ns()
            sim.call(lambda: setattr(sim.camera("cam-t"), "mask_loops", {"main": covered}))
            found = wait_for(lambda: _incidents(factory, "cam-t"), 40, what="a tamper incident")
            inc = found[0]
            assert (inc.kind, inc.reason, inc.resolved_ns) == (
                IncidentKind.CAMERA,
                f"tamper: {TamperKind.COVERED}",
                None,
            )
            # the loop boundary (4 s), three samples a second apart, and the decodes: well within the 30 s target
            assert inc.opened_ns - t_cover < 20 * 10**9
            with unit_of_work(factory) as s:
                stills = {st.which: bytes(st.jpeg) for st in s.scalars(select(TamperStill))}
                open_now = ts.open_tampers(session=s)
            assert set(stills) == {"before", "after"} and all(j[:2] == b"\xff\xd8" for j in stills.values())
            # the before still is the learnt testsrc2 scene, the after still the covered picture
            assert _luma_mean(stills["before"]) > 80 and _luma_mean(stills["after"]) < 40
            assert set(open_now) == {"cam-t"}
            assert rt.incidents is None  # api=False: no outage engine in this process; nothing was fed one anyway

            # uncovered: the picture is normal again and the incident closes
            sim.call(lambda: setattr(sim.camera("cam-t"), "mask_loops", None))
            wait_for(lambda: _incidents(factory, "cam-t")[0].resolved_ns, 40, what="the incident closed")

            # a power cut of their feeder: both cameras go dark and come back; no tamper
            feeder = sim.camera("cam-t").spec.feeder
            injector = FaultInjector(sim.server, None)
            sim.call(lambda: injector.apply("power_cut", feeder))
            wait_for(lambda: _offline_for(factory, ("cam-t", "cam-p")), 30, what="the outage recorded as gaps")
            sim.call(lambda: injector.apply("power_restore", feeder))
            before = rt.tamper.sampler.decoded
            wait_for(lambda: rt.tamper.sampler.decoded >= before + 16, 60, what="pictures judged after the power cut")
            assert len(_incidents(factory, "cam-t")) == 1 and _incidents(factory, "cam-p") == []
            gauges = _scrape(metrics, home)
            assert gauges["camgrid_tamper_cpu_seconds_total"] > 0 and gauges["camgrid_tamper_cameras"] == 2
        finally:
            rt.stop()
    engine.dispose()


def _luma_mean(jpeg: bytes) -> float:
    codec: Any = av.CodecContext.create("mjpeg", "r")
    frames = list(codec.decode(av.Packet(jpeg)))
    return float(frames[0].to_ndarray(format="gray").mean())


def _offline_for(factory: Any, cameras: tuple[str, ...]) -> bool:
    from camgrid.storage.models import Gap

    with unit_of_work(factory) as s:
        open_gaps = {g.camera_id for g in s.scalars(select(Gap).where(Gap.end_ns.is_(None)))}
    return set(cameras) <= open_gaps
