"""Helpers of the retention tests: a real database (SQLite or PostgreSQL), a small topology, segments with real files,
the real audit log, and a fault injector that refuses audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from camgrid.audit.log import AuditLog
from camgrid.auditing import AuditWriteError, Entry
from camgrid.clock import FakeClock
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry.models import Camera, District, Feeder, Site, Uplink
from camgrid.storage.models import Deletion, Hold, Segment
from camgrid.storage.retention import SegInfo
from camgrid.vocabulary import SegmentStatus
from tests.backends import db_url

NS = 1_000_000_000
H = 3600 * NS
NOW = 2_000_000_000 * NS


@dataclass
class Db:
    engine: Engine
    factory: sessionmaker[Session]
    clock: FakeClock
    audit: AuditLog


def open_db(tmp_path: Path) -> Db:
    engine = make_engine(db_url(tmp_path / "db.sqlite"))
    upgrade(engine)
    clock = FakeClock(NOW)
    return Db(engine, session_factory(engine), clock, AuditLog.open(engine, home=tmp_path, clock=clock))


def add_topology(session: Session, districts: dict[str, float | None]) -> None:
    session.add_all([Feeder(id="F"), Uplink(id="U")])
    session.add_all([District(id=d, retention_days=days) for d, days in districts.items()])
    session.flush()
    session.add_all([Site(id=f"S-{d}", district_id=d, feeder_id="F", uplink_id="U", lat=0, lon=0) for d in districts])
    session.flush()


def add_camera(session: Session, cam: str, district: str, days: float | None = None) -> None:
    session.add(
        Camera(
            id=cam, name=cam, lat=0, lon=0, district_id=district, site_id=f"S-{district}", feeder_id="F",
            uplink_id="U", rtsp_url="rtsp://x/", retention_days=days,
        )
    )  # fmt: skip
    session.flush()


def add_segment(
    session: Session,
    folder: Path,
    cam: str,
    end_ns: int,
    *,
    size: int = 100,
    node: str = "local",
    status: str = SegmentStatus.COMPLETE,
) -> SegInfo:
    """A segment row and its file (``size`` bytes); returns what the policy functions see of it."""
    row = Segment(
        camera_id=cam, start_ns=end_ns - 10 * NS, end_ns=end_ns, path="", bytes=size, codec="h264", status=status,
        node_id=node,
    )  # fmt: skip
    session.add(row)
    session.flush()
    path = folder / node / cam / f"{row.id}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(row.id.to_bytes(8, "big") * (size // 8) + b"x" * (size % 8))
    row.path = str(path)
    session.flush()
    return SegInfo(row.id, cam, row.start_ns, row.end_ns, size)


def add_hold(session: Session, cam: str, start_ns: int, end_ns: int, until_ns: int | None = None) -> None:
    session.add(Hold(camera_id=cam, start_ns=start_ns, end_ns=end_ns, until_ns=until_ns, reason="case 7"))
    session.flush()


def segment_ids(factory: sessionmaker[Session]) -> set[int]:
    with unit_of_work(factory) as s:
        return set(s.scalars(select(Segment.id)))


def clear(factory: sessionmaker[Session]) -> None:
    """Empty the recording index and the registry (between hypothesis examples on one database)."""
    with unit_of_work(factory) as s:
        for table in (Segment, Hold, Deletion, Camera, Site, District, Feeder, Uplink):
            s.execute(delete(table))


class RefusingAudit:
    """Fault injector: the audit log takes ``accept`` entries, then refuses (as a full or unreachable log does)."""

    def __init__(self, inner: AuditLog, accept: int) -> None:
        self.inner = inner
        self.left = accept

    def append(self, entry: Entry) -> int:
        if self.left <= 0:
            raise AuditWriteError("audit log unavailable (injected)")
        self.left -= 1
        return self.inner.append(entry)
