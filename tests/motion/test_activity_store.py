"""The activity store (docs/design/motion-search.md, "Activity"): what is written is read back (hypothesis, across
hour files), windows by tables, and activity erased with the recordings by the real retention runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from camgrid.audit.log import AuditLog
from camgrid.auditing import SYSTEM
from camgrid.clock import FakeClock
from camgrid.config import RetentionConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.motion.activity_store import ActivityRetention, ActivitySeries, ActivityStore
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Hold, Segment
from camgrid.storage.retention import RetentionRunner
from tests.backends import db_url

NS = 1_000_000_000
T0 = 1_800_000_000 - 1_800_000_000 % 3600  # an hour's start


@settings(max_examples=60, deadline=None)
@given(
    writes=st.lists(st.tuples(st.integers(0, 3 * 3600), st.binary(min_size=1, max_size=5000)), min_size=1, max_size=6),
    window=st.tuples(st.integers(-100, 4 * 3600), st.integers(0, 6000)),
)
def test_what_is_written_is_read_back(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[int, bytes]], window: tuple[int, int]
) -> None:
    store = ActivityStore(tmp_path_factory.mktemp("act"))
    model: dict[int, int] = {}
    for off, levels in writes:
        store.write("cam-1", T0 + off, levels)
        model.update({T0 + off + k: v for k, v in enumerate(levels)})
    start = T0 + window[0]
    got = store.read(camera_id="cam-1", start_s=start, end_s=start + window[1])
    assert got.start_s == start and len(got.levels) == window[1]
    assert list(got.levels) == [model.get(start + k, 0) for k in range(window[1])]
    assert store.read(camera_id="cam-2", start_s=start, end_s=start + 10).levels == bytes(10)


@pytest.mark.parametrize(
    ("levels", "min_level", "pad", "expect"),
    [
        ([0, 65, 65, 0], 100, 0, []),
        ([0, 120, 0, 0, 0, 0, 130, 0], 100, 0, [(1, 2), (6, 7)]),
        ([0, 120, 0, 0, 0, 0, 130, 0], 100, 1, [(0, 3), (5, 8)]),
        ([0, 120, 0, 0, 0, 0, 130, 0], 100, 2, [(0, 8)]),  # padded windows that meet are one
        ([200, 200, 0, 0, 0, 0, 0, 200], 100, 3, [(0, 8)]),
        ([101, 100, 99], 100, 0, [(0, 1)]),  # above, not at
        ([], 100, 5, []),
    ],
)
def test_windows(levels: list[int], min_level: int, pad: int, expect: list[tuple[int, int]]) -> None:
    series = ActivitySeries(1000, bytes(levels))
    assert series.windows(min_level=min_level, pad_s=pad) == [(1000 + a, 1000 + b) for a, b in expect]


def test_camera_ids_never_escape_the_root(tmp_path: Path) -> None:
    store = ActivityStore(tmp_path / "act")
    for bad in ("..", "../x", "a/b", "", "x" * 65):
        with pytest.raises(ValueError):
            store.read(camera_id=bad, start_s=0, end_s=1)
        with pytest.raises(ValueError):
            store.write(bad, 0, b"\x01")


def test_erase_keeps_what_is_kept_and_never_unlinks_a_partial_hour(tmp_path: Path) -> None:
    store = ActivityStore(tmp_path)
    store.write("cam-1", T0, bytes([65]) * (3 * 3600))  # three hours
    removed = store.erase(camera_id="cam-1", before_s=T0 + 2 * 3600 + 100, keep=[(T0 + 3000, T0 + 3700)])
    assert removed == 0  # hours 1 and 2 hold a kept range, hour 3 is partial: zeroed in place
    got = store.read(camera_id="cam-1", start_s=T0, end_s=T0 + 3 * 3600).levels
    kept = [k for k, v in enumerate(got) if v]
    assert kept == list(range(3000, 3700)) + list(range(2 * 3600 + 100, 3 * 3600))
    # nothing kept any more: the first two hours go as files; then the third
    assert store.erase(camera_id="cam-1", before_s=T0 + 2 * 3600) == 2
    assert store.erase(camera_id="cam-1", before_s=T0 + 5 * 3600) == 1
    assert store.read(camera_id="cam-1", start_s=T0, end_s=T0 + 3 * 3600).levels == bytes(3 * 3600)
    assert not any((tmp_path / "cam-1").iterdir())  # the day folder went with its last hour


def _city(engine: Engine) -> None:
    with unit_of_work(session_factory(engine)) as s:
        s.add_all([District(id="D"), Feeder(id="F"), Uplink(id="U")])
        s.flush()
        s.add(Site(id="S", district_id="D", feeder_id="F", uplink_id="U", lat=0, lon=0))
        s.flush()
        for cam in ("short", "long"):
            s.add(
                Camera(id=cam, name=cam, lat=0, lon=0, district_id="D", site_id="S", feeder_id="F", uplink_id="U",
                       rtsp_url="rtsp://x/", retention_days=1.0 if cam == "short" else 30.0)
            )  # fmt: skip


def test_activity_goes_with_the_recordings_and_stays_where_video_is_held(tmp_path: Path) -> None:
    """Real retention (SQLite, the audit log, files): camera "short" keeps a day; its activity before the newest
    deleted segment goes, but for the held segment's seconds; camera "long" keeps everything."""
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    _city(engine)
    now_s = T0 + 3 * 86400
    store = ActivityStore(tmp_path / "activity")
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        for cam in ("short", "long"):
            for k in range(3 * 24):  # one 10-minute segment per hour for three days
                start = T0 + k * 3600
                path = tmp_path / "rec" / cam / f"{k}.mp4"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"x")
                s.add(
                    Segment(camera_id=cam, start_ns=start * NS, end_ns=(start + 600) * NS, path=str(path), bytes=1,
                            codec="h264", status="complete")
                )  # fmt: skip
            store.write(cam, T0, bytes([65]) * (3 * 86400))  # activity every second, gaps too
        s.add(Hold(camera_id="short", start_ns=(T0 + 5 * 3600) * NS, end_ns=(T0 + 5 * 3600 + 60) * NS,
                   reason="case 9", created_ns=now_s * NS))  # fmt: skip
    clock = FakeClock(now_s * NS)
    runner = RetentionRunner(
        factory=factory, cfg=RetentionConfig(default_days=14), audit=AuditLog.open(engine, home=tmp_path, clock=clock),
        actor=SYSTEM, clock=clock, node_id=None, batch=7,
    )  # fmt: skip
    runner.add_listener(ActivityRetention(store=store, factory=factory))
    report = runner.run()
    assert report.age == 2 * 24 - 1  # the first two days of "short" but for its held segment
    newest_deleted = T0 + 47 * 3600 + 600
    short = store.read(camera_id="short", start_s=T0, end_s=now_s).levels
    alive = [k for k, v in enumerate(short) if v]
    held = T0 + 5 * 3600
    assert [T0 + k for k in alive[:600]] == list(range(held, held + 600))  # the held segment's seconds
    assert T0 + alive[600] == newest_deleted  # then from the end of the newest deleted segment on
    assert store.read(camera_id="long", start_s=T0, end_s=now_s).levels == bytes([65]) * (now_s - T0)
