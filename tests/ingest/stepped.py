"""A recorder and the project's RTSP simulator in one thread, both paced by one injected clock.

Why: the failures this guards against take hours (a camera dark for a night fails thousands of times) or hinge on
a second of media (a pause, a clock step). Here the simulator's cameras send their frames when the test says, with
RTP times from the same :class:`FakeClock` the recorder reads, and the recorder's ingest loop is ticked directly:
hours of camera life run in seconds, every socket and every byte real (loopback TCP, the real RTSP client, segment
files, the SQLite or PostgreSQL index). Only the disk writer runs its own thread, as in production.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from camgrid.clock import FakeClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.ingest.loop import CameraSource
from camgrid.sim.layout import SimCameraSpec
from camgrid.sim.server import CameraState, RtspConnection, SimServer
from camgrid.sim.service import prepare
from camgrid.storage import index as ix
from camgrid.storage.models import Gap, Segment
from camgrid.storage.recorder import Recorder
from camgrid.vocabulary import GapReason
from tests.backends import free_port
from tests.conftest import CLIP_CACHE

NS = 1_000_000_000
FPS = 4


def spec(camera_id: str, index: int) -> SimCameraSpec:
    site, feeder = f"site-{camera_id}", f"feeder-{camera_id}"
    return SimCameraSpec(camera_id, index, camera_id, 27.7, 85.3, "d1", site, feeder, "u1", "h264", "", "", 0)


@dataclass
class Rig:
    clock: FakeClock
    recorder: Recorder
    sim: SimServer
    cameras: dict[str, CameraState]
    port: int
    aio: asyncio.AbstractEventLoop
    started_ns: int = 0
    seen: set[RtspConnection] = field(default_factory=set)

    def source(self, camera_id: str, *, port: int | None = None) -> CameraSource:
        return CameraSource(camera_id, f"rtsp://127.0.0.1:{port or self.port}/h264/{camera_id}")

    def add(self, source: CameraSource) -> None:
        """A camera the recorder records from now on (as a registry reload would add it, with a ``starting`` gap)."""
        now = self.clock.wall_ns()
        self.recorder._add_camera(source, (now, GapReason.STARTING))
        self.recorder._index.put(ix.GapOpen(source.id, now, GapReason.STARTING, "", self.recorder.node_id))
        self.recorder._loop.add(source)

    def pump(self) -> None:
        """Let the simulator accept, read and write what is pending on its sockets."""
        for _ in range(3):
            self.aio.run_until_complete(asyncio.sleep(0))

    def step(self, seconds: float) -> None:
        """Advance the clock, let the cameras send what is due by then, and tick the recorder's ingest loop."""
        self.clock.advance(seconds)
        now = self.clock.monotonic()
        for conn in list(self.sim.connections):
            if conn.playing:
                self._pace(conn, now)
                conn.send_due(now, self.clock.wall_ns(), 1.0 / FPS)
        self.pump()
        self.recorder._loop.tick(now)
        self.pump()

    def _pace(self, conn: RtspConnection, now: float) -> None:
        # The simulator dates a PLAY from the real monotonic clock: a new session is paced by ours from its start.
        if conn not in self.seen:  # the connections themselves: an id() is reused once one is gone
            self.seen.add(conn)
            conn.next_due = now

    def run(self, seconds: float, dt: float = 0.25) -> None:
        for _ in range(round(seconds / dt)):
            self.step(dt)

    def finish(self) -> int:
        """End every session (as the recorder's stop does) and write everything down; returns the stop time."""
        for cid in list(self.recorder._loop.sessions):
            self.recorder._loop.remove(cid)
        self.recorder._loop.tick(self.clock.monotonic())
        self.recorder._writer.stop()
        assert self.recorder._index.flush()
        return self.clock.wall_ns()

    def rows(self, camera_id: str) -> tuple[list[Segment], list[Gap]]:
        with self.recorder._factory() as session:
            segs = list(session.scalars(select(Segment).where(Segment.camera_id == camera_id).order_by("start_ns")))
            gaps = list(session.scalars(select(Gap).where(Gap.camera_id == camera_id).order_by("start_ns")))
            session.expunge_all()
        return segs, gaps

    def timeline(self, camera_id: str) -> list[tuple[int, int | None, str]]:
        """The camera's segments and gaps in time order: (start, end, "segment" or the gap's reason)."""
        segs, gaps = self.rows(camera_id)
        out: list[tuple[int, int | None, str]] = [(s.start_ns, s.end_ns, "segment") for s in segs]
        out += [(g.start_ns, g.end_ns, g.reason) for g in gaps]
        return sorted(out, key=lambda r: (r[0], r[1] if r[1] is not None else 1 << 62))


def assert_tiles(timeline: list[tuple[int, int | None, str]], start_ns: int, end_ns: int) -> None:
    """Segments and gaps cover [start, end] exactly: each begins where the one before ended, none overlaps."""
    assert timeline, "nothing indexed"
    assert timeline[0][0] == start_ns, timeline[:3]
    for (s0, e0, k0), (s1, e1, k1) in itertools.pairwise(timeline):
        assert e0 is not None, f"{k0} at {s0} is open but {k1} follows"
        assert s1 == e0, f"{k0} [{s0}, {e0}] then {k1} [{s1}, {e1}]: {'hole' if s1 > e0 else 'overlap'} of {s1 - e0} ns"
    last = timeline[-1]
    assert last[1] is None or last[1] >= end_ns, f"the timeline ends at {last[1]}, before {end_ns}"


def make_rig(tmp_path: Path, camera_ids: list[str], **recorder_env: str) -> Iterator[Rig]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    env.update({f"CAMGRID_RECORDER__{k.upper()}": v for k, v in recorder_env.items()})
    env["CAMGRID_RECORDER__METRICS_PORT"] = "0"
    settings = load_settings(home, env)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = FakeClock()
    recorder = Recorder(settings=settings, engine=engine, factory=session_factory(engine), clock=clock)
    specs = [spec(cid, i) for i, cid in enumerate(camera_ids)]
    cameras = prepare(
        specs,
        cache_dir=CLIP_CACHE,
        width=320,
        height=240,
        fps=FPS,
        bitrate_kbps=64,
        gop_seconds=1.0,
        clip_seconds=4.0,
    )
    aio = asyncio.new_event_loop()
    sim = SimServer(cameras, FPS)
    port = free_port()
    aio.run_until_complete(sim.start("127.0.0.1", port))
    rig = Rig(clock, recorder, sim, cameras, port, aio)
    rig.started_ns = clock.wall_ns()
    recorder._writer.start()
    try:
        yield rig
    finally:
        if recorder._writer.is_running():
            recorder._writer.stop()
        for conn in list(sim.connections):
            conn.abort()
        if sim.server is not None:
            sim.server.close()
        rig.pump()
        aio.close()
        recorder._loop.selector.close()
        engine.dispose()
