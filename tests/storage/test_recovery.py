"""Crash recovery, file by file: torn tails cut, rows completed from what the files hold, unindexed files adopted,
empty ones removed, and the downtime a gap (adopted when still true). Real files and the real database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.media import fmp4
from camgrid.media.nal import H264
from camgrid.sim import clips
from camgrid.storage.models import Gap, Segment
from camgrid.storage.paths import segment_path
from camgrid.storage.recovery import open_downtime_gaps, recover
from camgrid.vocabulary import GapReason
from tests.conftest import CLIP_CACHE

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
CLIP = clips.load(clips.encode(clips.ClipSpec(H264, 320, 240, 25, 300, 25, 50, "REC", 1), CLIP_CACHE), H264)


def fragment(seq: int, base: int, count: int) -> bytes:
    frames = [b"".join(len(n).to_bytes(4, "big") + n for n in CLIP.frames[i]) for i in range(count)]
    samples = [(3600, len(f), CLIP.keys[i]) for i, f in enumerate(frames)]
    return b"".join(bytes(b) for b in fmp4.fragment_parts(seq, base, samples, frames))


def segment_file(root: Path, camera: str, start_ns: int, fragments: int, torn: int = 0) -> Path:
    """A segment file as the writer leaves it: init, whole 1 s fragments, and ``torn`` bytes of the next one."""
    path = segment_path(root, camera, start_ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = fmp4.init_segment(CLIP.info, CLIP.params)
    for k in range(fragments):
        data += fragment(k + 1, k * 25 * 3600, 25)
    data += fragment(fragments + 1, fragments * 25 * 3600, 25)[:torn]
    path.write_bytes(data)
    return path


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    env = {k: v for k, v in os.environ.items() if k.startswith("CAMGRID_")}
    engine = make_engine(load_settings(tmp_path, env).database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_torn_writing_and_unindexed_files(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    root = tmp_path / "recordings"
    torn = segment_file(root, "c", T0, 2, torn=700)
    empty = segment_file(root, "c", T0 + 2 * NS, 0, torn=300)
    orphan = segment_file(root, "c", T0 + 3 * NS, 1)
    whole = torn.stat().st_size - 700
    with unit_of_work(factory) as s:
        for path, start in ((torn, T0), (empty, T0 + 2 * NS)):
            s.execute(
                insert(Segment).values(
                    camera_id="c", start_ns=start, end_ns=start, path=str(path), codec="h264", node_id="n",
                    status="writing", bytes=0, frames=0,
                )
            )  # fmt: skip
    with unit_of_work(factory) as s:
        report = recover(
            session=s, root=root, node_id="n", camera_ids=["c"], last_alive_ns=T0 + 5 * NS, now_ns=T0 + 9 * NS
        )
    assert (report.repaired, report.removed, report.indexed, report.bytes_cut) == (1, 1, 1, 700)
    assert torn.stat().st_size == whole and not empty.exists()
    with factory() as s:
        rows = [
            (r.path, r.start_ns, r.end_ns, r.frames, r.status) for r in s.scalars(select(Segment).order_by("start_ns"))
        ]
    assert rows == [
        (str(torn), T0, T0 + 2 * NS, 50, "complete"),
        (str(orphan), T0 + 3 * NS, T0 + 4 * NS, 25, "complete"),
    ]


def test_downtime_gaps_close_what_was_open_and_adopt_what_is_still_true(factory: sessionmaker[Session]) -> None:
    alive, now = T0 + 100 * NS, T0 + 160 * NS
    with unit_of_work(factory) as s:
        s.execute(
            insert(Segment).values(
                camera_id="rec", start_ns=T0, end_ns=T0 + 99 * NS, path="/x.mp4", codec="h264", node_id="n",
                status="complete", bytes=1, frames=1,
            )
        )  # fmt: skip
        for cam, start, reason in (
            ("dark", T0 + 50 * NS, GapReason.UNREACHABLE),  # open at the crash: ends at the last heartbeat
            ("idle", T0 + 10 * NS, GapReason.NOT_RUNNING),  # still true: adopted, not closed and reopened
        ):
            s.execute(
                insert(Gap).values(camera_id=cam, start_ns=start, end_ns=None, reason=reason, detail="", node_id="n")
            )
    with unit_of_work(factory) as s:
        owned = open_downtime_gaps(
            session=s, node_id="n", camera_ids=["rec", "dark", "idle", "new"], last_alive_ns=alive, now_ns=now
        )
    assert owned == {
        "rec": (T0 + 99 * NS, GapReason.NOT_RUNNING),
        "dark": (alive, GapReason.NOT_RUNNING),
        "idle": (T0 + 10 * NS, GapReason.NOT_RUNNING),
        "new": (now, GapReason.STARTING),
    }
    with factory() as s:
        gaps = [
            (g.camera_id, g.start_ns, g.end_ns, g.reason)
            for g in s.scalars(select(Gap).order_by("camera_id", "start_ns"))
        ]
    assert gaps == [
        ("dark", T0 + 50 * NS, alive, GapReason.UNREACHABLE),
        ("dark", alive, None, GapReason.NOT_RUNNING),
        ("idle", T0 + 10 * NS, None, GapReason.NOT_RUNNING),
        ("new", now, None, GapReason.STARTING),
        ("rec", T0 + 99 * NS, None, GapReason.NOT_RUNNING),
    ]
