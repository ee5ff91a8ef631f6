"""Backfill from the real simulator's card (ONVIF Profile G over RTSP, ``sim/replay.py``): a camera whose clock runs
ahead, a card holding two spans with a power cut between them, live segments over part of the interval. What is
stored is exactly the card's pictures outside the live segments, at their true times; the gap keeps the power cut
(docs/design/onvif.md, "Replay and storing what the card held")."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.sim.replay import cadence_of, replay_url
from camgrid.sim.sdcard import SdCard
from camgrid.storage.backfill_writer import BackfillResult, backfill_interval
from camgrid.storage.models import Gap, Segment
from camgrid.vocabulary import GapReason, SegmentSource
from tests.interop.pictures import recorded_pictures
from tests.sim.onvif_harness import USER, OnvifSim, running_onvif_sim, spec

S = 1_000_000_000
OFFSET = 2_500_000_000  # the camera's clock runs 2.5 s ahead of ours


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    engine = make_engine(load_settings(tmp_path, env).database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def sim() -> Iterator[tuple[OnvifSim, int]]:
    """Camera 1's card as if it had recorded for the last 20 s, its power cut from t-12 to t-9 (content kept)."""
    with running_onvif_sim([spec(1)]) as s:
        cam = s.cameras["cam-0001"]
        t = time.time_ns() // S * S
        card = SdCard(3600 * S, battery=True, cadence=cadence_of(cam), rides_through=False)
        card.start(t - 20 * S)
        card.power(False, t - 12 * S)
        card.power(True, t - 9 * S)
        cam.card = card
        cam.clock_offset_ns = OFFSET
        yield s, t


def test_backfill_from_the_simulators_card(
    tmp_path: Path, factory: sessionmaker[Session], sim: tuple[OnvifSim, int]
) -> None:
    s, t = sim
    cam = s.cameras["cam-0001"]
    with factory() as db, db.begin():
        db.execute(  # live recording until t-16, then the camera was unreachable until t-2
            insert(Segment).values(
                camera_id="cam-0001",
                start_ns=t - 20 * S,
                end_ns=t - 16 * S,
                path="/live/a.mp4",
                bytes=1,
                frames=1,
                codec="h264",
                status="complete",
                node_id="n1",
            )
        )
        db.execute(
            insert(Gap).values(
                camera_id="cam-0001",
                start_ns=t - 16 * S,
                end_ns=t - 2 * S,
                reason=GapReason.UNREACHABLE,
                detail="",
                node_id="n1",
            )
        )

    def call() -> BackfillResult:
        return backfill_interval(
            camera_id="cam-0001",
            replay_uri=replay_url("127.0.0.1", s.rtsp_port, "cam-0001"),
            username=USER,
            password=cam.spec.password,
            start_ns=t - 16 * S,
            end_ns=t - 2 * S,
            clock_offset_ns=OFFSET,
            recordings_dir=tmp_path / "rec",
            session_factory=factory,
            node_id="n1",
            max_bytes_per_s=5e6,
            stop=threading.Event(),
            clock=SystemClock(),
            segment_seconds=2.0,
        )

    result = call()
    with factory() as db:
        rows = list(db.scalars(select(Segment).where(Segment.source == SegmentSource.EDGE).order_by(Segment.start_ns)))
        gaps = [(g.start_ns - t, g.end_ns - t) for g in db.scalars(select(Gap).order_by(Gap.start_ns))]
    spans = [(r.start_ns - t, r.end_ns - t) for r in rows]
    assert spans and spans[0][0] == -16 * S and spans[-1][1] == -2 * S, (result, spans)
    assert not any(a < -9 * S and b > -12 * S for a, b in spans), spans  # the power cut is not bridged
    assert gaps == [(-12 * S, -9 * S)], gaps
    cad, loop = cadence_of(cam), cam.loops["main"]
    got = recorded_pictures([Path(r.path) for r in rows], [r.start_ns for r in rows])
    assert len(got) == 110, result  # 4 s + 7 s at 10 fps
    for p in got:
        g = cad.at_or_after(p.start_ns)
        assert cad.time_of(g) == p.start_ns, "a picture at its true time (camera time minus the offset)"
        assert p.digest == loop.pic_digest[cad.frame(g)], "the card's picture of that time"
    assert call().segments == 0
