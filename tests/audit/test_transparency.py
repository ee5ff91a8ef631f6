"""The transparency report counts what the audit log holds, per district; retention deletions are audited with the
deleted file's SHA-256 before the file goes, and a deletion the audit log refuses does not happen."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from camgrid.audit.log import AuditLog, Entry
from camgrid.audit.transparency import aggregate, month_range
from camgrid.auditing import SYSTEM, AuditWriteError, AuditWriter
from camgrid.clock import FakeClock
from camgrid.config import RetentionConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.storage.models import Segment
from camgrid.storage.retention import RetentionRunner
from camgrid.vocabulary import AuditAction
from tests.backends import home_db_url
from tests.seeding import SEED, seed_log

NS = 1_000_000_000


@pytest.mark.parametrize(
    ("entries", "expect"),
    [
        (
            [("live.start", "a", {}), ("live.start", "a", {}), ("playback", "b", {})],
            {"D1": {"live_views": 2}, "D2": {"playbacks": 1}},
        ),
        ([("retention.delete", "a", {"bytes": 2e9}), ("login", None, {})], {"D1": {"deletions": 1, "deleted_gb": 2.0}}),
        (
            [("export.request", "b", {}), ("export.approve", "b", {}), ("export.download", "b", {})],
            {"D2": {"export_requests": 1, "exports_approved": 1, "downloads": 1}},
        ),
        ([("hold.create", "zz", {})], {"(no camera)": {"holds": 1}}),
    ],
)
def test_aggregate_table(
    entries: list[tuple[str, str | None, dict[str, float]]], expect: dict[str, dict[str, float]]
) -> None:
    got = aggregate(entries, {"a": "D1", "b": "D2"})
    assert set(got) == set(expect)
    for district, cols in expect.items():
        for col, value in cols.items():
            assert got[district][col] == pytest.approx(value)
        assert sum(v for k, v in got[district].items() if k not in cols) == 0


def test_month_range() -> None:
    t0, t1 = month_range("2026-12")
    assert (t1 - t0) // NS == 31 * 86400


def test_retention_deletions_are_audited_then_reported(tmp_path: Path) -> None:
    clock = FakeClock(start_ns=1_795_000_000 * NS)  # 2026-11
    engine = make_engine(home_db_url(tmp_path))
    upgrade(engine)
    factory = session_factory(engine)
    files = []
    with unit_of_work(factory) as s:
        cams = [
            CameraIn(
                id=c,
                name=c,
                lat=27.7,
                lon=85.3,
                district=d,
                site=f"S{c}",
                feeder="F",
                uplink="U",
                rtsp_url="rtsp://10.0.0.1/x",
            )
            for c, d in (("a", "D1"), ("b", "D2"))
        ]
        registry.import_cameras(session=s, audit=seed_log(engine, tmp_path), actor=SEED, rows=cams, now_ns=0)
        for i, cam in enumerate(("a", "a", "b")):
            path = tmp_path / f"{cam}{i}.mp4"
            path.write_bytes(bytes([i]) * 1000)
            files.append(path)
            end = clock.wall_ns() - (30 - i) * 86400 * NS
            s.add(
                Segment(
                    camera_id=cam,
                    start_ns=end - 10 * NS,
                    end_ns=end,
                    path=str(path),
                    bytes=1000,
                    codec="h264",
                    status="complete",
                )
            )
    log = AuditLog.open(engine, home=tmp_path, clock=clock)

    class Refusing:  # fault injector: the audit log is unavailable
        def append(self, entry: Entry) -> int:
            raise AuditWriteError("audit log unavailable")

    def runner(audit: AuditWriter) -> RetentionRunner:
        return RetentionRunner(
            factory=factory, cfg=RetentionConfig(default_days=14), audit=audit, actor=SYSTEM, clock=clock, node_id=None
        )

    assert runner(Refusing()).run().refused is not None
    assert all(f.exists() for f in files), "no audit entry, no deletion"
    counts = runner(log).run()
    assert counts.age == 3 and not any(f.exists() for f in files)
    entries = [json.loads(log.entry_data(i)) for i in range(log.size)]
    seen = [e["details"]["sha256"] for e in entries if e["action"] == AuditAction.RETENTION_DELETE]
    assert seen == [hashlib.sha256(bytes([i]) * 1000).hexdigest() for i in range(3)]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "camgrid.cli.main",
            "--home",
            str(tmp_path),
            "report",
            "transparency",
            "--month",
            "2026-11",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["districts"]["D1"]["deletions"] == 2 and doc["districts"]["D2"]["deletions"] == 1
