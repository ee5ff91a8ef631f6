"""Roles and district scopes hold on every route: the test walks the app's own route list with a user of each role
(and a district-scoped one), so a new route fails here until its permission is stated in ROUTE_PERMISSIONS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from camgrid.access import service as access
from camgrid.access.policy import ALL_ROLES, allowed
from camgrid.api.app import PUBLIC_PATHS, all_routes, create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "role-test-password"
# (method, path) -> the permission the route needs; None: any logged-in user.
ROUTE_PERMISSIONS: dict[tuple[str, str], str | None] = {
    ("GET", "/api/openapi.json"): None,
    ("POST", "/api/auth/logout"): None,
    ("GET", "/api/auth/me"): None,
    ("GET", "/api/me/settings"): None,
    ("PUT", "/api/me/settings"): None,
    ("GET", "/api/city"): "map",
    ("GET", "/api/planner/setup"): "plan.read",
    ("GET", "/api/planner/runs"): "plan.read",
    ("POST", "/api/planner/runs"): "plan.run",
    ("GET", "/api/planner/runs/{run_id}"): "plan.read",
    ("POST", "/api/planner/runs/{run_id}/stop"): "plan.run",
    ("POST", "/api/planner/runs/{run_id}/import"): "plan.import",
    ("GET", "/api/planner/runs/{run_id}/plan"): "plan.read",
    ("GET", "/api/planner/compare"): "plan.read",
    ("GET", "/api/recorder"): "map",
    ("GET", "/api/map/base"): "map",
    ("GET", "/api/districts"): "map",
    ("GET", "/api/cameras"): "map",
    ("GET", "/api/cameras/{camera_id}"): "map",
    ("GET", "/api/cameras/{camera_id}/timeline"): "playback",
    ("GET", "/api/cameras/{camera_id}/activity"): "playback",
    ("GET", "/api/cameras/{camera_id}/backfill"): "cameras.probe",
    ("POST", "/api/cameras/{camera_id}/maintenance"): "cameras.maintenance",
    ("POST", "/api/cameras/{camera_id}/probe"): "cameras.probe",
    ("POST", "/api/cameras/{camera_id}/motion-search"): "motion.search",
    ("POST", "/api/cameras/discover"): "cameras.discover",
    ("GET", "/api/cameras/topology"): "cameras.import",
    ("POST", "/api/cameras/import"): "cameras.import",
    ("PUT", "/api/cameras/{camera_id}/audio"): "cameras.audio",
    ("GET", "/api/segments/{segment_id}/media"): "playback",
    ("WS", "/api/live/{camera_id}"): "live",
    ("GET", "/api/live/transcodes"): "map",
    ("WS", "/api/events"): "map",
    ("POST", "/api/exports"): "export.request",
    ("POST", "/api/exports/{export_id}/approve"): "export.approve",
    ("POST", "/api/exports/{export_id}/refuse"): "export.approve",
    ("GET", "/api/exports"): "export.read",
    ("GET", "/api/exports/{export_id}"): "export.read",
    ("GET", "/api/exports/{export_id}/files/{name}"): "export.read",
    ("GET", "/api/exports/{export_id}/package"): "export.download",
    ("GET", "/api/exports/coverage"): "export.read",
    ("GET", "/api/cameras/{camera_id}/mask"): "masks.read",
    ("PUT", "/api/cameras/{camera_id}/mask"): "masks.write",
    ("DELETE", "/api/cameras/{camera_id}/mask"): "masks.write",
    ("POST", "/api/cameras/{camera_id}/mask/approve-removal"): "masks.approve",
    ("POST", "/api/cameras/{camera_id}/mask/refuse-removal"): "masks.approve",
    ("GET", "/api/cameras/{camera_id}/mask/camera-side"): "masks.read",
    ("POST", "/api/cameras/{camera_id}/mask/camera-side/rearm"): "masks.write",
    ("POST", "/api/cameras/{camera_id}/tamper/reference"): "tamper.reference",
    ("GET", "/api/incidents/{incident_id}/stills/{which}"): "live",
    ("GET", "/api/incidents"): "incidents.read",
    ("GET", "/api/incidents/{incident_id}"): "incidents.read",
    ("POST", "/api/incidents/{incident_id}/ack"): "incidents.act",
    ("POST", "/api/incidents/{incident_id}/comment"): "incidents.act",
    ("POST", "/api/suggestions/{suggestion_id}"): "registry.suggestions",
    ("POST", "/api/evidence/feeder-outage"): "evidence.submit",
    ("POST", "/api/evidence/ups"): "evidence.submit",
    ("GET", "/api/reports/availability"): "reports",
    ("GET", "/api/reports/availability.csv"): "reports",
    ("GET", "/api/reports/live-coverage"): "reports",
    ("GET", "/api/reports/availability-series"): "reports",
    ("GET", "/api/reports/power-cuts"): "reports",
    ("POST", "/api/holds"): "hold",
    ("POST", "/api/holds/{hold_id}/release"): "hold",
    ("GET", "/api/holds"): "hold.read",
    ("GET", "/api/layouts"): "live",
    ("POST", "/api/layouts"): "live",
    ("PUT", "/api/layouts/{layout_id}"): "live",
    ("POST", "/api/layouts/{layout_id}/rename"): "live",
    ("DELETE", "/api/layouts/{layout_id}"): "live",
    ("GET", "/api/plans"): "map",
    ("GET", "/api/plans/{name}"): "map",
    ("GET", "/api/cameras/{camera_id}/snapshot.mp4"): "snapshot",
    ("GET", "/api/users"): "users.manage",
    ("POST", "/api/users"): "users.manage",
    ("POST", "/api/users/{username}/disable"): "users.manage",
    ("POST", "/api/users/{username}/enable"): "users.manage",
    ("DELETE", "/api/users/{username}"): "users.manage",
    ("PUT", "/api/users/{username}/role"): "users.manage",
    ("PUT", "/api/users/{username}/districts"): "users.manage",
    ("POST", "/api/users/{username}/password"): "users.manage",
    ("POST", "/api/users/{username}/revoke"): "users.manage",
    ("POST", "/api/users/{username}/2fa/reset"): "users.manage",
    ("GET", "/api/users/{username}/tokens"): "users.manage",
    ("DELETE", "/api/users/{username}/tokens"): "users.manage",
    ("GET", "/api/audit/entries"): "audit.read",
    ("GET", "/api/audit/entries/{index}/proof"): "audit.read",
    ("GET", "/api/audit/checkpoints"): "audit.read",
    ("GET", "/api/audit/consistency"): "audit.read",
    ("GET", "/api/audit/transparency"): "audit.read",
    ("GET", "/api/audit/export"): "audit.read",
}


def _camera(cid: str, district: str) -> CameraIn:
    return CameraIn(
        id=cid,
        name=cid,
        lat=27.69,
        lon=85.31,
        district=district,
        site=f"S-{cid}",
        feeder="F-1",
        uplink="U-1",
        rtsp_url=f"rtsp://10.0.0.1/{cid}",
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("roles")
    settings = load_settings(home, backend_env(home))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, settings.home)
    # One audited action per unit of work: on SQLite the log's own commit waits for a session's write lock.
    with unit_of_work(factory) as s:
        registry.import_cameras(
            session=s, audit=log, actor=SEED, rows=[_camera("cam-a", "D-01"), _camera("cam-b", "D-02")], now_ns=0
        )
    for role in ALL_ROLES:
        with unit_of_work(factory) as s:
            access.create_user(
                session=s, audit=log, actor=SEED, username=role, password=PASSWORD, role=role, districts=None, now_ns=0
            )
    with unit_of_work(factory) as s:
        access.create_user(
            session=s,
            audit=log,
            actor=SEED,
            username="scoped",
            password=PASSWORD,
            role="operator",
            districts=["D-01"],
            now_ns=0,
        )
    app = create_app(AppContext(settings=settings, factory=factory, clock=SystemClock()))
    yield TestClient(app, headers={"Origin": "http://testserver"})  # a browser sends Origin
    log.close()  # its write connection: else finalised at interpreter exit (tests/backends.py)
    engine.dispose()


def _login(client: TestClient, user: str) -> None:
    client.cookies.clear()
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text


def _routes(client: TestClient) -> list[tuple[str, str]]:
    out = []
    for route in all_routes(client.app):  # type: ignore[arg-type]
        if isinstance(route, APIRoute) and route.path not in PUBLIC_PATHS:
            out += [(m, route.path) for m in sorted(route.methods)]
        elif isinstance(route, APIWebSocketRoute):
            out.append(("WS", route.path))
    return out


def test_every_route_states_its_permission(client: TestClient) -> None:
    missing = [r for r in _routes(client) if r not in ROUTE_PERMISSIONS]
    assert not missing, f"state the permission of these routes in ROUTE_PERMISSIONS: {missing}"


def _fill(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: "cam-a" if m.group(1) == "camera_id" else "1", path)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_roles_on_every_route(client: TestClient, role: str) -> None:
    _login(client, role)
    routes = sorted(_routes(client), key=lambda r: r == ("POST", "/api/auth/logout"))  # logging out comes last
    for method, path in routes:
        perm = ROUTE_PERMISSIONS.get((method, path))
        expect_ok = perm is None or allowed(role, perm)
        url = _fill(path)
        if method == "WS":
            try:
                with client.websocket_connect(url) as ws:
                    ws.receive_text()
                code = 1000
            except WebSocketDisconnect as exc:
                code = exc.code
            assert (code != 4403) == expect_ok, (role, path, code)
            continue
        r = client.request(method, url, json={})
        if expect_ok:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


def test_outside_a_users_districts_nothing_exists(client: TestClient) -> None:
    _login(client, "scoped")
    cams = client.get("/api/cameras").json()
    assert cams["id"] == ["cam-a"] and "cam-b" not in str(cams)
    assert client.get("/api/cameras/cam-b").status_code == 404
    assert client.get("/api/cameras/cam-b/timeline?from_ms=0&to_ms=1000").status_code == 404
    assert client.get("/api/cameras/cam-b/activity?from_ms=0&to_ms=1000").status_code == 404
    assert [d["id"] for d in client.get("/api/districts").json()] == ["D-01"]
    r = client.post("/api/exports", json={"camera": "cam-b", "from_ms": 0, "to_ms": 1000, "reason": "curious"})
    assert r.status_code == 404
    assert client.post("/api/cameras/cam-b/probe", json={"seconds": 1}).status_code == 404
    assert client.get("/api/cameras/cam-b/backfill").status_code == 404
    _login(client, "operator")
    assert client.get("/api/cameras/cam-b").status_code == 200
