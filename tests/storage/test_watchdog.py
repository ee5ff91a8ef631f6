"""The recorder restarts its own threads when one dies, writes the gaps that cost, and ``/metrics`` says so.

The faults are injected (a thread's step raises once, a fault injector, as no user can make a thread die on
command); the recorder, its threads, the database and the sockets are real.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.metrics import render
from camgrid.storage.models import Gap
from camgrid.storage.recorder import Recorder
from camgrid.vocabulary import GapReason
from tests.backends import free_port
from tests.conftest import wait_for


class Fault:
    """Wraps one step of a thread; raises once when armed, then lets the real step run again."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.armed = False
        self.fired = 0

    def __call__(self, *args: Any) -> Any:
        if self.armed:
            self.armed = False
            self.fired += 1
            raise RuntimeError("injected fault")
        return self.real(*args)


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    env["CAMGRID_RECORDER__METRICS_PORT"] = "0"
    env["CAMGRID_RECORDER__HEARTBEAT_INTERVAL_S"] = "60"  # the test makes the watchdog's passes itself
    env["CAMGRID_RECORDER__FSYNC_INTERVAL_S"] = "0.1"
    settings = load_settings(home, env)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        session.add_all([District(id="d"), Feeder(id="f"), Uplink(id="u")])
        session.flush()
        session.add(Site(id="s", district_id="d", feeder_id="f", uplink_id="u", lat=0.0, lon=0.0))
        session.flush()
        url = f"rtsp://127.0.0.1:{free_port()}/dark"  # nothing listens: the camera is unreachable throughout
        session.add(
            Camera(
                id="c1", name="c1", lat=0.0, lon=0.0, district_id="d", site_id="s", feeder_id="f", uplink_id="u",
                rtsp_url=url,
            )
        )  # fmt: skip
    rec = Recorder(settings=settings, engine=engine, factory=factory, clock=SystemClock())
    try:
        yield rec
    finally:
        rec.stop()
        engine.dispose()


def gaps(rec: Recorder) -> list[tuple[str, str]]:
    with rec._factory() as session:
        return [(g.reason, g.detail) for g in session.scalars(select(Gap).order_by(Gap.start_ns))]


def test_dead_threads_are_restarted_with_gaps_and_metrics(recorder: Recorder) -> None:
    rec = recorder
    faults = {
        "ingest": Fault(rec._loop.tick),
        "disk-writer": Fault(rec._writer._sync_all),
        "index-writer": Fault(rec._index.flush),
    }
    rec._loop.tick = faults["ingest"]  # type: ignore[method-assign]
    rec._writer._sync_all = faults["disk-writer"]  # type: ignore[method-assign]
    rec._index.flush = faults["index-writer"]  # type: ignore[method-assign]
    rec.start()
    assert rec.threads_not_running() == []
    wait_for(lambda: (GapReason.UNREACHABLE, "connect: ECONNREFUSED") in gaps(rec), 20, what="an unreachable gap")

    for fault in faults.values():
        fault.armed = True
    wait_for(lambda: set(rec.threads_not_running()) == set(faults), 20, what="three dead threads")
    text = render(rec.metrics(), rec.thread_gauges())
    assert 'camgrid_recorder_thread_up{thread="ingest"} 0' in text
    assert 'camgrid_recorder_thread_up{thread="housekeeping"} 1' in text
    assert text.count("# TYPE camgrid_recorder_thread_up gauge") == 1

    assert sorted(rec.supervise()) == sorted(faults)
    assert rec.threads_not_running() == []
    text = render(rec.metrics(), rec.thread_gauges())
    for name in faults:
        assert f'camgrid_recorder_thread_up{{thread="{name}"}} 1' in text
        assert f'camgrid_recorder_thread_restarts_total{{thread="{name}"}} 1' in text
    assert 'camgrid_recorder_thread_restarts_total{thread="housekeeping"} 0' in text
    assert {t.name: t.restarts for t in rec.thread_status()} == {
        "ingest": 1,
        "disk-writer": 1,
        "index-writer": 1,
        "housekeeping": 0,
    }
    # The ingest loop's death is its cameras' internal_error gap; restarted, the loop tries the camera again.
    reasons = lambda: [r for r, _ in gaps(rec)]  # noqa: E731
    wait_for(lambda: reasons()[-2:] == [GapReason.INTERNAL_ERROR, GapReason.UNREACHABLE], 20, what="retried")
