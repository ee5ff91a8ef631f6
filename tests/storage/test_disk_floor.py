"""Below the free-space floor the recorder stops writing with a `disk_full` gap, and resumes when space returns.

The disk's free space is the one fake here (a fault injector: no user has a disk that empties on command); the
cameras, RTSP and the database are real.
"""

from __future__ import annotations

import time
from typing import Any

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.storage.recorder import Recorder
from tests.conftest import City, wait_for

NS = 1_000_000_000


def test_free_space_floor_pauses_and_resumes(city_factory: Any) -> None:
    city: City = city_factory(3)
    env = {k: v for k, v in city.env.items() if k.startswith("CAMGRID_")}
    env["CAMGRID_RECORDER__METRICS_PORT"] = "0"
    env["CAMGRID_RECORDER__FREE_SPACE_FLOOR_MB"] = "100"
    settings = load_settings(city.home, env)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    recorder = Recorder(settings=settings, engine=engine, factory=session_factory(engine), clock=SystemClock())
    free = [10 * 1024**3]
    recorder.free_bytes = lambda: free[0]  # type: ignore[method-assign]
    tapped: list[str] = []
    recorder.add_tap(lambda cam, au, ext, jump: tapped.append(cam))  # the live view's hook: same packets, same socket
    recorder.start()
    try:
        cams = [c["id"] for c in city.cameras()]
        wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 30, what="recording")
        time.sleep(1.0)
        full_at = time.time_ns()
        free[0] = 50 * 1024**2
        wait_for(lambda: all(any(g[3] == "disk_full" for g in city.gaps(c)) for c in cams), 10, what="disk_full gaps")
        time.sleep(3.0)  # let the segments open when the floor was crossed close
        paused_segments = {c: len(city.segments(c)) for c in cams}
        tapped_before = len(tapped)
        # Live packets keep flowing while the disk is full (a second of video per camera, however slow the machine),
        # and nothing is written meanwhile.
        wait_for(lambda: len(tapped) - tapped_before >= 25 * len(cams), 60, what="live packets below the floor")
        assert {c: len(city.segments(c)) for c in cams} == paused_segments, "nothing written below the floor"
        free[0] = 10 * 1024**3
        back_at = time.time_ns()
        wait_for(lambda: all(city.recording_since(c, back_at) for c in cams), 60, what="recording after space returns")
    finally:
        recorder.stop()
    for cam in cams:
        gap = next(g for g in city.gaps(cam) if g[3] == "disk_full")
        assert abs(gap[1] - full_at) <= 2 * NS
        assert gap[2] is not None and back_at <= gap[2], "closed when recording resumed, not before space returned"
