"""Benchmark of retention's selection (``python bench/bench_retention.py [--database-url URL]``).

A city of ``--cameras`` cameras in 40 districts with mixed retentions (per camera, per district row, per
configuration, default) and ``--segments`` one-minute segments each, a tenth of the cameras under a long hold; the
rows only (no files; this measures the database, not the disk). Reported:

* ``page_ms``: one page of the age pass (``--batch`` rows) at the start, when most old rows are kept (long
  retention or held) and the expired ones lie behind them: the case the old Python filter starved on;
* ``run_s`` and ``deleted_per_s``: a full run to the end (audit entries counted in memory, not written: the audit
  log has its own benchmark, ``bench/bench_audit.py``).

Last line: ``bench-retention: segments=N expired=E page_ms=P run_s=R deleted_per_s=D``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from camgrid.auditing import SYSTEM, Entry
from camgrid.clock import FakeClock
from camgrid.config import RetentionConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Hold, Segment
from camgrid.storage.retention import RetentionRunner, expired_page

NS = 1_000_000_000
NOW = 1_800_000_000 * NS
MINUTE = 60 * NS


class CountingAudit:
    """Takes every entry (the benchmark measures retention's queries, not the audit log)."""

    def __init__(self) -> None:
        self.n = 0

    def append(self, entry: Entry) -> int:
        self.n += 1
        return self.n


def build(url: str, cameras: int, per_camera: int) -> int:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(Feeder), [{"id": "F"}])
        conn.execute(insert(Uplink), [{"id": "U"}])
        conn.execute(
            insert(District), [{"id": f"D{d:02d}", "retention_days": 30.0 if d % 4 == 0 else None} for d in range(40)]
        )
        conn.execute(
            insert(Site),
            [
                {"id": f"S{d:02d}", "district_id": f"D{d:02d}", "feeder_id": "F", "uplink_id": "U", "lat": 0, "lon": 0}
                for d in range(40)
            ],
        )
        conn.execute(
            insert(Camera),
            [
                {
                    "id": f"C{c:05d}", "name": "", "lat": 0, "lon": 0, "district_id": f"D{c % 40:02d}",
                    "site_id": f"S{c % 40:02d}", "feeder_id": "F", "uplink_id": "U", "rtsp_url": "rtsp://x/",
                    "retention_days": 60.0 if c % 7 == 0 else None,
                }
                for c in range(cameras)
            ],
        )  # fmt: skip
        # Segments spread over the last 50 days, oldest first, one per camera per step.
        step = 50 * 86400 * NS // per_camera
        rows = []
        for i in range(per_camera):
            end = NOW - (per_camera - i) * step
            for c in range(cameras):
                rows.append(
                    {
                        "camera_id": f"C{c:05d}", "start_ns": end - MINUTE, "end_ns": end,
                        "path": f"/nowhere/C{c:05d}/{i}.mp4", "bytes": 1 << 20, "codec": "h264",
                        "status": "complete", "node_id": "local",
                    }
                )  # fmt: skip
            if len(rows) >= 50_000:
                conn.execute(insert(Segment), rows)
                rows = []
        if rows:
            conn.execute(insert(Segment), rows)
        conn.execute(
            insert(Hold),
            [
                {"camera_id": f"C{c:05d}", "start_ns": 0, "end_ns": NOW, "reason": "bench", "until_ns": None}
                for c in range(0, cameras, 10)
            ],
        )
    engine.dispose()
    return cameras * per_camera


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=2000)
    ap.add_argument("--segments", type=int, default=100, help="segments per camera")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        n = build(url, args.cameras, args.segments)
        engine = make_engine(url)
        factory = session_factory(engine)
        cfg = RetentionConfig(default_days=14, district_days={f"D{d:02d}": 3.0 for d in range(1, 40, 4)})
        with unit_of_work(factory) as s:
            t0 = time.perf_counter()
            page = expired_page(s, cfg=cfg, now_ns=NOW, node_id="local", after=None, limit=args.batch)
            page_ms = (time.perf_counter() - t0) * 1000
        print(f"first page: {len(page)} rows in {page_ms:.0f} ms", flush=True)
        audit = CountingAudit()
        runner = RetentionRunner(
            factory=factory, cfg=cfg, audit=audit, actor=SYSTEM, clock=FakeClock(NOW), node_id="local", batch=args.batch
        )
        t0 = time.perf_counter()
        report = runner.run()
        run_s = time.perf_counter() - t0
        engine.dispose()
    print(
        f"bench-retention: segments={n} expired={report.age} page_ms={page_ms:.0f} run_s={run_s:.1f} "
        f"deleted_per_s={report.age / run_s:.0f}"
    )


if __name__ == "__main__":
    main()
