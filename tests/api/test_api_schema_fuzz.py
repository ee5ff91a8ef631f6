"""Schemathesis against the app's own OpenAPI document, with a logged-in user of several roles and with none:
no 5xx anywhere, and no route answers without a session (except the login)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from camgrid.access import service as access
from camgrid.api.app import PUBLIC_PATHS, create_app
from camgrid.api.context import AppContext
from camgrid.clock import SystemClock
from camgrid.config import load_settings
from camgrid.db.engine import make_engine, session_factory, unit_of_work
from camgrid.db.migrate import upgrade
from camgrid.registry import service as registry
from camgrid.registry.schemas import CameraIn
from tests.backends import backend_env
from tests.seeding import SEED, seed_log

PASSWORD = "fuzz-password-123"
ROLES = ("operator", "supervisor", "auditor", "admin")
# The document is generated from the routes alone (no database is needed to describe them).
schema = schemathesis.openapi.from_dict(
    create_app(
        AppContext(settings=load_settings(Path("/nonexistent"), {}), factory=None, clock=SystemClock())
    ).openapi()  # type: ignore[arg-type]
)


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestClient]:
    home = tmp_path_factory.mktemp("fuzz")
    settings_ = load_settings(home, backend_env(home))
    engine = make_engine(settings_.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    log = seed_log(engine, home)
    with unit_of_work(factory) as s:
        camera = CameraIn(
            id="cam-1",
            name="c",
            lat=27.69,
            lon=85.31,
            district="D-1",
            site="S-1",
            feeder="F-1",
            uplink="U-1",
            rtsp_url="rtsp://10.0.0.1/s",
        )
        registry.import_cameras(session=s, audit=log, actor=SEED, rows=[camera], now_ns=0)
    for role in ROLES:
        with unit_of_work(factory) as s:  # one audited action per unit of work (SQLite: see services-own-invariants)
            access.create_user(
                session=s, audit=log, actor=SEED, username=role, password=PASSWORD, role=role, districts=None, now_ns=0
            )
    app = create_app(AppContext(settings=settings_, factory=factory, clock=SystemClock()))
    out = {"anonymous": TestClient(app, raise_server_exceptions=False)}
    for role in ROLES:
        c = TestClient(
            app, raise_server_exceptions=False, headers={"Origin": "http://testserver"}
        )  # as a browser: Origin
        assert c.post("/api/auth/login", json={"username": role, "password": PASSWORD}).status_code == 200
        out[role] = c
    return out


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_no_5xx_and_no_open_route(case: Any, who: str, clients: dict[str, TestClient]) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    allowed = ("method", "url", "params", "headers", "json", "content", "data")
    response = clients[who].request(**{k: v for k, v in kwargs.items() if k in allowed})
    assert response.status_code < 500, (who, case.method, case.formatted_path, response.text[:300])
    if who == "anonymous" and case.path not in PUBLIC_PATHS:
        # 405 for a method the route does not have (schemathesis tries TRACE and friends); never anything else.
        assert response.status_code in (401, 405), (case.method, case.formatted_path, response.status_code)
