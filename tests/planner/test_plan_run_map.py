"""Plan runs on a ``camgrid plan city-gen`` manifest (docs/design/planner-screen.md, "The map"): the manifest offers
its own districts without loading the city; a district run plans on a City cut from the copies of the extract (the
same buildings ``SyntheticCity`` places there); a district or box run larger than ``plan_runs.max_district_km2`` is
refused before anything is written; a whole-city run goes through the city planner and stores its objective, bound
and gap step by step. The test city is 0.9 x 0.9 km (one tile of the city planner): a 1.5 km city's four tiles took
five minutes on the shared 2-core machine."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.backends import TIMEOUT_SCALE, db_url, wait_for

from camgrid.audit.log import AuditLog
from camgrid.auditing import Actor
from camgrid.clock import FakeClock
from camgrid.config import PlannerConfig, PlanRunsConfig
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.geo.osm import load_city
from camgrid.planner import runs
from camgrid.planner.citymap import SyntheticCity, generate_city, write_manifest
from camgrid.planner.run_map import AreaTooLarge, ManifestMap, MapUnreadable, OsmMap, open_run_map
from camgrid.planner.run_solve import RunSpec
from camgrid.planner.run_worker import PlanWorker
from camgrid.vocabulary import PlanAreaKind, PlanRunState, Role

NS = 1_000_000_000
T0 = 1_800_000_000 * NS
PLANNER = Actor("planner", Role.PLANNER)
CELLS = {"D-0-0", "D-0-1", "D-1-0", "D-1-1"}  # 500 m districts over 900 x 900 m


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = tmp_path_factory.mktemp("city") / "city.json"
    write_manifest(generate_city(0.9, PlannerConfig()), path)
    return path


def test_a_manifest_offers_its_own_districts_without_loading_the_city(manifest: Path) -> None:
    live = PlannerConfig(district_cell_m=300.0)  # the manifest's districts win over today's cell size
    m = open_run_map(manifest, live)
    doc = json.loads(manifest.read_text())
    assert isinstance(m, ManifestMap) and m.synthetic and m._extract is None  # nothing but the JSON read
    assert set(m.districts()) == {f["properties"]["id"] for f in doc["districts"]["features"]} == CELLS
    assert m.km2 == pytest.approx(0.81) and m.uses_city_planner(math.inf)
    for f in doc["districts"]["features"]:
        ring = f["geometry"]["coordinates"][0]
        lat0, lon0, lat1, lon1 = m.districts()[f["properties"]["id"]]
        assert (lat0, lon0) == pytest.approx((min(p[1] for p in ring), min(p[0] for p in ring)), abs=1e-7)
        assert (lat1, lon1) == pytest.approx((max(p[1] for p in ring), max(p[0] for p in ring)), abs=1e-7)
    assert m.bounds_latlon[:2] == pytest.approx(tuple(doc["origin_latlon"]), abs=1e-9)
    assert m.planner_config(live).district_cell_m == 500.0


def test_a_district_is_cut_from_the_copies_of_the_extract(manifest: Path) -> None:
    cfg = PlannerConfig()
    m = open_run_map(manifest, cfg)
    city, polys = m.area(RunSpec(PlanAreaKind.DISTRICTS, districts=("D-1-1",)), max_km2=0.5)
    assert polys is not None and list(polys) == ["D-1-1"]
    assert city.bounds.bounds == pytest.approx((500.0, 500.0, 900.0, 900.0))
    assert city.streets and city.pois and all(city.bounds.buffer(1e-6).covers(s.line) for s in city.streets)
    # copy (1, 0) and (1, 1) are mirrored: the buildings are exactly the ones the city planner's source places there
    box_m = (500.0, 500.0, 900.0, 900.0)
    placed = SyntheticCity(json.loads(manifest.read_text()), cfg).layout(box_m, box_m).buildings
    ours = {(round(b.polygon.centroid.x, 2), round(b.polygon.centroid.y, 2)) for b in city.buildings}
    assert ours == {(round(b.centroid.x, 2), round(b.centroid.y, 2)) for b in placed} and len(ours) > 20
    assert m.area_km2(PlanAreaKind.DISTRICTS, ("D-0-0", "D-1-1"), None) == pytest.approx(0.81)
    with pytest.raises(AreaTooLarge, match="plan the whole city instead"):
        m.area(RunSpec(PlanAreaKind.DISTRICTS, districts=("D-0-0", "D-1-1")), max_km2=0.5)
    lat0, lon0, lat1, lon1 = m.bounds_latlon
    beyond = (lat0 - 1.0, lon0 - 1.0, lat1 + 1.0, lon1 + 1.0)  # a box is measured on the map only
    assert m.area_km2(PlanAreaKind.BBOX, (), beyond) == pytest.approx(0.81)


def test_a_manifest_that_cannot_be_used_says_why(manifest: Path, tmp_path: Path) -> None:
    """The setup route answers these as 503 with the reason (plan_runs.map_path is the operator's, not user input)."""
    doc = json.loads(manifest.read_text())
    cases = {
        "not-json.json": "not json",
        "other.json": json.dumps({"format": "something else"}),
        "partial.json": json.dumps({**doc, "size_m": None}),
        "moved.json": json.dumps({**doc, "base_map": str(tmp_path / "gone.osm.xz")}),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    for name, words in (("not-json.json", "JSONDecodeError"), ("other.json", "not a camgrid-synthetic-city"),
                        ("partial.json", "not a complete city-gen manifest"), ("moved.json", "is missing"),
                        ("absent.json", "FileNotFoundError")):  # fmt: skip
        with pytest.raises(MapUnreadable, match=words):
            open_run_map(tmp_path / name, PlannerConfig())
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps({**doc, "base_sha256": "0" * 64}))
    m = open_run_map(changed, PlannerConfig())  # the box and districts need no extract
    with pytest.raises(MapUnreadable, match="base extract changed"):
        m.area(RunSpec(PlanAreaKind.DISTRICTS, districts=("D-0-0",)))


def test_an_osm_map_keeps_the_planners_grid_districts() -> None:
    m = open_run_map(None, PlannerConfig())
    assert isinstance(m, OsmMap) and not m.synthetic and not m.uses_city_planner(4.0)
    assert {"D-0-0", "D-1-2"} <= set(m.districts()) and 0.9 < m.km2 < 1.1
    assert m.frame() is m.whole() and m.whole().streets
    assert len(load_city().streets) == len(m.whole().streets)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(db_url(tmp_path / "plans.db"))
    upgrade(eng)
    yield eng
    eng.dispose()


def test_the_worker_plans_a_district_and_the_whole_synthetic_city(
    manifest: Path, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory: sessionmaker[Session] = session_factory(engine)
    log = AuditLog.open(engine, home=tmp_path, clock=FakeClock(T0))
    clock = FakeClock(T0 + 60 * NS)
    cfg = PlanRunsConfig(poll_s=0.05, heuristic_time_s=0.3, city_workers=1, max_district_km2=0.5)
    w = PlanWorker(
        factory=factory, clock=clock, planner=PlannerConfig(), cfg=cfg, plans_dir=tmp_path / "plans",
        cache_dir=tmp_path / "cache", load_map=lambda: open_run_map(manifest, PlannerConfig()), map_path=manifest,
    )  # fmt: skip
    assert set(w.districts()) == CELLS  # what the screen's setup lists

    def start(req: runs.RunRequest) -> int:
        with unit_of_work(factory) as s:
            return runs.start_run(
                session=s, audit=log, actor=PLANNER, request=req, cfg=cfg, known_districts=w.districts(),
                map_box=w.map_box(), now_ns=T0, area_km2=w.area_km2,
            )  # fmt: skip

    size = log.size
    with pytest.raises(runs.PlanRunError, match=r"0\.81 km².*plan the whole city instead"):
        start(runs.RunRequest(PlanAreaKind.DISTRICTS, (3.0,), ("dome-90",), ("D-0-0", "D-1-1")))
    assert log.size == size  # refused before the audit entry and the row

    steps: list[tuple[int, float, float, int, int, str | None]] = []
    record = runs.record_progress

    def spy(session: Session, **kw: Any) -> None:
        steps.append((kw["run_id"], kw["objective"], kw["bound"], kw["done"], kw["total"], kw.get("phase")))
        record(session, **kw)

    monkeypatch.setattr(runs, "record_progress", spy)
    district = start(runs.RunRequest(PlanAreaKind.DISTRICTS, (3.0, 2.0), ("dome-90",), ("D-1-1",)))
    whole = start(runs.RunRequest(PlanAreaKind.CITY, (6.0, 4.0), ("dome-90",), solver="local"))
    w.start()
    try:

        def finished(rid: int) -> runs.RunOut | None:
            with unit_of_work(factory) as s:
                r = runs.run_for(session=s, actor=PLANNER, run_id=rid)
            return r if r.state not in runs.ACTIVE else None

        d = wait_for(lambda: finished(district), 120, 0.05, "the district run")
        c = wait_for(lambda: finished(whole), 600 * TIMEOUT_SCALE, 0.1, "the whole-city run")
    finally:
        w.stop()
    assert d.state == PlanRunState.DONE and d.engine == "district" and d.cameras > 0, d.detail
    doc = json.loads((tmp_path / "plans" / f"run-{district}.geojson").read_text())
    planned = [f["properties"] for f in doc["features"] if f["properties"].get("status") == "planned"]
    # cut to its district, named as the map's ("outside": a site set off its street just beyond the cut)
    assert "D-1-1" in {p["district"] for p in planned} <= {"D-1-1", "outside"}

    assert c.state == PlanRunState.DONE and c.engine == "city", c.detail
    assert c.started_ns == c.finished_ns == T0 + 60 * NS  # the injected clock
    assert c.objective is not None and c.bound is not None and c.gap is not None
    assert c.bound >= c.objective > 0 and c.gap == pytest.approx((c.bound - c.objective) / c.bound, abs=1e-9)
    assert c.done == c.total > 0 and 0 < c.cameras <= 10
    ours = [s for s in steps if s[0] == whole]
    for phase in {s[5] for s in ours}:  # steps are counted within each phase (planner-city.md, progress)
        mine = [s[3] for s in ours if s[5] == phase]
        assert mine == sorted(mine), phase
    assert ours[-1][3] == ours[-1][4] == c.total
    assert any(s[3] < s[4] for s in ours) and any(math.isfinite(s[2]) for s in ours)
    plan = json.loads((tmp_path / "plans" / f"run-{whole}.geojson").read_text())
    assert plan["planner"]["engine"] == "city" and plan["planner"]["instance"]["km2"] == pytest.approx(0.81)
    lat0, lon0, lat1, lon1 = w.map_box()
    cams = [f for f in plan["features"] if f["properties"].get("status") == "planned"]
    assert len(cams) == c.cameras and {f["properties"]["district"] for f in cams} <= CELLS
    assert all(lat0 <= f["geometry"]["coordinates"][1] <= lat1 and lon0 <= f["geometry"]["coordinates"][0] <= lon1
               for f in cams)  # fmt: skip
