"""The same models, migrations and recorder on a real PostgreSQL (docs/design/cluster.md, "One database URL")."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import inspect, select

from camgrid.db.base import Base
from camgrid.db.engine import make_engine
from camgrid.db.migrate import upgrade
from camgrid.db.models_all import import_all_models
from camgrid.storage import index as ix
from camgrid.storage.models import Gap, Segment
from tests.cluster.conftest import pg_city
from tests.conftest import wait_for

NS = 1_000_000_000
FAST = {"CAMGRID_RECORDER__SEGMENT_SECONDS": "4"}


def test_migrations_build_every_table_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        upgrade(engine)  # idempotent
        import_all_models()
        tables = set(inspect(engine).get_table_names())
        missing = {t for t in Base.metadata.tables if t not in tables}
        assert not missing, f"tables in the models but not made by the migrations: {sorted(missing)}"
        assert "alembic_version" in tables
    finally:
        engine.dispose()


def test_index_writer_applies_in_order_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        writer = ix.IndexWriter(engine)
        big = 1_800_000_000 * NS  # BIGINT nanoseconds of 2027: beyond 32 bits
        writer.put(ix.GapOpen("C1", big, "starting", "", "n1"))
        writer.put(ix.SegOpen("C1", big + NS, "/r/C1/a.mp4", "h264", "n1"))
        writer.put(ix.GapClose("C1", big + NS))
        writer.put(ix.SegOpen("C2", big + 2 * NS, "/r/C2/a.mp4", "h265", "n1"))
        writer.put(ix.SegClose("/r/C1/a.mp4", big + 5 * NS, 1234, 100))
        writer.put(ix.SegDrop("/r/C2/a.mp4"))
        writer.put(ix.GapOpen("C1", big + 5 * NS, "unreachable", "x" * 900, "n1"))
        assert writer.flush()
        assert writer.pending() == 0
        with engine.connect() as conn:
            segs = conn.execute(select(Segment.camera_id, Segment.start_ns, Segment.end_ns, Segment.status)).all()
            gaps = conn.execute(select(Gap.camera_id, Gap.start_ns, Gap.end_ns, Gap.reason, Gap.detail)).all()
        assert segs == [("C1", big + NS, big + 5 * NS, "complete")]
        assert sorted((g[1], g[2], g[3]) for g in gaps) == [
            (big, big + NS, "starting"),
            (big + 5 * NS, None, "unreachable"),
        ]
        assert max(len(g[4]) for g in gaps) == 500
    finally:
        engine.dispose()


def test_recorder_end_to_end_on_postgresql(city_factory: Any, pg_url: str) -> None:
    """The real recorder process records simulated cameras into PostgreSQL; a power cut leaves honest gap rows."""
    city = pg_city(city_factory(4, extra_env={**FAST, "CAMGRID_DATABASE__URL": pg_url}), pg_url)
    assert not (city.home / "camgrid.db").exists(), "nothing went to SQLite"
    cams = [c["id"] for c in city.cameras()]
    assert city.db("select count(*) from cameras")[0][0] == len(cams)
    rec = city.start_recorder()
    wait_for(lambda: all(city.recording_since(c, 0) for c in cams), 40, what="recording on PostgreSQL")
    time.sleep(1.0)
    cut = city.fault("power_cut", "F-01")
    affected = cut["cameras"]
    assert affected
    time.sleep(4.0)
    restore = city.fault("power_restore", "F-01")
    t_cut, t_restore = int(cut["t"] * NS), int(restore["t"] * NS)
    wait_for(lambda: all(city.recording_since(c, t_restore) for c in affected), 20, what="recording after power")
    assert rec.stop() == 0, rec.text()[-2000:]
    assert "database unavailable" not in rec.text()
    for cam in cams:
        segs = city.segments(cam)
        assert segs and all(s[7] == "complete" for s in segs), segs
        assert all(s[2] > s[1] and s[4] > 0 for s in segs)
        gaps = city.gaps(cam)
        assert gaps and all(g[2] is not None for g in gaps[:-1])
        assert gaps[-1][3] == "recorder_not_running"  # the stop
    for cam in affected:
        cut_gaps = [g for g in city.gaps(cam) if g[3] == "unreachable"]
        assert len(cut_gaps) == 1, city.gaps(cam)
        assert abs(cut_gaps[0][1] - t_cut) <= 1.5 * NS
        assert cut_gaps[0][2] is not None and cut_gaps[0][2] >= t_restore
