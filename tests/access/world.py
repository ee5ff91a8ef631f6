"""A small installation for service tests: two districts' cameras, users, a mask, a hold, exports, a suggestion and
a live incident feed, all made through the audited services with the real audit log (one action per unit of work:
on SQLite the log's commit waits for a session's write lock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from camgrid.access import service as access
from camgrid.access import totp
from camgrid.audit.log import AuditLog
from camgrid.auditing import SYSTEM, Actor, AuditWriteError, Entry
from camgrid.clock import FakeClock
from camgrid.db.engine import session_factory, unit_of_work
from camgrid.exports import service as exports
from camgrid.health.feed import IncidentFeed
from camgrid.health.models import IncidentRow, IncidentSuggestion
from camgrid.health.topology import build_topology
from camgrid.privacy import camera_mask_service as camera_masks
from camgrid.privacy import service as masks
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from camgrid.storage import holds
from camgrid.storage.models import Segment
from camgrid.vocabulary import Role
from tests.exports.media import NS, write_segment

T0 = 1_796_000_000 * NS
QUARTER = [[[0.5, 0.0], [1.0, 0.0], [1.0, 0.5], [0.5, 0.5]]]
PASSWORD = "world-password-1"
ADMIN = Actor("admin", Role.ADMIN)
ADMIN2 = Actor("admin2", Role.ADMIN)
OP = Actor("op", Role.OPERATOR)
SUP = Actor("sup", Role.SUPERVISOR)
SUP_D2 = Actor("sup-d2", Role.SUPERVISOR, ("D-02",))


class Refusing:
    """The fault injector: an audit log that cannot write (disk full, database gone)."""

    def append(self, entry: Entry) -> int:
        raise AuditWriteError("injected: the audit log cannot be written")


def camera(cid: str, district: str) -> CameraIn:
    return CameraIn(
        id=cid,
        name=cid,
        lat=27.69,
        lon=85.31,
        district=district,
        site=f"S-{cid}",
        feeder=f"F-{district}",
        uplink="U-1",
        rtsp_url=f"rtsp://10.0.0.1/{cid}",
    )


@dataclass
class World:
    engine: Engine
    home: Path
    factory: sessionmaker[Session]
    log: AuditLog
    clock: FakeClock
    feed: IncidentFeed
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.home / "exports"

    def snapshot(self) -> tuple[Any, ...]:
        """Every row of every table, every file under the home (but the audit key), the feed's pending evidence."""
        tables = {}
        with self.engine.connect() as conn:
            for name in sorted(inspect(conn).get_table_names()):
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
                tables[name] = sorted(repr(tuple(r)) for r in rows)
        files = sorted(
            (str(p.relative_to(self.home)), p.stat().st_size if p.is_file() else -1)
            for p in self.home.rglob("*")
            if "keys" not in p.parts and not p.name.endswith((".db", ".db-wal", ".db-shm", ".db-journal"))
        )
        return tables, files, tuple(self.feed._evidence)  # the feed's queue: what evidence changes, before a pump


