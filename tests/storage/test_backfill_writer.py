"""Storing a camera's card replay (docs/design/onvif.md, "Replay and storing what the card held"): against a real
RTSP replay server (tests/ingest/replay_server.py) and the real database and files. The pictures stored are the
card's, at the extension's time minus the clock offset; nothing lands over a live segment; a second call writes
nothing; a backfill killed midway is completed by the next call without duplicates; gaps shrink exactly."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.db.migrate import upgrade
from camgrid.exports.clip import SourceSegment, build_clip
from camgrid.media.nal import H264
from camgrid.sim import clips
from camgrid.storage.backfill_writer import backfill_interval
from camgrid.storage.models import Gap, Segment
from camgrid.storage.paths import edge_segment_path
from camgrid.storage.retention import unheld_page
from camgrid.storage.service import segments_between
from camgrid.vocabulary import GapReason, SegmentSource
from tests.backends import wait_for
from tests.conftest import CLIP_CACHE, ROOT
from tests.ingest.replay_server import PERIOD_NS, Card, ReplayServer
from tests.interop.pictures import _digest, recorded_pictures

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
OFFSET = 3_500_000_000  # the camera's clock is 3.5 s ahead of ours
CLIP = clips.load(clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 50, "REC", 1), CLIP_CACHE), H264)


def source_digest(i: int) -> str:
    k = i % len(CLIP.frames)
    return _digest(n for n in CLIP.frames[k] if 1 <= (n[0] & 0x1F) <= 5)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    engine = make_engine(load_settings(tmp_path, env).database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    srv = ReplayServer(Card(CLIP.frames, CLIP.keys, CLIP.params, T0 + OFFSET, 250))  # 10 s on the card
    yield srv
    srv.close()


def live(session: Session, start: int, end: int, status: str = "complete") -> None:
    """A live segment row as the recorder writes it (no source given: the column's default)."""
    session.execute(
        insert(Segment).values(
            camera_id="c",
            start_ns=start,
            end_ns=end,
            path=f"/live/{start}.mp4",
            bytes=1,
            frames=1,
            codec=H264,
            status=status,
            node_id="n1",
        )
    )


def gap(session: Session, start: int, end: int) -> None:
    session.execute(
        insert(Gap).values(
            camera_id="c", start_ns=start, end_ns=end, reason=GapReason.UNREACHABLE, detail="down", node_id="n1"
        )
    )


def run(server: ReplayServer, tmp_path: Path, factory: sessionmaker[Session], start: int, end: int, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "camera_id": "c",
        "replay_uri": server.url,
        "username": "u",
        "password": "p",
        "start_ns": start,
        "end_ns": end,
        "clock_offset_ns": OFFSET,
        "recordings_dir": tmp_path / "rec",
        "session_factory": factory,
        "node_id": "n1",
        "max_bytes_per_s": 5e6,
        "stop": threading.Event(),
        "clock": SystemClock(),
        "segment_seconds": 1.0,
    }
    args.update(kw)
    return backfill_interval(**args)  # type: ignore[arg-type]


def edge_rows(factory: sessionmaker[Session]) -> list[Segment]:
    with factory() as s:
        return list(s.scalars(select(Segment).where(Segment.source == SegmentSource.EDGE).order_by(Segment.start_ns)))


def check_pictures(rows: list[Segment]) -> int:
    """Every stored picture is the card's picture of its time: digest and time (extension minus offset)."""
    pics = recorded_pictures([Path(r.path) for r in rows], [r.start_ns for r in rows])
    for p in pics:
        i = (p.start_ns - T0) // PERIOD_NS
        assert (p.start_ns - T0) % PERIOD_NS == 0, p
        assert p.digest == source_digest(i), f"picture at {p.start_ns - T0} ns is not the card's"
    return len(pics)


def test_fills_the_holes_between_live_segments_once_and_shrinks_gaps(
    tmp_path: Path, factory: sessionmaker[Session], server: ReplayServer
) -> None:
    with factory() as s, s.begin():
        live(s, T0, T0 + 3_500_000_000)
        live(s, T0 + 6 * NS, T0 + 7 * NS)
        live(s, T0 + 9 * NS, T0 + 9 * NS, "writing")  # open: covers everything after its start
        gap(s, T0 + 3_500_000_000, T0 + 6 * NS)
        gap(s, T0 + 7 * NS, T0 + 9 * NS)
    result = run(server, tmp_path, factory, T0 + 3_500_000_000, T0 + 10 * NS)
    rows = edge_rows(factory)
    assert result.segments == len(rows) >= 2, result
    with factory() as s:
        assert set(s.scalars(select(Segment.source).where(Segment.path.like("/live/%")))) == {SegmentSource.LIVE}
    assert all(r.clock_offset_ns == OFFSET and r.status == "complete" for r in rows)
    assert all(r.path.endswith(".edge.mp4") for r in rows)
    # 3.5-4 s has no keyframe on the card: from 4 s to 6 s and from 7 s to 9 s, and nothing over live
    spans = [(r.start_ns - T0, r.end_ns - T0) for r in rows]
    assert spans[0][0] == 4 * NS and spans[-1][1] == 9 * NS, spans
    assert all(not (a < 7 * NS and b > 6 * NS) for a, b in spans), spans
    assert sum(b - a for a, b in spans) == 4 * NS == result.recovered_ns
    assert check_pictures(rows) == 100 == result.pictures
    play = server.stats.plays[0]
    assert play["require"] == "onvif-replay" and play["rate-control"] == "no"
    assert (
        play["range"] == "clock=20231114T221327.000Z-20231114T221333.500Z"
    )  # T0 = 22:13:20, + 3.5 s (10 s), + 3.5 s offset
    with factory() as s:
        gaps = [(g.start_ns - T0, g.end_ns - T0, g.detail) for g in s.scalars(select(Gap).order_by(Gap.start_ns))]
    assert [(a, b) for a, b, _ in gaps] == [(3_500_000_000, 4 * NS)], gaps  # only what the card did not hold
    assert "recovered from the camera's card" in gaps[0][2] and gaps[0][2].startswith("down")
    # an edge segment is a segment: exports cut clips from them, retention pages them like live ones
    pictures = build_clip(
        [SourceSegment(Path(r.path), r.start_ns, r.end_ns) for r in rows],
        T0 + 4 * NS,
        T0 + 6 * NS,
        tmp_path / "clip.mp4",
    )[2]
    assert pictures == 50
    with factory() as s:  # the timeline (playback) and exports' query lists them among the live ones, in order
        listed = segments_between(session=s, camera_id="c", start_ns=T0, end_ns=T0 + 10 * NS)
    assert [x.start_ns for x in listed] == sorted(x.start_ns for x in listed)
    assert {r.id for r in rows} < {x.id for x in listed}
    with factory() as s:
        page = unheld_page(s, now_ns=T0 + 100 * NS, node_id="n1", after=None, limit=100)
    assert {r.id for r in rows} <= {p.id for p in page}
    # a second call, and an overlapping one, write nothing
    again = run(server, tmp_path, factory, T0 + 3 * NS, T0 + 9 * NS)
    assert again.segments == 0 and again.recovered_ns == 0, again
    assert len(edge_rows(factory)) == len(rows)


def test_gap_inside_is_split(tmp_path: Path, factory: sessionmaker[Session], server: ReplayServer) -> None:
    with factory() as s, s.begin():
        gap(s, T0 + NS, T0 + 8 * NS)
    run(server, tmp_path, factory, T0 + 3 * NS, T0 + 5 * NS)
    with factory() as s:
        gaps = [(g.start_ns - T0, g.end_ns - T0, g.reason) for g in s.scalars(select(Gap).order_by(Gap.start_ns))]
    assert gaps == [(NS, 3 * NS, GapReason.UNREACHABLE), (5 * NS, 8 * NS, GapReason.UNREACHABLE)]


CHILD = """
import os, sys, threading
from pathlib import Path
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory
from camgrid.storage.backfill_writer import backfill_interval
env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
factory = session_factory(make_engine(load_settings(Path(sys.argv[1]), env).database_url))
backfill_interval(camera_id="c", replay_uri=sys.argv[2], username="u", password="p", start_ns=int(sys.argv[3]),
    end_ns=int(sys.argv[4]), clock_offset_ns=int(sys.argv[5]), recordings_dir=Path(sys.argv[1]) / "rec",
    session_factory=factory, node_id="n1", max_bytes_per_s=15000.0, stop=threading.Event(), clock=SystemClock(),
    segment_seconds=1.0)
"""


def test_killed_midway_then_completed_without_duplicates(
    tmp_path: Path, factory: sessionmaker[Session], server: ReplayServer
) -> None:
    start, end = T0 + NS, T0 + 9 * NS
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), server.url, str(start), str(end), str(OFFSET)], env=env
    )
    try:
        wait_for(lambda: len(edge_rows(factory)) >= 2, 30, 0.05, "two edge segments from the child")
        os.kill(child.pid, signal.SIGKILL)  # mid-replay, maybe mid-file
    finally:
        child.wait(10)
    first = edge_rows(factory)
    assert first and first[-1].end_ns < end, "the child finished before it was killed: nothing tested"
    result = run(server, tmp_path, factory, start, end)
    rows = edge_rows(factory)
    assert result.segments >= 1 and len(rows) == len(first) + result.segments
    spans = [(r.start_ns, r.end_ns) for r in rows]
    assert all(b <= c for (_, b), (c, _) in itertools.pairwise(spans)), "overlapping edge segments"
    assert spans[0][0] == start and spans[-1][1] == end
    assert check_pictures(rows) == len({*range(25, 225)})  # every picture of 1-9 s, once
    files = sorted(p.name for p in (tmp_path / "rec").rglob("*.mp4"))
    assert files == sorted(Path(r.path).name for r in rows), "an unindexed file was left behind"


