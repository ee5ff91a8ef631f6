"""Retention by age and by budget, holds respected, files really gone (policy tables + real files and SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from camgrid.audit.log import AuditLog
from camgrid.auditing import SYSTEM
from camgrid.clock import FakeClock
from camgrid.config import RetentionConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Deletion, Hold, Segment
from camgrid.storage.retention import DAY, HoldInfo, RetentionRunner, SegInfo, expired, over_budget
from tests.backends import db_url

NOW = 2_000_000_000 * 1_000_000_000
H = 3600 * 1_000_000_000


def seg(i: int, cam: str, age_h: float, size: int = 100) -> SegInfo:
    end = NOW - int(age_h * H)
    return SegInfo(i, cam, end - 10_000_000_000, end, size)


@pytest.mark.parametrize(
    ("segments", "holds", "keep_days", "expect"),
    [
        ([seg(1, "a", 1), seg(2, "a", 25)], [], {"a": 1.0}, [2]),
        ([seg(1, "a", 25), seg(2, "b", 25)], [], {"a": 1.0, "b": 2.0}, [1]),
        ([seg(1, "a", 25)], [HoldInfo("a", NOW - 30 * H, NOW - 20 * H, None)], {"a": 1.0}, []),
        ([seg(1, "a", 25)], [HoldInfo("a", NOW - 30 * H, NOW - 20 * H, NOW - H)], {"a": 1.0}, [1]),  # hold expired
        ([seg(1, "a", 25)], [HoldInfo("b", NOW - 30 * H, NOW - 20 * H, None)], {"a": 1.0}, [1]),  # other camera
    ],
)
def test_age_policy(
    segments: list[SegInfo], holds: list[HoldInfo], keep_days: dict[str, float], expect: list[int]
) -> None:
    keep = {k: int(v * DAY) for k, v in keep_days.items()}
    assert [s.id for s in expired(segments, holds, NOW, keep, 14 * DAY)] == expect


@pytest.mark.parametrize(
    ("sizes", "held", "used", "budget", "expect"),
    [
        ([100, 100, 100], [], 300, 250, [1]),
        ([100, 100, 100], [], 300, 150, [1, 2]),
        ([100, 100, 100], [1], 300, 150, [2, 3]),
        ([100, 100, 100], [], 300, 300, []),
        ([100, 100], [1, 2], 200, 0, []),  # everything held: nothing to delete
    ],
)
def test_budget_policy(sizes: list[int], held: list[int], used: int, budget: int, expect: list[int]) -> None:
    segs = [seg(i + 1, "a", 10 - i, size) for i, size in enumerate(sizes)]
    holds = [HoldInfo("a", s.start_ns, s.end_ns, None) for s in segs if s.id in held]
    assert [s.id for s in over_budget(segs, holds, NOW, used, budget)] == expect


def run(engine: Engine, home: Path, cfg: RetentionConfig, node_id: str | None) -> dict[str, object]:
    """One run of the recorder's retention, audited in the real log."""
    audit = AuditLog.open(engine, home=home, clock=FakeClock(NOW))
    runner = RetentionRunner(
        factory=session_factory(engine), cfg=cfg, audit=audit, actor=SYSTEM, clock=FakeClock(NOW), node_id=node_id
    )
    return runner.run().as_dict()


def test_run_retention_deletes_files_and_rows(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    factory = session_factory(engine)
    files = []
    with unit_of_work(factory) as s:
        s.add_all([District(id="D"), Feeder(id="F"), Uplink(id="U")])
        s.flush()
        s.add(Site(id="S", district_id="D", feeder_id="F", uplink_id="U", lat=0, lon=0))
        s.flush()
        for cam, days in (("old", 1.0), ("young", None)):
            s.add(
                Camera(
                    id=cam,
                    name=cam,
                    lat=0,
                    lon=0,
                    district_id="D",
                    site_id="S",
                    feeder_id="F",
                    uplink_id="U",
                    rtsp_url="rtsp://x/",
                    retention_days=days,
                )
            )
        for i, age_h in enumerate([50, 40, 30, 2]):
            for cam in ("old", "young"):
                path = tmp_path / "rec" / cam / f"{i}.mp4"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"x" * 1000)
                files.append(path)
                end = NOW - age_h * H
                s.add(
                    Segment(
                        camera_id=cam,
                        start_ns=end - 10**10,
                        end_ns=end,
                        path=str(path),
                        bytes=1000,
                        codec="h264",
                        status="complete",
                    )
                )
        s.add(Hold(camera_id="old", start_ns=NOW - 41 * H, end_ns=NOW - 39 * H, reason="case 7", created_ns=NOW))
    counts = run(engine, tmp_path, RetentionConfig(default_days=14), None)
    assert counts["age"] == 2  # old's 50 h and 30 h segments; the 40 h one is held
    assert not (tmp_path / "rec" / "old" / "0.mp4").exists() and not (tmp_path / "rec" / "old" / "2.mp4").exists()
    assert (tmp_path / "rec" / "old" / "1.mp4").exists()
    counts = run(engine, tmp_path, RetentionConfig(default_days=14, disk_budget_gb=3500 / 1024**3), None)
    assert counts["budget"] == 3
    with unit_of_work(factory) as s:  # young's three oldest go; old's held segment stays
        remaining = s.scalar(select(func.sum(Segment.bytes)))
        assert remaining == 3000
        assert s.scalar(select(func.count()).select_from(Deletion)) == 5
    assert sum(1 for f in files if f.exists()) == 3


def test_a_cluster_node_deletes_only_what_it_recorded(tmp_path: Path) -> None:
    """Retention with ``node_id`` (docs/design/cluster.md): age and disk budget count this node's segments only; the
    other node's files and rows stay for that node to judge."""
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as s:
        s.add_all([District(id="D"), Feeder(id="F"), Uplink(id="U")])
        s.flush()
        s.add(Site(id="S", district_id="D", feeder_id="F", uplink_id="U", lat=0, lon=0))
        s.flush()
        s.add(
            Camera(
                id="c", name="c", lat=0, lon=0, district_id="D", site_id="S", feeder_id="F", uplink_id="U",
                rtsp_url="rtsp://x/",
            )
        )  # fmt: skip
        for node in ("a", "b"):
            for i, age_d in enumerate([30, 20, 1]):
                path = tmp_path / node / f"{i}.mp4"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"x" * 1000)
                end = NOW - age_d * 24 * H
                s.add(
                    Segment(
                        camera_id="c", start_ns=end - 10**10, end_ns=end, path=str(path), bytes=1000, codec="h264",
                        status="complete", node_id=node,
                    )
                )  # fmt: skip
    counts = run(engine, tmp_path, RetentionConfig(default_days=25), "a")
    assert counts["age"] == 1
    assert not (tmp_path / "a" / "0.mp4").exists() and (tmp_path / "b" / "0.mp4").exists()
    # Budget 1500 bytes: a holds 2000 of its own (b's 3000 do not count), so a's oldest goes, not b's.
    counts = run(engine, tmp_path, RetentionConfig(default_days=25, disk_budget_gb=1500 / 1024**3), "a")
    assert counts["budget"] == 1
    with unit_of_work(factory) as s:
        left = sorted(s.execute(select(Segment.node_id, func.count()).group_by(Segment.node_id)).all())
    assert left == [("a", 1), ("b", 3)]
    assert [p.name for p in sorted((tmp_path / "b").iterdir())] == ["0.mp4", "1.mp4", "2.mp4"]