def build(engine: Engine, home: Path) -> World:
    clock = FakeClock(start_ns=T0)
    factory = session_factory(engine)
    log = AuditLog.open(engine, home=home, clock=clock)
    rows = [camera("cam-a", "D-01"), camera("cam-b", "D-02")]
    feed = IncidentFeed(topo=build_topology(rows), factory=factory, clock=clock)
    w = World(engine, home, factory, log, clock, feed)
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=ADMIN, rows=rows, now_ns=T0)
    for name, role in (("viewer", Role.VIEWER), ("victim", Role.OPERATOR)):
        with unit_of_work(factory) as s:
            access.create_user(
                session=s,
                audit=log,
                actor=ADMIN,
                username=name,
                password=PASSWORD,
                role=role,
                districts=None,
                now_ns=T0,
            )
    with unit_of_work(factory) as s:
        access.issue_token(session=s, audit=log, actor=ADMIN, username="victim", ttl_s=3600, now_ns=T0, name="script")
    with unit_of_work(factory) as s:  # the victim has a second factor (docs/design/sign-in.md)
        w.ids["totp"] = totp.enrol(
            session=s,
            audit=log,
            actor=ADMIN,
            user=access.user_for(session=s, actor=ADMIN, username="victim"),
            box=totp.SecretBox.open(home),
            now_ns=T0,
            confirmed=True,
        )
    with unit_of_work(factory) as s:
        access.create_user(
            session=s, audit=log, actor=ADMIN, username="gone-quiet", password=PASSWORD, role=Role.VIEWER,
            districts=None, now_ns=T0,
        )  # fmt: skip
    with unit_of_work(factory) as s:
        access.disable_user(session=s, audit=log, actor=ADMIN, username="gone-quiet")
    for cid in ("cam-a", "cam-b"):
        with unit_of_work(factory) as s:
            masks.set_mask(session=s, audit=log, actor=ADMIN, camera_id=cid, polygons=QUARTER, now_ns=T0)
    with unit_of_work(factory) as s:
        masks.request_removal(session=s, audit=log, actor=ADMIN, camera_id="cam-b", now_ns=T0)
    with unit_of_work(factory) as s:  # cam-a's own (camera-side) mask failed a check: an admin may re-arm it
        camera_masks.camera_masks_failed(
            session=s, audit=log, actor=SYSTEM, camera_id="cam-a", reason="seeded", now_ns=T0
        )
    with unit_of_work(factory) as s:
        w.ids["hold"] = holds.create_hold(
            session=s,
            audit=log,
            actor=SUP,
            camera_id="cam-a",
            start_ns=T0,
            end_ns=T0 + 60 * NS,
            reason="case 1",
            now_ns=T0,
        ).id
    # Ten seconds of cam-a recorded, a pending export of it, and one already approved (ready to download).
    seg_dir = home / "recordings"
    seg_dir.mkdir()
    path = seg_dir / "cam-a.mp4"
    size = write_segment(path, 10)
    with unit_of_work(factory) as s:
        s.add(
            Segment(
                camera_id="cam-a",
                start_ns=T0,
                end_ns=T0 + 10 * NS,
                path=str(path),
                bytes=size,
                codec="h264",
                status="complete",
            )
        )
    for key in ("pending", "ready"):
        with unit_of_work(factory) as s:
            w.ids[key] = exports.request_export(
                session=s,
                audit=log,
                actor=OP,
                camera_id="cam-a",
                from_ns=T0 + NS,
                to_ns=T0 + 5 * NS,
                reason="case 2",
                now_ns=T0,
            ).id
        clock.advance(1.0)
    with unit_of_work(factory) as s:
        exports.approve_export(
            session=s, audit=log, actor=SUP, root=w.root, export_id=w.ids["ready"], reason="ok", now_ns=clock.wall_ns()
        )
    with unit_of_work(factory) as s:
        incident = IncidentRow(engine_key="test:1", kind="power", subject="F-D-01", opened_ns=T0)
        s.add(incident)
        s.flush()
        sug = IncidentSuggestion(
            incident_id=incident.id,
            camera_id="cam-a",
            field="feeder",
            registry_value="F-D-01",
            suggested_value="F-D-02",
        )
        s.add(sug)
        s.flush()
        w.ids["suggestion"] = sug.id
    with unit_of_work(factory) as s:
        assert s.scalar(select(IncidentSuggestion.status).where(IncidentSuggestion.id == w.ids["suggestion"])) == "open"
    w.ids["plan_running"], w.ids["plan_done"] = plan_runs(factory, home)
    return w


def reopen(engine: Engine, home: Path, ids: dict[str, Any], now_ns: int) -> World:
    """The world ``build`` made, opened again on a copy of its home and database (same paths, same rows): its log
    loads from the database, its clock stands where ``build`` left it."""
    clock = FakeClock(start_ns=T0)
    factory = session_factory(engine)
    feed = IncidentFeed(
        topo=build_topology([camera("cam-a", "D-01"), camera("cam-b", "D-02")]), factory=factory, clock=clock
    )
    clock.advance((now_ns - T0) / NS)
    log = AuditLog.open(engine, home=home, clock=clock)
    return World(engine, home, factory, log, clock, feed, dict(ids))


def plan_runs(factory: sessionmaker[Session], home: Path) -> tuple[int, int]:
    """A running plan run and a finished one whose plan holds one planned camera in D-01 (the worker's rows)."""
    import json

    from camgrid.planner.models import PlanRun

    plan = home / "plans" / "run-world.geojson"
    plan.parent.mkdir(parents=True, exist_ok=True)
    camera = {
        "kind": "camera",
        "id": "plan-p1-7",
        "status": "planned",
        "phase": 1,
        "site": "site-7",
        "feeder": "feeder-0-0",
        "district": "D-01",
        "heading_deg": 90.0,
        "fov_deg": 90.0,
        "range_m": 60.0,
    }
    plan.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [85.31, 27.69]},
                        "properties": camera,
                    }
                ],
            }
        )
    )
    ids = []
    with unit_of_work(factory) as s:
        for state, path in (("running", ""), ("done", str(plan))):
            run = PlanRun(
                created_by="planner",
                created_ns=T0,
                updated_ns=T0,
                state=state,
                area_kind="districts",
                area=json.dumps({"districts": ["D-01"]}),
                districts="D-01",
                budgets="[3.0]",
                models='["dome-90"]',
                weights="{}",
                solver="local",
                engine="district",
                done=0,
                total=2,
                stop_requested=False,
                detail="",
                result_path=path,
                cameras=1 if path else 0,
            )
            s.add(run)
            s.flush()
            ids.append(run.id)
    return ids[0], ids[1]