def test_a_hole_in_the_card_stays_a_gap(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    """The card lost 4-6 s (the next picture has the D bit): edge segments stop at the hole, never bridge it, and
    the gap keeps exactly the hole."""
    card = Card(CLIP.frames, CLIP.keys, CLIP.params, T0 + OFFSET, 250, missing=range(100, 150))
    srv = ReplayServer(card)
    try:
        with factory() as s, s.begin():
            gap(s, T0 + NS, T0 + 9 * NS)
        result = run(srv, tmp_path, factory, T0 + NS, T0 + 9 * NS)
    finally:
        srv.close()
    rows = edge_rows(factory)
    spans = [(r.start_ns - T0, r.end_ns - T0) for r in rows]
    assert not any(a < 6 * NS and b > 4 * NS for a, b in spans), spans
    assert result.recovered_ns == 6 * NS and check_pictures(rows) == 150, (result, spans)
    with factory() as s:
        gaps = [(g.start_ns - T0, g.end_ns - T0) for g in s.scalars(select(Gap).order_by(Gap.start_ns))]
    assert gaps == [(4 * NS, 6 * NS)], gaps


def test_an_unindexed_edge_file_of_a_crash_is_replaced(
    tmp_path: Path, factory: sessionmaker[Session], server: ReplayServer
) -> None:
    """A crash between an edge file and its row leaves the file: the next call removes it and writes the span."""
    stale = edge_segment_path(tmp_path / "rec", "c", T0 + 2 * NS + 500_000_000)
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"torn")
    result = run(server, tmp_path, factory, T0 + 2 * NS, T0 + 4 * NS)
    assert not stale.exists() and "1 unindexed edge files" in result.detail, result
    rows = edge_rows(factory)
    assert [(r.start_ns - T0, r.end_ns - T0) for r in rows] == [(2 * NS, 3 * NS), (3 * NS, 4 * NS)]
    assert check_pictures(rows) == 50
