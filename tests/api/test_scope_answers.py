"""Finding 10 of issue 13 (scope part), through the API: outside evidence only for a feeder or site of the user's
districts (a D-01 operator steered D-02's incident engine), audited; every out-of-district answer identical to the
answer for an id that does not exist (a segment's 404 named its camera); plans cut to the user's districts (they
were visible whole across districts). Design note: docs/design/scopes.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from camgrid.access import service as access
from camgrid.api.app import create_app
from camgrid.api.context import AppContext
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.health.wiring import LiveIncidents
from camgrid.vocabulary import AuditAction
from tests.access.world import ADMIN, PASSWORD, T0, World, build
from tests.backends import backend_env
from tests.seeding import BROWSER

USERS = (
    ("op1", "operator", ["D-01"]),
    ("sup2", "supervisor", ["D-02"]),
    ("adm2", "admin", ["D-02"]),
    ("op", "operator", None),
)


@pytest.fixture
def app(tmp_path: Path) -> tuple[World, TestClient]:
    settings = load_settings(tmp_path, backend_env(tmp_path))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    w = build(engine, tmp_path)
    for name, role, districts in USERS:
        with unit_of_work(w.factory) as s:
            access.create_user(
                session=s, audit=w.log, actor=ADMIN, username=name, password=PASSWORD, role=role,
                districts=districts, now_ns=T0,
            )  # fmt: skip
    live = LiveIncidents(factory=w.factory, clock=w.clock)  # the registry's topology; its pump is not started
    ctx = AppContext(settings=settings, factory=w.factory, clock=w.clock, audit=w.log, incidents=live)
    return w, TestClient(create_app(ctx), headers=BROWSER)


def _as(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    assert client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return client


def test_evidence_only_for_the_users_feeders_and_sites_and_audited(app: tuple[World, TestClient]) -> None:
    w, client = app
    start = w.log.size
    _as(client, "op1")  # D-01: cam-a (feeder F-D-01, site S-cam-a); cam-b is D-02's (F-D-02, S-cam-b)
    theirs = client.post("/api/evidence/feeder-outage", json={"feeder": "F-D-02", "state": "out", "t_ms": 1})
    unknown = client.post("/api/evidence/feeder-outage", json={"feeder": "F-D-99", "state": "out", "t_ms": 1})
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == unknown.json()["detail"].replace("F-D-99", "F-D-02")
    ups = client.post("/api/evidence/ups", json={"site": "S-cam-b", "on_battery": True, "t_ms": 1})
    ups_unknown = client.post("/api/evidence/ups", json={"site": "S-cam-z", "on_battery": True, "t_ms": 1})
    assert ups.status_code == 404 and ups.json()["detail"] == ups_unknown.json()["detail"].replace("-z", "-b")
    mine = client.post("/api/evidence/feeder-outage", json={"feeder": "F-D-01", "state": "out", "t_ms": 2})
    assert mine.status_code == 200, mine.text
    assert client.post("/api/evidence/ups", json={"site": "S-cam-a", "on_battery": True, "t_ms": 3}).status_code == 200
    feed = client.app.state.ctx.incidents.feed  # type: ignore[attr-defined]
    assert [(k, s) for k, s, _, _ in feed._evidence] == [("feeder", "F-D-01"), ("ups", "S-cam-a")]
    entries = [json.loads(w.log.entry_data(i)) for i in range(start, w.log.size)]
    evidence = [(e["who"], e["details"]["subject"]) for e in entries if e["action"] == AuditAction.EVIDENCE_SUBMIT]
    assert evidence == [("op1", "F-D-01"), ("op1", "S-cam-a")]
    # Unscoped, any feeder of the city.
    r = _as(client, "op").post("/api/evidence/feeder-outage", json={"feeder": "F-D-02", "state": "out", "t_ms": 4})
    assert r.status_code == 200


# (user, method, path, body): "{x}" is the id; the out-of-district id and an unknown one answer alike.
CAMERA_ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("sup2", "GET", "/api/cameras/{x}", None),
    ("sup2", "GET", "/api/cameras/{x}/timeline?from_ms=0&to_ms=1000", None),
    ("sup2", "POST", "/api/cameras/{x}/maintenance", {"on": True}),
    ("sup2", "GET", "/api/cameras/{x}/snapshot.mp4", None),
    ("sup2", "GET", "/api/cameras/{x}/mask", None),
    ("adm2", "PUT", "/api/cameras/{x}/mask", {"polygons": []}),
    ("adm2", "DELETE", "/api/cameras/{x}/mask", None),
    ("adm2", "POST", "/api/cameras/{x}/mask/approve-removal", None),
    ("adm2", "POST", "/api/cameras/{x}/mask/refuse-removal", None),
    ("sup2", "POST", "/api/holds", {"camera": "{x}", "from_ms": 1, "to_ms": 2, "reason": "case"}),
    ("sup2", "POST", "/api/exports", {"camera": "{x}", "from_ms": 1, "to_ms": 2, "reason": "case"}),
]
ID_ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("sup2", "GET", "/api/segments/{x}/media", None),
    ("sup2", "POST", "/api/holds/{x}/release", {"reason": "done"}),
    ("sup2", "GET", "/api/exports/{x}", None),
    ("sup2", "POST", "/api/exports/{x}/approve", {"reason": "ok"}),
    ("sup2", "POST", "/api/exports/{x}/refuse", {"reason": "no"}),
    ("sup2", "GET", "/api/exports/{x}/files/clip.mp4", None),
    ("sup2", "GET", "/api/incidents/{x}", None),
    ("sup2", "POST", "/api/incidents/{x}/ack", {}),
    ("sup2", "POST", "/api/suggestions/{x}", {"accept": True}),
]


def _ask(client: TestClient, method: str, path: str, body: dict[str, Any] | None, x: str) -> tuple[int, str]:
    filled = json.loads(json.dumps(body).replace("{x}", x)) if body is not None else None
    r = client.request(method, path.replace("{x}", x), json=filled)
    return r.status_code, r.text


def test_out_of_district_is_answered_as_does_not_exist_and_plans_are_cut(app: tuple[World, TestClient]) -> None:
    """Every route at once (one installation: building it is most of the cost); all differences are listed."""
    w, client = app
    wrong = []
    logged_in = {}
    for name in ("sup2", "adm2"):  # a login costs a password hash: once per user
        logged_in[name] = TestClient(client.app, headers=BROWSER)
        assert _as(logged_in[name], name) is logged_in[name]
    for user, method, path, body in CAMERA_ROUTES + ID_ROUTES:
        kind = path.split("/")[2]
        by_id = "{x}/" in path or path.endswith("{x}")
        theirs, unknown = {
            "cameras": ("cam-a", "cam-zz"),
            "holds": (str(w.ids["hold"]), "9999") if by_id else ("cam-a", "cam-zz"),
            "exports": (w.ids["ready"], "20261130T000000Z-cam-zz-000000") if by_id else ("cam-a", "cam-zz"),
            "segments": ("1", "9999"),
            "incidents": ("1", "9999"),
            "suggestions": (str(w.ids["suggestion"]), "9999"),
        }[kind]
        got = _ask(logged_in[user], method, path, body, theirs)
        expected = _ask(logged_in[user], method, path, body, unknown)
        if got[0] != 404 or got != (expected[0], expected[1].replace(unknown, theirs)):
            wrong.append(f"{method} {path}: {got} vs unknown {expected}")
    assert not wrong, "an out-of-district answer tells an existing id apart:\n" + "\n".join(wrong)
    plans_are_cut_to_the_users_districts(app)


def _plan(path: Path, districts: list[str]) -> None:
    features: list[dict[str, Any]] = []
    for d in districts:
        cam = f"plan-{d}"
        point = {"type": "Point", "coordinates": [85.3, 27.7]}
        features.append(
            {"type": "Feature", "geometry": point, "properties": {"kind": "camera", "id": cam, "district": d}}
        )
        view = {"type": "Polygon", "coordinates": [[[85.3, 27.7], [85.31, 27.7], [85.31, 27.71], [85.3, 27.7]]]}
        features.append(
            {"type": "Feature", "geometry": view, "properties": {"kind": "view", "camera": cam, "phase": 1}}
        )
        features.append(
            {"type": "Feature", "geometry": point, "properties": {"kind": "point", "id": f"p-{d}", "district": d}}
        )
    coverage = {"by_district": {d: {"points": 1, "share": 0.5} for d in districts}, "total": {"share": 0.5}}
    doc = {"type": "FeatureCollection", "features": features, "planner": {"objective": 3.0, "coverage": coverage}}
    path.write_text(json.dumps(doc))


def plans_are_cut_to_the_users_districts(app: tuple[World, TestClient]) -> None:
    """Run by the test above (one installation for both: building it is most of their cost)."""
    w, client = app
    plans = w.home / "plans"
    plans.mkdir(exist_ok=True)
    _plan(plans / "city.geojson", ["D-01", "D-02"])
    _plan(plans / "south.geojson", ["D-02"])
    assert {p["name"] for p in _as(client, "op").get("/api/plans").json()} == {
        "city",
        "south",
        "run-world",
    }  # run-world: a plan run's plan, one camera in D-01
    assert len(client.get("/api/plans/city").json()["features"]) == 6
    _as(client, "op1")
    assert sorted(p["name"] for p in client.get("/api/plans").json()) == ["city", "run-world"]  # both hold D-01
    doc = client.get("/api/plans/city").json()
    text = json.dumps(doc)
    assert "D-02" not in text and "plan-D-01" in text
    assert [f["properties"]["kind"] for f in doc["features"]] == ["camera", "point", "view"]
    assert doc["planner"] == {"coverage": {"by_district": {"D-01": {"points": 1, "share": 0.5}}}}
    hidden, unknown = client.get("/api/plans/south"), client.get("/api/plans/nowhere")
    assert hidden.status_code == unknown.status_code == 404 and hidden.text == unknown.text
