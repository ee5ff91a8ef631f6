"""The instance on a corner of the shipped extract, phases, GeoJSON and registry output (docs/design/planner.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from planner_helpers import random_instance
from shapely.geometry import Point
from tests.backends import db_url

from camgrid.config import PlannerConfig
from camgrid.geo.osm import City, crop_city, load_city
from camgrid.planner.formulation import evaluate
from camgrid.planner.instance import ExistingCamera, OperatorPoint, PlanInstance, build_instance, poi_weight
from camgrid.planner.output import PLANNED_URL, mark_planned, plan_geojson, registry_rows
from camgrid.planner.service import plan_phases
from camgrid.registry.schemas import CameraIn

BOX = (27.6885, 85.3180, 27.6910, 85.3205)  # around Norvic and Paropakar Maternity hospitals


@pytest.fixture(scope="module")
def city() -> City:
    return crop_city(load_city(), *BOX)


@pytest.fixture(scope="module")
def small(city: City, tmp_path_factory: pytest.TempPathFactory) -> PlanInstance:
    lat, lon = 27.6897, 85.3192
    return build_instance(
        city,
        PlannerConfig(),
        operator_points=[OperatorPoint("gate", lat, lon, 9.0, "Main gate")],
        existing=[ExistingCamera("cam-1", 27.6890, 85.3185, "feeder-x", 45.0, 90.0, 50.0)],
        cache_dir=tmp_path_factory.mktemp("cache"),
    )


def test_poi_weight_takes_the_largest_matching_tag() -> None:
    table = PlannerConfig().poi_weights
    assert poi_weight({"amenity": "hospital", "name": "x"}, table) == (10.0, "amenity=hospital")
    assert poi_weight({"office": "government", "highway": "bus_stop"}, table) == (7.0, "office=government")
    assert poi_weight({"amenity": "bank"}, table) == (0.0, "")


def test_demand_points_follow_the_rules(city: City, small: PlanInstance) -> None:
    cats = {p.category for p in small.points}
    assert {"street", "junction", "operator", "amenity=hospital"} <= cats
    streets = [s.line for s in city.streets]
    buildings = [b.polygon for b in city.buildings]
    for p in small.points:
        if p.category == "junction":
            assert p.weight == 4.0
        elif p.category == "street":
            assert p.weight == 1.0
            assert min(line.distance(Point(p.x, p.y)) for line in streets) < 1e-6
        elif p.category.startswith("amenity="):
            pt = Point(p.x, p.y)
            assert not any(b.contains(pt) for b in buildings)  # moved out of its building
            if p.moved_m > 0:
                assert min(line.distance(pt) for line in streets) < 1e-6  # onto a street
    pois = [p for p in small.points if "=" in p.category]
    assert any(p.moved_m > 0 for p in pois)  # some POIs sit inside buildings here


def test_sites_poses_and_the_existing_camera(small: PlanInstance) -> None:
    cfg = small.config
    new_sites = [s for s in small.sites if not s.existing]
    assert small.n_poses == len(new_sites) * cfg.orientations + 1
    inst = small.instance
    assert inst.fixed.tolist() == [small.n_poses - 1]
    assert inst.cost[inst.fixed[0]] == 0.0
    assert small.pose_heading[: cfg.orientations].tolist() == [i * 30.0 for i in range(12)]
    assert small.sites[-1].feeder == "feeder-x"


def test_phases_extend_each_other(small: PlanInstance) -> None:
    inst = small.instance
    plan = plan_phases(inst, [3, 3, 2], "local", heuristic_time_s=1.0)
    seen: set[int] = set()
    prev = plan.base_value
    for ph in plan.phases:
        poses = set(ph.solution.poses.tolist())
        assert not poses & seen  # nothing bought twice
        assert float(inst.cost[ph.solution.poses].sum()) <= ph.budget + 1e-9
        assert ph.objective >= prev - 1e-9
        assert ph.gain == pytest.approx(ph.objective - prev)
        seen |= poses
        prev = ph.objective
    assert plan.objective == pytest.approx(evaluate(inst, plan.poses))


def test_phases_on_random_instances_never_beat_one_big_budget() -> None:
    inst = random_instance(4, n_poses=12, n_points=30, density=0.2)
    phased = plan_phases(inst, [2, 2], "exact")
    joint = plan_phases(inst, [4], "exact")
    assert phased.objective <= joint.objective + 1e-9
    assert phased.phases[1].solution.gap <= 1e-3 + 1e-9


def test_geojson_and_registry_rows(small: PlanInstance, tmp_path: Path) -> None:
    plan = plan_phases(small.instance, [2, 2], "all", heuristic_time_s=0.5, time_limit_s=10)
    doc = plan_geojson(small, plan)
    assert doc["attribution"] == "© OpenStreetMap contributors"
    kinds = {f["properties"]["kind"] for f in doc["features"]}
    assert kinds == {"camera", "view", "point"}
    cams = [f for f in doc["features"] if f["properties"]["kind"] == "camera"]
    assert len(cams) == 1 + len(plan.poses)
    assert {c["properties"]["phase"] for c in cams} == {0, 1, 2}
    planner = doc["planner"]
    assert planner["gap"] <= 1e-3 + 1e-9 and planner["bound"] >= planner["objective"] - 1e-9
    assert set(planner["phases"][0]["solvers"]) == {"greedy", "local", "exact"}
    assert planner["coverage"]["total"]["covered_weight"] == pytest.approx(plan.objective, abs=1e-3)
    lon, lat = cams[1]["geometry"]["coordinates"]
    assert BOX[0] - 0.001 < lat < BOX[2] + 0.001 and BOX[1] - 0.001 < lon < BOX[3] + 0.001
    rows = registry_rows(small, plan)
    assert len(rows) == len(plan.poses)
    for row in rows:
        cam = CameraIn.model_validate(row)
        assert cam.rtsp_url == PLANNED_URL.format(id=cam.id)
        assert math.isclose(cam.fov_deg or 0, 90.0)


def test_mark_planned_sets_registry_status(small: PlanInstance, tmp_path: Path) -> None:
    from tests.seeding import SEED, seed_log

    from camgrid.db.engine import make_engine, session_factory, unit_of_work
    from camgrid.db.migrate import upgrade
    from camgrid.registry import service as registry
    from camgrid.registry.models import Camera

    plan = plan_phases(small.instance, [2], "greedy")
    rows = [CameraIn.model_validate(r) for r in registry_rows(small, plan)]
    engine = make_engine(db_url(tmp_path / "r.db"))
    upgrade(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        registry.import_cameras(session=session, audit=seed_log(engine, tmp_path), actor=SEED, rows=rows, now_ns=0)
        assert mark_planned(session=session, camera_ids=[r.id for r in rows]) == len(rows)
    with unit_of_work(factory) as session:
        statuses = {c.status for c in session.query(Camera).all()}
    assert statuses == {"planned"}
    assert np.all(plan.poses >= 0)
