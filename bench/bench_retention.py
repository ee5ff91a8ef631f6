"""Benchmark of retention's selection (``python bench/bench_retention.py [--database-url URL]``).

A city of ``--cameras`` cameras in 40 districts with mixed retentions (per camera, per district row, per
configuration, default) and ``--segments`` one-minute segments each, a tenth of the cameras under a long hold; the
rows only (no files; this measures the database, not the disk). Reported:

* ``page_ms``: one page of the age pass (``--batch`` rows) at the start, when most old rows are kept (long
  retention or held) and the expired ones lie behind them: the case the old Python filter starved on;
* ``select_s``: every page of the age pass, walked without deleting (the whole selection, in SQL);
* the baseline, ``naive_scan_s``: the straightforward correct alternative on the same data: read every complete
  segment row, the cameras, districts and holds, and filter in Python with the pure policy
  (:func:`camgrid.storage.retention.expired`, per camera with that camera's holds so that the baseline is not made
  quadratic on purpose). ``naive_ratio`` is ``naive_scan_s / select_s``; both selections must be the same rows (the
  bench fails otherwise). The naive scan answers nothing before it has read everything: its first page costs the
  whole scan, against ``page_ms``;
* ``run_s`` and ``deleted_per_s``: a full run to the end (audit entries counted in memory, not written: the audit
  log has its own benchmark, ``bench/bench_audit.py``).

Last line: ``bench-retention: segments=N expired=E page_ms=P select_s=S naive_scan_s=Q naive_ratio=X run_s=R
deleted_per_s=D``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from camgrid.auditing import SYSTEM, Entry
from camgrid.clock import FakeClock
from camgrid.config import RetentionConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Hold, Segment
from camgrid.storage.retention import DAY, HoldInfo, Key, RetentionRunner, SegInfo, expired, expired_page
from camgrid.vocabulary import SegmentStatus

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


def select_all(session: Session, *, cfg: RetentionConfig, batch: int) -> list[int]:
    """Every expired segment's id, oldest first, page by page as the runner walks them (nothing deleted)."""
    ids: list[int] = []
    after: Key | None = None
    while True:
        page = expired_page(session, cfg=cfg, now_ns=NOW, node_id="local", after=after, limit=batch)
        ids.extend(seg.id for seg in page)
        if len(page) < batch:
            return ids
        after = (page[-1].end_ns, page[-1].id)


def naive_scan(session: Session, *, cfg: RetentionConfig) -> list[int]:
    """The baseline: every row into Python, each camera's retention resolved as the policy says, the pure filter."""
    district_days = dict(session.execute(select(District.id, District.retention_days)).tuples().all())
    keep_ns: dict[str, int] = {}
    for cam, district, days in session.execute(select(Camera.id, Camera.district_id, Camera.retention_days)):
        chosen = days or district_days.get(district) or cfg.district_days.get(district) or cfg.default_days
        keep_ns[cam] = int(chosen * DAY)
    holds: dict[str, list[HoldInfo]] = defaultdict(list)
    for h in session.execute(select(Hold.camera_id, Hold.start_ns, Hold.end_ns, Hold.until_ns)):
        holds[h.camera_id].append(HoldInfo(*h))
    by_camera: dict[str, list[SegInfo]] = defaultdict(list)
    rows = session.execute(
        select(Segment.id, Segment.camera_id, Segment.start_ns, Segment.end_ns, Segment.bytes).where(
            Segment.status == SegmentStatus.COMPLETE, Segment.node_id == "local"
        )
    )
    for r in rows:
        by_camera[r.camera_id].append(SegInfo(*r))
    default_ns = int(cfg.default_days * DAY)
    out: list[SegInfo] = []
    for cam, segs in by_camera.items():
        out.extend(expired(segs, holds[cam], NOW, keep_ns, default_ns))
    return [seg.id for seg in sorted(out, key=lambda seg: (seg.end_ns, seg.id))]


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
        with unit_of_work(factory) as s:
            t0 = time.perf_counter()
            selected = select_all(s, cfg=cfg, batch=args.batch)
            select_s = time.perf_counter() - t0
        with unit_of_work(factory) as s:
            t0 = time.perf_counter()
            naive = naive_scan(s, cfg=cfg)
            naive_s = time.perf_counter() - t0
        if naive != selected:
            raise SystemExit(f"the SQL selection ({len(selected)} rows) differs from the pure policy's ({len(naive)})")
        print(
            f"whole selection: {len(selected)} rows, SQL pages {select_s:.2f} s, naive scan {naive_s:.2f} s", flush=True
        )
        audit = CountingAudit()
        runner = RetentionRunner(
            factory=factory, cfg=cfg, audit=audit, actor=SYSTEM, clock=FakeClock(NOW), node_id="local", batch=args.batch
        )
        t0 = time.perf_counter()
        report = runner.run()
        run_s = time.perf_counter() - t0
        engine.dispose()
    print(
        f"bench-retention: segments={n} expired={report.age} page_ms={page_ms:.0f} select_s={select_s:.2f} "
        f"naive_scan_s={naive_s:.2f} naive_ratio={naive_s / select_s:.2f} run_s={run_s:.1f} "
        f"deleted_per_s={report.age / run_s:.0f}"
    )


if __name__ == "__main__":
    main()
