"""camgrid's replay backfill against a foreign ONVIF replay server: gst-rtsp-server's GstRTSPOnvifServer with replay
support and ``rtponviftimestamp`` (tests/interop/gst_replay_server.py, Debian's GStreamer). The pictures stored are
the file's, in order, at the times the extension gives minus the clock offset, and a second call stores nothing
(docs/design/onvif.md, "Replay and storing what the card held")."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.storage.backfill_writer import BackfillResult, backfill_interval
from camgrid.storage.models import Segment
from camgrid.vocabulary import SegmentSource
from tests.conftest import free_port
from tests.interop.gst import gst_available
from tests.interop.harness import HERE, SYSTEM_PYTHON, Clip, Server, clip_pictures, mp4, start_server
from tests.interop.pictures import recorded_pictures

NS = 1_000_000_000
NTP_UNIX_S = 2_208_988_800
T0 = 1_700_000_000 * NS  # our time of the file's first picture
OFFSET = 1_250_000_000  # the camera's clock runs 1.25 s ahead of ours
CLIP = Clip("h264", 10.0)

pytestmark = pytest.mark.skipif(gst_available() is not None, reason=str(gst_available()))


@pytest.fixture
def gst_replay(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "gst-replay.json"
    card_start = T0 + OFFSET + NTP_UNIX_S * NS  # NTP time (since 1900) of the file's first picture, camera clock
    config.write_text(json.dumps({"port": port, "file": str(mp4(CLIP)), "card_start_ns": card_start}))
    server: Server = start_server(
        [SYSTEM_PYTHON, str(HERE / "gst_replay_server.py"), str(config)],
        tmp_path / "gst-replay.log",
        lambda text: "ready" in text,
        "gst-rtsp-server (ONVIF replay)",
    )
    try:
        yield f"rtsp://127.0.0.1:{port}/replay"
    finally:
        server.stop()


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    engine = make_engine(load_settings(tmp_path, env).database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_backfill_from_gst_onvif_replay(tmp_path: Path, gst_replay: str, factory: sessionmaker[Session]) -> None:
    def call() -> BackfillResult:
        return backfill_interval(
            camera_id="gst",
            replay_uri=gst_replay,
            username="",
            password="",
            start_ns=T0 + 2 * NS,
            end_ns=T0 + 7 * NS,
            clock_offset_ns=OFFSET,
            recordings_dir=tmp_path / "rec",
            session_factory=factory,
            node_id="n1",
            max_bytes_per_s=5e6,
            stop=threading.Event(),
            clock=SystemClock(),
            segment_seconds=2.0,
        )

    t = time.monotonic()
    result = call()
    print(f"first call {time.monotonic() - t:.1f} s: {result}")
    with factory() as s:
        rows = list(s.scalars(select(Segment).where(Segment.source == SegmentSource.EDGE).order_by(Segment.start_ns)))
    assert rows, result
    assert rows[0].start_ns == T0 + 2 * NS and rows[-1].end_ns == T0 + 7 * NS, (result, rows)
    source = clip_pictures(CLIP)
    got = recorded_pictures([Path(r.path) for r in rows], [r.start_ns for r in rows])
    assert len(got) == 125, result
    for k, p in enumerate(got):
        i = 50 + k  # the file's picture at 2 s, and on
        assert p.digest == source[i].digest, f"stored picture {k} is not the file's picture {i}"
        assert p.start_ns == T0 + source[i].start_ns, (k, p.start_ns - T0)  # to the nanosecond
    again = call()
    assert again.segments == 0, again
