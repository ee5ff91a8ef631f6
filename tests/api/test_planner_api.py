"""The planner screen's API (docs/design/planner-screen.md): a planner reads what a run may choose, starts runs that
the background worker solves, watches their progress, compares two plans and imports one as planned cameras; inputs
are bounded (422, never a 500), a scoped planner's other runs do not exist (404), and the actions are audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.geo.osm import load_city
from camgrid.planner.run_worker import PlanWorker
from tests.api.test_api_roles import PASSWORD, _login
from tests.backends import backend_env, wait_for
from tests.seeding import SEED, seed_log


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("planner-api")
    settings = load_settings(home, backend_env(home))
    settings = settings.model_copy(
        update={
            "plan_runs": settings.plan_runs.model_copy(
                update={"poll_s": 0.05, "heuristic_time_s": 0.3, "max_district_km2": 0.5}
            )
        }
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    for name, role, districts in (("planner", "planner", None), ("scoped", "planner", ["D-0-0"]),
                                  ("operator", "operator", None)):  # fmt: skip
        with unit_of_work(factory) as s:
            access.create_user(session=s, audit=log, actor=SEED, username=name, password=PASSWORD, role=role,
                               districts=districts, now_ns=0)  # fmt: skip
    city = load_city()
    worker = PlanWorker(
        factory=factory, clock=SystemClock(), planner=settings.planner, cfg=settings.plan_runs,
        plans_dir=home / "plans", cache_dir=home / "cache", load_map=lambda: city,
    )  # fmt: skip
    worker.start()
    ctx = AppContext(settings=settings, factory=factory, clock=SystemClock(), plan_worker=worker)
    try:
        yield TestClient(create_app(ctx), headers={"Origin": "http://testserver"})
    finally:
        worker.stop()


def body(setup: dict[str, Any], **change: Any) -> dict[str, Any]:
    lat0, lon0 = setup["map_bbox"][:2]
    out = {
        "area": {"kind": "bbox", "bbox": [lat0, lon0, lat0 + 0.0015, lon0 + 0.0015]},
        "budgets": [3, 2],
        "models": ["dome-90"],
        "weights": {"junction": 5},
        "solver": "local",
    }
    out.update(change)
    return out


def finished(client: TestClient, rid: int) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        run: dict[str, Any] = client.get(f"/api/planner/runs/{rid}").json()
        return run if run["state"] not in ("queued", "running") else None

    out: dict[str, Any] = wait_for(check, 60, 0.05, f"run {rid} to finish")
    return out


def test_a_planner_runs_compares_and_imports_plans(client: TestClient) -> None:
    _login(client, "planner")
    setup = client.get("/api/planner/setup").json()
    assert [m["name"] for m in setup["models"]] == ["dome-90", "wide-120", "long-60"]
    assert {"D-0-0", "D-1-2"} <= {d["id"] for d in setup["districts"]} and setup["max_years"] == 4
    assert setup["weights"]["amenity=hospital"] == 10 and setup["weights"]["junction"] == 4
    r = client.post("/api/planner/runs", json=body(setup))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["state"] in ("queued", "running") and a["created_by"] == "planner"
    r = client.post("/api/planner/runs", json=body(setup, models=["dome-90", "long-60"], budgets=[4, 1]))
    b = r.json()
    a, b = finished(client, a["id"]), finished(client, b["id"])
    assert a["state"] == b["state"] == "done" and a["done"] == a["total"] == 4
    assert a["bound"] >= a["objective"] > 0 and 0 <= a["gap"] <= 1
    assert [x["id"] for x in client.get("/api/planner/runs").json()][:2] == [b["id"], a["id"]]
    plan = client.get(f"/api/planner/runs/{a['id']}/plan").json()
    assert plan["planner"]["objective"] == pytest.approx(a["objective"], abs=1e-5)
    cmp = client.get(f"/api/planner/compare?a={a['id']}&b={b['id']}").json()
    assert cmp["a"]["run"]["id"] == a["id"] and cmp["b"]["cameras"] == b["cameras"]
    assert [p["budget"] for p in cmp["b"]["phases"]] == [4, 1] and 0 < cmp["a"]["coverage_share"] <= 1
    assert 0 <= cmp["common_sites"] <= min(a["cameras"], b["cameras"])
    r = client.post(f"/api/planner/runs/{a['id']}/import")
    assert r.status_code == 200 and r.json() == {"run": a["id"], "cameras": a["cameras"]}
    cams = client.get(f"/api/planner/runs/{a['id']}").json()
    assert cams["imported_ms"] is not None
    assert client.post(f"/api/planner/runs/{a['id']}/stop").status_code == 409  # already finished


@pytest.mark.parametrize(
    "change",
    [
        {"budgets": [1, 1, 1, 1, 1]},
        {"budgets": [-1]},
        {"budgets": []},
        {"models": ["no-such"]},
        {"models": []},
        {"weights": {"junction": 1e9}},
        {"area": {"kind": "bbox", "bbox": [1, 2, 3]}},
        {"area": {"kind": "bbox", "bbox": [60, 10, 61, 11]}},
        {"area": {"kind": "districts", "districts": ["D-99-99"]}},
        {"area": {"kind": "districts", "districts": ["D-0-0", "D-1-2"]}},  # ~1 km² > max_district_km2
        {"area": {"kind": "moon"}},
        {"solver": "magic"},
    ],
)
def test_bad_input_is_422(client: TestClient, change: dict[str, Any]) -> None:
    _login(client, "planner")
    setup = client.get("/api/planner/setup").json()
    before = len(client.get("/api/planner/runs").json())
    r = client.post("/api/planner/runs", json=body(setup, **change))
    assert r.status_code == 422, r.text
    assert len(client.get("/api/planner/runs").json()) == before


def test_a_scoped_planner_sees_only_their_districts(client: TestClient) -> None:
    _login(client, "planner")
    setup = client.get("/api/planner/setup").json()
    other = client.post("/api/planner/runs", json=body(setup)).json()
    _login(client, "scoped")
    mine = client.get("/api/planner/setup").json()
    assert [d["id"] for d in mine["districts"]] == ["D-0-0"]
    assert client.post("/api/planner/runs", json=body(setup)).status_code == 422  # a box: beyond their districts
    r = client.post("/api/planner/runs", json=body(setup, area={"kind": "districts", "districts": ["D-0-1"]}))
    assert r.status_code == 404
    for path in (f"/api/planner/runs/{other['id']}", f"/api/planner/runs/{other['id']}/plan"):
        assert client.get(path).status_code == 404
    assert client.post(f"/api/planner/runs/{other['id']}/stop").status_code == 404
    assert other["id"] not in [x["id"] for x in client.get("/api/planner/runs").json()]
    _login(client, "operator")
    assert client.get("/api/planner/runs").status_code == 403


def test_a_district_run_larger_than_the_limit_is_refused_with_a_word_on_what_to_do(client: TestClient) -> None:
    """plan_runs.max_district_km2 (0.5 km² here): a larger district or box run is a 422 that says to plan the whole
    city (whose planner works in tiles); setup says what the map is and the limit."""
    _login(client, "planner")
    setup = client.get("/api/planner/setup").json()
    assert setup["map"] == {"kind": "osm", "km2": pytest.approx(0.99, abs=0.02), "synthetic": False,
                            "city_planner": False, "max_district_km2": 0.5}  # fmt: skip
    r = client.post("/api/planner/runs", json=body(setup, area={"kind": "districts", "districts": ["D-0-0", "D-1-2"]}))
    assert r.status_code == 422 and "plan the whole city instead" in r.json()["detail"], r.text
    lat0, lon0, lat1, lon1 = setup["map_bbox"]
    r = client.post("/api/planner/runs", json=body(setup, area={"kind": "bbox", "bbox": [lat0, lon0, lat1, lon1]}))
    assert r.status_code == 422 and "km²" in r.json()["detail"], r.text
