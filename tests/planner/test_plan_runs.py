"""Plan runs of the planner screen (docs/design/planner-screen.md): the service audits first, keeps a district-scoped
planner to their districts and bounds every input; the worker solves a small run to done with its progress, stops a
run between steps keeping its best plan, and a restarted server marks the run it was solving interrupted."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.access.world import Refusing
from tests.backends import db_url, wait_for

from camgrid.audit.log import AuditLog
from camgrid.auditing import Actor, AuditError, NotVisible
from camgrid.clock import FakeClock
from camgrid.config import PlannerConfig, PlanRunsConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.geo.osm import City, load_city
from camgrid.planner import runs
from camgrid.planner.models import PlanRun
from camgrid.planner.run_worker import PlanWorker
from camgrid.registry.models import Camera
from camgrid.vocabulary import AuditAction, PlanAreaKind, PlanRunState, Role

NS = 1_000_000_000
T0 = 1_800_000_000 * NS
PLANNER = Actor("planner", Role.PLANNER)
SCOPED = Actor("planner-d00", Role.PLANNER, ("D-0-0",))
MAP_BOX = (27.6829, 85.31356, 27.69495, 85.32105)  # the shipped extract
DISTRICTS = {"D-0-0", "D-0-1", "D-1-0"}


@pytest.fixture(scope="module")
def city() -> City:
    return load_city()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(db_url(tmp_path / "plans.db"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def log(engine: Engine, tmp_path: Path) -> AuditLog:
    return AuditLog.open(engine, home=tmp_path, clock=FakeClock(T0))


def small(budgets: tuple[float, ...] = (3.0, 2.0), solver: str = "local") -> runs.RunRequest:
    """A box of about 165 x 165 m in the south-west of the extract: a fraction of a second per step."""
    lat0, lon0 = MAP_BOX[0], MAP_BOX[1]
    return runs.RunRequest(
        PlanAreaKind.BBOX, budgets, ("dome-90", "wide-120"), bbox=(lat0, lon0, lat0 + 0.0015, lon0 + 0.0015),
        weights={"junction": 6.0}, solver=solver,
    )  # fmt: skip


def start(factory: sessionmaker[Session], audit: object, req: runs.RunRequest, *, actor: Actor = PLANNER,
          cfg: PlanRunsConfig | None = None) -> int:  # fmt: skip
    with unit_of_work(factory) as s:
        return runs.start_run(
            session=s, audit=audit, actor=actor, request=req, cfg=cfg or PlanRunsConfig(), known_districts=DISTRICTS,
            map_box=MAP_BOX, now_ns=T0,
        )  # type: ignore[arg-type]  # fmt: skip


def count_runs(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as s:
        return int(s.scalar(select(func.count()).select_from(PlanRun)) or 0)


def test_a_run_is_audited_before_its_row_and_refused_without_the_log(
    factory: sessionmaker[Session], log: AuditLog
) -> None:
    with pytest.raises(AuditError):
        start(factory, Refusing(), small())
    assert count_runs(factory) == 0
    size = log.size
    rid = start(factory, log, small())
    entry = json.loads(log.entry_data(size))
    assert entry["action"] == AuditAction.PLAN_RUN and entry["who"] == "planner"
    assert entry["details"]["budgets"] == [3.0, 2.0] and entry["details"]["models"] == ["dome-90", "wide-120"]
    with unit_of_work(factory) as s:
        run = runs.run_for(session=s, actor=PLANNER, run_id=rid)
    assert run.state == PlanRunState.QUEUED and run.created_ns == T0 and run.solver == "local"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"budgets": (1.0,) * 5}, "1 to 4 years"),
        ({"budgets": (-1.0,)}, "budget"),
        ({"budgets": (math.nan,)}, "budget"),
        ({"budgets": (0.0, 0.0)}, "nothing"),
        ({"budgets": (1e12,)}, "budget"),
        ({"models": ("no-such",)}, "no camera model"),
        ({"models": ()}, "camera models"),
        ({"models": ("dome-90", "dome-90")}, "different"),
        ({"weights": {"junction": -2.0}}, "weight"),
        ({"weights": {"junction": math.inf}}, "weight"),
        ({"weights": {f"k{i}": 1.0 for i in range(100)}}, "at most"),
        ({"bbox": (28.0, 86.0, 28.1, 86.1)}, "outside the map"),
        ({"bbox": (27.69, 85.32, 27.68, 85.33)}, "below its maximum"),
        ({"solver": "magic"}, "solver"),
        ({"area_kind": PlanAreaKind.DISTRICTS, "districts": ("D-9-9",)}, "no district"),
        ({"area_kind": PlanAreaKind.DISTRICTS, "districts": ()}, "districts"),
    ],
)
def test_inputs_are_bounded_before_anything_is_written(
    factory: sessionmaker[Session], log: AuditLog, change: dict[str, object], words: str
) -> None:
    base = small()
    req = runs.RunRequest(**{**base.__dict__, **change})  # type: ignore[arg-type]
    size = log.size
    with pytest.raises(runs.PlanRunError, match=words):
        start(factory, log, req)
    assert log.size == size and count_runs(factory) == 0


def test_the_queue_is_bounded(factory: sessionmaker[Session], log: AuditLog) -> None:
    cfg = PlanRunsConfig(max_queued=2)
    start(factory, log, small(), cfg=cfg)
    start(factory, log, small(), cfg=cfg)
    with pytest.raises(runs.QueueFull):
        start(factory, log, small(), cfg=cfg)
    assert count_runs(factory) == 2


def test_a_scoped_planner_plans_and_sees_only_their_districts(factory: sessionmaker[Session], log: AuditLog) -> None:
    with pytest.raises(runs.PlanRunError, match="limited to districts"):
        start(factory, log, small(), actor=SCOPED)  # a box, or the whole map, reaches beyond their districts
    other = runs.RunRequest(PlanAreaKind.DISTRICTS, (2.0,), ("dome-90",), ("D-0-1",))
    with pytest.raises(NotVisible):
        start(factory, log, other, actor=SCOPED)
    theirs = start(
        factory, log, runs.RunRequest(PlanAreaKind.DISTRICTS, (2.0,), ("dome-90",), ("D-0-0",)), actor=SCOPED
    )
    city_run = start(factory, log, small())
    with unit_of_work(factory) as s:
        assert [r.id for r in runs.list_runs(session=s, actor=SCOPED)] == [theirs]
        assert [r.id for r in runs.list_runs(session=s, actor=PLANNER)] == [city_run, theirs]
        with pytest.raises(runs.RunNotFound, match=f"no plan run {city_run}$"):
            runs.run_for(session=s, actor=SCOPED, run_id=city_run)
        with pytest.raises(runs.RunNotFound, match=r"no plan run 999$"):
            runs.run_for(session=s, actor=SCOPED, run_id=999)  # the same words as an unknown run
        with pytest.raises(runs.RunNotFound):
            runs.stop_run(session=s, audit=log, actor=SCOPED, run_id=city_run, now_ns=T0)


def worker(factory: sessionmaker[Session], clock: FakeClock, city: City, tmp_path: Path, **cfg: object) -> PlanWorker:
    return PlanWorker(
        factory=factory, clock=clock, planner=PlannerConfig(),
        cfg=PlanRunsConfig(poll_s=0.05, heuristic_time_s=0.3, **cfg),  # type: ignore[arg-type]
        plans_dir=tmp_path / "plans", cache_dir=tmp_path / "cache", load_map=lambda: city,
    )  # fmt: skip


def state_of(factory: sessionmaker[Session], rid: int) -> runs.RunOut:
    with unit_of_work(factory) as s:
        return runs.run_for(session=s, actor=PLANNER, run_id=rid)


def test_the_worker_solves_a_run_to_done_with_progress_and_a_plan_to_import(
    factory: sessionmaker[Session], log: AuditLog, city: City, tmp_path: Path
) -> None:
    clock = FakeClock(T0 + 60 * NS)
    w = worker(factory, clock, city, tmp_path)
    rid = start(factory, log, small(solver="exact"))
    w.start()
    try:
        done = wait_for(lambda: (r := state_of(factory, rid)).state == PlanRunState.DONE and r, 60, 0.05, "done")
    finally:
        w.stop()
    assert done.done == done.total == 6  # two years of greedy, local search and exact
    assert done.phase == "exact:2"  # the last step reported: the second year's exact solve
    assert done.started_ns == done.finished_ns == T0 + 60 * NS  # the injected clock
    assert done.objective is not None and done.bound is not None and done.gap is not None
    assert done.bound >= done.objective > 0 and done.gap <= 1e-3  # the exact solver proved it
    assert done.has_plan and done.cameras > 0 and done.engine == "district"
    doc = json.loads((tmp_path / "plans" / f"run-{rid}.geojson").read_text())
    planned = [f["properties"] for f in doc["features"] if f["properties"].get("status") == "planned"]
    assert len(planned) == done.cameras and {p["model"] for p in planned} <= {"dome-90", "wide-120"}
    assert doc["planner"]["objective"] == pytest.approx(done.objective, abs=1e-5)
    assert doc["attribution"] == "© OpenStreetMap contributors"
    size = log.size
    with unit_of_work(factory) as s:
        n = runs.import_run(session=s, audit=log, actor=PLANNER, run_id=rid, now_ns=T0 + 120 * NS)
    assert n == done.cameras
    assert [json.loads(log.entry_data(i))["action"] for i in (size, size + 1)] == ["plan.import", "cameras.import"]
    with unit_of_work(factory) as s:
        statuses = set(s.scalars(select(Camera.status).where(Camera.id.like("plan-%"))))
        assert statuses == {"planned"}
        assert runs.run_for(session=s, actor=PLANNER, run_id=rid).imported_ns == T0 + 120 * NS


def test_a_stopped_run_keeps_its_best_plan_so_far(
    factory: sessionmaker[Session], log: AuditLog, city: City, tmp_path: Path
) -> None:
    w = worker(factory, FakeClock(T0), city, tmp_path)
    rid = start(factory, log, small(budgets=(3.0, 3.0, 3.0, 3.0), solver="exact"))
    w.start()
    try:
        wait_for(lambda: state_of(factory, rid).done >= 1, 60, 0.02, "a first step")
        with unit_of_work(factory) as s:
            assert runs.stop_run(session=s, audit=log, actor=PLANNER, run_id=rid, now_ns=T0) == PlanRunState.RUNNING
        w.wake()
        out = wait_for(lambda: (r := state_of(factory, rid)).state != PlanRunState.RUNNING and r, 60, 0.05, "stop")
    finally:
        w.stop()
    assert out.state == PlanRunState.STOPPED and out.stop_requested
    assert 1 <= out.done < out.total == 12 and out.has_plan and out.cameras > 0
    assert json.loads(log.entry_data(log.size - 1))["action"] == AuditAction.PLAN_STOP
    with unit_of_work(factory) as s, pytest.raises(runs.PlanRunError, match="already finished"):
        runs.stop_run(session=s, audit=log, actor=PLANNER, run_id=rid, now_ns=T0)


def test_a_queued_run_stopped_never_starts_and_a_restart_marks_the_solving_one_interrupted(
    factory: sessionmaker[Session], log: AuditLog, city: City, tmp_path: Path
) -> None:
    queued = start(factory, log, small())
    with unit_of_work(factory) as s:
        assert runs.stop_run(session=s, audit=log, actor=PLANNER, run_id=queued, now_ns=T0) == PlanRunState.STOPPED
    solving = start(factory, log, small())
    with unit_of_work(factory) as s:  # as a server that died while solving it left it
        assert runs.claim_next(s, now_ns=T0) == solving
    clock = FakeClock(T0 + 3600 * NS)
    w = worker(factory, clock, city, tmp_path)
    w.start()
    try:
        out = state_of(factory, solving)  # marked before the loop starts
        assert out.state == PlanRunState.INTERRUPTED and out.finished_ns == T0 + 3600 * NS
        assert "server stopped" in out.detail
        assert state_of(factory, queued).state == PlanRunState.STOPPED and w.running() == []
        # a server stop ends the run it solves after the current step, marked interrupted (not stopped)
        again = start(factory, log, small(budgets=(3.0, 3.0, 3.0, 3.0), solver="exact"))
        w.wake()
        wait_for(lambda: state_of(factory, again).done >= 1, 60, 0.02, "a first step")
    finally:
        w.stop()
    assert state_of(factory, again).state == PlanRunState.INTERRUPTED


def test_figures_not_known_yet_are_stored_as_none(factory: sessionmaker[Session], log: AuditLog) -> None:
    """The city planner reports an infinite bound before its first tile: the API must never have to send inf."""
    rid = start(factory, log, small())
    with unit_of_work(factory) as s:
        runs.record_progress(s, run_id=rid, objective=0.0, bound=math.inf, gap=1.0, done=0, total=4, now_ns=T0,
                             phase="prepare")  # fmt: skip
    out = state_of(factory, rid)
    assert (out.objective, out.bound, out.gap, out.total, out.phase) == (0.0, None, 1.0, 4, "prepare")


def _cams(factory: sessionmaker[Session], log: AuditLog, status: str, *cams: tuple[str, float, float]) -> None:
    from camgrid.registry import service as registry
    from camgrid.registry.schemas import CameraIn

    rows = [
        CameraIn(id=cid, name=cid, lat=lat, lon=lon, district="D-0-0", site=f"s-{cid}", feeder="F-1", uplink="U-1",
                 rtsp_url=f"rtsp://10.0.0.1/{cid}", range_m=55.0)
        for cid, lat, lon in cams
    ]  # fmt: skip
    with unit_of_work(factory) as s:
        registry.import_cameras(session=s, audit=log, actor=PLANNER, rows=rows, now_ns=T0, status=status)


def test_a_run_plans_around_the_installed_cameras_near_its_area(
    factory: sessionmaker[Session], log: AuditLog, city: City, tmp_path: Path
) -> None:
    """planner-screen.md, "Installed cameras": the active registry cameras near the area are fixed in the plan (once,
    though the run has two models); planned, disabled and far-away cameras are not. No heading: a 360° view."""
    lat0, lon0 = MAP_BOX[0], MAP_BOX[1]
    _cams(factory, log, "active", ("pole-in", lat0 + 0.0007, lon0 + 0.0007), ("pole-far", lat0 + 0.02, lon0 + 0.02))
    _cams(factory, log, "planned", ("plan-old", lat0 + 0.0008, lon0 + 0.0008))
    _cams(factory, log, "disabled", ("pole-off", lat0 + 0.0009, lon0 + 0.0009))
    from camgrid.planner.installed import installed_cameras

    with unit_of_work(factory) as s:
        near = installed_cameras(s, boxes=[(lat0, lon0, lat0 + 0.0015, lon0 + 0.0015)], margin_m=200.0)
    assert [c.id for c in near] == ["pole-in"] and near[0].range_m == 55.0 and near[0].feeder == "F-1"
    w = worker(factory, FakeClock(T0), city, tmp_path)
    rid = start(factory, log, small(budgets=(3.0,)))
    w.start()
    try:
        done = wait_for(lambda: (r := state_of(factory, rid)).state == PlanRunState.DONE and r, 60, 0.05, "done")
    finally:
        w.stop()
    doc = json.loads((tmp_path / "plans" / f"run-{rid}.geojson").read_text())
    assert doc["planner"]["installed"] == 1
    assert doc["planner"]["existing_value"] > 0  # the installed camera watches points of the box
    existing = [f["properties"] for f in doc["features"] if f["properties"].get("status") == "existing"]
    assert [p["id"] for p in existing] == ["pole-in"]
    assert done.cameras == len([f for f in doc["features"] if f["properties"].get("status") == "planned"]) > 0
